"""HDF5 recordings (snn.io.hdf5): exact round trips, streaming in small chunks, atomic writes, one-line load errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

import snn
from snn import connect
from snn.engine import Simulator
from snn.engine.recording import Recording
from snn.errors import ConfigError
from snn.io import HDF5Sink, load_recording, save_recording
from snn.io.hdf5 import FORMAT
from snn.model import (
    LIF,
    Izhikevich,
    Network,
    PoissonInput,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    StateMonitor,
)

DURATION = 0.1  # s, 1000 steps at dt = 0.1 ms
TRIALS = 3
SEED = 11
EVERY_INH = 7  # does not divide the chunk sizes used below, so sample alignment across chunks is exercised
EVERY_IZH = 3


def _network() -> Network:
    lif = LIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=2e-3)
    izh = Izhikevich(c=np.linspace(-65.0, -50.0, 10), d=np.linspace(8.0, 2.0, 10))
    c_ei = connect.fixed_probability(60, 20, 0.3, seed=2)
    return Network(
        dt=1e-4,
        populations=[Population("exc", 60, lif), Population("inh", 20, lif, {"v": -60.0}), Population("izh", 10, izh)],
        inputs=[PoissonInput("drive", 40, rate=60.0)],
        projections=[
            Projection("drive", "exc", connect.fixed_probability(40, 60, 0.3, seed=1), weights=12.0, delays=3),
            Projection("exc", "inh", c_ei, weights=6.0, delays=np.arange(c_ei.nnz) % 6),
            Projection("inh", "exc", connect.fixed_probability(20, 60, 0.2, seed=3), weights=-4.0, target="inh"),
            Projection("drive", "izh", connect.all_to_all(40, 10), weights=4.0, target="delta"),
        ],
        monitors=[SpikeMonitor("exc"), SpikeMonitor("inh"), SpikeMonitor("izh"), SpikeMonitor("drive"),
                  RateMonitor("exc"), RateMonitor("inh"),
                  StateMonitor("inh", ("v", "i_exc"), indices=[0, 3, 7], every=EVERY_INH),
                  StateMonitor("izh", ("v", "u"), every=EVERY_IZH)],
        name="io_test",
        metadata={"experiment": "round trip", "tags": [1, 2]},
    )


def _run(**kwargs):
    return Simulator(_network()).run(DURATION, trials=TRIALS, seed=SEED, **kwargs)


@pytest.fixture(scope="module")
def reference() -> Recording:
    rec = _run()
    # the comparison below is only meaningful if every monitored population spiked in every trial
    for pop, st in rec.spikes.items():
        assert all(np.count_nonzero(st.trial == b) > 5 for b in range(TRIALS)), pop
    return rec


def assert_same_recording(a: Recording, b: Recording) -> None:
    """Bit-for-bit equality of everything a run produced (timings excepted: they are measured, not computed)."""
    assert (a.dt, a.n_steps, a.trials) == (b.dt, b.n_steps, b.trials)
    assert a.sizes == b.sizes and list(a.sizes) == list(b.sizes)  # same global index order
    assert a.neuron_populations == b.neuron_populations
    assert set(a.spikes) == set(b.spikes)  # HDF5 lists groups alphabetically, memory in monitor order
    for pop in a.spikes:
        for name in ("trial", "neuron", "step"):
            x, y = getattr(a.spikes[pop], name), getattr(b.spikes[pop], name)
            assert x.dtype == y.dtype, (pop, name)
            np.testing.assert_array_equal(x, y, err_msg=f"spikes[{pop}].{name}")
    assert set(a.rates) == set(b.rates)
    for pop in a.rates:
        assert a.rates[pop].dtype == b.rates[pop].dtype
        np.testing.assert_array_equal(a.rates[pop], b.rates[pop], err_msg=f"rates[{pop}]")
    assert set(a.states) == set(b.states)
    for pop in a.states:
        np.testing.assert_array_equal(a.state_indices[pop], b.state_indices[pop])
        assert a.state_every[pop] == b.state_every[pop]
        assert set(a.states[pop]) == set(b.states[pop])
        for var in a.states[pop]:
            x, y = a.states[pop][var], b.states[pop][var]
            assert x.dtype == y.dtype and x.shape == y.shape, (pop, var)
            np.testing.assert_array_equal(x, y, err_msg=f"states[{pop}][{var}]")
    assert set(a.spike_counts) == set(b.spike_counts)
    for pop in a.spike_counts:
        np.testing.assert_array_equal(a.spike_counts[pop], b.spike_counts[pop], err_msg=f"spike_counts[{pop}]")
    np.testing.assert_array_equal(a.synaptic_events, b.synaptic_events)


def _json_normalised(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


# --- the reference run itself is consistent ------------------------------------------------------------


def test_reference_recording_is_self_consistent(reference):
    rec = reference
    assert rec.n_steps == 1000 and rec.trials == TRIALS and rec.dt == 1e-4
    for pop, st in rec.spikes.items():
        order = np.lexsort((st.neuron, st.step, st.trial))
        np.testing.assert_array_equal(order, np.arange(len(st)))  # sorted by (trial, step, neuron)
        assert st.neuron.min() >= 0 and st.neuron.max() < rec.sizes[pop]
        assert st.step.min() >= 0 and st.step.max() < rec.n_steps
        np.testing.assert_array_equal(np.bincount(st.trial, minlength=TRIALS), rec.spike_counts[pop])
    for pop, counts in rec.rates.items():
        assert counts.shape == (TRIALS, rec.n_steps)
        np.testing.assert_array_equal(counts.sum(axis=1), rec.spike_counts[pop])
    assert rec.states["inh"]["v"].shape == (TRIALS, len(range(0, 1000, EVERY_INH)), 3)
    assert rec.states["izh"]["u"].shape == (TRIALS, len(range(0, 1000, EVERY_IZH)), 10)
    assert not np.array_equal(rec.states["inh"]["v"][0], rec.states["inh"]["v"][1])  # trials differ
    assert rec.synaptic_events.shape == (TRIALS,) and np.all(rec.synaptic_events > 0)


# --- save / load -------------------------------------------------------------------------------------------


def test_save_then_load_is_exact(reference, tmp_path):
    path = save_recording(reference, tmp_path / "run.h5")
    assert path == tmp_path / "run.h5"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]  # no temporary file left over
    loaded = load_recording(path)
    assert_same_recording(reference, loaded)
    assert loaded.timings == reference.timings
    meta = loaded.metadata
    assert meta == _json_normalised(reference.metadata)
    assert meta["seed"] == SEED and meta["trials"] == TRIALS and meta["dtype"] == "float32"
    assert meta["snn_version"] == snn.__version__
    assert meta["duration_s"] == pytest.approx(DURATION)
    net = meta["network"]
    assert net["name"] == "io_test" and net["dt_s"] == 1e-4
    assert net["metadata"] == {"experiment": "round trip", "tags": [1, 2]}
    assert net["populations"]["exc"]["tau_m"] == 20e-3 and net["populations"]["exc"]["size"] == 60
    assert net["populations"]["izh"]["c"]["min"] == -65.0 and net["populations"]["izh"]["c"]["max"] == -50.0
    assert net["projections"]["exc->inh"]["max_delay_steps"] == 5
    assert net["projections"]["drive->izh"]["synapses"] == 400 and net["projections"]["drive->izh"]["target"] == "delta"
    assert net["inputs"]["drive"] == {"kind": "PoissonInput", "size": 40}


def test_save_load_save_is_stable(reference, tmp_path):
    first = load_recording(save_recording(reference, tmp_path / "a.h5"))
    second = load_recording(save_recording(first, tmp_path / "b.h5"))
    assert_same_recording(first, second)
    assert second.metadata == first.metadata and second.timings == first.timings


def test_file_layout_matches_the_documented_one(reference, tmp_path):
    path = save_recording(reference, tmp_path / "run.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == FORMAT and int(f.attrs["format_version"]) == 1 and bool(f.attrs["complete"])
        assert float(f.attrs["dt_s"]) == 1e-4 and int(f.attrs["n_steps"]) == 1000 and int(f.attrs["trials"]) == TRIALS
        assert {k: int(v) for k, v in f["sizes"].attrs.items() if k != "__order__"} == reference.sizes
        assert f["spikes/exc/trial"].dtype == np.int32 and f["spikes/exc/step"].dtype == np.int64
        assert f["rates/exc"].shape == (TRIALS, 1000)
        assert f["states/inh/v"].shape == reference.states["inh"]["v"].shape
        assert int(f["states/inh"].attrs["every"]) == EVERY_INH
        np.testing.assert_array_equal(f["summary/spike_counts/exc"][:], reference.spike_counts["exc"])


# --- streaming -------------------------------------------------------------------------------------------


class _CountingSink(HDF5Sink):
    def __init__(self, path):
        super().__init__(path)
        self.calls = 0

    def rates(self, population, counts):
        self.calls += 1
        super().rates(population, counts)


@pytest.mark.parametrize("chunk_steps", [13, 64, 1000, 5000])
def test_streamed_run_equals_in_memory_run(reference, tmp_path, chunk_steps):
    target = tmp_path / "stream.h5"
    sink = _CountingSink(target)
    path = _run(sink=sink, chunk_steps=chunk_steps)
    assert path == target and sorted(p.name for p in tmp_path.iterdir()) == ["stream.h5"]
    n_chunks = -(-1000 // chunk_steps)
    assert sink.calls == 2 * n_chunks  # two rate monitors, one append per chunk each
    loaded = load_recording(path)
    assert_same_recording(reference, loaded)
    assert loaded.metadata == _json_normalised(reference.metadata)


def test_zero_duration_run_round_trips(tmp_path):
    mem = Simulator(_network()).run(0.0, trials=2, seed=1)
    path = Simulator(_network()).run(0.0, trials=2, seed=1, sink=HDF5Sink(tmp_path / "empty.h5"))
    loaded = load_recording(path)
    assert loaded.n_steps == 0 and loaded.rates["exc"].shape == (2, 0)
    assert_same_recording(mem, loaded)


# --- atomicity ---------------------------------------------------------------------------------------------


class _FailAfterFirstChunk(HDF5Sink):
    """Raises ``error`` from ``rates()`` once the first chunk has been written (a full disk, a Ctrl-C)."""

    error: type[BaseException] = RuntimeError

    def __init__(self, path):
        super().__init__(path)
        self.chunks = 0

    def rates(self, population, counts):
        if self.chunks >= 1:
            assert self._tmp.exists()  # the run really was streaming into a temporary file
            raise self.error("simulated failure")
        super().rates(population, counts)
        if population == "inh":
            self.chunks += 1


class _InterruptedSink(_FailAfterFirstChunk):
    error = KeyboardInterrupt


@pytest.mark.parametrize("sink_cls", [_FailAfterFirstChunk, _InterruptedSink])
def test_failed_run_leaves_nothing_behind(tmp_path, sink_cls):
    target = tmp_path / "out.h5"
    with pytest.raises(sink_cls.error, match="simulated failure"):
        _run(sink=sink_cls(target), chunk_steps=100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sink_cls", [_FailAfterFirstChunk, _InterruptedSink])
def test_failed_run_keeps_the_existing_file(reference, tmp_path, sink_cls):
    target = save_recording(reference, tmp_path / "out.h5")
    before = target.read_bytes()
    with pytest.raises(sink_cls.error):
        _run(sink=sink_cls(target), chunk_steps=100)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]
    assert_same_recording(reference, load_recording(target))


def test_existing_file_is_replaced_only_when_the_new_one_is_complete(reference, tmp_path):
    target = tmp_path / "out.h5"
    target.write_bytes(b"previous result")
    seen = []

    class Watching(HDF5Sink):
        def rates(self, population, counts):
            seen.append(target.read_bytes())  # mid-run, readers still see the old file
            super().rates(population, counts)

    path = _run(sink=Watching(target), chunk_steps=250)
    assert len(seen) == 8 and all(s == b"previous result" for s in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]
    assert_same_recording(reference, load_recording(path))


def test_failed_save_recording_leaves_nothing_behind(reference, tmp_path, monkeypatch):
    target = tmp_path / "out.h5"
    target.write_bytes(b"previous result")

    def boom(self, population, variable, values):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(HDF5Sink, "states", boom)
    with pytest.raises(OSError, match="disk full"):
        save_recording(reference, target)
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_sink_rejects_bad_targets_before_any_work(tmp_path):
    with pytest.raises(ConfigError) as info:
        HDF5Sink(tmp_path)
    assert str(info.value).startswith("out = ") and "directory" in str(info.value)
    with pytest.raises(ConfigError) as info:
        HDF5Sink(tmp_path / "missing" / "x.h5")
    assert str(info.value).startswith("out = ") and "does not exist" in str(info.value)
    assert list(tmp_path.iterdir()) == []


# --- loading bad files -------------------------------------------------------------------------------------


def _one_line_load_error(path, fragment: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_recording(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"recording = {str(path)!r}: "), message
    assert fragment in message, message
    return message


@pytest.fixture(autouse=True)
def _short_paths(tmp_path, monkeypatch):
    """Run in tmp_path so paths in error messages are short (ConfigError elides values longer than 60 characters)."""
    monkeypatch.chdir(tmp_path)


def test_missing_file(tmp_path):
    _one_line_load_error(Path("nope.h5"), "does not exist")


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file\n" * 100, b"\x89HDF\r\n\x1a\n" + b"\0" * 200])
def test_non_hdf5_file(tmp_path, content):
    path = Path("bad.h5")
    path.write_bytes(content)
    _one_line_load_error(path, "is not a readable HDF5 file")


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.95, -1])
def test_truncated_file(reference, tmp_path, keep):
    path = save_recording(reference, "run.h5")
    data = path.read_bytes()
    path.write_bytes(data[:-1] if keep == -1 else data[: int(len(data) * keep)])
    _one_line_load_error(path, "is not a readable HDF5 file")


@pytest.mark.parametrize("attrs", [{}, {"format": "some-other-format"}, {"format": "snn-hal"}])
def test_hdf5_file_of_another_format(tmp_path, attrs):
    path = Path("other.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.arange(10))
        f.attrs.update(attrs)
    _one_line_load_error(path, f"is not an {FORMAT} file")


def test_incomplete_recording(reference, tmp_path):
    path = save_recording(reference, "run.h5")
    with h5py.File(path, "a") as f:
        f.attrs["complete"] = False
    _one_line_load_error(path, "is incomplete")


# Damage inside a valid HDF5 container, and files of another format version, are one-line ConfigErrors too.


def test_recording_with_a_missing_group(reference, tmp_path):
    path = save_recording(reference, "run.h5")
    with h5py.File(path, "a") as f:
        del f["summary"]
    _one_line_load_error(path, "")


def test_recording_of_a_newer_format_version(reference, tmp_path):
    path = save_recording(reference, "run.h5")
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    _one_line_load_error(path, "version")


def test_copy_of_a_recording_loads_identically(reference, tmp_path):
    """A recording is a self-contained file: moved elsewhere it still loads (no sidecar files, no absolute paths)."""
    path = save_recording(reference, tmp_path / "run.h5")
    (tmp_path / "moved").mkdir()
    moved = shutil.copy(path, tmp_path / "moved" / "renamed.h5")
    path.unlink()
    assert_same_recording(reference, load_recording(moved))
