"""Continual learning on an RRAM crossbar (snn.learn.device, LocalLearner(device=...), ``snn study`` methods
``<method>@<preset>``): level-step programming, write and read noise, the level limit, the study wiring."""

from __future__ import annotations

import dataclasses
import importlib.util
import math

import numpy as np
import pytest

from hardware.targets import load_target
from snn.continual.config import study_from_dict
from snn.continual.study import load_run, run_one
from snn.errors import ConfigError
from snn.learn.device import DEFAULT_RRAM_PRESET, CrossbarLayerState, DeviceOptions, resolve_preset, split_method
from snn.learn.local import LocalLearner
from snn.learn.mlp import MLPConfig

HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None
AIHWKIT = load_target("rram_aihwkit")  # g_min 0, g_max 25 uS, 256 levels, sigma_p 0.0422, sigma_r 0.01


def _profile(levels: int = 256, write: float = 0.0, read: float = 0.0):
    return dataclasses.replace(AIHWKIT, n_levels=levels, prog_noise_rel=write, read_noise_rel=read)


def _layer(profile, W0, seed=0, **kw) -> CrossbarLayerState:
    return CrossbarLayerState(profile, W0, np.random.default_rng(seed), **kw)


def test_initial_write_and_whole_level_steps_closed_form():
    # closed form without noise (module docstring): k = h max|W0| / (g_max - g_min), Δg = (g_max - g_min)/(L - 1),
    # stored w = k Δg round(W0 / (k Δg)); an update of m whole steps moves exactly one device of the pair by m Δg
    rng = np.random.default_rng(1)
    W0 = rng.uniform(-0.3, 0.3, (20, 30))
    x = _layer(_profile(levels=64), W0, rounding="nearest")
    step = 25.0 / 63
    assert x.k == pytest.approx(2.0 * np.abs(W0).max() / 25.0, rel=1e-12)
    assert x.step == pytest.approx(step, rel=1e-12)
    wstep = x.k * step
    np.testing.assert_allclose(x.weights(), wstep * np.rint(W0 / wstep), atol=1e-12)
    # both devices start within one level of the middle level m = 31 (plus ⌈n0/2⌉, minus ⌊n0/2⌋)
    assert np.all(np.abs(x.g_plus / step - 31) <= 16) and np.all(np.abs(x.g_minus / step - 31) <= 16)
    before_p, before_m, before_w = x.g_plus.copy(), x.g_minus.copy(), x.weights()
    m = rng.integers(-3, 4, W0.shape)
    assert x.program_update(m * wstep, np.random.default_rng(2)) == 0
    np.testing.assert_allclose(x.weights() - before_w, m * wstep, atol=1e-12)
    moved_p = ~np.isclose(x.g_plus, before_p, atol=1e-12, rtol=0)
    moved_m = ~np.isclose(x.g_minus, before_m, atol=1e-12, rtol=0)
    assert not np.any(moved_p & moved_m)                        # one device per pair
    np.testing.assert_array_equal(moved_p | moved_m, m != 0)    # and only where a step was asked
    assert x.pulses == int(np.abs(m).sum())


def test_stochastic_rounding_is_unbiased():
    # E[n] = u for n = floor(u) + Bernoulli(frac u); binomial standard error sqrt(p (1 - p) / N), 5 SE tolerance
    x = _layer(_profile(), np.full((100, 100), 0.1))
    u = 2.3
    n = x.level_steps(np.full(x.shape, u * x.k * x.step), np.random.default_rng(3))
    assert set(np.unique(n).tolist()) == {2, 3}
    assert abs(n.mean() - u) < 5 * math.sqrt(0.3 * 0.7 / n.size)


