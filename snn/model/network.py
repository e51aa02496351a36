"""The network description: populations, input sources, projections, monitors. Frozen, engine-independent.

A :class:`Network` is validated once when it is built; every error is a one-line :class:`ConfigError`.
Engines read it and never change it (its arrays are read-only views); anything that changes during a run
(state, plastic weights) lives in the engine.

Units: time in seconds, rates in hertz, potentials and currents in millivolts (see :mod:`snn.model.neurons`),
event-stream timestamps in microseconds (tonic's convention), delays in integer time steps of ``dt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from snn.errors import ConfigError
from snn.model.analog import AnalogRead
from snn.model.connectivity import Connectivity, frozen_array
from snn.model.neurons import ConductanceLIF, NeuronModel
from snn.model.plasticity import STDP, TripletSTDP, TsodyksMarkram

#: tonic's event dtype: x, y (pixels), t (microseconds), p (polarity)
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])

#: synaptic targets: exponential excitatory / inhibitory current, or a Dirac current pulse that moves v by w mV
TARGETS = ("exc", "inh", "delta")
Target = Literal["exc", "inh", "delta"]

#: most neurons of all populations and inputs together: the engine indexes them with int32
MAX_NEURONS = 2**31 - 1

#: largest ring-buffer length the engine supports (delays are stored as uint16 steps)
MAX_DELAY_LIMIT = 65535


# --- initial values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uniform:
    """Initial value drawn per neuron and per trial from U(low, high)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low <= self.high):
            raise ConfigError("initial.uniform", (self.low, self.high), "must be finite with low <= high")


@dataclass(frozen=True)
class Normal:
    """Initial value drawn per neuron and per trial from N(mean, std²)."""

    mean: float
    std: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and np.isfinite(self.std) and self.std >= 0):
            raise ConfigError("initial.normal", (self.mean, self.std), "must be finite with std >= 0")


Initial = float | np.ndarray | Uniform | Normal


# --- populations and sources ---------------------------------------------------------------------------


def _check_name(name: object, path: str) -> str:
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(path, name, "must be a non-empty name of letters, digits, '_' or '-'")
    return name


def _check_size(size: object, path: str) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(path, size, "must be an integer >= 1")
    if size > MAX_NEURONS:
        raise ConfigError(path, size, f"must be <= {MAX_NEURONS} (neuron indices are int32)")
    return int(size)


@dataclass(frozen=True, eq=False)
class Population:
    """``size`` neurons of one model. ``initial`` maps state variables to a value, an array or a distribution."""

    name: str
    size: int
    model: NeuronModel
    initial: dict[str, Initial] = field(default_factory=dict)

    def __post_init__(self) -> None:
        path = f"populations.{self.name}"
        _check_name(self.name, "populations.name")
        object.__setattr__(self, "size", _check_size(self.size, f"{path}.size"))
        if not isinstance(self.model, NeuronModel):
            raise ConfigError(f"{path}.model", self.model, "must be a neuron model (LIF, Izhikevich, ...)")
        object.__setattr__(self, "model", self.model.validate(self.size, path))
        checked: dict[str, Initial] = {}
        for var, value in dict(self.initial).items():
            key = f"{path}.initial.{var}"
            if var not in self.model.state_variables:
                raise ConfigError(key, value, f"unknown state variable of {self.model.kind}; "
                                              f"known: {list(self.model.state_variables)}")
            if isinstance(value, (Uniform, Normal)):
                checked[var] = value
            elif np.ndim(value) == 0:
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
                    raise ConfigError(key, value, "must be a finite number, an array or a distribution")
                checked[var] = float(value)
            else:
                arr = frozen_array(value, np.float64, key)
                if arr.shape != (self.size,) or not np.all(np.isfinite(arr)):
                    raise ConfigError(key, value, f"must be {self.size} finite values (one per neuron)")
                checked[var] = arr
        object.__setattr__(self, "initial", checked)

    @property
    def spiking(self) -> bool:
        return self.model.spiking


