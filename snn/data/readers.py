"""Readers for the real event-data formats, so recordings on disk load into :mod:`snn.data`'s event format.

- N-MNIST and N-Caltech101 binary files (Orchard et al. 2015; ATIS sensor), one recording per file:
  5 bytes per event, big-endian bit fields::

      byte 0        x (pixels)
      byte 1        y (pixels); y == 240 marks a timestamp overflow, not an event
      byte 2 bit 7  polarity (1 = ON, 0 = OFF)
      byte 2 bits 0-6, byte 3, byte 4   23-bit timestamp (µs)

  At every overflow marker all later timestamps (the marker's own included) grow by 2**13 µs. This is
  exactly tonic's ``tonic.io.read_mnist_file`` (checked against neuromorphs/tonic at v1.6.0-1-gd0cb6df,
  commit d0cb6df of 2025-02-03, and the identical function in the tonic 1.7.0 wheel), itself adapted
  from Orchard's ``eventvision.py``. Unlike tonic, events are returned sorted by time (a stable sort: a
  no-op on real recordings) with :data:`~snn.data.events.EVENT_DTYPE`.

- SHD / SSC HDF5 files (Cramer et al. 2020): ``spikes/times`` (variable-length floats, seconds),
  ``spikes/units`` (variable-length uint16 channels), ``labels``; optional ``extra/keys`` (class names).
  Returned as 1-D streams (:data:`~snn.data.events.AUDIO_DTYPE`, ``t`` rounded to whole µs as tonic does
  with ``times * 1e6``) on the ``(700, 1, 1)`` sensor; ``p`` is False (single polarity, see
  :mod:`snn.data.events`).

A malformed or truncated file gives one :class:`~snn.errors.ConfigError` line naming the file, never a
partial array.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from snn.data.events import (
    AUDIO_DTYPE,
    NMNIST_SENSOR_SIZE,
    SHD_SENSOR_SIZE,
    EventDataset,
    check_sensor_size,
    make_events,
)
from snn.errors import ConfigError

#: y address of a timestamp-overflow marker in N-MNIST / N-Caltech101 files
OVERFLOW_Y = 240
#: what each overflow marker adds to all later timestamps (µs), as in tonic / Orchard's reader
OVERFLOW_INCREMENT = 2**13

__all__ = [
    "OVERFLOW_INCREMENT",
    "OVERFLOW_Y",
    "decode_atis",
    "read_ncaltech101",
    "read_nmnist",
    "read_nmnist_folder",
    "read_shd",
    "read_ssc",
]


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(str(path), "missing" if not p.exists() else "a directory", "must be an existing file")
    return p.read_bytes()


def decode_atis(data: bytes, name: str = "data") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode N-MNIST / N-Caltech101 bytes into columns ``x, y, t (µs), p`` (file order, markers removed).

    ``name`` labels errors. Raises a :class:`ConfigError` for an empty or truncated buffer.
    """
    if len(data) == 0:
        raise ConfigError(name, "0 bytes", "empty file: a recording holds at least one 5-byte event")
    if len(data) % 5:
        raise ConfigError(name, f"{len(data)} bytes",
                          "length must be a multiple of 5 (5 bytes per event): truncated file")
    raw = np.frombuffer(data, np.uint8).reshape(-1, 5).astype(np.int64)
    x, y = raw[:, 0], raw[:, 1]
    p = (raw[:, 2] >> 7).astype(bool)
    t = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    marker = y == OVERFLOW_Y
    t = t + OVERFLOW_INCREMENT * np.cumsum(marker)  # tonic: all_ts[overflow_index:] += 2**13, per marker
    keep = ~marker
    return x[keep], y[keep], t[keep], p[keep]


def _check_xy(name: str, x: np.ndarray, y: np.ndarray, sensor_size: tuple[int, int, int]) -> None:
    w, h, _ = sensor_size
    for field, values, limit in (("x", x, w), ("y", y, h)):
        bad = np.flatnonzero(values >= limit)
        if bad.size:
            raise ConfigError(f"{name}.{field}", int(values[bad[0]]),
                              f"must lie in [0, {limit}) for sensor_size {sensor_size} (event {int(bad[0])})")


