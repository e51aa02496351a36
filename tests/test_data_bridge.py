"""Event streams feed the engine (and tonic's ToFrame, when tonic is importable)."""

from __future__ import annotations

import numpy as np
import pytest

from snn import Simulator, connect
from snn.data import EventDataset, SaccadeCamera, make_audio_events, make_events, poisson_encode, read_nmnist, to_input
from snn.errors import ConfigError
from snn.model import LIF, EventStreamInput, Network, Population, Projection, SpikeMonitor


def _digit() -> np.ndarray:
    img = np.zeros((28, 28))
    img[6:22, 12:16] = 1.0
    img[6:10, 8:20] = 1.0
    return img


def _tonic_frames(events: np.ndarray, sensor_size: tuple[int, int, int], n_bins: int) -> np.ndarray:
    """tonic's ToFrame(n_time_bins) semantics: windows of (t_last - t_first) // n µs from t_first, half-open."""
    t = events["t"]
    window = (t[-1] - t[0]) // n_bins
    w, h, p = sensor_size
    frames = np.zeros((n_bins, p, h, w), np.int64)
    y = events["y"] if "y" in events.dtype.names else np.zeros(events.size, int)
    pol = events["p"].astype(int) if p > 1 else np.zeros(events.size, int)
    for i in range(n_bins):
        sel = (t >= t[0] + i * window) & (t < t[0] + (i + 1) * window)
        np.add.at(frames[i], (pol[sel], y[sel], events["x"][sel]), 1)
    return frames


def test_tonic_to_frame_accepts_our_arrays(tmp_path):
    pytest.importorskip("tonic")  # the skip reason names the import error (tonic 1.7 needs importRosbag, requests)
    import tonic.transforms as tonic_transforms

    cam_events = SaccadeCamera()(_digit())
    audio = make_audio_events([10, 500, 900, 950], [3, 699, 3, 5])
    rate = poisson_encode(np.full((4, 5), 0.5), 200.0, 0.1, seed=0)
    for events, size, n_bins in ((cam_events, (34, 34, 2), 3), (audio, (700, 1, 1), 2), (rate, (5, 4, 1), 4)):
        frames = tonic_transforms.ToFrame(sensor_size=size, n_time_bins=n_bins)(events.copy())
        expected = _tonic_frames(events, size, n_bins)
        if "y" not in events.dtype.names:
            expected = expected[:, :, 0, :]  # tonic's 1-D frames are (T, P, W)
        np.testing.assert_array_equal(frames, expected)


def test_saccade_events_drive_a_network():
    """One saccade sample through the engine: every event arrives on channel (p*H + y)*W + x in step t // dt."""
    events = SaccadeCamera()(_digit())
    assert events.size > 500
    src = to_input(events, (34, 34, 2), name="retina")
    assert isinstance(src, EventStreamInput) and src.size == 34 * 34 * 2
    dt = 1e-4
    net = Network(
        dt=dt,
        populations=[Population("out", 20, LIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0,
                                               t_ref=2e-3, tau_syn_exc=5e-3, tau_syn_inh=10e-3))],
        inputs=[src],
        projections=[Projection("retina", "out", connect.fixed_probability(src.size, 20, 0.2, seed=1),
                                weights=3.0, target="exc")],
        monitors=[SpikeMonitor("retina"), SpikeMonitor("out")],
    )
    rec = Simulator(net, dtype="float64").run(duration=0.32, trials=1, seed=0)
    channel, step = rec.spikes["retina"].of_trial(0)
    expected_channel = (events["p"].astype(int) * 34 + events["y"]) * 34 + events["x"]
    expected_step = events["t"] // 100  # dt = 100 µs
    got = sorted(zip(step.tolist(), channel.tolist()))
    assert got == sorted(zip(expected_step.tolist(), expected_channel.tolist()))
    assert len(rec.spikes["out"]) > 0  # the events drive the output population


