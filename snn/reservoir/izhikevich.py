"""Heterogeneous Izhikevich (2003) spiking reservoir as an ordinary network description.

The recipe is the network of Izhikevich (2003), "Simple model of spiking neurons", IEEE Trans. Neural Networks
14:1569, Fig. 3 and its MATLAB listing (``spnet``-style): ``Ne`` excitatory and ``Ni`` inhibitory neurons in one
population :data:`POPULATION`, excitatory first (indices ``[0, Ne)``), inhibitory after (``[Ne, Ne + Ni)``), as
the paper's ``S = [0.5 rand(N, Ne), -rand(N, Ni)]``. With ``r ~ U(0, 1)`` drawn per neuron:

- excitatory: ``a = 0.02``, ``b = 0.2``, ``c = -65 + 15 r²`` (mV), ``d = 8 - 6 r²``;
- inhibitory: ``a = 0.02 + 0.08 r``, ``b = 0.25 - 0.05 r``, ``c = -65`` (mV), ``d = 2``;
- neuron: ``dv/dt = 0.04 v² + 5 v + 140 - u + I``, ``du/dt = a (b v - u)`` (per ms), spike at ``v >= 30`` mV,
  then ``v = c``, ``u += d`` (:class:`~snn.model.Izhikevich`; forward Euler at ``dt``, where the paper uses two
  0.5 ms half-steps for ``v`` and one 1 ms step for ``u``); ``v(0) = -65`` mV, ``u(0) = b v(0)``;
- synapses: the paper adds ``S_ij`` to ``I_i`` for one 1 ms step, which moves ``v_i`` by ``S_ij`` mV: target
  ``"delta"`` here, weight ``S_ij``, delivered after the threshold of the spiking step (``delay = 0``, the
  paper's loop order and ``configs/izhikevich_800_200.toml``). Weights: excitatory ``w_exc · U(0, 1)``,
  inhibitory ``w_inh · U(0, 1)`` with the paper's ``w_exc = 0.5``, ``w_inh = -1``;
- thalamic input: ``I = 5 N(0, 1)`` (excitatory) and ``2 N(0, 1)`` (inhibitory), redrawn every 1 ms in the
  paper; a :class:`~snn.model.NoiseCurrent` redrawn every step ``dt`` with ``std · sqrt(1 ms / dt)`` gives the
  same variance of ``v``'s random walk (the class docstring's rule).

Ours (not in the paper), for use as a reservoir:

- ``p_connect``: each ordered pair (autapses included, as the paper's full ``S``) is connected with this
  probability (default 0.3: 3·10^5 synapses instead of 10^6). With ``scale_by_p`` (default) every weight is
  divided by ``p_connect``, so each neuron's mean total recurrent input equals the paper's all-to-all one;
  ``p_connect = 1`` is the paper's all-to-all network, weights unchanged. Measured (seed 1, 2 s, 2 trials,
  dt 0.5 ms): ``configs/izhikevich_800_200.toml`` 8.8 Hz exc / 9.6 Hz inh; this module with ``p_connect = 1``
  8.9 / 9.7 Hz; 0.5: 9.3 / 10.7; 0.3: 9.3 / 11.7; 0.2: 11.3 / 14.9; 0.1: 25.6 / 33.2 (fewer, larger synapses
  synchronise the network), so 0.3 is the sparsest of these that keeps the paper's rates. The paper's rhythms
  (Fig. 3: alpha ~10 Hz, gamma ~40 Hz) are there too: spectral peaks of the population rate (4 s, 1 ms bins)
  at 9.7 / 40 Hz (config), 8.9 / 38.6 Hz (``p_connect = 1``) and 9.7 / 39.7 Hz (0.3; gamma broader);
- ``synapse = "exponential"``: exponential currents (``tau_syn_exc``, ``tau_syn_inh``) instead of pulses. A
  current jump ``w`` decaying with ``tau`` moves ``v`` by about ``w · tau / 1 ms`` in total (Euler sum
  ``w dt/ms / (1 - exp(-dt / tau))``), so weights are multiplied by ``1 ms / tau`` to deliver about the same
  charge as the pulse ``w``;
- input: ``n_inputs`` channels (any :data:`~snn.model.network.Source` of that size), each (channel, neuron)
  pair connected with probability ``input_p`` (onto inhibitory neurons only with ``input_to_inh``), weight
  ``input_weight`` mV (a pulse; with exponential synapses the same charge rule as above), delay 0.

Units: seconds for ``dt``, ``delay``, ``tau_syn_*``; mV for weights and ``v_init``; ``noise_*`` in the paper's
``I`` units (mV/ms) per 1 ms draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snn.checks import finite as _number
from snn.checks import integer as _integer
from snn.connect.builders import fixed_probability
from snn.errors import ConfigError
from snn.model.connectivity import Connectivity
from snn.model.network import Network, NoiseCurrent, Population, Projection, Source, SpikeMonitor
from snn.model.neurons import Izhikevich
from snn.reservoir.inputs import channel_projection

#: name of the reservoir population in the networks built here
POPULATION = "reservoir"

#: synapse kinds: the paper's current pulse, or exponential currents
SYNAPSES = ("delta", "exponential")

#: the paper's noise draws are 1 ms apart
PAPER_STEP_S = 1e-3


def _probability(path: str, value: object) -> float:
    p = _number(path, value)
    if not 0.0 <= p <= 1.0:
        raise ConfigError(path, value, "must be a probability in [0, 1]")
    return p


@dataclass(frozen=True)
class IzhikevichReservoirSpec:
    """Parameters of the heterogeneous Izhikevich reservoir; validated on construction (one-line ConfigError).

    ``n_exc``, ``n_inh``: neurons of each type (``n_inh`` may be 0). ``p_connect``: connection probability of
    every ordered pair. ``w_exc`` (>= 0) / ``w_inh`` (<= 0): weight scales in mV (weights ``w · U(0, 1)``).
    ``scale_by_p``: divide weights by ``p_connect``. ``synapse``: ``"delta"`` (paper) or ``"exponential"``
    with ``tau_syn_exc``, ``tau_syn_inh`` (seconds). ``delay``: synaptic delay (seconds, rounded to steps).
    ``noise_exc``, ``noise_inh``: thalamic noise std per 1 ms draw (paper: 5 and 2). ``dt``: time step
    (seconds). ``v_init``: initial v (mV). Input: ``n_inputs`` channels, probability ``input_p``, weight
    ``input_weight`` (mV, >= 0), ``input_to_inh``. Sources of the defaults: see the module docstring.
    """

    n_exc: int = 800
    n_inh: int = 200
    p_connect: float = 0.3
    w_exc: float = 0.5
    w_inh: float = -1.0
    scale_by_p: bool = True
    synapse: str = "delta"
    tau_syn_exc: float = 5e-3
    tau_syn_inh: float = 10e-3
    delay: float = 0.0
    noise_exc: float = 5.0
    noise_inh: float = 2.0
    dt: float = 5e-4
    v_init: float = -65.0
    n_inputs: int = 1
    input_p: float = 0.1
    input_weight: float = 5.0
    input_to_inh: bool = True

    def __post_init__(self) -> None:
        p = "izhikevich"
        object.__setattr__(self, "n_exc", _integer(f"{p}.n_exc", self.n_exc, 1))
        object.__setattr__(self, "n_inh", _integer(f"{p}.n_inh", self.n_inh, 0))
        object.__setattr__(self, "n_inputs", _integer(f"{p}.n_inputs", self.n_inputs, 1))
        for name in ("scale_by_p", "input_to_inh"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be true or false")
        if self.synapse not in SYNAPSES:
            raise ConfigError(f"{p}.synapse", self.synapse, f"must be one of {list(SYNAPSES)}")
        _probability(f"{p}.p_connect", self.p_connect)
        _probability(f"{p}.input_p", self.input_p)
        if self.scale_by_p and self.p_connect == 0.0:
            raise ConfigError(f"{p}.p_connect", self.p_connect, "must be > 0 with scale_by_p (weights / p)")
        if _number(f"{p}.w_exc", self.w_exc) < 0:
            raise ConfigError(f"{p}.w_exc", self.w_exc, "must be >= 0 (mV; excitatory synapses)")
        if _number(f"{p}.w_inh", self.w_inh) > 0:
            raise ConfigError(f"{p}.w_inh", self.w_inh, "must be <= 0 (mV; inhibitory synapses)")
        for name in ("noise_exc", "noise_inh", "input_weight", "delay"):
            if _number(f"{p}.{name}", getattr(self, name)) < 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be >= 0")
        for name in ("tau_syn_exc", "tau_syn_inh"):
            if _number(f"{p}.{name}", getattr(self, name)) <= 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be > 0 (seconds)")
        dt = _number(f"{p}.dt", self.dt)
        if not 0 < dt <= PAPER_STEP_S:
            raise ConfigError(f"{p}.dt", self.dt, "must be in (0, 1e-3] seconds (Euler on the paper's equations)")
        if _number(f"{p}.v_init", self.v_init) >= 30.0:
            raise ConfigError(f"{p}.v_init", self.v_init, "must be < 30 mV (the spike peak)")

    @property
    def n_neurons(self) -> int:
        return self.n_exc + self.n_inh

    def noise_std(self) -> np.ndarray:
        """Per-neuron std of the per-step :class:`NoiseCurrent`: the paper's 5 / 2 times ``sqrt(1 ms / dt)``."""
        scale = math.sqrt(PAPER_STEP_S / self.dt)
        return np.concatenate([np.full(self.n_exc, self.noise_exc), np.full(self.n_inh, self.noise_inh)]) * scale


