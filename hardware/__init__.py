"""Hardware abstraction layer: target profiles, design-rule checks, mapping, emulation, export.

It transforms :mod:`snn.model` network descriptions (never mutating them) and uses the engine's public API only.

- :mod:`hardware.targets`: target profiles (RRAM crossbar, FPGA fixed point, neuromorphic chips) and the TOML
  presets in ``configs/targets/``.
- :mod:`hardware.check`: every violated design rule (:class:`Violation`); :class:`TargetViolation` lists them all.
- :mod:`hardware.mapping`: partition onto cores / tiles and quantise under the target's rules (:func:`map_network`).
- :mod:`hardware.emulate`: the mapped network with the target's arithmetic and non-idealities, run in the engine.
- :mod:`hardware.cli`: ``snn hw check / map / emulate / estimate / export`` on a network config.
- :mod:`hardware.rram`: programming noise, faults, drift, read noise and ADC quantisation of a mapped crossbar.
- :mod:`hardware.fixed_point`: ``ap_fixed<W,I>`` quantisation with every rounding and overflow mode.
- :mod:`hardware.estimate`: units used, memory, latency, energy per synaptic operation (sources named).
- :mod:`hardware.export`: RRAM conductance maps (HDF5) and FPGA weight memories (``.mem`` + manifest).
- :mod:`hardware.nir_export`, :mod:`hardware.nir_import`: NIR graphs out and in (``snn nir run``).
- :mod:`hardware.xylo`: bit-exact integer emulation of SynSense Xylo, checked against ``xylosim``.
- :mod:`hardware.loihi`: bit-accurate Loihi 2 LIF and Dense (Lava's ``PyLifModelBitAcc``), from a mapped network.
- :mod:`hardware.fpga`: bit-exact ``ap_fixed`` LIF datapath of an HLS design (every rounding and overflow mode), from
  a network mapped on an ``fpga_fixed`` target.
"""

from hardware.check import CheckReport, TargetViolation, Violation, check, require_fit
from hardware.emulate import emulate, emulated_network
from hardware.estimate import estimate, fpga_resources
from hardware.export import export_fpga, export_rram, read_mem, read_rram_weights
from hardware.fixed_point import ApFixed
from hardware.fpga import (
    FPGAConfig,
    FPGAResult,
    FPGAState,
    default_coef_format,
    fpga_evolve,
    fpga_from_mapped,
    fpga_populations,
)
from hardware.loihi import LoihiConfig, LoihiResult, LoihiState, loihi_evolve, loihi_from_mapped, loihi_populations
from hardware.mapping import MappedNetwork, map_network
from hardware.mapping import map as map  # noqa: A004 - the issue's verb; builtins.map stays reachable as builtins.map
from hardware.nir_export import to_nir, write_nir
from hardware.nir_import import ImportedGraph, from_nir, run_nir
from hardware.rram import ProgrammedNetwork, program
from hardware.targets import (
    FPGAFixed,
    NeuromorphicChip,
    RRAMCrossbar,
    TargetProfile,
    field_docs,
    load_target,
    preset_names,
    target_from_dict,
)
from hardware.xylo import XyloConfig, XyloResult, XyloState, xylo_evolve, xylo_from_mapped

#: the passes of the target layer, in the order a flow calls them
TARGET_PASSES = ("check", "map_network", "program", "emulate", "estimate", "export_rram", "export_fpga")

__all__ = ["TARGET_PASSES", "ApFixed", "check", "CheckReport", "default_coef_format", "emulate", "emulated_network",
           "estimate", "export_fpga", "export_rram", "field_docs", "fpga_evolve", "fpga_from_mapped",
           "fpga_populations", "fpga_resources", "FPGAConfig", "FPGAFixed", "FPGAResult", "FPGAState", "from_nir",
           "ImportedGraph", "load_target", "loihi_evolve", "loihi_from_mapped", "loihi_populations", "LoihiConfig",
           "LoihiResult", "LoihiState", "map", "map_network", "MappedNetwork", "NeuromorphicChip", "preset_names",
           "program", "ProgrammedNetwork", "read_mem", "read_rram_weights", "require_fit", "RRAMCrossbar", "run_nir",
           "target_from_dict", "TargetProfile", "TargetViolation", "to_nir", "Violation", "write_nir", "xylo_evolve",
           "XyloConfig", "xylo_from_mapped", "XyloResult", "XyloState"]
