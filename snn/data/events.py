"""The one event format, event datasets, and the bridge to the engine.

Every event stream in :mod:`snn.data` is a structured numpy array sorted by time:

- camera-like streams use tonic's dtype :data:`EVENT_DTYPE` (``x, y``: int16 pixels, ``t``: int64 µs,
  ``p``: bool polarity, True = ON) with ``sensor_size = (W, H, P)``;
- 1-D (audio-like) streams use :data:`AUDIO_DTYPE` (``t``: int64 µs, ``x``: int16 channel, ``p``: bool) with
  ``sensor_size = (channels, 1, P)``.

Single-polarity sensors (``P = 1``) carry ``p = False`` on every event: the engine's channel index is
``(p * H + y) * W + x`` and must stay below ``W * H * P``. (tonic writes ``p = 1`` for SHD, and its ``ToFrame``
zeroes ``p`` for single-polarity sensors, so the frames agree.)

Timestamps are integer microseconds (tonic's convention); every other time in this package is in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.model.network import EVENT_DTYPE, EventStreamInput

#: 1-D streams (cochlea / audio, delta-modulated time series): t (µs), x (channel), p (polarity)
AUDIO_DTYPE = np.dtype([("t", np.int64), ("x", np.int16), ("p", bool)])

#: N-MNIST's sensor: 34 x 34 pixels (28 x 28 digits plus the saccade travel), ON and OFF
NMNIST_SENSOR_SIZE = (34, 34, 2)

#: SHD / SSC: 700 cochlea channels, one polarity
SHD_SENSOR_SIZE = (700, 1, 1)

__all__ = [
    "AUDIO_DTYPE",
    "EVENT_DTYPE",
    "NMNIST_SENSOR_SIZE",
    "SHD_SENSOR_SIZE",
    "EventDataset",
    "check_events",
    "check_sensor_size",
    "make_audio_events",
    "make_events",
    "to_input",
]


def _sorted_by_time(ev: np.ndarray) -> np.ndarray:
    if ev.size and np.any(np.diff(ev["t"]) < 0):
        ev = ev[np.argsort(ev["t"], kind="stable")]
    return ev


def _fill(dtype: np.dtype, columns: dict[str, Any], path: str) -> np.ndarray:
    t = np.asarray(columns["t"])
    n = t.size if t.ndim == 1 else -1
    if n < 0:
        raise ConfigError(f"{path}.t", columns["t"], "must be a 1-D array of timestamps (µs)")
    ev = np.empty(n, dtype)
    for name, values in columns.items():
        arr = np.asarray(values)
        if arr.dtype.kind not in "biuf" or arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
            raise ConfigError(f"{path}.{name}", values, f"must be a number or {n} numbers (one per event)")
        if name == "p":
            ev[name] = arr.astype(bool)
            continue
        info = np.iinfo(dtype[name])
        if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr))
                         or arr.min() < info.min or arr.max() > info.max):
            raise ConfigError(f"{path}.{name}", values, f"must be integers in [{info.min}, {info.max}]")
        ev[name] = arr
    return _sorted_by_time(ev)


def make_events(x: Any, y: Any, t: Any, p: Any) -> np.ndarray:
    """An :data:`EVENT_DTYPE` array from columns (``x, y`` pixels, ``t`` in µs, ``p`` polarity), sorted by time
    (stable: ties keep their order)."""
    return _fill(EVENT_DTYPE, {"x": x, "y": y, "t": t, "p": p}, "events")


def make_audio_events(t: Any, x: Any, p: Any = False) -> np.ndarray:
    """An :data:`AUDIO_DTYPE` array from columns (``t`` in µs, ``x`` channel, ``p`` polarity), sorted by time
    (stable)."""
    return _fill(AUDIO_DTYPE, {"t": t, "x": x, "p": p}, "events")


def check_sensor_size(sensor_size: Any, path: str = "sensor_size") -> tuple[int, int, int]:
    """``(W, H, P)``: three integers >= 1 (one-line :class:`ConfigError` otherwise)."""
    try:
        size = tuple(sensor_size)
    except TypeError:
        raise ConfigError(path, sensor_size, "must be (W, H, P), three integers >= 1") from None
    if len(size) != 3 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in size):
        raise ConfigError(path, sensor_size, "must be (W, H, P), three integers >= 1")
    return (int(size[0]), int(size[1]), int(size[2]))


def check_events(events: Any, sensor_size: Any, path: str = "events") -> np.ndarray:
    """Validate one stream: fields ``x, t, p`` (and ``y`` unless 1-D), coordinates inside ``sensor_size``,
    ``t`` (µs) >= 0 and sorted. Returns the array; raises a one-line :class:`ConfigError` otherwise."""
    w, h, p = check_sensor_size(sensor_size, f"{path}.sensor_size")
    ev = np.asarray(events)
    names = ev.dtype.names
    if names is None or not {"x", "t", "p"} <= set(names) or ev.ndim != 1:
        raise ConfigError(path, ev, "must be a 1-D structured array with fields x, y, t (µs), p (or t, x, p)")
    y = ev["y"] if "y" in names else np.zeros(ev.shape, np.int16)
    for name, values, limit in (("x", ev["x"], w), ("y", y, h), ("p", ev["p"].astype(np.int64), p)):
        if values.size and (values.min() < 0 or values.max() >= limit):
            bad = int(np.flatnonzero((values < 0) | (values >= limit))[0])
            raise ConfigError(f"{path}.{name}", int(values[bad]),
                              f"must lie in [0, {limit}) for sensor_size {(w, h, p)} (event {bad})")
    if ev.size and ev["t"].min() < 0:
        raise ConfigError(f"{path}.t", int(ev["t"].min()), "must be >= 0 (µs)")
    if ev.size and np.any(np.diff(ev["t"]) < 0):
        raise ConfigError(f"{path}.t", ev["t"], "must be sorted by time (µs)")
    return ev


@dataclass(frozen=True, eq=False)
class EventDataset:
    """Labelled event streams that share one sensor.

    ``events``: one structured array per sample (:data:`EVENT_DTYPE` or :data:`AUDIO_DTYPE`, all the same
    dtype), timestamps in µs from the start of the sample. ``labels``: int64 class per sample.
    ``metadata``: JSON-able description (source, encoder and its parameters, seed, package version, ...).
    """

    events: tuple[np.ndarray, ...]
    labels: np.ndarray
    sensor_size: tuple[int, int, int]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensor_size", check_sensor_size(self.sensor_size, "dataset.sensor_size"))
        streams = tuple(np.asarray(ev) for ev in self.events)
        for k, ev in enumerate(streams):
            if ev.dtype.names is None or not {"x", "t", "p"} <= set(ev.dtype.names) or ev.ndim != 1:
                raise ConfigError(f"dataset.events[{k}]", ev, "must be a 1-D structured array with fields x, t, p")
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or labels.shape[0] != len(streams):
            raise ConfigError("dataset.labels", labels, f"must be one label per sample ({len(streams)})")
        if labels.size and labels.dtype.kind not in "iub":
            raise ConfigError("dataset.labels", labels, "must be integers")
        if len({ev.dtype for ev in streams}) > 1:
            raise ConfigError("dataset.events", sorted({str(ev.dtype) for ev in streams}), "must share one dtype")
        object.__setattr__(self, "events", streams)
        object.__setattr__(self, "labels", labels.astype(np.int64))
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self.events[index], int(self.labels[index])

    def __iter__(self) -> Iterator[tuple[np.ndarray, int]]:
        for k in range(len(self)):
            yield self[k]

    @property
    def dtype(self) -> np.dtype:
        return self.events[0].dtype if self.events else EVENT_DTYPE

    def counts(self) -> np.ndarray:
        """Events per sample (int64)."""
        return np.array([ev.size for ev in self.events], np.int64)

    def subset(self, indices: Sequence[int] | np.ndarray) -> EventDataset:
        """The samples at ``indices``, in that order (same sensor and metadata)."""
        idx = np.asarray(indices, np.int64)
        return EventDataset(tuple(self.events[int(i)] for i in idx), self.labels[idx], self.sensor_size,
                            self.metadata)

    def to_input(self, name: str = "events", indices: Sequence[int] | np.ndarray | None = None) -> EventStreamInput:
        """An engine input with one stream per trial (all samples, or those at ``indices``)."""
        chosen = self.events if indices is None else [self.events[int(i)] for i in indices]
        return to_input(list(chosen), self.sensor_size, name)


def to_input(events: np.ndarray | Sequence[np.ndarray], sensor_size: Any, name: str = "events") -> EventStreamInput:
    """Feed event streams to the engine: one :class:`~snn.model.EventStreamInput` source per channel
    ``(p * H + y) * W + x``.

    ``events``: one stream (every trial receives it) or a list with one stream per trial. An event at ``t`` µs
    falls in step ``floor(t * 1e-6 / dt)`` of the run (see :func:`snn.engine.compile.event_steps`).
    """
    size = check_sensor_size(sensor_size)
    events = events if isinstance(events, np.ndarray) else list(events)
    try:
        return EventStreamInput(name, events, size)  # validates every stream itself
    except ConfigError:
        # name the first bad event, which the description's own message does not (checked only on failure, so a
        # good batch is validated once)
        if isinstance(events, np.ndarray):
            check_events(events, size, f"inputs.{name}.events")
        else:
            for k, ev in enumerate(events):
                check_events(ev, size, f"inputs.{name}.events[{k}]")
        raise