def _subseed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])


def _check_seed(seed: object) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("izhikevich.seed", seed, "must be an integer >= 0")
    return int(seed)


def _check_spec(spec: object) -> IzhikevichReservoirSpec:
    if not isinstance(spec, IzhikevichReservoirSpec):
        raise ConfigError("izhikevich", spec, "must be an IzhikevichReservoirSpec")
    return spec


def excitatory_mask(spec: IzhikevichReservoirSpec) -> np.ndarray:
    """Boolean (N,) mask of the excitatory neurons: the first ``n_exc`` (the paper's ordering)."""
    mask = np.zeros(spec.n_neurons, dtype=bool)
    mask[: spec.n_exc] = True
    return mask


def neuron_parameters(spec: IzhikevichReservoirSpec, seed: int) -> dict[str, np.ndarray]:
    """Per-neuron ``r ~ U(0, 1)`` and the paper's ``a``, ``b``, ``c``, ``d`` built from it (arrays of N)."""
    spec = _check_spec(spec)
    seed = _check_seed(seed)
    r = np.random.default_rng(_subseed(seed, 0)).uniform(0.0, 1.0, spec.n_neurons)
    exc = excitatory_mask(spec)
    return {
        "r": r,
        "a": np.where(exc, 0.02, 0.02 + 0.08 * r),
        "b": np.where(exc, 0.2, 0.25 - 0.05 * r),
        "c": np.where(exc, -65.0 + 15.0 * r**2, -65.0),
        "d": np.where(exc, 8.0 - 6.0 * r**2, 2.0),
    }


