"""Hardware abstraction layer: target profiles, design-rule checks, mapping, emulation, export.

It transforms :mod:`snn.model` network descriptions and uses the engine's public API only. The passes
arrive with the hardware-layer issue; this package exists now so the layout is in place.
"""
