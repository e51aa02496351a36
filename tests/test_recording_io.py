"""HDF5 recordings: streamed and in-memory runs load back exactly; writes are atomic; bad files fail in one line."""

from __future__ import annotations

import numpy as np
import pytest

from snn import connect
from snn.engine import MemorySink, Simulator
from snn.errors import ConfigError
from snn.io import HDF5Sink, load_recording, save_recording
from snn.model import LIF, Network, PoissonInput, Population, Projection, RateMonitor, SpikeMonitor, StateMonitor


def _network() -> Network:
    lif = LIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=2e-3)
    return Network(
        dt=1e-4,
        populations=[Population("a", 50, lif), Population("b", 20, lif)],
        inputs=[PoissonInput("drive", 40, rate=50.0)],
        projections=[
            Projection("drive", "a", connect.fixed_probability(40, 50, 0.3, seed=1), weights=12.0, delays=3),
            Projection("a", "b", connect.fixed_probability(50, 20, 0.3, seed=2), weights=6.0, delays=0),
        ],
        monitors=[SpikeMonitor("a"), SpikeMonitor("b"), SpikeMonitor("drive"), RateMonitor("a"),
                  StateMonitor("b", ("v", "i_exc"), indices=[0, 3, 7], every=7)],
    )


def _assert_same(r1, r2) -> None:
    assert (r1.dt, r1.n_steps, r1.trials, r1.sizes) == (r2.dt, r2.n_steps, r2.trials, r2.sizes)
    assert set(r1.spikes) == set(r2.spikes)
    for pop in r1.spikes:
        for field in ("trial", "neuron", "step"):
            np.testing.assert_array_equal(getattr(r1.spikes[pop], field), getattr(r2.spikes[pop], field))
    for pop in r1.rates:
        np.testing.assert_array_equal(r1.rates[pop], r2.rates[pop])
    for pop in r1.states:
        np.testing.assert_array_equal(r1.state_indices[pop], r2.state_indices[pop])
        for var in r1.states[pop]:
            np.testing.assert_array_equal(r1.states[pop][var], r2.states[pop][var])
    for pop in r1.spike_counts:
        np.testing.assert_array_equal(r1.spike_counts[pop], r2.spike_counts[pop])
    np.testing.assert_array_equal(r1.synaptic_events, r2.synaptic_events)


@pytest.fixture(scope="module")
def reference():
    return Simulator(_network()).run(0.2, trials=3, seed=4)


def test_save_then_load_is_exact(reference, tmp_path):
    assert len(reference.spikes["a"]) > 100
    path = save_recording(reference, tmp_path / "run.h5")
    loaded = load_recording(path)
    _assert_same(reference, loaded)
    assert loaded.metadata["seed"] == 4
    assert loaded.metadata["snn_version"] == reference.metadata["snn_version"]
    assert loaded.metadata["network"]["populations"]["a"]["tau_m"] == 20e-3
    assert loaded.states["b"]["v"].shape == (3, len(range(0, 2000, 7)), 3)


def test_streamed_run_in_small_chunks_equals_in_memory_run(reference, tmp_path):
    path = Simulator(_network()).run(0.2, trials=3, seed=4, sink=HDF5Sink(tmp_path / "s.h5"), chunk_steps=97)
    _assert_same(reference, load_recording(path))


class _FailingSink(HDF5Sink):
    def rates(self, population, counts):
        raise RuntimeError("disk full (simulated)")


def test_failed_run_leaves_no_file_and_keeps_an_existing_one(tmp_path):
    target = tmp_path / "out.h5"
    with pytest.raises(RuntimeError):
        Simulator(_network()).run(0.05, sink=_FailingSink(target))
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        Simulator(_network()).run(0.05, sink=_FailingSink(target))
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_memory_sink_abort_is_harmless():
    sink = MemorySink()
    sink.abort()


@pytest.mark.parametrize("content", [None, b"not an hdf5 file", "truncated", "foreign"])
def test_bad_recording_files_are_one_line_errors(tmp_path, reference, content):
    path = tmp_path / "bad.h5"
    if content == "truncated":
        save_recording(reference, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif content == "foreign":
        import h5py

        with h5py.File(path, "w") as f:
            f.attrs["format"] = "something-else"
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_recording(path)
    assert "\n" not in str(info.value) and str(info.value).startswith("recording = ")


def test_sort_spikes_orders_by_trial_step_neuron_whatever_the_input_order() -> None:
    # expected: np.lexsort on (trial, step, neuron), the definition, for the engine's chunk-major order (fast path)
    # and for a random permutation (fallback path)
    from snn.engine.recording import sort_spikes

    rng = np.random.default_rng(3)
    key = np.unique(rng.integers(0, 4 * 50 * 30, 2000))           # unique (trial, step, neuron)
    trial, step, neuron = key // 1500, (key // 30) % 50, key % 30
    chunks = [step < 20, step >= 20]                              # chunk-major, then trial, step, neuron
    engine_order = np.concatenate([np.flatnonzero(c) for c in chunks])
    for order in (engine_order, rng.permutation(key.size)):
        out = sort_spikes(trial[order].astype(np.int32), neuron[order].astype(np.int32), step[order])
        ref = np.lexsort((neuron[order], step[order], trial[order]))
        np.testing.assert_array_equal(out.trial, trial[order][ref])
        np.testing.assert_array_equal(out.step, step[order][ref])
        np.testing.assert_array_equal(out.neuron, neuron[order][ref])