@dataclass(frozen=True, eq=False)
class PoissonInput:
    """``size`` independent Poisson spike sources with ``rate`` hertz (scalar or per source).

    Each time step a source spikes with probability ``rate * dt`` (Brian2's ``PoissonGroup``); every trial
    draws its own trains from its seed.
    """

    name: str
    size: int
    rate: float | np.ndarray

    def __post_init__(self) -> None:
        path = f"inputs.{self.name}"
        _check_name(self.name, "inputs.name")
        object.__setattr__(self, "size", _check_size(self.size, f"{path}.size"))
        rate = frozen_array(self.rate, np.float64, f"{path}.rate")
        if rate.ndim not in (0, 1) or (rate.ndim == 1 and rate.shape[0] != self.size):
            raise ConfigError(f"{path}.rate", self.rate, f"must be a scalar or {self.size} rates (Hz)")
        if not np.all(np.isfinite(rate)) or np.any(rate < 0):
            raise ConfigError(f"{path}.rate", self.rate, "must be finite and >= 0 (Hz)")
        object.__setattr__(self, "rate", rate)


@dataclass(frozen=True, eq=False)
class SpikeTimesInput:
    """Explicit spike times (seconds) of ``size`` sources.

    ``trials`` (optional, same length as ``times``) gives each spike's trial, so a batch can feed a
    different pattern to every trial; without it every trial receives the same spikes. A spike is emitted in
    the step ``round(t / dt)``; several spikes of one source in one step each deliver their weight.
    """

    name: str
    size: int
    times: np.ndarray
    indices: np.ndarray
    trials: np.ndarray | None = None

    def __post_init__(self) -> None:
        path = f"inputs.{self.name}"
        _check_name(self.name, "inputs.name")
        object.__setattr__(self, "size", _check_size(self.size, f"{path}.size"))
        times = frozen_array(self.times, np.float64, f"{path}.times")
        indices = frozen_array(self.indices, np.int64, f"{path}.indices")
        if times.ndim != 1 or indices.shape != times.shape:
            raise ConfigError(f"{path}.indices", self.indices, f"must have the same length as times ({times.size})")
        if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
            raise ConfigError(f"{path}.times", self.times, "must be finite and >= 0 (seconds)")
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise ConfigError(f"{path}.indices", self.indices, f"must lie in [0, size={self.size})")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "indices", indices)
        if self.trials is not None:
            trials = frozen_array(self.trials, np.int64, f"{path}.trials")
            if trials.shape != times.shape or (trials.size and trials.min() < 0):
                raise ConfigError(f"{path}.trials", self.trials, "must be trial numbers >= 0, one per spike")
            object.__setattr__(self, "trials", trials)


@dataclass(frozen=True, eq=False)
class EventStreamInput:
    """Event-camera / cochlea events as sources: one source per (polarity, y, x) channel.

    ``events`` is a structured array with tonic's dtype (``x``, ``y``, ``t`` in µs, ``p``), or a sequence of
    such arrays, one per trial (a batch of samples). ``sensor_size = (W, H, P)``; channel index
    ``(p * H + y) * W + x``, the row-major order of tonic's ``ToFrame`` output ``(T, P, H, W)``.
    ``t`` is measured from the start of the run; the event falls in step ``floor(t·1e-6 / dt)``.
    """

    name: str
    events: Any
    sensor_size: tuple[int, int, int]

    def __post_init__(self) -> None:
        path = f"inputs.{self.name}"
        _check_name(self.name, "inputs.name")
        size = tuple(self.sensor_size)
        if len(size) != 3 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
            raise ConfigError(f"{path}.sensor_size", self.sensor_size, "must be (W, H, P), three integers >= 1")
        object.__setattr__(self, "sensor_size", tuple(int(s) for s in size))
        streams = [self.events] if isinstance(self.events, np.ndarray) else list(self.events)
        checked = []
        for k, ev in enumerate(streams):
            key = f"{path}.events[{k}]"
            ev = np.asarray(ev)
            if ev.dtype.names is None or not {"x", "t", "p"} <= set(ev.dtype.names) or ev.ndim != 1:
                raise ConfigError(key, ev, "must be a 1-D structured array with fields x, y, t (µs), p")
            w, h, p = self.sensor_size
            y = ev["y"] if "y" in ev.dtype.names else np.zeros(ev.shape, np.int16)
            for fname, values, limit in (("x", ev["x"], w), ("y", y, h), ("p", ev["p"].astype(np.int64), p)):
                if values.size and (values.min() < 0 or values.max() >= limit):
                    raise ConfigError(f"{key}.{fname}", values, f"must lie in [0, {limit}) for sensor_size {size}")
            if ev.size and (ev["t"].min() < 0 or np.any(np.diff(ev["t"]) < 0)):
                raise ConfigError(f"{key}.t", ev["t"], "must be >= 0 and sorted (microseconds)")
            view = ev.view()
            view.flags.writeable = False
            checked.append(view)
        object.__setattr__(self, "events", tuple(checked))

    @property
    def size(self) -> int:
        w, h, p = self.sensor_size
        return w * h * p

    def channels(self, stream: np.ndarray) -> np.ndarray:
        """Channel index of every event of one stream."""
        w, h, _ = self.sensor_size
        y = stream["y"].astype(np.int64) if "y" in stream.dtype.names else 0
        return (stream["p"].astype(np.int64) * h + y) * w + stream["x"].astype(np.int64)