def _charge_factor(spec: IzhikevichReservoirSpec, target: str) -> float:
    """Weight factor of the synapse kind: 1 for pulses; ``1 ms / tau`` for exponential currents (same charge)."""
    if spec.synapse == "delta":
        return 1.0
    return PAPER_STEP_S / (spec.tau_syn_exc if target == "exc" else spec.tau_syn_inh)


def reservoir_projections(spec: IzhikevichReservoirSpec, seed: int) -> list[Projection]:
    """The recurrent projections ``E`` (from the excitatory neurons) and ``I`` (from the inhibitory ones) of
    :data:`POPULATION` onto itself, weights ``w · U(0, 1)`` (scaled as the module docstring says)."""
    spec = _check_spec(spec)
    seed = _check_seed(seed)
    n = spec.n_neurons
    out = []
    for k, (label, lo, hi, w) in enumerate((("E", 0, spec.n_exc, spec.w_exc), ("I", spec.n_exc, n, spec.w_inh))):
        if hi == lo:
            continue
        block = fixed_probability(hi - lo, n, spec.p_connect, seed=_subseed(seed, 10 + k), allow_autapses=True)
        # rows of the full (N, N) connectivity: pre neurons outside [lo, hi) have no synapses here
        indptr = np.concatenate([np.zeros(lo, np.int64), block.indptr, np.full(n - hi, block.indptr[-1])])
        conn = Connectivity(n, n, indptr, block.indices)
        target = "delta" if spec.synapse == "delta" else ("exc" if label == "E" else "inh")
        scale = w * _charge_factor(spec, target) / (spec.p_connect if spec.scale_by_p else 1.0)
        weights = np.random.default_rng(_subseed(seed, 20 + k)).uniform(0.0, 1.0, conn.nnz) * scale
        out.append(Projection(POPULATION, POPULATION, conn, weights=weights, delays=_delay_steps(spec),
                              target=target, name=label))
    return out


