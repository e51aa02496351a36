"""Event datasets in HDF5, with metadata and a checksum; and the caching loader.

Layout of one file (written atomically: a temporary sibling, renamed when complete)::

    /                   attrs: format = "snn-hal-events", format_version, sensor_size (W, H, P),
                               fields (JSON: [[name, dtype], ...]), metadata (JSON), sha256, n_samples
    /events/<field>     the samples' events concatenated, one dataset per field (x, y, t in µs, p)
    /events/offsets     int64 (n_samples + 1): sample k is rows offsets[k]:offsets[k + 1]
    /labels             int64 (n_samples,)

``sha256`` is the SHA-256 of the event arrays: each field's concatenated values in little-endian bytes
(in the order of ``fields``; ``p`` as one byte per event), then the offsets and the labels. It is checked
on every load, so a damaged or edited file is an error, never a silently different data set.

:func:`load_event_dataset` converts a source (:mod:`snn.data.sources`) with an encoder once and caches the
result under ``data/cache/`` (or ``$SNN_DATA_DIR``, or ``cache_dir``), keyed by everything that determines
its content: source, split, seed, test fraction, sample count, encoder name and parameters, this format's
version and the package version.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from snn.data.encoders import SaccadeCamera
from snn.data.events import EventDataset
from snn.data.sources import CLASSES, check_request, load_images
from snn.errors import ConfigError
from snn.io.atomic import commit, discard, temporary_path

FORMAT = "snn-hal-events"
FORMAT_VERSION = 1
#: default cache directory (relative to the working directory; git-ignored)
DEFAULT_CACHE_DIR = Path("data") / "cache"

__all__ = ["DEFAULT_CACHE_DIR", "FORMAT", "FORMAT_VERSION", "cache_dir_default", "cache_path", "event_checksum",
           "load_event_dataset", "read_event_dataset", "save_event_dataset"]


def _package_version() -> str:
    import snn

    return str(snn.__version__)


def _canonical(values: np.ndarray) -> bytes:
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))).tobytes()


def _columns(dataset: EventDataset) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    dtype = dataset.dtype
    names = list(dtype.names or ())
    offsets = np.zeros(len(dataset) + 1, np.int64)
    offsets[1:] = np.cumsum(dataset.counts())
    cols = {}
    for name in names:
        parts = [np.asarray(ev[name]) for ev in dataset.events]
        cols[name] = np.concatenate(parts) if parts else np.zeros(0, dtype[name])
    return names, cols, offsets


def event_checksum(dataset: EventDataset) -> str:
    """SHA-256 (hex) of a dataset's event arrays, offsets and labels (see the module docstring)."""
    names, cols, offsets = _columns(dataset)
    digest = hashlib.sha256()
    for name in names:
        digest.update(_canonical(cols[name]))
    digest.update(_canonical(offsets))
    digest.update(_canonical(dataset.labels))
    return digest.hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def save_event_dataset(dataset: EventDataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` to ``path`` atomically (nothing appears until the file is complete)."""
    import h5py

    target = Path(path)
    if target.is_dir():
        raise ConfigError("path", str(path), "must be a file path, not a directory")
    if not target.parent.exists():
        raise ConfigError("path", str(path), f"directory {target.parent} does not exist")
    if not isinstance(dataset, EventDataset):
        raise ConfigError("dataset", type(dataset).__name__, "must be an EventDataset")
    names, cols, offsets = _columns(dataset)
    checksum = event_checksum(dataset)
    try:
        metadata = json.dumps(dataset.metadata, default=_json_default, sort_keys=True)
    except TypeError as exc:
        raise ConfigError("dataset.metadata", dataset.metadata, f"must be JSON-able ({exc})") from None
    tmp = temporary_path(target)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["sensor_size"] = np.asarray(dataset.sensor_size, np.int64)
            f.attrs["fields"] = json.dumps([[n, dataset.dtype[n].str] for n in names])
            f.attrs["metadata"] = metadata
            f.attrs["sha256"] = checksum
            f.attrs["n_samples"] = len(dataset)
            g = f.create_group("events")
            for name in names:
                col = cols[name].astype(np.uint8) if cols[name].dtype == np.bool_ else cols[name]
                g.create_dataset(name, data=col, chunks=True if col.size else None, compression="gzip",
                                 compression_opts=1, shuffle=True)
            g.create_dataset("offsets", data=offsets)
            f.create_dataset("labels", data=dataset.labels)
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return target


def read_event_dataset(path: str | os.PathLike[str], verify: bool = True) -> EventDataset:
    """Load a file written by :func:`save_event_dataset`; with ``verify`` the checksum must match."""
    import h5py

    name = str(path)
    if not Path(path).is_file():
        raise ConfigError(name, "missing", "must be an existing event-dataset file")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise ConfigError(name, type(exc).__name__, "is not a readable HDF5 file") from None
    with fh:
        if fh.attrs.get("format") != FORMAT:
            raise ConfigError(name, fh.attrs.get("format"), f"is not an event dataset (format {FORMAT!r})")
        version = int(fh.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise ConfigError(f"{name}.format_version", version, f"must be {FORMAT_VERSION}")
        try:
            fields = [(str(n), np.dtype(d)) for n, d in json.loads(fh.attrs["fields"])]
            metadata = json.loads(fh.attrs["metadata"])
            sensor_size = tuple(int(s) for s in fh.attrs["sensor_size"])
            stored = str(fh.attrs["sha256"])
            offsets = np.asarray(fh["events/offsets"][()], np.int64)
            labels = np.asarray(fh["labels"][()], np.int64)
            cols = {n: np.asarray(fh[f"events/{n}"][()]) for n, _ in fields}
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(name, type(exc).__name__, f"is a damaged event dataset ({exc})") from None
    n = labels.size
    total = offsets[-1] if offsets.size else -1
    if offsets.shape != (n + 1,) or offsets[0] != 0 or np.any(np.diff(offsets) < 0) \
            or any(c.shape != (total,) for c in cols.values()):
        raise ConfigError(f"{name}:events/offsets", offsets, "do not match the event and label arrays (damaged)")
    dtype = np.dtype(fields)
    events = []
    for k in range(n):
        ev = np.empty(int(offsets[k + 1] - offsets[k]), dtype)
        for fname, fdtype in fields:
            ev[fname] = cols[fname][offsets[k]:offsets[k + 1]].astype(fdtype)
        events.append(ev)
    dataset = EventDataset(tuple(events), labels, sensor_size, metadata)
    if verify:
        actual = event_checksum(dataset)
        if actual != stored:
            raise ConfigError(f"{name}.sha256", actual[:16],
                              f"does not match the stored checksum {stored[:16]}...: the file is damaged; "
                              "delete it (a cached set is rebuilt on the next load)")
    return dataset


def _cache_key(spec: dict[str, Any]) -> str:
    text = json.dumps(spec, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _spec(source: str, split: str, encoder: Any, n_samples: int | None, seed: int, test_fraction: float
          ) -> dict[str, Any]:
    return {
        "source": source,
        "split": split,
        "n_samples": n_samples,
        "seed": int(seed),
        "test_fraction": None if source == "fashion_mnist" else float(test_fraction),
        "encoder": encoder.name,
        "encoder_params": encoder.params(),
        "format_version": FORMAT_VERSION,
        "package_version": _package_version(),
    }


def _check_encoder(encoder: Any) -> Any:
    if encoder is None:
        return SaccadeCamera()
    if not all(hasattr(encoder, a) for a in ("name", "params", "sensor_size", "__call__")):
        raise ConfigError("encoder", type(encoder).__name__,
                          "must be an encoder (SaccadeCamera, PoissonEncoder, LatencyEncoder)")
    return encoder


def cache_dir_default() -> Path:
    """``$SNN_DATA_DIR`` if set, else ``data/cache`` under the working directory."""
    return Path(os.environ.get("SNN_DATA_DIR", DEFAULT_CACHE_DIR))


def cache_path(source: str, split: str = "train", encoder: Any = None, *, n_samples: int | None = None,
               seed: int = 0, test_fraction: float = 0.2, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`load_event_dataset` caches this conversion."""
    check_request(source, split, seed, test_fraction, n_samples)
    encoder = _check_encoder(encoder)
    spec = _spec(source, split, encoder, n_samples, seed, test_fraction)
    base = Path(cache_dir) if cache_dir is not None else cache_dir_default()
    return base / f"{source}-{split}-{encoder.name}-{_cache_key(spec)}.h5"


def load_event_dataset(source: str, split: str = "train", encoder: Any = None, *, n_samples: int | None = None,
                       seed: int = 0, test_fraction: float = 0.2,
                       cache_dir: str | os.PathLike[str] | None = None, refresh: bool = False,
                       progress: bool = False) -> EventDataset:
    """Events of one split of an image source, converted once and cached.

    ``source``/``split``/``seed``/``test_fraction``/``n_samples``: as :func:`snn.data.sources.load_images`.
    ``encoder``: :class:`~snn.data.encoders.SaccadeCamera` (default), ``PoissonEncoder`` or ``LatencyEncoder``;
    random encoders draw sample ``k`` from ``SeedSequence(seed, spawn_key=(k,))``. The first call converts
    and writes ``<cache_dir>/<source>-<split>-<encoder>-<key>.h5`` (metadata: source, split, seed, encoder
    and its parameters, package version, class names; checksum verified on every later load);
    ``refresh=True`` converts again. ``progress`` shows a progress bar while converting.
    """
    encoder = _check_encoder(encoder)
    path = cache_path(source, split, encoder, n_samples=n_samples, seed=seed, test_fraction=test_fraction,
                      cache_dir=cache_dir)
    spec = _spec(source, split, encoder, n_samples, seed, test_fraction)
    if path.is_file() and not refresh:
        dataset = read_event_dataset(path)
        stored = {k: dataset.metadata.get(k) for k in spec}
        if json.loads(json.dumps(stored, default=_json_default)) != json.loads(json.dumps(spec, default=_json_default)):
            raise ConfigError(str(path), "metadata", "does not describe this conversion: delete the file")
        return dataset
    images, labels = load_images(source, split, seed=seed, test_fraction=test_fraction, n_samples=n_samples)
    events: list[np.ndarray] = []
    chunk = 256
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(labels), desc=f"{source}/{split} -> {encoder.name}", unit="sample")
    for start in range(0, len(labels), chunk):
        batch = encoder(images[start:start + chunk], seed=seed, first_index=start)
        events.extend(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    metadata = dict(spec, classes=CLASSES[source], n_events=int(sum(ev.size for ev in events)))
    dataset = EventDataset(tuple(events), labels, encoder.sensor_size(images.shape), metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_event_dataset(dataset, path)
    return dataset
