"""Recordings in HDF5: streamed in chunks during a run, written atomically, loaded back exactly.

Layout (all times in steps of ``dt`` seconds, stored as the ``dt_s`` attribute)::

    /                       attrs: format, format_version, dt_s, n_steps, trials, metadata (JSON), complete
    /sizes                  attrs: population or input name -> number of neurons / channels
    /spikes/<pop>/trial     int32   } parallel arrays, one entry per spike; sorted by (trial, step, neuron)
    /spikes/<pop>/neuron    int32   } on load
    /spikes/<pop>/step      int64   }
    /rates/<pop>            int32 (trials, n_steps): spikes per step
    /states/<pop>/<var>     (trials, samples, n_indices); attrs indices, every (steps)
    /weights/<proj>         (trials, snapshots, synapses) WeightMonitor snapshots; attrs every, steps
    /final_weights/<proj>   (trials, synapses) weights of plastic projections after the run
    /summary                spike_counts/<pop> (trials,), synaptic_events (trials,), attrs timings (JSON)

Datasets are chunked and resizable, so a long run appends as it goes and memory stays bounded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from snn.engine.recording import Recording, RunInfo, SpikeTrains, sort_spikes
from snn.errors import ConfigError
from snn.io.atomic import commit, discard, temporary_path

FORMAT = "snn-hal-recording"
FORMAT_VERSION = 1
_CHUNK = 1 << 16


def _append(group: h5py.Group, name: str, values: np.ndarray, axis: int = 0) -> None:
    if name not in group:
        shape = list(values.shape)
        # empty fixed dimensions (a projection without synapses) must be unlimited: chunks are at least 1 long
        maxshape = [None if (i == axis or c == 0) else c for i, c in enumerate(values.shape)]
        chunks = [max(1, c) for c in values.shape]
        if values.ndim > 1 and axis != values.ndim - 1:
            chunks[-1] = min(chunks[-1], _CHUNK)  # e.g. one weight snapshot of 10^6 synapses: split it
        per = int(np.prod([c for i, c in enumerate(chunks) if i != axis]))  # elements per step along ``axis``
        chunks[axis] = max(1, min(_CHUNK // max(1, per), 1 << 20))
        shape[axis] = 0
        group.create_dataset(name, shape=tuple(shape), maxshape=tuple(maxshape), dtype=values.dtype,
                             chunks=tuple(chunks), compression="gzip", compression_opts=1, shuffle=True)
    ds = group[name]
    n0 = ds.shape[axis]
    new_shape = list(ds.shape)
    new_shape[axis] = n0 + values.shape[axis]
    ds.resize(tuple(new_shape))
    index = [slice(None)] * values.ndim
    index[axis] = slice(n0, n0 + values.shape[axis])
    ds[tuple(index)] = values


class HDF5Sink:
    """Streams a run into ``path``; the file appears (atomically) only when the run finished.

    Pass it as ``Simulator.run(..., sink=HDF5Sink(path))``; ``run`` then returns ``path``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError("out", str(path), "must be a file path, not a directory")
        if not self.path.parent.exists():
            raise ConfigError("out", str(path), f"directory {self.path.parent} does not exist")
        self._tmp = temporary_path(self.path)
        self._file: h5py.File | None = None

    def begin(self, info: RunInfo) -> None:
        f = h5py.File(self._tmp, "w")
        self._file = f
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["dt_s"] = info.dt
        f.attrs["n_steps"] = info.n_steps
        f.attrs["trials"] = info.trials
        f.attrs["metadata"] = json.dumps(info.metadata, default=_json_default)
        f.attrs["neuron_populations"] = json.dumps(info.neuron_populations)
        f.attrs["complete"] = False
        sizes = f.create_group("sizes")
        order = []
        for name, size in info.sizes.items():
            sizes.attrs[name] = size
            order.append(name)
        sizes.attrs["__order__"] = json.dumps(order)
        spikes = f.create_group("spikes")
        for pop in info.spike_monitors:
            g = spikes.create_group(pop)
            for name, dtype in (("trial", np.int32), ("neuron", np.int32), ("step", np.int64)):
                _append(g, name, np.zeros(0, dtype))
        rates = f.create_group("rates")
        for pop in info.rate_monitors:
            _append(rates, pop, np.zeros((info.trials, 0), np.int32), axis=1)
        states = f.create_group("states")
        for pop, spec in info.state_monitors.items():
            g = states.create_group(pop)
            g.attrs["indices"] = np.asarray(spec["indices"], np.int64)
            g.attrs["every"] = int(spec["every"])
        weights = f.create_group("weights")
        for proj, spec in info.weight_monitors.items():
            dtype = np.dtype(info.metadata.get("dtype", "float64"))  # the run's weight dtype: loads back exactly
            _append(weights, proj, np.zeros((info.trials, 0, spec["synapses"]), dtype), axis=1)
            weights[proj].attrs["every"] = int(spec["every"])
            weights[proj].attrs["steps"] = np.asarray(spec["steps"], np.int64)

    def spikes(self, population: str, trial: np.ndarray, neuron: np.ndarray, step: np.ndarray) -> None:
        g = self._require()["spikes"][population]
        _append(g, "trial", trial.astype(np.int32))
        _append(g, "neuron", neuron.astype(np.int32))
        _append(g, "step", step.astype(np.int64))

    def rates(self, population: str, counts: np.ndarray) -> None:
        _append(self._require()["rates"], population, counts.astype(np.int32), axis=1)

    def states(self, population: str, variable: str, values: np.ndarray) -> None:
        _append(self._require()["states"][population], variable, values, axis=1)

    def weights(self, projection: str, values: np.ndarray) -> None:
        group = self._require()["weights"]
        _append(group, projection, values.astype(group[projection].dtype, copy=False), axis=1)

    def finish(self, summary: dict[str, Any]) -> Path:
        f = self._require()
        final = f.create_group("final_weights")
        for name, values in summary.get("final_weights", {}).items():
            values = np.asarray(values)
            if values.size:
                final.create_dataset(name, data=values, chunks=True, compression="gzip", compression_opts=1)
            else:
                final.create_dataset(name, data=values)
        g = f.create_group("summary")
        counts = g.create_group("spike_counts")
        for name, values in summary["spike_counts"].items():
            counts.create_dataset(name, data=np.asarray(values, np.int64))
        g.create_dataset("synaptic_events", data=np.asarray(summary["synaptic_events"], np.int64))
        g.attrs["timings"] = json.dumps(summary["timings"])
        f.attrs["complete"] = True
        f.close()
        self._file = None
        commit(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        discard(self._tmp)

    def _require(self) -> h5py.File:
        if self._file is None:
            raise RuntimeError("HDF5Sink used before begin() or after finish()")
        return self._file


def save_recording(rec: Recording, path: str | os.PathLike[str]) -> Path:
    """Write an in-memory :class:`Recording` to ``path`` atomically (same layout as a streamed run)."""
    sink = HDF5Sink(path)
    info = RunInfo(dt=rec.dt, n_steps=rec.n_steps, trials=rec.trials, sizes=rec.sizes,
                   neuron_populations=rec.neuron_populations, spike_monitors=list(rec.spikes),
                   rate_monitors=list(rec.rates),
                   state_monitors={p: {"variables": list(v), "indices": rec.state_indices[p],
                                       "every": rec.state_every[p]} for p, v in rec.states.items()},
                   metadata=rec.metadata,
                   weight_monitors={q: {"every": rec.weight_every[q], "steps": rec.weight_steps[q],
                                        "synapses": w.shape[2]} for q, w in rec.weights.items()})
    try:
        sink.begin(info)
        for pop, st in rec.spikes.items():
            sink.spikes(pop, st.trial, st.neuron, st.step)
        for pop, counts in rec.rates.items():
            sink.rates(pop, counts)
        for pop, per_var in rec.states.items():
            for var, values in per_var.items():
                sink.states(pop, var, values)
        for proj, values in rec.weights.items():
            sink.weights(proj, values)
        return sink.finish({"spike_counts": rec.spike_counts, "synaptic_events": rec.synaptic_events,
                            "timings": rec.timings, "final_weights": rec.final_weights})
    except BaseException:
        sink.abort()
        raise


def load_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording written by :class:`HDF5Sink` or :func:`save_recording`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("recording", str(path), "file does not exist")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ConfigError("recording", str(path), f"is not a readable HDF5 file ({exc.__class__.__name__})") from None
    with f:
        try:
            return _read(f, p)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - any damage inside a valid HDF5 container is one clear line
            raise ConfigError("recording", p.name, f"is damaged ({type(exc).__name__}: {exc})") from None


def _read(f: h5py.File, p: Path) -> Recording:
    """The body of :func:`load_recording`; every inconsistency it meets becomes one ConfigError line."""
    fmt = f.attrs.get("format")
    if not isinstance(fmt, str) or fmt != FORMAT:
        raise ConfigError("recording", str(p), f"is not an {FORMAT} file")
    version = f.attrs.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError("recording", p.name, f"has format_version {version}; this version reads {FORMAT_VERSION}")
    if not bool(f.attrs.get("complete", False)):
        raise ConfigError("recording", str(p), "is incomplete (the run did not finish)")
    order = json.loads(f["sizes"].attrs["__order__"])
    sizes = {name: int(f["sizes"].attrs[name]) for name in order}
    rec = Recording(dt=float(f.attrs["dt_s"]), n_steps=int(f.attrs["n_steps"]), trials=int(f.attrs["trials"]),
                    sizes=sizes, neuron_populations=json.loads(f.attrs["neuron_populations"]),
                    metadata=json.loads(f.attrs["metadata"]))
    for pop, g in f["spikes"].items():
        rec.spikes[pop] = sort_spikes(g["trial"][:], g["neuron"][:], g["step"][:])
    for pop, ds in f["rates"].items():
        rec.rates[pop] = ds[:]
    for pop, g in f["states"].items():
        rec.state_indices[pop] = np.asarray(g.attrs["indices"])
        rec.state_every[pop] = int(g.attrs["every"])
        rec.states[pop] = {var: ds[:] for var, ds in g.items()}
    for proj, ds in f.get("weights", {}).items():  # absent in files written before plasticity existed
        rec.weight_every[proj] = int(ds.attrs["every"])
        rec.weight_steps[proj] = np.asarray(ds.attrs["steps"], np.int64)
        rec.weights[proj] = ds[:]
    for proj, ds in f.get("final_weights", {}).items():
        rec.final_weights[proj] = ds[:]
    s = f["summary"]
    rec.spike_counts = {name: ds[:] for name, ds in s["spike_counts"].items()}
    rec.synaptic_events = s["synaptic_events"][:]
    rec.timings = json.loads(s.attrs["timings"])
    return rec




def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


__all__ = ["HDF5Sink", "SpikeTrains", "load_recording", "save_recording"]