Source = PoissonInput | SpikeTimesInput | EventStreamInput


@dataclass(frozen=True, eq=False)
class NoiseCurrent:
    """A Gaussian current ``N(mean, std²)`` drawn for every neuron and step of ``population``, added to ``bias``.

    Same units as the model's ``bias``. It is held for one step, so its effect scales with ``dt``: to match a
    reference that resamples every Δ seconds, use ``std · sqrt(Δ / dt)``.
    """

    population: str
    mean: float | np.ndarray = 0.0
    std: float | np.ndarray = 1.0

    def __post_init__(self) -> None:
        path = f"currents.{self.population}"
        if not isinstance(self.population, str):
            raise ConfigError(f"{path}.population", self.population, "must be a population name")
        for attr in ("mean", "std"):
            value = getattr(self, attr)
            arr = frozen_array(value, np.float64, f"{path}.{attr}")
            if arr.ndim > 1 or not np.all(np.isfinite(arr)) or (attr == "std" and np.any(arr < 0)):
                raise ConfigError(f"{path}.{attr}", value, "must be finite (std >= 0): a scalar or one per neuron")
            object.__setattr__(self, attr, float(arr) if arr.ndim == 0 else arr)


# --- projections ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Projection:
    """Synapses from ``pre`` (a population or input) to ``post`` (a population), in CSR order.

    ``weights``: scalar or one per synapse (mV jump of the target current; for :class:`~snn.model.ConductanceLIF`
    targets a conductance jump in leak-conductance units, >= 0 — so inhibitory weights are negative onto current
    synapses and positive onto conductance synapses). ``delays``: integer steps, scalar
    or one per synapse; a spike emitted in step t reaches the target at the end of step t + delay (delay 0:
    the same step, after thresholding, as Brian2). ``target``: ``"exc"`` / ``"inh"`` add to the exponential
    excitatory / inhibitory synaptic current (conductance, for :class:`~snn.model.ConductanceLIF` targets);
    ``"delta"`` is a plain Dirac current that moves ``v`` by ``w``.

    ``plasticity``: an :class:`~snn.model.STDP` or :class:`~snn.model.TripletSTDP` rule (weights then change
    during a run; initial weights must lie in its [w_min, w_max]). ``stp``: Tsodyks–Markram short-term
    plasticity scaling every delivered weight. Delays are axonal for both (see :mod:`snn.model.plasticity`).
    """

    pre: str
    post: str
    connectivity: Connectivity
    weights: float | np.ndarray = 1.0
    delays: int | np.ndarray = 0
    target: Target = "exc"
    name: str = ""
    plasticity: STDP | TripletSTDP | None = None
    stp: TsodyksMarkram | None = None
    read: AnalogRead | None = None

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"{self.pre}->{self.post}")
        path = f"projections.{self.name}"
        if self.plasticity is not None and not isinstance(self.plasticity, (STDP, TripletSTDP)):
            raise ConfigError(f"{path}.plasticity", self.plasticity, "must be an STDP or TripletSTDP rule, or None")
        if self.stp is not None and not isinstance(self.stp, TsodyksMarkram):
            raise ConfigError(f"{path}.stp", self.stp, "must be a TsodyksMarkram rule, or None")
        if not isinstance(self.connectivity, Connectivity):
            raise ConfigError(f"{path}.connectivity", self.connectivity, "must be a Connectivity (see snn.connect)")
        nnz = self.connectivity.nnz
        if self.target not in TARGETS:
            raise ConfigError(f"{path}.target", self.target, f"must be one of {list(TARGETS)}")
        w = np.asarray(self.weights)
        wdtype = w.dtype if w.dtype in (np.float32, np.float64) else np.float64
        w = frozen_array(w, wdtype, f"{path}.weights")
        if w.ndim == 0:
            w = frozen_array(np.full(nnz, w, dtype=wdtype), wdtype, f"{path}.weights")
        if w.shape != (nnz,):
            raise ConfigError(f"{path}.weights", self.weights, f"must be a scalar or one weight per synapse ({nnz})")
        if not np.all(np.isfinite(w)):
            raise ConfigError(f"{path}.weights", self.weights, "must be finite")
        object.__setattr__(self, "weights", w)
        d = np.asarray(self.delays)
        if d.dtype.kind not in "iu" and not (d.dtype.kind == "f" and np.all(d == np.round(d))):
            raise ConfigError(f"{path}.delays", self.delays, "must be integer time steps")
        if d.ndim == 0:
            d = int(d)
            if d < 0 or d > MAX_DELAY_LIMIT:
                raise ConfigError(f"{path}.delays", d, f"must be in [0, {MAX_DELAY_LIMIT}] steps")
            object.__setattr__(self, "delays", d)
        else:
            if d.shape != (nnz,):
                raise ConfigError(f"{path}.delays", self.delays, f"must be a scalar or one delay per synapse ({nnz})")
            if d.size and (d.min() < 0 or d.max() > MAX_DELAY_LIMIT):
                raise ConfigError(f"{path}.delays", self.delays, f"must be in [0, {MAX_DELAY_LIMIT}] steps")
            object.__setattr__(self, "delays", frozen_array(d, np.uint16, f"{path}.delays"))
        if self.plasticity is not None:
            self.plasticity.check_weights(w, path)
        if self.read is not None:
            if not isinstance(self.read, AnalogRead):
                raise ConfigError(f"{path}.read", self.read, "must be an AnalogRead, or None")
            if self.plasticity is not None or self.stp is not None:
                raise ConfigError(f"{path}.read", self.read, "needs a static projection (no plasticity or stp)")

    @property
    def max_delay(self) -> int:
        d = self.delays
        return int(d) if np.ndim(d) == 0 else (int(d.max()) if d.size else 0)


