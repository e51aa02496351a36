"""The reservoir kinds of ``snn reservoir`` (``[reservoir] kind``): their spec classes, and one builder that
feeds any of them from an input source (the encoded event channels) with the study's ``dt`` and seed.

- ``"lsm"``: :class:`~snn.reservoir.lsm.LSMSpec`, built by :func:`~snn.reservoir.lsm.build_lsm`;
- ``"izhikevich"``: :class:`~snn.reservoir.izhikevich.IzhikevichReservoirSpec`, built by
  :func:`~snn.reservoir.izhikevich.build_izhikevich_reservoir` after taking ``dt`` and ``n_inputs`` from the
  run (the simulation step and the source's channel count).

Both get their input synapses from :func:`snn.reservoir.inputs.channel_projection`.
"""

from __future__ import annotations

import dataclasses

from snn.errors import ConfigError
from snn.model.network import Network, Source
from snn.reservoir import izhikevich, lsm
from snn.reservoir.izhikevich import IzhikevichReservoirSpec
from snn.reservoir.lsm import LSMSpec

#: kinds of ``[reservoir] kind`` -> their spec classes
RESERVOIRS: dict[str, type] = {"lsm": LSMSpec, "izhikevich": IzhikevichReservoirSpec}

ReservoirSpec = LSMSpec | IzhikevichReservoirSpec


def _check(spec: object) -> None:
    if not isinstance(spec, (LSMSpec, IzhikevichReservoirSpec)):
        raise ConfigError("reservoir", spec, "must be an LSMSpec or an IzhikevichReservoirSpec")


def population_of(spec: ReservoirSpec) -> str:
    """Name of the reservoir population in the networks :func:`build_reservoir` makes from ``spec``."""
    _check(spec)
    return lsm.POPULATION if isinstance(spec, LSMSpec) else izhikevich.POPULATION


def build_reservoir(spec: ReservoirSpec, source: Source, dt: float, seed: int, record: bool = True) -> Network:
    """The reservoir of ``spec`` fed by every channel of ``source``, with step ``dt`` (seconds) and structure
    ``seed``. An Izhikevich spec's own ``dt`` and ``n_inputs`` are replaced by ``dt`` and ``source.size``.

    The Izhikevich reservoir's thalamic noise (``noise_exc``, ``noise_inh`` > 0) is drawn per trial from the
    run's seed, so with noise a sample's features depend on its trial (its place in the batch); without noise,
    as the LSM, every trial depends only on its own input.
    """
    _check(spec)
    if isinstance(spec, LSMSpec):
        return lsm.build_lsm(spec, source, dt, seed, record=record)
    if not hasattr(source, "size") or not hasattr(source, "name"):
        raise ConfigError("izhikevich.source", source, "must be an input source (e.g. snn.data.to_input(...))")
    spec = dataclasses.replace(spec, dt=dt, n_inputs=source.size)
    return izhikevich.build_izhikevich_reservoir(spec, seed, source, record=record)
