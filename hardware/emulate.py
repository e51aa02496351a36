"""Emulation: run a mapped network with its target's arithmetic and non-idealities in the engine.

:func:`emulated_network` is the network as the target would compute it, an ordinary :class:`snn.model.Network`
(the mapped one is never changed); :func:`emulate` runs it in :class:`snn.engine.Simulator` and returns the
engine's recording, so everything that reads a recording (``snn info``, ``snn plot``, the readouts) reads an
emulation too.

- **RRAM** (:class:`~hardware.targets.RRAMCrossbar`): the devices are programmed once from ``seed``
  (:func:`hardware.rram.program`: programming noise, stuck-at faults, drift exponents) and read ``t_s`` seconds
  later (drift, IR drop); every delivery then draws fresh read noise (``read_noise``) and every step's column sum
  goes through the ADC (``adc``): :meth:`hardware.rram.ProgrammedNetwork.per_read`, :class:`snn.model.AnalogRead`.
  Read noise comes from each trial's own engine stream, so trials differ in it and share the programmed devices.
- **Digital targets** (FPGA fixed point, Xylo, Loihi, DYNAP-SE2, SpiNNaker 2): the mapped network already holds the
  values the hardware holds (weights, thresholds, resets and biases on the target's grid; decays replaced by those
  the target realises), so the engine runs it as it is. Per-step rounding and saturation of the state registers are
  not applied here; the bit-exact integer emulations are :func:`hardware.xylo.xylo_evolve` (checked against
  SynSense's ``xylosim``), :func:`hardware.loihi.loihi_evolve` (Lava's ``PyLifModelBitAcc``) and
  :func:`hardware.fpga.fpga_evolve` (an ``ap_fixed`` HLS datapath), each built from the mapped network
  (:func:`hardware.loihi.loihi_from_mapped`, :func:`hardware.fpga.fpga_from_mapped`).

Same ``seed`` gives the same conductances and the same engine run (read noise included), at any thread count.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from hardware.mapping import MappedNetwork
from hardware.rram import program
from hardware.targets import RRAMCrossbar
from snn.engine import Simulator
from snn.errors import ConfigError
from snn.model.network import Network


def _seed(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(path, value, "must be an integer >= 0")
    return int(value)


def emulated_network(mapped: MappedNetwork, *, t_s: float = 0.0, seed: int = 0, read_noise: bool = True,
                     adc: bool = True) -> Network:
    """The mapped network as its target computes it (see the module docstring).

    ``t_s``: seconds between programming and reading (RRAM drift; ignored by digital targets, whose weights do not
    drift). ``seed``: programming draws. ``read_noise`` / ``adc``: RRAM per-read noise and per-step ADC on.
    """
    if not isinstance(mapped, MappedNetwork):
        raise ConfigError("hardware.emulate.mapped", type(mapped).__name__, "must be a MappedNetwork from hardware.map")
    seed = _seed(seed, "hardware.emulate.seed")
    if isinstance(t_s, bool) or not isinstance(t_s, numbers.Real) or not np.isfinite(t_s) or t_s < 0:
        raise ConfigError("hardware.emulate.t_s", t_s, "must be a finite number of seconds >= 0")
    for name, flag in (("read_noise", read_noise), ("adc", adc)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ConfigError(f"hardware.emulate.{name}", flag, "must be true or false")
    if isinstance(mapped.target, RRAMCrossbar):
        return program(mapped, seed=seed).per_read(float(t_s), read_noise=bool(read_noise), adc=bool(adc))
    return mapped.network


def emulate(mapped: MappedNetwork, duration_s: float, *, trials: int = 1, seed: int = 0, t_s: float = 0.0,
            read_noise: bool = True, adc: bool = True, dtype: str = "float64", sink: Any = None,
            progress: bool = False) -> Any:
    """Run :func:`emulated_network` for ``duration_s`` seconds of biological time and return the recording.

    ``trials`` and ``seed`` are the engine's (trial ``k`` draws from ``SeedSequence(seed)``'s k-th child); ``sink``
    as for :meth:`snn.engine.Simulator.run` (an :class:`snn.io.hdf5.HDF5Sink` writes the recording atomically and
    the path is returned). ``dtype`` defaults to float64 so that float rounding does not blur the target's grid.
    """
    net = emulated_network(mapped, t_s=t_s, seed=seed, read_noise=read_noise, adc=adc)
    return Simulator(net, dtype=dtype).run(duration_s, trials=trials, seed=seed, sink=sink, progress=progress)
