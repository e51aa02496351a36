"""Reservoir features from a :class:`~snn.engine.recording.Recording`, and a batch runner over many samples.

Both feature kinds are deterministic, vectorised numpy over the recording's spike arrays
(``rec.spikes[pop]``: trial, neuron, step). A spike in step ``s`` happens at ``s * dt`` seconds.

- :func:`binned_counts`: spike counts per neuron in consecutive bins of ``bin_s`` seconds.
- :func:`filtered_traces`: ``sum over spikes at t_s <= t of exp(-(t - t_s) / tau)``, per neuron, at readout
  times ``t`` (seconds).
- :func:`trace_series`: the same traces at many increasing readout times (e.g. one per input step of a
  time-series task), computed recursively in O(spikes + times * neurons) instead of O(spikes * times).

:func:`extract_features` runs many event samples as the trials of one simulator run per batch; a sample's
features do not depend on the batch size or on the number of numba threads.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from snn.engine.recording import Recording, RunInfo
from snn.engine.simulator import Simulator
from snn.errors import ConfigError
from snn.reservoir.kernels.counts import add_counts
from snn.reservoir.kinds import ReservoirSpec, build_reservoir, population_of
from snn.reservoir.lsm import POPULATION

#: feature kinds of :func:`extract_features`; "counts+traces" concatenates the two (counts columns first)
FEATURES = ("counts", "traces", "counts+traces")


def _positive(path: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ConfigError(path, value, "must be a finite number > 0 (seconds)")
    return float(value)


def _spikes(rec: Recording, population: str) -> Any:
    if not isinstance(rec, Recording):
        raise ConfigError("features.recording", rec, "must be an snn Recording")
    if population not in rec.spikes:
        raise ConfigError("features.population", population, f"has no SpikeMonitor; recorded: {sorted(rec.spikes)}")
    return rec.spikes[population]


def _bin_steps(bin_s: float, dt: float) -> int:
    """``bin_s`` (seconds) as a whole number of steps of ``dt`` (one-line ConfigError otherwise)."""
    bin_s = _positive("features.bin_s", bin_s)
    k = int(round(bin_s / dt))
    if k < 1 or abs(k * dt - bin_s) > 1e-9 * max(bin_s, 1.0):
        raise ConfigError("features.bin_s", bin_s, f"must be a whole number of steps of dt = {dt:g} s")
    return k


def _add_counts(trial: np.ndarray, neuron: np.ndarray, step: np.ndarray, bin_steps: int,
                counts: np.ndarray) -> None:
    """Add spikes (trial, neuron, step) to ``counts`` (trials, bins, neurons) in place, through the numba
    kernel, after the checks it cannot make itself: indices inside ``counts`` (the kernel does not bounds-check)
    and trials ascending (sorted here if they are not)."""
    if not step.size:
        return
    trials, bins, n = counts.shape
    for name, values, limit in (("trial", trial, trials), ("neuron", neuron, n), ("step", step, bins * bin_steps)):
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= limit:
            raise ConfigError(f"features.spikes.{name}", low if low < 0 else high, f"must lie in [0, {limit})")
    if np.any(trial[1:] < trial[:-1]):
        order = np.argsort(trial, kind="stable")
        trial, neuron, step = trial[order], neuron[order], step[order]
    add_counts(trial, neuron, step, bin_steps, counts)


def binned_counts(rec: Recording, population: str = POPULATION, bin_s: float = 0.05) -> np.ndarray:
    """Spike counts, shape (trials, bins * neurons), float64, bin-major (column ``b * neurons + n``).

    ``bin_s`` (seconds) must be a whole number of steps; bin ``b`` holds steps ``[b * k, (b + 1) * k)`` with
    ``k = bin_s / dt``, and there are ``ceil(n_steps / k)`` bins (the last one may be shorter).
    """
    sp = _spikes(rec, population)
    k = _bin_steps(bin_s, rec.dt)
    n = rec.sizes[population]
    bins = max(1, -(-rec.n_steps // k))
    counts = np.zeros((rec.trials, bins, n), np.int64)
    _add_counts(sp.trial, sp.neuron, sp.step, k, counts)
    return counts.reshape(rec.trials, bins * n).astype(np.float64)


class _CountSink:
    """A run's sink that bins one population's spikes as the engine hands them over: the result of
    :func:`binned_counts` on the run's Recording, without keeping or sorting the spike list (the order of
    spikes does not change counts). Everything else the run reports is dropped."""

    def __init__(self, population: str, bin_s: float) -> None:
        self.population = population
        self.bin_s = bin_s

    def begin(self, info: RunInfo) -> None:
        if self.population not in info.spike_monitors:
            raise ConfigError("features.population", self.population,
                              f"has no SpikeMonitor; recorded: {sorted(info.spike_monitors)}")
        self.k = _bin_steps(self.bin_s, info.dt)
        self.n = info.sizes[self.population]
        self.trials = info.trials
        self.bins = max(1, -(-info.n_steps // self.k))
        self.counts = np.zeros((self.trials, self.bins, self.n), np.int64)

    def spikes(self, population: str, trial: np.ndarray, neuron: np.ndarray, step: np.ndarray) -> None:
        if population == self.population:
            _add_counts(trial, neuron, step, self.k, self.counts)

    def rates(self, population: str, counts: np.ndarray) -> None:
        pass

    def states(self, population: str, variable: str, values: np.ndarray) -> None:
        pass

    def weights(self, projection: str, values: np.ndarray) -> None:
        pass

    def finish(self, summary: dict[str, Any]) -> np.ndarray:
        return self.counts.reshape(self.trials, self.bins * self.n).astype(np.float64)

    def abort(self) -> None:
        pass


def filtered_traces(rec: Recording, population: str = POPULATION, tau_s: float = 0.03,
                    times_s: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Exponentially filtered spike trains sampled at readout times: shape (trials, times * neurons), float64,
    time-major (column ``j * neurons + n``).

    ``trace_n(t) = sum_{spikes of n at t_s <= t} exp(-(t - t_s) / tau_s)``, spike times ``t_s = step * dt``.
    ``tau_s`` and ``times_s`` in seconds; ``times_s`` defaults to the end of the run.
    """
    sp = _spikes(rec, population)
    tau_s = _positive("features.tau_s", tau_s)
    times = np.asarray([rec.n_steps * rec.dt] if times_s is None else times_s, dtype=np.float64)
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ConfigError("features.times_s", times_s, "must be a non-empty list of seconds >= 0")
    n = rec.sizes[population]
    t_spk = sp.step.astype(np.float64) * rec.dt
    base = sp.trial.astype(np.int64) * n + sp.neuron.astype(np.int64)
    out = np.zeros((rec.trials, times.size, n))
    for j, t in enumerate(times):
        sel = t_spk <= t + 1e-12
        w = np.exp(-(t - t_spk[sel]) / tau_s)
        out[:, j, :] = np.bincount(base[sel], weights=w, minlength=rec.trials * n).reshape(rec.trials, n)
    return out.reshape(rec.trials, times.size * n)