def _delay_steps(spec: IzhikevichReservoirSpec) -> int:
    return int(np.rint(spec.delay / spec.dt + 1e-9))


def reservoir_population(spec: IzhikevichReservoirSpec, seed: int) -> Population:
    """The Izhikevich population (:data:`POPULATION`) with per-neuron ``a, b, c, d``; ``v(0) = v_init``."""
    prm = neuron_parameters(spec, seed)
    model = Izhikevich(a=prm["a"], b=prm["b"], c=prm["c"], d=prm["d"], tau_syn_exc=spec.tau_syn_exc,
                       tau_syn_inh=spec.tau_syn_inh)
    return Population(POPULATION, spec.n_neurons, model, initial={"v": spec.v_init})


def input_projection(spec: IzhikevichReservoirSpec, source: Source, seed: int) -> Projection:
    """Synapses from every channel of ``source`` to the reservoir (probability ``input_p``, weight
    ``input_weight`` mV, excitatory; none onto inhibitory neurons unless ``input_to_inh``), built by
    :func:`snn.reservoir.inputs.channel_projection` as the LSM's input is."""
    spec = _check_spec(spec)
    seed = _check_seed(seed)
    target = "delta" if spec.synapse == "delta" else "exc"
    return channel_projection(source, POPULATION, spec.n_neurons, spec.input_p, seed,
                              mean_weight=spec.input_weight * _charge_factor(spec, target), target=target,
                              n_targets=None if spec.input_to_inh else spec.n_exc)


def build_izhikevich_reservoir(spec: IzhikevichReservoirSpec, seed: int, source: Source | None = None,
                               record: bool = True) -> Network:
    """A complete network: the reservoir, its thalamic noise and (if given) ``source`` feeding it.

    ``source`` must have ``spec.n_inputs`` channels (e.g. a :class:`~snn.model.SpikeTimesInput` with per-spike
    ``trials``). ``seed`` fixes the structure (``r`` and so ``a, b, c, d``, synapses, weights); the thalamic
    noise is drawn per trial from the run's seed. ``record`` adds a :class:`SpikeMonitor` on :data:`POPULATION`.
    """
    spec = _check_spec(spec)
    seed = _check_seed(seed)
    inputs: list[Source] = []
    projections = reservoir_projections(spec, seed)
    if source is not None:
        if not hasattr(source, "size") or not hasattr(source, "name"):
            raise ConfigError("izhikevich.source", source, "must be an input source (e.g. SpikeTimesInput)")
        if source.size != spec.n_inputs:
            raise ConfigError("izhikevich.source", source.size, f"must have n_inputs = {spec.n_inputs} channels")
        inputs.append(source)
        projections.append(input_projection(spec, source, seed))
    std = spec.noise_std()
    currents = [NoiseCurrent(POPULATION, 0.0, std)] if np.any(std > 0) else []
    return Network(dt=spec.dt, populations=[reservoir_population(spec, seed)], inputs=inputs,
                   projections=projections, currents=currents,
                   monitors=[SpikeMonitor(POPULATION)] if record else [],
                   max_delay_steps=max(1024, _delay_steps(spec)), name="izhikevich_reservoir",
                   metadata={"izhikevich_seed": seed, "n_exc": spec.n_exc, "n_inh": spec.n_inh,
                             "p_connect": spec.p_connect, "synapse": spec.synapse})