# --- monitors ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpikeMonitor:
    """Record every spike of a population or input as (trial, neuron, step)."""

    population: str


@dataclass(frozen=True, eq=False)
class StateMonitor:
    """Record state ``variables`` of ``indices`` (all neurons if None) every ``every`` steps.

    Values are sampled at the start of a step (after the previous step's synaptic input), as Brian2's
    ``StateMonitor`` with its default ``when='start'``.
    """

    population: str
    variables: tuple[str, ...] = ("v",)
    indices: np.ndarray | None = None
    every: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.variables, str):
            object.__setattr__(self, "variables", (self.variables,))
        else:
            object.__setattr__(self, "variables", tuple(self.variables))
        if self.indices is not None:
            object.__setattr__(self, "indices", frozen_array(self.indices, np.int64, "monitors.state.indices"))
        if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 1:
            raise ConfigError(f"monitors.state.{self.population}.every", self.every, "must be an integer >= 1 (steps)")


@dataclass(frozen=True, eq=False)
class WeightMonitor:
    """Snapshot the weights of a projection, per trial, in the projection's synapse order: every ``every``
    steps from step 0, or at the chosen ``times`` (seconds, rounded to steps; a time equal to the run's
    duration snapshots the end). Snapshots are taken at the start of a step, before its updates.
    Final weights of plastic projections are always recorded."""

    projection: str
    every: int | None = None
    times: np.ndarray | None = None

    def __post_init__(self) -> None:
        path = f"monitors.weights.{self.projection}"
        # no default interval: one snapshot per step of a large projection is gigabytes, never a good guess
        if (self.every is None) == (self.times is None):
            raise ConfigError(path, (self.every, self.times), "give exactly one of every (steps) or times (seconds)")
        if self.times is None:
            if isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every < 1:
                raise ConfigError(f"{path}.every", self.every, "must be an integer >= 1 (steps)")
        else:
            t = frozen_array(self.times, np.float64, f"{path}.times")
            if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
                raise ConfigError(f"{path}.times", np.asarray(self.times).tolist(),
                                  "must be a non-empty list of seconds >= 0")
            object.__setattr__(self, "times", t)

    def steps(self, dt: float, n_steps: int) -> np.ndarray:
        """The snapshot steps within a run of ``n_steps`` steps (sorted, unique; see :meth:`check_duration`)."""
        if self.times is None:
            return np.arange(0, n_steps, self.every, dtype=np.int64)
        steps = np.unique(np.rint(self.times / dt).astype(np.int64))
        return steps[steps <= n_steps]

    def check_duration(self, dt: float, n_steps: int) -> None:
        """Chosen times must lie within the run (a time past its end would silently never be recorded)."""
        if self.times is not None and int(np.rint(self.times.max() / dt)) > n_steps:
            raise ConfigError(f"monitors.weights.{self.projection}.times", float(self.times.max()),
                              f"must be <= the run's duration ({n_steps * dt:g} s)")