def trace_series(rec: Recording, population: str = POPULATION, tau_s: float = 0.03,
                 times_s: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """:func:`filtered_traces` at strictly increasing readout times, shape (trials, times, neurons), float64.

    Same definition (``trace_n(t) = sum_{t_s <= t} exp(-(t - t_s) / tau_s)``, seconds), evaluated recursively:
    ``trace(t_j) = trace(t_{j-1}) exp(-(t_j - t_{j-1}) / tau_s) + sum_{t_{j-1} < t_s <= t_j} exp(-(t_j - t_s) /
    tau_s)``, so a long run read out at every input step costs one pass over the spikes. Equal to
    :func:`filtered_traces` up to float rounding (the recursion multiplies decays instead of exponentiating
    the whole distance).
    """
    sp = _spikes(rec, population)
    tau_s = _positive("features.tau_s", tau_s)
    times = np.asarray([rec.n_steps * rec.dt] if times_s is None else times_s, dtype=np.float64)
    if (times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0)
            or np.any(np.diff(times) <= 0)):
        raise ConfigError("features.times_s", times_s, "must be a non-empty, strictly increasing list of seconds >= 0")
    n = rec.sizes[population]
    t_spk = sp.step.astype(np.float64) * rec.dt
    # readout window of every spike: the first readout time at or after it (1e-12 s: as filtered_traces)
    window = np.searchsorted(times, t_spk - 1e-12, side="left")
    keep = window < times.size
    window, t_keep = window[keep], t_spk[keep]
    flat = (sp.trial.astype(np.int64)[keep] * times.size + window) * n + sp.neuron.astype(np.int64)[keep]
    fresh = np.bincount(flat, weights=np.exp(-(times[window] - t_keep) / tau_s),
                        minlength=rec.trials * times.size * n).reshape(rec.trials, times.size, n)
    decay = np.exp(-np.diff(times, prepend=times[0]) / tau_s)
    out = np.empty_like(fresh)
    acc = np.zeros((rec.trials, n))
    for j in range(times.size):
        acc = acc * decay[j] + fresh[:, j, :]
        out[:, j, :] = acc
    return out