def test_write_noise_per_pulse_statistics():
    # |n| pulses add sigma_w g_max sqrt(|n|) N(0, 1) (module docstring): mean 0 (5 SE: sd/sqrt(N)), sd within
    # 5 standard errors of a normal sample sd (sd / sqrt(2N))
    sigma_w = 0.004
    x = _layer(_profile(write=sigma_w), np.zeros((200, 200)), seed=4, rounding="nearest")
    before = x.weights()
    n_pulses = 4
    x.program_update(np.full(x.shape, n_pulses * x.k * x.step), np.random.default_rng(5))
    err = (x.weights() - before) / x.k - n_pulses * x.step       # µS; one device moved per pair
    sd = sigma_w * 25.0 * math.sqrt(n_pulses)
    N = err.size
    assert abs(err.mean()) < 5 * sd / math.sqrt(N)
    assert abs(err.std() - sd) < 5 * sd / math.sqrt(2 * N)
    assert x.saturated == 0


def test_saturation_counted_at_the_level_limit():
    # 8 levels, both devices at the middle level m = 3: +20 steps go to G+ (room 4 steps vs G-'s 3), which stops at
    # g_max: every device saturates once, and the stored weight is k (g_max - G-) = k 4 Δg (hand calculation)
    x = _layer(_profile(levels=8), np.zeros((10, 12)), rounding="nearest")
    step = 25.0 / 7
    np.testing.assert_allclose(x.g_plus, 3 * step)
    hit = x.program_update(np.full(x.shape, 20 * x.k * step), np.random.default_rng(0))
    assert hit == 120 and x.saturated == 120
    np.testing.assert_allclose(x.g_plus, 25.0)
    np.testing.assert_allclose(x.weights(), x.k * 4 * step)
    assert x.at_limit() == pytest.approx(0.5)                  # all G+ at g_max, no G- at a limit
    # a step back down is possible again (the limit is a wall, not a stuck device)
    assert x.program_update(np.full(x.shape, -1 * x.k * step), np.random.default_rng(0)) == 0


def test_read_noise_zero_mean_with_profile_sigma():
    # read: k((G+ + σ_r g_max ξ+) − (G− + σ_r g_max ξ−)), so read − stored ~ N(0, 2 (k σ_r g_max)²); 5 SE tolerances
    sigma_r = AIHWKIT.read_noise_rel
    x = _layer(_profile(read=sigma_r), np.random.default_rng(6).uniform(-1, 1, (300, 300)))
    rng = np.random.default_rng(7)
    diff = x.read(rng) - x.weights()
    sd = x.k * sigma_r * 25.0 * math.sqrt(2)
    assert abs(diff.mean()) < 5 * sd / math.sqrt(diff.size)
    assert abs(diff.std() - sd) < 5 * sd / math.sqrt(2 * diff.size)
    assert not np.array_equal(x.read(rng), x.read(rng))      # a fresh draw per read
    np.testing.assert_array_equal(_layer(_profile(), np.ones((3, 3))).read(rng), _layer(_profile(),
                                                                                       np.ones((3, 3))).weights())


class _Task:
    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.X_train = rng.random((64, 16))
        self.y_train = rng.integers(0, 4, 64)
        self.X_test, self.y_test, self.classes = self.X_train[:16], self.y_train[:16], np.arange(4)


def test_float_path_is_plain_sgd():
    # device=None: W after a task equals a hand loop of forward / gradients / W -= lr G over the same batch order
    cfg = MLPConfig(widths=(16, 12, 4), steps=4, epochs=1, batch=16)
    task = _Task(0)
    learner = LocalLearner("finetune", cfg, seed=3)
    assert learner.crossbars == {}
    ref = LocalLearner("finetune", cfg, seed=3).net
    learner.train_task(0, task, np.random.default_rng(9))
    order = np.random.default_rng(9).permutation(64)
    for start in range(0, 64, 16):
        idx = order[start:start + 16]
        for W, G in zip(ref.W, ref.gradients(ref.forward(task.X_train[idx]), task.y_train[idx])):
            W -= cfg.lr * G
    for a, b in zip(learner.net.W, ref.W):
        np.testing.assert_array_equal(a, b)


