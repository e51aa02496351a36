"""Liquid state machine (Maass, Natschläger & Markram 2002) as an ordinary network description.

Neurons sit on a 3-D integer grid (:func:`snn.connect.grid_positions`, index ``x + nx (y + ny z)``); a random
``exc_fraction`` of the grid points (chosen with the seed) is excitatory, the rest inhibitory. Each ordered pair
of distinct neurons is connected independently with probability ``C[type] * exp(-(d / lam)**2)``, ``d`` the
Euclidean distance in grid spacings, ``type`` one of EE, EI, IE, II (pre letter first).

Sources of the defaults (all from Maass, Natschläger & Markram 2002, "Real-time computing without stable
states", Neural Computation 14:2531, section "Details of the model", unless marked *ours*):

- grid 15 x 3 x 3 (135 neurons), 20 % inhibitory at random positions, lambda = 2;
- C = 0.3 (EE), 0.2 (EI), 0.4 (IE), 0.1 (II);
- LIF: tau_m = 30 ms, resting potential 0 mV, threshold 15 mV, reset 13.5 mV, refractory 3 ms (exc) and 2 ms
  (inh), input resistance 1 MOhm, so a current of A nA is A mV of ``r·I`` here; initial v uniform in
  [13.5, 15] mV; exponential synaptic currents with tau 3 ms (exc) and 6 ms (inh);
- background current ``I_b``: 13.5 nA in the paper, i.e. a 13.5 mV bias; we draw it per neuron from
  U[``bias_low``, ``bias_high``] (*ours*: the paper's value plus a spread that stays below threshold);
- weights: the paper's scale A is 30 (EE), 60 (EI), -19 (IE), -19 (II) nA on *dynamic* (depressing /
  facilitating) synapses, drawn from gamma distributions. Our synapses are static, and with the paper's A
  the liquid saturates (~150 Hz per neuron on saccade digits), so the default means 5, 10, -10, -10 mV are
  *ours* (about 20-60 Hz on saccade digits); pass ``weights=(30.0, 60.0, -19.0, -19.0)`` for the paper's
  scale. Weights are gamma-distributed around the mean, sign kept; the coefficient of variation
  ``weight_cv`` is *ours*;
- delays 1.5 ms (EE) and 0.8 ms (EI, IE, II); the optional normal spread ``delay_sd`` is *ours*;
- input weights 18 nA onto excitatory and 9 nA onto inhibitory neurons in the paper (one analog input
  channel). Event cameras have thousands of channels, so the defaults here (``input_p``, ``input_weight_*``)
  are *ours*, scaled down by the fan-in.

- dynamic synapses (``dynamic_synapses=True``): Markram-Tsodyks short-term plasticity with the paper's mean
  (U, D, F) per type, EE (0.5, 1.1 s, 0.05 s), EI (0.05, 0.125 s, 1.2 s), IE (0.25, 0.7 s, 0.02 s),
  II (0.32, 0.144 s, 0.06 s), as :class:`~snn.model.TsodyksMarkram` (its recursion is the paper's:
  ``u_{n+1} = U + u_n (1 - U) e^{-Δ/F}``, ``R_{n+1} = 1 + (R_n - u_n R_n - 1) e^{-Δ/D}``). The paper draws
  U, D, F per synapse (SD 50 % of the mean); here every synapse of a type shares the means. Off by default
  (static synapses), where the default weights above apply.

Units: seconds for times, mV for potentials and weights (current jumps ``r·I``; inhibitory weights negative),
lengths in grid spacings.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from snn.checks import finite as _number
from snn.connect.builders import distance_dependent, from_pairs, grid_positions
from snn.errors import ConfigError
from snn.model.network import Network, Population, Projection, Source, SpikeMonitor
from snn.model.neurons import LIF
from snn.model.plasticity import TsodyksMarkram
from snn.reservoir.inputs import channel_projection, topographic

#: connection types, pre letter first
TYPES = ("EE", "EI", "IE", "II")

#: Maass et al. (2002) mean dynamic-synapse parameters per type: (U, D = tau_rec in s, F = tau_facil in s)
DYNAMIC_UDF = {"EE": (0.5, 1.1, 0.05), "EI": (0.05, 0.125, 1.2), "IE": (0.25, 0.7, 0.02), "II": (0.32, 0.144, 0.06)}

#: name of the reservoir population in the networks built here
POPULATION = "liquid"


def _four(path: str, value: object, check: str) -> tuple[float, float, float, float]:
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigError(path, value, "must be 4 numbers (EE, EI, IE, II)") from None
    if len(items) != 4:
        raise ConfigError(path, value, "must be 4 numbers (EE, EI, IE, II)")
    out = tuple(_number(f"{path}.{t}", v) for t, v in zip(TYPES, items))
    for t, v in zip(TYPES, out):
        key = f"{path}.{t}"
        if check == "probability" and not 0.0 <= v <= 1.0:
            raise ConfigError(key, v, "must be a probability in [0, 1]")
        if check == "delay" and v < 0.0:
            raise ConfigError(key, v, "must be >= 0 (seconds)")
        if check == "weight" and t[0] == "E" and v < 0.0:
            raise ConfigError(key, v, "must be >= 0 (mV; excitatory synapses)")
        if check == "weight" and t[0] == "I" and v > 0.0:
            raise ConfigError(key, v, "must be <= 0 (mV; inhibitory synapses onto current synapses)")
    return out  # type: ignore[return-value]


@dataclass(frozen=True)
class LSMSpec:
    """Parameters of a liquid state machine; validated on construction (one-line :class:`ConfigError`).

    ``shape``: grid (nx, ny, nz). ``exc_fraction``: share of excitatory neurons (rounded to whole neurons).
    ``lam``: length constant lambda (grid spacings). ``c``, ``weights`` (mV), ``delays`` (seconds): per type
    (EE, EI, IE, II). ``weight_cv``: coefficient of variation of the gamma-distributed weights (0: fixed).
    ``delay_sd``: standard deviation (seconds) of normally spread delays, which are then rounded to steps and
    kept >= 1 step. LIF parameters: ``tau_m``, ``t_ref_exc``, ``t_ref_inh``, ``tau_syn_exc``, ``tau_syn_inh``
    (seconds); ``v_rest``, ``v_threshold``, ``v_reset``, ``bias_low``, ``bias_high``, ``v_init_low``,
    ``v_init_high`` (mV). Bias and initial v are drawn per neuron (the same in every trial). Input:
    each (channel, neuron) pair is connected with probability ``input_p``, weight ``input_weight_exc`` /
    ``input_weight_inh`` (mV, >= 0, same CV as the recurrent weights), delay ``input_delay`` (seconds).
    ``input_lam`` > 0 (sensor pixels; event-sensor sources only) makes the input topographic: the grid is laid
    over the sensor and a pair is connected with probability ``input_p * exp(-(d / input_lam)**2)``, ``d`` the
    distance from the channel's pixel to the neuron's place (:func:`snn.reservoir.inputs.topographic`); 0 (the
    default) connects every pair with ``input_p`` regardless of place.
    ``dynamic_synapses``: Maass et al.'s short-term plasticity on the recurrent synapses (see
    :data:`DYNAMIC_UDF`). Defaults and their sources: see the module docstring.
    """

    shape: tuple[int, int, int] = (15, 3, 3)
    exc_fraction: float = 0.8
    lam: float = 2.0
    c: tuple[float, float, float, float] = (0.3, 0.2, 0.4, 0.1)
    weights: tuple[float, float, float, float] = (5.0, 10.0, -10.0, -10.0)
    weight_cv: float = 0.5
    delays: tuple[float, float, float, float] = (1.5e-3, 0.8e-3, 0.8e-3, 0.8e-3)
    delay_sd: float = 0.0
    tau_m: float = 30e-3
    v_rest: float = 0.0
    v_threshold: float = 15.0
    v_reset: float = 13.5
    t_ref_exc: float = 3e-3
    t_ref_inh: float = 2e-3
    tau_syn_exc: float = 3e-3
    tau_syn_inh: float = 6e-3
    bias_low: float = 13.5
    bias_high: float = 14.5
    v_init_low: float = 13.5
    v_init_high: float = 15.0
    input_p: float = 0.1
    input_lam: float = 0.0
    input_weight_exc: float = 2.0
    input_weight_inh: float = 1.0
    input_delay: float = 0.0
    dynamic_synapses: bool = False

    def __post_init__(self) -> None:
        p = "lsm"
        if not isinstance(self.dynamic_synapses, bool):
            raise ConfigError(f"{p}.dynamic_synapses", self.dynamic_synapses, "must be true or false")
        try:
            dims = tuple(self.shape)
        except TypeError:
            raise ConfigError(f"{p}.shape", self.shape, "must be 3 integers >= 1 (nx, ny, nz)") from None
        if len(dims) != 3 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in dims):
            raise ConfigError(f"{p}.shape", self.shape, "must be 3 integers >= 1 (nx, ny, nz)")
        object.__setattr__(self, "shape", tuple(int(n) for n in dims))
        f = _number(f"{p}.exc_fraction", self.exc_fraction)
        if not 0.0 <= f <= 1.0:
            raise ConfigError(f"{p}.exc_fraction", f, "must be in [0, 1]")
        if _number(f"{p}.lam", self.lam) <= 0:
            raise ConfigError(f"{p}.lam", self.lam, "must be > 0 (grid spacings)")
        object.__setattr__(self, "c", _four(f"{p}.c", self.c, "probability"))
        object.__setattr__(self, "weights", _four(f"{p}.weights", self.weights, "weight"))
        object.__setattr__(self, "delays", _four(f"{p}.delays", self.delays, "delay"))
        for name in ("weight_cv", "delay_sd", "input_delay", "input_weight_exc", "input_weight_inh", "t_ref_exc",
                     "t_ref_inh"):
            if _number(f"{p}.{name}", getattr(self, name)) < 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be >= 0")
        for name in ("tau_m", "tau_syn_exc", "tau_syn_inh"):
            if _number(f"{p}.{name}", getattr(self, name)) <= 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be > 0 (seconds)")
        for name in ("v_rest", "v_threshold", "v_reset"):
            _number(f"{p}.{name}", getattr(self, name))
        for lo, hi in (("bias_low", "bias_high"), ("v_init_low", "v_init_high")):
            if _number(f"{p}.{hi}", getattr(self, hi)) < _number(f"{p}.{lo}", getattr(self, lo)):
                raise ConfigError(f"{p}.{hi}", getattr(self, hi), f"must be >= {lo} = {getattr(self, lo)} (mV)")
        ip = _number(f"{p}.input_p", self.input_p)
        if not 0.0 <= ip <= 1.0:
            raise ConfigError(f"{p}.input_p", ip, "must be a probability in [0, 1]")
        if not 0.0 <= _number(f"{p}.input_lam", self.input_lam) < math.inf:
            raise ConfigError(f"{p}.input_lam", self.input_lam, "must be 0 (no topography) or > 0 (sensor pixels)")

    @property
    def n_neurons(self) -> int:
        nx, ny, nz = self.shape
        return nx * ny * nz

    @property
    def n_exc(self) -> int:
        return int(round(self.exc_fraction * self.n_neurons))


def _subseed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])


def _check_seed(seed: object) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("lsm.seed", seed, "must be an integer >= 0")
    return int(seed)


def _check_dt(dt: object) -> float:
    if isinstance(dt, (bool, np.bool_)) or not isinstance(dt, numbers.Real) or not 0 < dt < 1:
        raise ConfigError("simulation.dt", dt, "must be a number of seconds in (0, 1)")
    return float(dt)


def excitatory_mask(spec: LSMSpec, seed: int) -> np.ndarray:
    """Boolean (N,) mask of the excitatory neurons: ``spec.n_exc`` grid points chosen at random with ``seed``."""
    seed = _check_seed(seed)
    rng = np.random.default_rng(_subseed(seed, 0))
    mask = np.zeros(spec.n_neurons, dtype=bool)
    mask[rng.permutation(spec.n_neurons)[: spec.n_exc]] = True
    return mask


def delay_steps(delay_s: float | np.ndarray, dt: float) -> np.ndarray:
    """Delays in seconds -> integer steps of ``dt`` (nearest step, ``np.rint``; a tiny tolerance absorbs float
    error such as 1.5e-3 / 1e-4 = 14.999...), at least 1 step."""
    steps = np.rint(np.asarray(delay_s, dtype=np.float64) / dt + 1e-9).astype(np.int64)
    return np.maximum(steps, 1)


def _gamma(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """n draws with the given mean (sign kept) and coefficient of variation; a gamma keeps the sign."""
    if cv == 0.0 or mean == 0.0:
        return np.full(n, mean)
    shape = 1.0 / (cv * cv)
    return math.copysign(1.0, mean) * rng.gamma(shape, abs(mean) / shape, n)


def reservoir_projections(spec: LSMSpec, dt: float, seed: int) -> list[Projection]:
    """The four recurrent projections ``EE``, ``EI``, ``IE``, ``II`` of :data:`POPULATION` onto itself.

    Excitatory ones target the ``exc`` synaptic current, inhibitory ones the ``inh`` current (negative weights).
    Delays are per synapse, in steps of ``dt`` (seconds).
    """
    seed = _check_seed(seed)
    dt = _check_dt(dt)
    pos = grid_positions(spec.shape)
    exc = excitatory_mask(spec, seed)
    groups = {"E": np.flatnonzero(exc), "I": np.flatnonzero(~exc)}
    n = spec.n_neurons
    out = []
    for k, t in enumerate(TYPES):
        pre_idx, post_idx = groups[t[0]], groups[t[1]]
        if pre_idx.size == 0 or post_idx.size == 0:
            continue
        local = distance_dependent(pos[pre_idx], pos[post_idx], spec.c[k], spec.lam, seed=_subseed(seed, 10 + k),
                                   allow_autapses=(t[0] != t[1]))
        conn, order = from_pairs(pre_idx[local.pre_indices()], post_idx[local.indices], n, n)
        rng = np.random.default_rng(_subseed(seed, 20 + k))
        w = _gamma(rng, spec.weights[k], spec.weight_cv, conn.nnz)
        d = np.full(conn.nnz, spec.delays[k])
        if spec.delay_sd > 0:
            d = d + rng.normal(0.0, spec.delay_sd, conn.nnz)
        stp = TsodyksMarkram(*DYNAMIC_UDF[t]) if spec.dynamic_synapses else None
        out.append(Projection(POPULATION, POPULATION, conn, weights=w[order], delays=delay_steps(d[order], dt),
                              target="exc" if t[0] == "E" else "inh", name=t, stp=stp))
    return out


def reservoir_population(spec: LSMSpec, seed: int) -> Population:
    """The reservoir's LIF population (:data:`POPULATION`) with per-neuron refractory period and bias, and
    per-neuron initial v (fixed by ``seed``, the same in every trial, so a sample's features do not depend on
    which trial of a batch it runs in)."""
    seed = _check_seed(seed)
    exc = excitatory_mask(spec, seed)
    rng = np.random.default_rng(_subseed(seed, 1))
    n = spec.n_neurons
    bias = rng.uniform(spec.bias_low, spec.bias_high, n)
    v0 = rng.uniform(spec.v_init_low, spec.v_init_high, n)
    model = LIF(tau_m=spec.tau_m, v_rest=spec.v_rest, v_threshold=spec.v_threshold, v_reset=spec.v_reset,
                t_ref=np.where(exc, spec.t_ref_exc, spec.t_ref_inh), tau_syn_exc=spec.tau_syn_exc,
                tau_syn_inh=spec.tau_syn_inh, bias=bias)
    return Population(POPULATION, n, model, initial={"v": v0})


def input_projection(spec: LSMSpec, source: Source, dt: float, seed: int) -> Projection:
    """Input synapses from every channel of ``source`` to the reservoir, each pair with probability
    ``spec.input_p`` (or, with ``spec.input_lam`` > 0, by distance on the sensor:
    :func:`snn.reservoir.inputs.topographic`); weights (mV, gamma spread with ``spec.weight_cv``) by target
    type. Built by :func:`snn.reservoir.inputs.channel_projection`, shared with the Izhikevich reservoir."""
    seed = _check_seed(seed)
    dt = _check_dt(dt)
    exc = excitatory_mask(spec, seed)
    conn = None
    if spec.input_lam > 0:
        sensor = getattr(source, "sensor_size", None)
        if sensor is None:
            raise ConfigError("lsm.input_lam", spec.input_lam,
                              "needs an event-sensor source with a sensor_size (topographic input); use 0")
        conn = topographic(tuple(sensor), spec.shape, spec.input_p, spec.input_lam, seed)
    return channel_projection(source, POPULATION, spec.n_neurons, spec.input_p, seed,
                              mean_weight=np.where(exc, spec.input_weight_exc, spec.input_weight_inh),
                              cv=spec.weight_cv, delay_steps=int(np.rint(spec.input_delay / dt + 1e-9)),
                              target="exc", connectivity=conn)


def build_lsm(spec: LSMSpec, source: Source, dt: float, seed: int, record: bool = True) -> Network:
    """A complete network: the reservoir fed by ``source`` (e.g. :func:`snn.data.to_input`'s event streams).

    ``dt`` in seconds; ``seed`` fixes the structure (positions of exc/inh neurons, synapses, weights, delays,
    bias, initial v), so two calls with the same arguments give the same network. ``record`` adds a
    :class:`SpikeMonitor` on :data:`POPULATION`. There is no per-trial randomness: every trial's result
    depends only on its own input stream.
    """
    if not isinstance(spec, LSMSpec):
        raise ConfigError("lsm", spec, "must be an LSMSpec")
    seed = _check_seed(seed)
    dt = _check_dt(dt)
    if not hasattr(source, "size") or not hasattr(source, "name"):
        raise ConfigError("lsm.source", source, "must be an input source (e.g. snn.data.to_input(...))")
    projections = reservoir_projections(spec, dt, seed) + [input_projection(spec, source, dt, seed)]
    max_delay = max([p.max_delay for p in projections] + [1])
    return Network(dt=dt, populations=[reservoir_population(spec, seed)], inputs=[source], projections=projections,
                   monitors=[SpikeMonitor(POPULATION)] if record else [], max_delay_steps=max(1024, max_delay),
                   name="lsm", metadata={"lsm_seed": seed, "lsm_shape": list(spec.shape)})