def test_dataset_to_input_gives_one_stream_per_trial():
    cam = SaccadeCamera()
    img = _digit()
    streams = cam(np.stack([img, img[:, ::-1]]))
    ds = EventDataset(tuple(streams), np.array([0, 1]), cam.sensor_size())
    src = ds.to_input("retina")
    assert len(src.events) == 2
    net = Network(dt=1e-3, populations=[Population("out", 1, LIF())], inputs=[src],
                  projections=[Projection("retina", "out", connect.fixed_probability(src.size, 1, 0.0, seed=0))],
                  monitors=[SpikeMonitor("retina")])
    rec = Simulator(net).run(duration=0.32, trials=2, seed=0)
    for trial, ev in enumerate(streams):
        assert len(rec.spikes["retina"].of_trial(trial)[0]) == ev.size
    audio = to_input(make_audio_events([5, 7], [699, 0]), (700, 1, 1), "cochlea")
    assert audio.channels(audio.events[0]).tolist() == [699, 0]


def test_to_input_rejects_events_outside_the_sensor(tmp_path):
    events = SaccadeCamera()(_digit())
    with pytest.raises(ConfigError) as err:
        to_input(events, (20, 34, 2))
    assert "\n" not in str(err.value) and "inputs.events.events.x" in str(err.value)
    with pytest.raises(ConfigError):
        to_input([events, events[::-1]], (34, 34, 2))  # second stream not sorted
    path = tmp_path / "one.bin"
    path.write_bytes(bytes([3, 4, 0x81, 0x23, 0x45]))
    ev, size = read_nmnist(path)
    assert to_input(ev, size).channels(ev).tolist() == [(1 * 34 + 4) * 34 + 3]


def test_event_format_helpers_validate_columns():
    ev = make_events([1, 2], [3, 4], [5, 1], [1, 0])
    assert ev["x"].tolist() == [2, 1] and ev["t"].tolist() == [1, 5]  # sorted by time
    for bad in (([1, 2], [1, 2, 3], [1, 2], [0, 1]), ([40000], [0], [0], [0]), ([1.5], [0], [0], [0])):
        with pytest.raises(ConfigError) as err:
            make_events(*bad)
        assert "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        EventDataset((ev,), np.array([0, 1]), (34, 34, 2))  # one label per sample
    with pytest.raises(ConfigError):
        EventDataset((np.zeros(3),), np.array([0]), (34, 34, 2))  # not an event array


def test_event_table_orders_each_stream_by_step_then_channel():
    # expected: for each stream on its own, events before n_steps sorted by (step, channel), repeats of one
    # (step, channel) kept in stream order (Brian2's SpikeGeneratorGroup emits ascending indices); ptr rows are
    # cumulative counts per step over the concatenated streams; "worst" is the most events of one step
    from snn.engine.compile import spike_time_tables

    rng = np.random.default_rng(4)
    sensor = (5, 4, 2)
    streams = []
    for n in (60, 0, 1, 40):
        t = np.sort(rng.integers(0, 12_000, n))  # dt 1 ms: about 12 steps, many repeats per step
        streams.append(make_events(rng.integers(0, 5, n), rng.integers(0, 4, n), t, rng.integers(0, 2, n) > 0))
    src = to_input(streams, sensor)
    net = Network(dt=1e-3, populations=[Population("n", 3, LIF())], inputs=[src], projections=[])
    n_steps = 10  # events of steps 10 and 11 fall after the run and are dropped
    (ptr,), (idx,), worst = spike_time_tables(net, len(streams), n_steps)
    assert ptr.shape == (4, n_steps + 1)
    base, most = 0, 0
    for row, ev in enumerate(streams):
        step = ev["t"] // 1000
        ch = (ev["p"].astype(np.int64) * 4 + ev["y"]) * 5 + ev["x"]
        keep = step < n_steps
        order = np.lexsort((ch[keep], step[keep]))
        counts = np.bincount(step[keep], minlength=n_steps)
        np.testing.assert_array_equal(ptr[row], base + np.concatenate([[0], np.cumsum(counts)]))
        np.testing.assert_array_equal(idx[ptr[row, 0]:ptr[row, -1]], ch[keep][order])
        base += int(keep.sum())
        most = max(most, int(counts.max()))
    assert idx.dtype == np.int32 and idx.size == base and worst == most