def test_device_learner_state_roundtrip_and_layers():
    # only the chosen layer is on the crossbar; a restored learner reads the same conductances with the same rng
    cfg = MLPConfig(widths=(16, 12, 4), steps=4, epochs=1, batch=16)
    make = lambda: LocalLearner("finetune", cfg, seed=1, device=AIHWKIT, device_layers=(1,))  # noqa: E731
    a = make()
    assert list(a.crossbars) == [1]
    a.train_task(0, _Task(1), np.random.default_rng(0))
    a.end_task(0, _Task(1), np.random.default_rng(0))
    b = make()
    b.load_state(a.state())
    a._read_device()
    b._read_device()
    np.testing.assert_array_equal(a.net.W[1], b.net.W[1])
    assert a.diagnostics[-1]["device.fc2"]["pulses"] > 0
    with pytest.raises(ConfigError) as info:
        LocalLearner("finetune", cfg, device=AIHWKIT, device_layers=(5,))
    assert info.value.path == "device.layers" and "\n" not in str(info.value)


def _tiny(methods: list[str], **changes: dict) -> dict:
    data = {
        "study": {"methods": methods, "seeds": [0], "evaluate_before": False},
        "stream": {"name": "pdigits8", "n_tasks": 2},
        "mlp": {"widths": [64, 32, 10], "steps": 4, "epochs": 1, "batch": 32},
        "hlop": {"k_first": [10, 8], "k_added": [[5, 4]], "lr": [0.01, 0.01]},
    }
    for section, table in changes.items():
        data[section] = {**data.get(section, {}), **table}
    return data


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn missing (digits source)")
def test_hlop_at_rram_parses_and_runs(tmp_path):
    # the alias @rram names DEFAULT_RRAM_PRESET; [device] overrides reach the profile; the run writes hlop+rram/
    assert split_method("hlop@rram") == ("hlop", "rram") and DEFAULT_RRAM_PRESET == "rram_aihwkit"
    config = study_from_dict(_tiny(["hlop", "hlop@rram"], device={"levels": 32}), "t")
    assert config.device.levels == 32
    r = run_one(config, "hlop@rram", 0, tmp_path)
    assert r["R"].shape == (2, 2) and np.all((r["R"] >= 0) & (r["R"] <= 1))
    assert (tmp_path / "hlop+rram" / "seed_0" / "results.h5").is_file()
    diag = load_run(tmp_path, "hlop@rram", 0)["diagnostics"]
    assert diag["device.fc1.levels"][-1] == 32 and diag["device.fc1.pulses"][-1] > 0


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn missing (digits source)")
@pytest.mark.parametrize("change, path", [
    ({"study": {"methods": ["hlop@nope"]}}, "study.methods[0]"),
    ({"study": {"methods": ["finetune", "gpm@xylo_audio2"]}}, "study.methods[1]"),
    ({"study": {"methods": ["nope@rram"]}}, "study.methods[0]"),
    ({"study": {"methods": ["hlop@rram"]}, "device": {"levels": 1}}, "device.levels"),
    ({"study": {"methods": ["hlop@rram"]}, "device": {"rounding": "up"}}, "device.rounding"),
    ({"study": {"methods": ["hlop@rram"]}, "device": {"layers": [2]}}, "device.layers[0]"),
    ({"study": {"methods": ["hlop@rram"]}, "device": {"speed": 2}}, "device.speed"),
    ({"device": {"levels": 8}}, "device"),
    ({"study": {"methods": ["hlop@rram"], "path": "torch"}}, "study.methods"),
])
def test_bad_device_input_one_line_errors(change, path):
    with pytest.raises(ConfigError) as info:
        study_from_dict(_tiny(["hlop"], **change), "t")
    assert info.value.path == path
    assert "\n" not in str(info.value)


def test_device_options_apply_to_profile():
    # overrides replace the profile's fields (re-validated by RRAMCrossbar): levels, write and read sigma
    p = DeviceOptions(levels=16, write_noise_rel=0.0, read_noise_rel=0.02).profile(AIHWKIT)
    assert (p.n_levels, p.prog_noise_rel, p.read_noise_rel) == (16, 0.0, 0.02)
    assert DeviceOptions().profile(AIHWKIT) is AIHWKIT
    # the alias and the other shipped RRAM preset (configs/targets/rram_40nm_lsm.toml: 2 levels)
    assert resolve_preset("rram") == AIHWKIT and resolve_preset("rram_40nm_lsm").n_levels == 2
