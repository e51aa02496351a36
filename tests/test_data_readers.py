"""Readers on files written here byte by byte in the real formats: N-MNIST / N-Caltech101 binaries, SHD HDF5."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from snn.data import (
    AUDIO_DTYPE,
    EVENT_DTYPE,
    NMNIST_SENSOR_SIZE,
    SHD_SENSOR_SIZE,
    read_ncaltech101,
    read_nmnist,
    read_nmnist_folder,
    read_shd,
    read_ssc,
)
from snn.errors import ConfigError


def _record(x: int, y: int, p: int, t: int) -> bytes:
    """One 40-bit event: x, y, then polarity in bit 7 of byte 2 and a 23-bit big-endian timestamp."""
    assert 0 <= t < 2**23
    return bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])


MARKER = bytes([0, 240, 0, 0, 0])  # y == 240: timestamp overflow


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_nmnist_bytes_decode_exactly(tmp_path):
    data = (
        b"\x03\x04\x81\x23\x45"  # by hand: x=3, y=4, ON, t = 0x012345 = 74565 µs
        + _record(33, 0, 0, 2**23 - 1)  # largest 23-bit timestamp, OFF
        + MARKER  # every later timestamp gains 2**13 µs
        + _record(5, 6, 1, 50)
        + _record(0, 33, 0, 200)
        + MARKER
        + _record(2, 2, 1, 10)
    )
    path = tmp_path / "00001.bin"
    path.write_bytes(data)
    events, sensor = read_nmnist(path)
    assert sensor == NMNIST_SENSOR_SIZE == (34, 34, 2)
    assert events.dtype == EVENT_DTYPE
    expected = np.array(
        [(5, 6, 50 + 8192, True), (0, 33, 200 + 8192, False), (2, 2, 10 + 2 * 8192, True), (3, 4, 74565, True),
         (33, 0, 2**23 - 1, False)],
        dtype=EVENT_DTYPE,
    )
    np.testing.assert_array_equal(events, expected)  # markers gone, sorted by t
    assert np.all(np.diff(events["t"]) >= 0)


def test_nmnist_sort_is_stable_for_equal_timestamps(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(_record(1, 1, 1, 500) + _record(2, 2, 0, 500) + _record(3, 3, 1, 100))
    events, _ = read_nmnist(path)
    assert events["x"].tolist() == [3, 1, 2]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (_record(1, 2, 1, 3) + b"\x01\x02", "multiple of 5"),
        (_record(1, 2, 1, 3) + _record(34, 0, 1, 5), "must lie in [0, 34)"),
        (_record(1, 34, 1, 3), "must lie in [0, 34)"),
    ],
)
def test_nmnist_malformed_files_get_one_line(tmp_path, content, fragment):
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        read_nmnist(path)
    msg = _one_line(err)
    assert fragment in msg and str(path) in msg


def test_nmnist_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        read_nmnist(tmp_path / "nope.bin")
    assert "existing file" in _one_line(err)


def test_ncaltech101_sensor_from_data_and_checked_when_given(tmp_path):
    path = tmp_path / "image_0001.bin"
    path.write_bytes(_record(239, 10, 1, 7) + MARKER + _record(0, 179, 0, 3))
    events, sensor = read_ncaltech101(path)
    assert sensor == (240, 180, 2)
    np.testing.assert_array_equal(events, np.array([(239, 10, 7, True), (0, 179, 3 + 8192, False)], EVENT_DTYPE))
    assert read_ncaltech101(path, sensor_size=(240, 180, 2))[1] == (240, 180, 2)
    with pytest.raises(ConfigError) as err:
        read_ncaltech101(path, sensor_size=(200, 180, 2))
    assert "[0, 200)" in _one_line(err)
    only_marker = tmp_path / "m.bin"
    only_marker.write_bytes(MARKER)
    with pytest.raises(ConfigError):
        read_ncaltech101(only_marker)


def test_nmnist_folder_labels_from_numeric_subfolders(tmp_path):
    for cls, n in (("2", 2), ("10", 1)):
        (tmp_path / cls).mkdir()
        for k in range(n):
            (tmp_path / cls / f"{k:05d}.bin").write_bytes(_record(k, 1, 1, 10 * (k + 1)))
    (tmp_path / "2" / "notes.txt").write_text("ignored")
    ds = read_nmnist_folder(tmp_path)
    assert len(ds) == 3 and ds.sensor_size == (34, 34, 2)
    assert ds.labels.tolist() == [0, 0, 1]
    assert ds.metadata["classes"] == [2, 10]  # numeric order, not "10" < "2"
    assert [ev["x"].tolist() for ev in ds.events] == [[0], [1], [0]]
    with pytest.raises(ConfigError):
        read_nmnist_folder(tmp_path / "2")  # no class sub-folders


# --- SHD / SSC -----------------------------------------------------------------------------------------------


def _write_shd(path, times, units, labels, keys=None) -> None:
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for k, v in enumerate(times):
            t[k] = np.asarray(v, np.float32)
        for k, v in enumerate(units):
            u[k] = np.asarray(v, np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        if keys is not None:
            f.create_dataset("extra/keys", data=np.array(keys, dtype="S"))


def test_shd_file_reads_exactly(tmp_path):
    path = tmp_path / "shd_test.h5"
    _write_shd(path, [[0.5, 0.0001, 0.25], []], [[699, 0, 17], []], [3, 19], keys=["null", "eins"])
    ds = read_shd(path)
    assert ds.sensor_size == SHD_SENSOR_SIZE == (700, 1, 1)
    assert ds.labels.tolist() == [3, 19] and ds.labels.dtype == np.int64
    assert ds.events[0].dtype == AUDIO_DTYPE
    # seconds -> µs, rounded (float32 0.0001 s = 99.99999747 µs -> 100), sorted by time, single polarity p = False
    np.testing.assert_array_equal(ds.events[0], np.array([(100, 0, False), (250000, 17, False),
                                                          (500000, 699, False)], AUDIO_DTYPE))
    assert ds.events[1].size == 0
    assert ds.metadata["classes"] == ["null", "eins"] and ds.metadata["source"] == "shd"
    assert read_ssc(path).metadata["source"] == "ssc"


def test_shd_malformed_files_get_one_line(tmp_path):
    cases = {
        "mismatch_counts": ([[0.1], [0.2]], [[1]], [0, 1], "one entry per label"),
        "mismatch_lengths": ([[0.1, 0.2]], [[1]], [0], "must match spikes/times[0]"),
        "negative": ([[0.1, -0.2]], [[1, 2]], [0], ">= 0"),
        "unit_range": ([[0.1]], [[700]], [0], "[0, 700)"),
    }
    for name, (times, units, labels, fragment) in cases.items():
        path = tmp_path / f"{name}.h5"
        _write_shd(path, times, units, labels)
        with pytest.raises(ConfigError) as err:
            read_shd(path)
        assert fragment in _one_line(err), name
    missing = tmp_path / "missing.h5"
    with h5py.File(missing, "w") as f:
        f.create_dataset("labels", data=np.zeros(1, np.uint8))
    with pytest.raises(ConfigError) as err:
        read_shd(missing)
    assert "spikes/times" in _one_line(err)
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("not hdf5")
    with pytest.raises(ConfigError) as err:
        read_shd(not_hdf5)
    assert "HDF5" in _one_line(err)
