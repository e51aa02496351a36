"""RRAM non-idealities applied to a mapped network's conductance pairs: programming, faults, drift, read path.

:func:`program` takes a :class:`~hardware.mapping.MappedNetwork` on an :class:`~hardware.targets.RRAMCrossbar` and
draws, once and from ``seed`` (one independent stream per projection, ``SeedSequence([seed, k])``):

- programming noise (aihwkit's ``apply_programming_noise_to_conductance``, with a constant σ):
  ``G_prog = max(G_target + σ_p · g_max · N(0, 1), 0)`` — the clip at 0 S is physical (no negative conductance);
- stuck-at faults (MemTorch's ``DeviceFaults``: ``lrs_proportion`` / ``hrs_proportion``): each device independently is
  stuck on (``G = g_max``) with probability ``p_stuck_on`` or off (``G = g_min``) with ``p_stuck_off``;
- a drift exponent per device, ``ν_d = max(ν + ν_std · N(0, 1), 0)`` (aihwkit's ``generate_drift_coefficients``).

:meth:`ProgrammedNetwork.at_time` returns an ordinary network whose weights are read at ``t`` seconds after
programming:

- drift (aihwkit ``apply_drift_noise_to_conductance``; PCMLikeNoiseModel): ``G(t) = G_prog · (t / t0)^-ν_d`` for
  ``t > t0``, ``G_prog`` otherwise;
- IR drop [assumed, a first-order stand-in for aihwkit's current-dependent ``ir_drop`` model]: a device at local row
  ``r`` and column ``c`` of a ``R × C`` tile is seen as ``G · (1 - γ (r + c) / (R + C))``;
- read noise (optional ``read_seed``): one static draw ``+ σ_r · g_max · N(0, 1)`` per device, the same at every
  step. :meth:`ProgrammedNetwork.per_read` instead redraws it at every read, as aihwkit's ``w_noise`` at every forward
  pass: each projection gets an :class:`snn.model.AnalogRead` with ``noise_std = k σ_r g_max √2`` (two devices per
  differential pair; √1 for single-device columns) and the ADC below applied to the per-step column sum;
- weight: ``w = k (G⁺ - G⁻)`` (single-device columns: ``k (G - g_min)``, the reference column ideal);
- read path: inputs are spikes (0 or 1), which any DAC of >= 1 bit represents exactly, so the DAC adds no error.
  The ADC digitises a column's summed current once per step on the grid ``step = 2 · adc_range · w_fs /
  (2**adc_bits - 2)``, clipped to ``±(2**(adc_bits-1) - 1) · step`` (aihwkit's ``out_res = 1 / (2**bits - 2)`` of the
  ``±out_bound`` range), ``w_fs = k (g_max - g_min)``. :meth:`ProgrammedNetwork.per_read` converts the per-step sum
  (see :mod:`snn.model.analog` for what a sum over several tiles merges); ``at_time(adc=True)`` quantises each
  synapse's weight on that grid instead: the error of one active row, a lower bound on the column-sum error.

Absent synapses (cells of a tile with no synapse) are held at ``g_min`` without noise: their noise would add dense
random weights that the sparse engine does not carry. Same seed -> same conductances, independent of thread count.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

from hardware.mapping import MappedNetwork
from hardware.targets import RRAMCrossbar
from snn.errors import ConfigError
from snn.model.analog import AnalogRead
from snn.model.network import Network


@dataclass(frozen=True, eq=False)
class ProgrammedProjection:
    """Programmed conductances (µS) of one projection's devices, in CSR order, and their drift exponents."""

    name: str
    g_plus: np.ndarray
    g_minus: np.ndarray
    nu_plus: np.ndarray
    nu_minus: np.ndarray
    stuck_plus: np.ndarray  # 0 healthy, 1 stuck on, -1 stuck off
    stuck_minus: np.ndarray