def extract_features(spec: ReservoirSpec, events: Sequence[np.ndarray], sensor_size: Sequence[int], duration_s: float,
                     dt: float, seed: int, *, batch: int = 64, kind: str = "counts", bin_s: float = 0.05,
                     tau_s: float = 0.03, times_s: Sequence[float] | None = None, dtype: str = "float32",
                     input_name: str = "events", progress: Callable[[int], object] | None = None) -> np.ndarray:
    """Features of every sample (one event stream each, timestamps in µs) after ``duration_s`` seconds in the
    reservoir built from ``spec`` and ``seed`` with step ``dt`` (seconds): shape (samples, features), float64.
    ``spec``: an :class:`~snn.reservoir.lsm.LSMSpec` or an
    :class:`~snn.reservoir.izhikevich.IzhikevichReservoirSpec` (see :func:`snn.reservoir.kinds.build_reservoir`).

    Samples run ``batch`` at a time as the trials of one :class:`~snn.engine.simulator.Simulator` run
    (parallel over cores). ``kind``: ``"counts"`` (:func:`binned_counts` with ``bin_s``), ``"traces"``
    (:func:`filtered_traces` with ``tau_s``, ``times_s``) or ``"counts+traces"`` (both from the same run,
    counts columns first). The LSM (and an Izhikevich reservoir without thalamic noise) has no per-trial
    randomness, so the result is the same for any ``batch`` and thread count. ``progress``, if given, is called
    with the number of samples finished after every batch (e.g. a progress bar's ``update``).
    """
    from snn.data.events import to_input

    population = population_of(spec)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ConfigError("features.batch", batch, "must be an integer >= 1")
    if kind not in FEATURES:
        raise ConfigError("features.kind", kind, f"must be one of {list(FEATURES)}")
    duration_s = _positive("simulation.duration", duration_s)
    if kind != "traces":
        _positive("features.bin_s", bin_s)
    if kind != "counts":
        _positive("features.tau_s", tau_s)
    streams = list(events)
    if not streams:
        raise ConfigError("features.events", events, "must hold at least one sample")
    # every stream is validated (to_input) before any simulation
    sources = [to_input(streams[start:start + int(batch)], sensor_size, input_name)
               for start in range(0, len(streams), int(batch))]
    # the reservoir is built once: batches differ only in their input source (same name and channels), and the
    # structure depends on the spec and seed alone
    first = build_reservoir(spec, sources[0], dt, seed)
    if kind != "traces":
        _bin_steps(bin_s, first.dt)  # a bin that is not whole steps fails before any simulation
    parts = []
    for source in sources:
        net = first if source is sources[0] else dataclasses.replace(
            first, inputs=[source if s is sources[0] else s for s in first.inputs])
        sim = Simulator(net, dtype=dtype)
        trials = len(source.events)
        if kind == "counts":
            parts.append(sim.run(duration_s, trials=trials, seed=0, sink=_CountSink(population, bin_s)))
            if progress is not None:
                progress(trials)
            continue
        rec = sim.run(duration_s, trials=trials, seed=0)
        if kind == "traces":
            parts.append(filtered_traces(rec, population, tau_s, times_s))
        else:
            parts.append(np.hstack([binned_counts(rec, population, bin_s),
                                    filtered_traces(rec, population, tau_s, times_s)]))
        if progress is not None:
            progress(trials)
    return np.concatenate(parts, axis=0)