def read_nmnist(path: str | os.PathLike[str]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """One N-MNIST recording: (events sorted by ``t`` in µs, ``(34, 34, 2)``)."""
    name = str(path)
    x, y, t, p = decode_atis(_read_bytes(path), name)
    _check_xy(name, x, y, NMNIST_SENSOR_SIZE)
    return make_events(x, y, t, p), NMNIST_SENSOR_SIZE


def read_ncaltech101(path: str | os.PathLike[str], sensor_size: Any = None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """One N-Caltech101 recording: (events sorted by ``t`` in µs, sensor size).

    Recordings differ in size; without ``sensor_size`` it is taken from the data,
    ``(max x + 1, max y + 1, 2)``. With it, events outside it are an error.
    """
    name = str(path)
    x, y, t, p = decode_atis(_read_bytes(path), name)
    if sensor_size is None:
        if x.size == 0:
            raise ConfigError(name, "only overflow markers", "holds no events to size the sensor from")
        size = (int(x.max()) + 1, int(y.max()) + 1, 2)
    else:
        size = check_sensor_size(sensor_size, f"{name}.sensor_size")
        _check_xy(name, x, y, size)
    return make_events(x, y, t, p), size


def read_nmnist_folder(root: str | os.PathLike[str], reader: str = "nmnist") -> EventDataset:
    """Every ``*.bin`` recording under ``root/<class>/`` (N-MNIST's ``Train/0/00002.bin`` layout, or
    N-Caltech101's ``Caltech101/<class>/image_0001.bin``) as an :class:`EventDataset`.

    Classes are the sub-folder names, sorted (numerically when all are integers); labels index that list,
    which is stored as ``metadata["classes"]``. ``reader``: ``"nmnist"`` (34 x 34 x 2) or ``"ncaltech101"``
    (the sensor then spans every recording: the largest x and y seen, plus one).
    """
    base = Path(root)
    if not base.is_dir():
        raise ConfigError("root", str(root), "must be an existing directory with one sub-folder per class")
    if reader not in ("nmnist", "ncaltech101"):
        raise ConfigError("reader", reader, "must be 'nmnist' or 'ncaltech101'")
    classes = [d.name for d in base.iterdir() if d.is_dir()]
    numeric = all(c.isdigit() for c in classes)
    classes.sort(key=(lambda c: (int(c), c)) if numeric else None)
    streams, labels = [], []
    for label, cls in enumerate(classes):
        for f in sorted((base / cls).glob("*.bin")):
            ev = read_nmnist(f)[0] if reader == "nmnist" else read_ncaltech101(f)[0]
            streams.append(ev)
            labels.append(label)
    if not streams:
        raise ConfigError("root", str(root), "holds no <class>/*.bin recordings")
    if reader == "nmnist":
        size = NMNIST_SENSOR_SIZE
    else:
        size = (max(int(ev["x"].max(initial=0)) for ev in streams) + 1,
                max(int(ev["y"].max(initial=0)) for ev in streams) + 1, 2)
    meta = {"source": reader, "path": str(base), "classes": [int(c) if numeric else c for c in classes]}
    return EventDataset(tuple(streams), np.asarray(labels, np.int64), size, meta)


def read_shd(path: str | os.PathLike[str], sensor_size: Any = SHD_SENSOR_SIZE) -> EventDataset:
    """An SHD file as an :class:`EventDataset` of 1-D streams (``t`` µs, ``x`` channel, ``p`` False)."""
    return _read_hsd(path, sensor_size, "shd")


def read_ssc(path: str | os.PathLike[str], sensor_size: Any = SHD_SENSOR_SIZE) -> EventDataset:
    """An SSC file (SHD's layout) as an :class:`EventDataset` of 1-D streams."""
    return _read_hsd(path, sensor_size, "ssc")


def _read_hsd(path: str | os.PathLike[str], sensor_size: Any, source: str) -> EventDataset:
    import h5py

    name = str(path)
    if not Path(path).is_file():
        raise ConfigError(name, "missing", "must be an existing SHD/SSC HDF5 file")
    size = check_sensor_size(sensor_size, f"{name}.sensor_size")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise ConfigError(name, type(exc).__name__, "is not a readable HDF5 file") from None
    with fh:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in fh or not isinstance(fh[key], h5py.Dataset):
                raise ConfigError(f"{name}:{key}", "missing",
                                  "an SHD/SSC file holds datasets spikes/times, spikes/units and labels")
        times_ds, units_ds, labels_ds = fh["spikes/times"], fh["spikes/units"], fh["labels"]
        n = labels_ds.shape[0] if labels_ds.ndim == 1 else -1
        if n < 0:
            raise ConfigError(f"{name}:labels", labels_ds.shape, "must be 1-D (one label per sample)")
        for key, ds in (("spikes/times", times_ds), ("spikes/units", units_ds)):
            if ds.ndim != 1 or ds.shape[0] != n:
                raise ConfigError(f"{name}:{key}", f"{ds.shape[0] if ds.ndim else 0} samples",
                                  f"must hold one entry per label ({n})")
        labels = labels_ds[()]
        if labels.dtype.kind not in "iu":
            raise ConfigError(f"{name}:labels", str(labels.dtype), "must be integers")
        times_all, units_all = times_ds[()], units_ds[()]
        classes = None
        if "extra/keys" in fh and isinstance(fh["extra/keys"], h5py.Dataset):
            classes = [k.decode() if isinstance(k, bytes) else str(k) for k in np.ravel(fh["extra/keys"][()])]
    streams = []
    for k in range(n):
        times = np.asarray(times_all[k], dtype=np.float64).ravel()
        units = np.asarray(units_all[k]).ravel()
        key = f"{name}:spikes"
        if times.shape != units.shape:
            raise ConfigError(f"{key}/units[{k}]", f"{units.size} units",
                              f"must match spikes/times[{k}] ({times.size} times)")
        if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
            bad = int(np.flatnonzero(~np.isfinite(times) | (times < 0))[0])
            raise ConfigError(f"{key}/times[{k}]", float(times[bad]), f"must be finite and >= 0 (seconds; spike {bad})")
        if units.size and (units.dtype.kind not in "iu" or units.min() < 0 or units.max() >= size[0]):
            bad_units = units if units.dtype.kind not in "iu" else units[(units < 0) | (units >= size[0])]
            raise ConfigError(f"{key}/units[{k}]", bad_units.ravel()[0] if bad_units.size else units.dtype,
                              f"must be integer channels in [0, {size[0]})")
        ev = np.empty(times.size, AUDIO_DTYPE)
        ev["t"] = np.rint(times * 1e6)
        ev["x"] = units
        ev["p"] = False
        streams.append(ev[np.argsort(ev["t"], kind="stable")])
    meta: dict[str, Any] = {"source": source, "path": name}
    if classes is not None:
        meta["classes"] = classes
    return EventDataset(tuple(streams), labels.astype(np.int64), size, meta)
