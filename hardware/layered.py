"""A mapped network read as one input feeding concatenated LIF / IF populations, for the bit-exact digital
emulations (:mod:`hardware.loihi`, :mod:`hardware.fpga`), which hold dense integer weight matrices.

- :func:`population_slices`: where each population sits on the emulation's neuron axis (network order);
- :func:`layered_codes`: the checks both emulations share (one input, no noise currents, LIF / IF populations
  without refractory period and with one synaptic current, static projections without delays) and the mapped
  weight codes summed per (pre, post) pair: input rows ``(input units, neurons)`` and recurrent rows
  ``(neurons, neurons)``.

Each failed check is one :class:`ConfigError` naming the emulator, the key path and what is unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from snn.errors import ConfigError

if TYPE_CHECKING:
    from hardware.mapping import MappedNetwork


def unsupported(who: str, path: str, value: object, what: str) -> ConfigError:
    """The error of ``<who>_from_mapped`` for something it cannot emulate."""
    return ConfigError(path, value, f"unsupported by {who}_from_mapped: {what}")


def _check_mapped(mapped: object, who: str) -> MappedNetwork:
    from hardware.mapping import MappedNetwork

    if not isinstance(mapped, MappedNetwork):
        raise ConfigError(f"{who}.mapped", mapped, "must be a hardware.mapping.MappedNetwork")
    return mapped


def population_slices(mapped: MappedNetwork, who: str) -> dict[str, slice]:
    """Where each population of ``mapped`` sits on the neuron axis of ``<who>_from_mapped`` (network order)."""
    out, start = {}, 0
    for pop in _check_mapped(mapped, who).network.populations:
        out[pop.name] = slice(start, start + pop.size)
        start += pop.size
    return out


@dataclass(frozen=True, eq=False)
class LayeredCodes:
    """What :func:`layered_codes` read: the input, the populations' slices and inhibitory-only flags, the codes."""

    source: Any  # the network's one input (an snn.model source)
    where: dict[str, slice]
    n: int  # neurons of all populations
    inhibitory_only: dict[str, bool]  # population -> its one synaptic current is the inhibitory one
    codes_in: np.ndarray  # (input units, n) int64, summed per (pre, post)
    codes_rec: np.ndarray  # (n, n) int64


def layered_codes(mapped: MappedNetwork, who: str, *, refractory: str = "refractory periods",
                  one_current: str = "one current register per neuron", delays: str = "synaptic delays"
                  ) -> LayeredCodes:
    """Check ``mapped`` for ``<who>_from_mapped`` and sum its weight codes (see the module docstring); the keyword
    texts say why each feature is unsupported on that target."""
    from hardware.check import synapse_kinds
    from snn.model.neurons import IF, LIF

    net = _check_mapped(mapped, who).network
    if len(net.inputs) != 1:
        raise unsupported(who, f"{who}.mapped.inputs", [s.name for s in net.inputs], "exactly one input is needed")
    if net.currents:
        raise unsupported(who, f"{who}.mapped.currents", [c.name for c in net.currents], "noise currents")
    if not net.populations:
        raise unsupported(who, f"{who}.mapped.populations", [], "a network without neuron populations")
    inhibitory_only = {}
    for pop in net.populations:
        path = f"{who}.mapped.populations.{pop.name}"
        m = pop.model
        if type(m) not in (LIF, IF):
            raise unsupported(who, f"{path}.model", m.kind, "only LIF and IF populations")
        if np.any(np.asarray(m.t_ref) > 0):
            raise unsupported(who, f"{path}.t_ref", m.t_ref, refractory)
        kinds = synapse_kinds(net, pop)
        if "delta" in kinds:
            raise unsupported(who, f"{path}.target", "delta", f"delta synapses ({one_current})")
        if "exc" in kinds and "inh" in kinds:
            raise unsupported(who, f"{path}.tau_syn_inh", m.tau_syn_inh,
                              f"separate exc and inh time constants ({one_current})")
        inhibitory_only[pop.name] = kinds == ["inh"]
    src = net.inputs[0]
    where = population_slices(mapped, who)
    n = sum(p.size for p in net.populations)
    offset = {src.name: None, **{k: v.start for k, v in where.items()}}
    codes_in = np.zeros((src.size, n), np.int64)
    codes_rec = np.zeros((n, n), np.int64)
    for proj in net.projections:
        path = f"{who}.mapped.projections.{proj.name}"
        if proj.plasticity is not None:
            raise unsupported(who, f"{path}.plasticity", type(proj.plasticity).__name__, "plastic projections")
        if proj.stp is not None:
            raise unsupported(who, f"{path}.stp", type(proj.stp).__name__, "short-term plasticity")
        if np.any(np.asarray(proj.delays) != 0):
            raise unsupported(who, f"{path}.delays", proj.delays, delays)
        if proj.pre not in offset:
            raise unsupported(who, f"{path}.pre", proj.pre, "a source other than the input or a population")
        c = proj.connectivity
        pre = c.pre_indices().astype(np.int64)
        post = c.indices.astype(np.int64) + where[proj.post].start
        codes = np.asarray(mapped.projections[proj.name].codes, np.int64)
        if proj.pre == src.name:
            np.add.at(codes_in, (pre, post), codes)
        else:
            np.add.at(codes_rec, (pre + offset[proj.pre], post), codes)
    return LayeredCodes(src, where, n, inhibitory_only, codes_in, codes_rec)