@dataclass(frozen=True, eq=False)
class ProgrammedNetwork:
    """A mapped RRAM network after programming; :meth:`at_time` gives the network read at time ``t``."""

    mapped: MappedNetwork
    seed: int
    projections: dict[str, ProgrammedProjection]

    @property
    def target(self) -> RRAMCrossbar:
        return self.mapped.target  # type: ignore[return-value]

    def conductances(self, t_s: float, read_seed: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(G⁺, G⁻) in µS per projection as seen at ``t_s`` seconds: drift, IR drop and optional read noise."""
        t = self.target
        if isinstance(t_s, bool) or not isinstance(t_s, numbers.Real) or not np.isfinite(t_s) or t_s < 0:
            raise ConfigError("rram.at_time.t_s", t_s, "must be a finite number of seconds >= 0")
        if read_seed is not None and (isinstance(read_seed, bool) or not isinstance(read_seed, (int, np.integer))
                                      or read_seed < 0):
            raise ConfigError("rram.at_time.read_seed", read_seed, "must be an integer >= 0 or None")
        ratio = max(float(t_s), t.drift_t0_s) / t.drift_t0_s
        out = {}
        for k, (name, pp) in enumerate(self.projections.items()):
            qp = self.mapped.projections[name]
            gp = pp.g_plus * ratio ** (-pp.nu_plus)
            gm = pp.g_minus * ratio ** (-pp.nu_minus)
            if t.ir_drop:
                denom = t.tile_rows + t.tile_cols
                gp = gp * (1.0 - t.ir_drop * (qp.row + qp.col) / denom)
                if t.differential:  # a single-device column's reference is ideal
                    gm = gm * (1.0 - t.ir_drop * (qp.row + qp.col + 1) / denom)
            if read_seed is not None and t.read_noise_rel:
                rng = np.random.default_rng(np.random.SeedSequence([int(read_seed), 1, k]))
                sigma = t.read_noise_rel * t.g_max_us
                gp = gp + sigma * rng.standard_normal(gp.shape)
                gm = gm + sigma * rng.standard_normal(gm.shape) if t.differential else gm
            out[name] = (gp, gm)
        return out

    def weights(self, t_s: float, read_seed: int | None = None, adc: bool = False) -> dict[str, np.ndarray]:
        """Weights (mV) per projection read at ``t_s``: ``k (G⁺ - G⁻)``, optionally on the ADC grid."""
        out = {}
        for name, (gp, gm) in self.conductances(t_s, read_seed).items():
            qp = self.mapped.projections[name]
            w = qp.k * (gp - gm)
            if adc:
                step, clip = self._adc_grid(qp.k)
                w = np.clip(np.rint(w / step) * step, -clip, clip)
            out[name] = w
        return out

    def _adc_grid(self, k: float) -> tuple[float, float]:
        """ADC step and clip (mV) of a column group with scale ``k`` (mV/µS)."""
        t = self.target
        step = 2.0 * t.adc_range * k * (t.g_max_us - t.g_min_us) / (2**t.adc_bits - 2)
        return step, (2 ** (t.adc_bits - 1) - 1) * step

    def per_read(self, t_s: float, read_noise: bool = True, adc: bool = True) -> Network:
        """The network read at ``t_s`` (drift, IR drop) whose every delivery draws fresh read noise and whose
        per-step column sums go through the ADC (:class:`snn.model.AnalogRead`; see the module docstring)."""
        t = self.target
        w = self.weights(t_s)
        net = self.mapped.network
        projs = []
        for p in net.projections:
            k = self.mapped.projections[p.name].k
            std = k * t.read_noise_rel * t.g_max_us * np.sqrt(2.0 if t.differential else 1.0) if read_noise else 0.0
            step, clip = self._adc_grid(k) if adc else (0.0, np.inf)
            projs.append(dataclasses.replace(p, weights=w[p.name], read=AnalogRead(float(std), float(step),
                                                                                  float(clip))))
        return dataclasses.replace(net, projections=projs, name=f"{net.name}@t={t_s:g}s")

    def at_time(self, t_s: float, read_seed: int | None = None, adc: bool = False) -> Network:
        """The mapped network with weights read at ``t_s`` seconds after programming (see the module docstring)."""
        w = self.weights(t_s, read_seed, adc)
        net = self.mapped.network
        projs = [dataclasses.replace(p, weights=w[p.name]) for p in net.projections]
        return dataclasses.replace(net, projections=projs, name=f"{net.name}@t={t_s:g}s")


def program(mapped: MappedNetwork, target: RRAMCrossbar | None = None, seed: int = 0) -> ProgrammedNetwork:
    """Draw programming noise, stuck-at faults and drift exponents once for every device (see module docstring)."""
    if not isinstance(mapped, MappedNetwork):
        raise ConfigError("rram.program.mapped", mapped, "must be a MappedNetwork from hardware.map")
    t = mapped.target if target is None else target
    if not isinstance(t, RRAMCrossbar):
        raise ConfigError("rram.program.target", getattr(t, "name", t), "must be an RRAM crossbar profile")
    if t.name != mapped.target.name:
        raise ConfigError("rram.program.target", t.name, f"must be the target the network was mapped to "
                                                          f"({mapped.target.name})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("rram.program.seed", seed, "must be an integer >= 0")
    out = {}
    for k, (name, qp) in enumerate(mapped.projections.items()):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0, k]))
        devices = []
        for target_g in (qp.g_plus, qp.g_minus):
            n = target_g.size
            g = np.maximum(target_g + t.prog_noise_rel * t.g_max_us * rng.standard_normal(n), 0.0)
            u = rng.random(n)
            stuck = np.where(u < t.p_stuck_on, 1, np.where(u < t.p_stuck_on + t.p_stuck_off, -1, 0)).astype(np.int8)
            g = np.where(stuck == 1, t.g_max_us, np.where(stuck == -1, t.g_min_us, g))
            nu = np.maximum(t.drift_nu + t.drift_nu_std * rng.standard_normal(n), 0.0)
            devices.append((g, nu, stuck))
        if not t.differential:  # the reference column is ideal
            devices[1] = (qp.g_minus.copy(), np.zeros(qp.g_minus.size), np.zeros(qp.g_minus.size, np.int8))
        (gp, nup, sp), (gm, num, sm) = devices
        out[name] = ProgrammedProjection(name, gp, gm, nup, num, sp, sm)
    return ProgrammedNetwork(mapped, int(seed), out)