@dataclass(frozen=True)
class RateMonitor:
    """Record the number of spikes of a population in every step (population rate = count / (size · dt))."""

    population: str


Monitor = SpikeMonitor | StateMonitor | RateMonitor | WeightMonitor


# --- the network ------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Network:
    """A complete, validated network description.

    ``dt`` is the time step in seconds. ``max_delay_steps`` bounds synaptic delays (the engine's ring buffer
    holds ``max_delay_steps + 1`` slots per delayed target).
    """

    dt: float
    populations: Sequence[Population] = ()
    projections: Sequence[Projection] = ()
    inputs: Sequence[Source] = ()
    currents: Sequence[NoiseCurrent] = ()
    monitors: Sequence[Monitor] = ()
    max_delay_steps: int = 1024
    name: str = "network"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.dt, bool) or not isinstance(self.dt, (int, float)) or not (0 < self.dt < 1):
            raise ConfigError("simulation.dt", self.dt, "must be a number of seconds in (0, 1)")
        object.__setattr__(self, "dt", float(self.dt))
        for attr in ("populations", "projections", "inputs", "currents", "monitors"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if (isinstance(self.max_delay_steps, bool) or not isinstance(self.max_delay_steps, (int, np.integer))
                or not 0 <= self.max_delay_steps <= MAX_DELAY_LIMIT):
            raise ConfigError("simulation.max_delay_steps", self.max_delay_steps, f"must be in [0, {MAX_DELAY_LIMIT}]")
        for p in self.populations:
            if not isinstance(p, Population):
                raise ConfigError("populations", p, "must be Population objects")
        for s in self.inputs:
            if not isinstance(s, (PoissonInput, SpikeTimesInput, EventStreamInput)):
                raise ConfigError("inputs", s, "must be PoissonInput, SpikeTimesInput or EventStreamInput objects")
        names = [p.name for p in self.populations] + [s.name for s in self.inputs]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError("populations.name", name, "must be unique across populations and inputs")
        sizes = self.sizes()
        pops = {p.name: p for p in self.populations}
        for proj in self.projections:
            path = f"projections.{proj.name}"
            if not isinstance(proj, Projection):
                raise ConfigError("projections", proj, "must be Projection objects")
            if proj.pre not in sizes:
                raise ConfigError(f"{path}.pre", proj.pre, f"unknown population or input; known: {sorted(sizes)}")
            if proj.post not in pops:
                raise ConfigError(f"{path}.post", proj.post, f"unknown population; known: {sorted(pops)}")
            c = proj.connectivity
            if c.n_pre != sizes[proj.pre] or c.n_post != sizes[proj.post]:
                raise ConfigError(f"{path}.connectivity", (c.n_pre, c.n_post),
                                  f"must be ({sizes[proj.pre]}, {sizes[proj.post]}) = sizes of {proj.pre}, {proj.post}")
            if isinstance(pops[proj.post].model, ConductanceLIF) and proj.target != "delta":
                w = proj.weights
                if w.size and w.min() < 0:
                    raise ConfigError(f"{path}.weights", float(w.min()),
                                      f"must be >= 0: {proj.post} has conductance synapses (weights are conductances)")
                if proj.plasticity is not None and proj.plasticity.w_min < 0:
                    raise ConfigError(f"{path}.plasticity.w_min", proj.plasticity.w_min,
                                      f"must be >= 0: {proj.post} has conductance synapses (learned weights too)")
            if proj.max_delay > self.max_delay_steps:
                raise ConfigError(f"{path}.delays", proj.max_delay,
                                  f"must be <= simulation.max_delay_steps = {self.max_delay_steps} (ring buffer)")
        for cur in self.currents:
            path = f"currents.{cur.population}"
            if cur.population not in pops:
                raise ConfigError(f"{path}.population", cur.population, f"unknown population; known: {sorted(pops)}")
            n = pops[cur.population].size
            for attr in ("mean", "std"):
                arr = np.asarray(getattr(cur, attr), dtype=np.float64)
                if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.shape != (n,)) or not np.all(np.isfinite(arr)):
                    raise ConfigError(f"{path}.{attr}", getattr(cur, attr), f"must be finite, scalar or {n} values")
                if attr == "std" and np.any(arr < 0):
                    raise ConfigError(f"{path}.std", cur.std, "must be >= 0")
        names = [p.name for p in self.projections]
        watched = {m.projection for m in self.monitors if isinstance(m, WeightMonitor)}
        for proj in self.projections:  # recordings key weights by projection name
            if (proj.plasticity is not None or proj.name in watched) and names.count(proj.name) > 1:
                raise ConfigError(f"projections.{proj.name}.name", proj.name,
                                  "must be unique for plastic or weight-monitored projections (set name=)")
        state_pops: set[str] = set()
        weight_projs: set[str] = set()
        for mon in self.monitors:
            if isinstance(mon, WeightMonitor):
                if mon.projection not in names:
                    raise ConfigError(f"monitors.weights.{mon.projection}.projection", mon.projection,
                                      f"unknown projection; known: {names}")
                if mon.projection in weight_projs:
                    raise ConfigError(f"monitors.weights.{mon.projection}", mon.projection,
                                      "has a second WeightMonitor")
                weight_projs.add(mon.projection)
                continue
            self._check_monitor(mon, sizes, pops)
            if isinstance(mon, StateMonitor):
                if mon.population in state_pops:
                    raise ConfigError(f"monitors.StateMonitor.{mon.population}", mon.population,
                                      "has a second StateMonitor; list all variables and indices in one")
                state_pops.add(mon.population)

    def _check_monitor(self, mon: Monitor, sizes: dict[str, int], pops: dict[str, Population]) -> None:
        kind = type(mon).__name__
        path = f"monitors.{kind}.{getattr(mon, 'population', '?')}"
        if not isinstance(mon, (SpikeMonitor, StateMonitor, RateMonitor)):
            raise ConfigError("monitors", mon,
                              "must be SpikeMonitor, StateMonitor, RateMonitor or WeightMonitor objects")
        if mon.population not in sizes:
            raise ConfigError(f"{path}.population", mon.population, f"unknown population; known: {sorted(sizes)}")
        if isinstance(mon, StateMonitor):
            if mon.population not in pops:
                raise ConfigError(f"{path}.population", mon.population, "state can only be recorded from populations")
            known = pops[mon.population].model.state_variables
            for var in mon.variables:
                if var not in known:
                    raise ConfigError(f"{path}.variables", var, f"unknown state variable; known: {list(known)}")
            if mon.indices is not None:
                n = sizes[mon.population]
                if mon.indices.ndim != 1 or mon.indices.size == 0 or mon.indices.min() < 0 or mon.indices.max() >= n:
                    raise ConfigError(f"{path}.indices", mon.indices, f"must be at least one neuron index in [0, {n})")

    def sizes(self) -> dict[str, int]:
        """Number of neurons (or source channels) of every population and input, by name."""
        out = {p.name: p.size for p in self.populations}
        out.update({s.name: s.size for s in self.inputs})
        return out

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise ConfigError("population", name, f"unknown population; known: {[p.name for p in self.populations]}")

    @property
    def n_synapses(self) -> int:
        return sum(p.connectivity.nnz for p in self.projections)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary (parameters, sizes, synapse counts) stored with recordings."""
        return {
            "name": self.name,
            "dt_s": self.dt,
            "max_delay_steps": self.max_delay_steps,
            "populations": {p.name: {"size": p.size, **_summarise(p.model.as_dict())} for p in self.populations},
            "inputs": {s.name: {"kind": type(s).__name__, "size": s.size} for s in self.inputs},
            "projections": {
                p.name: {"pre": p.pre, "post": p.post, "target": p.target, "synapses": p.connectivity.nnz,
                         "max_delay_steps": p.max_delay,
                         "plasticity": p.plasticity.as_dict() if p.plasticity is not None else None,
                         "stp": p.stp.as_dict() if p.stp is not None else None,
                         "read": p.read.as_dict() if p.read is not None else None}
                for p in self.projections
            },
            "metadata": self.metadata,
        }


def _summarise(params: dict[str, Any]) -> dict[str, Any]:
    """Arrays are summarised (mean, min, max) so metadata stays small."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, list):
            arr = np.asarray(v, dtype=np.float64)
            out[k] = {"mean": float(arr.mean()), "min": float(arr.min()), "max": float(arr.max()), "per_neuron": True}
        else:
            out[k] = v
    return out
