"""RLS (exact and Nicola & Clopath forms) and spiking FORCE (Nicola & Clopath 2017)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snn.errors import ConfigError
from snn.reservoir.rls import RLS


def test_rls_exact_equals_closed_form_ridge() -> None:
    # expected: the ridge normal equations (RᵀR + I/p0) w = RᵀY solved by numpy; exact RLS from w(0) = 0,
    # P(0) = p0·I reaches this after one pass over the rows (Sherman–Morrison), see snn.reservoir.rls
    rng = np.random.default_rng(0)
    R = rng.normal(size=(60, 8))
    Y = R @ rng.normal(size=(8, 2)) + 0.1 * rng.normal(size=(60, 2))
    for p0 in (2.0, 0.05, 100.0):
        rls = RLS(8, 2, p0=p0, variant="exact")
        for t in range(R.shape[0]):
            rls.update(R[t], Y[t])
        A = R.T @ R + np.eye(8) / p0
        np.testing.assert_allclose(rls.w, np.linalg.solve(A, R.T @ Y), rtol=0, atol=1e-8)
        np.testing.assert_allclose(rls.P, np.linalg.inv(A), rtol=0, atol=1e-8)
        assert rls.n_updates == 60


def test_rls_update_many_matches_single_updates_and_returns_prior_errors() -> None:
    # expected: the same kernel step T times; the error of step t is w_{t-1}ᵀ r_t − y_t (computed here with numpy)
    rng = np.random.default_rng(1)
    R = rng.normal(size=(30, 5))
    y = rng.normal(size=30)
    for variant in ("exact", "nicola_clopath"):
        a, b = RLS(5, variant=variant), RLS(5, variant=variant)
        errs = b.update_many(R, y)
        for t in range(30):
            w_before = a.w.copy()
            e = a.update(R[t], y[t])
            np.testing.assert_allclose(e, w_before.T @ R[t] - y[t], rtol=0, atol=1e-12)
            np.testing.assert_allclose(errs[t], e, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.w, a.w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.P, a.P, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.predict(R), R @ a.w, rtol=0, atol=1e-12)


def test_rls_nicola_clopath_two_steps_by_hand() -> None:
    # expected: worked by hand from IZFORCESINE.m's three lines (cd = Pinv*r; BPhi -= cd*err'; Pinv -= cd*cd'/(1+r'*cd))
    # with Pinv = 2·I. Step 1: r=(1,0), y=1 -> err=-1, cd=(2,0), w=(2,0), P=diag(2/3, 2).
    # Step 2: r=(1,1), y=0 -> err=2, cd=(2/3,2), 1+r'cd=11/3, w=(2/3,-4), P=[[6/11,-4/11],[-4/11,10/11]].
    rls = RLS(2, 1, p0=2.0, variant="nicola_clopath")
    e1 = rls.update(np.array([1.0, 0.0]), 1.0)
    np.testing.assert_allclose(e1, [-1.0], atol=1e-15)
    np.testing.assert_allclose(rls.w[:, 0], [2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(rls.P, [[2 / 3, 0.0], [0.0, 2.0]], atol=1e-15)
    e2 = rls.update(np.array([1.0, 1.0]), 0.0)
    np.testing.assert_allclose(e2, [2.0], atol=1e-15)
    np.testing.assert_allclose(rls.w[:, 0], [2 / 3, -4.0], atol=1e-14)
    np.testing.assert_allclose(rls.P, [[6 / 11, -4 / 11], [-4 / 11, 10 / 11]], atol=1e-14)
    # the exact variant on step 1 differs by c = 1/3: w = (2/3, 0), the ridge solution 1/(1 + 1/2)
    exact = RLS(2, 1, p0=2.0, variant="exact")
    exact.update(np.array([1.0, 0.0]), 1.0)
    np.testing.assert_allclose(exact.w[:, 0], [2 / 3, 0.0], atol=1e-15)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: RLS(0), "rls.n_features"),
        (lambda: RLS(3, n_outputs=True), "rls.n_outputs"),
        (lambda: RLS(3, p0=0.0), "rls.p0"),
        (lambda: RLS(3, p0=float("nan")), "rls.p0"),
        (lambda: RLS(3, variant="lms"), "rls.variant"),
        (lambda: RLS(3).update(np.ones(4), 0.0), "rls.r"),
        (lambda: RLS(3).update(np.ones(3), [0.0, 1.0]), "rls.target"),
        (lambda: RLS(3).update([1.0, np.inf, 0.0], 0.0), "rls.r"),
        (lambda: RLS(3).update_many(np.ones((4, 3)), np.ones(5)), "rls.Y"),
        (lambda: RLS(3).predict(np.ones((4, 2))), "rls.R"),
        (lambda: RLS(3).predict("abc"), "rls.R"),
        (lambda: RLS(3, variant=["exact"]), "rls.variant"),
    ],
)
def test_rls_bad_input_one_line_error(call, path) -> None:
    # expected: snn.errors.ConfigError naming the key path, on one line
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == path
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------------------------------------------
# spiking FORCE (Nicola & Clopath 2017): snn.reservoir.force
# ----------------------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmarks/ holds the numpy transliteration of the MATLAB (the reference)

from benchmarks.force_sine import izforcesine_numpy, matlab_args  # noqa: E402
from snn.reservoir.force import ForceSpec, force_weights, run_force, sine_target  # noqa: E402
from snn.reservoir.kernels.force import (  # noqa: E402
    EXACT,
    NICOLA_CLOPATH,
    PARALLEL_MIN_ROWS,
    rls_flush,
    rls_step,
    rls_step_deferred,
)


def test_rls_step_deferred_is_bit_identical_to_rls_step() -> None:
    # expected: the existing rls_step, call for call (same a-priori errors and w after every call; same P after the
    # final flush); the deferred form only reorders the passes over P, not the arithmetic of any entry
    rng = np.random.default_rng(3)
    for n, m in ((2, 1), (7, 2), (61, 1), (PARALLEL_MIN_ROWS + 3, 1)):  # remainder rows; the parallel path
        for variant in (EXACT, NICOLA_CLOPATH):
            P1, w1 = np.eye(n) * 2.0, np.zeros((n, m))
            P2, w2 = P1.copy(), w1.copy()
            k, e1, e2, pending = np.empty(n), np.empty(m), np.empty(m), np.zeros(n + 1)
            for _ in range(25 if n < 100 else 4):
                r, y = rng.random(n), rng.normal(size=m)
                rls_step(P1, w1, r, y, variant, k, e1)
                rls_step_deferred(P2, w2, r, y, variant, k, e2, pending)
                np.testing.assert_array_equal(e2, e1)
                np.testing.assert_array_equal(w2, w1)
            rls_flush(P2, pending)
            np.testing.assert_array_equal(P2, P1)
            assert not pending.any()


def test_force_kernel_matches_matlab_transliteration_step_by_step() -> None:
    # expected: benchmarks.force_sine.izforcesine_numpy, IZFORCESINE.m (ModelDB 190565) transliterated line by line
    # into numpy, on the same v0/OMEGA/E; N = 100, 2000 steps (80 ms), RLS every 20 steps from the first step.
    # Spikes must agree exactly at every step; z and the decoder up to summation-order rounding (BLAS dot products,
    # numpy's column sum, MATLAB's v + (vreset - v) reset), measured ~1e-15
    spec = ForceSpec(n_neurons=100)
    steps = 2000
    target = sine_target(steps * spec.dt_s, spec.dt_s)
    ours = run_force(spec, target, seed=5, learn_start_s=0.0, learn_stop_s=1.0)
    w = force_weights(spec, 5, 1)
    ref = izforcesine_numpy(w.omega_dense(), w.enc, w.v0, target[:, None],
                            **matlab_args(spec, 0, int(round(1.0 / spec.dt_s))))
    assert ours.z.shape == (steps, 1)
    assert ours.n_rls_updates == steps // spec.step == 100  # mod(i, 20) == 1 for i = 1, 21, ..., 1981
    assert ref["spikes"].sum() > 200  # the check is about a spiking, learning network
    np.testing.assert_array_equal(ours.spikes_per_step, ref["spikes"])
    np.testing.assert_array_equal(ours.spike_counts, ref["counts"])
    np.testing.assert_allclose(ours.z, ref["current"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.phi, ref["BPhi"], rtol=0, atol=1e-12)
    assert np.abs(ours.phi).max() > 1e-3  # RLS did move the decoder


def test_force_kernel_matches_matlab_transliteration_two_outputs_callable_target() -> None:
    # expected: as above, with k = 2 outputs (MATLAB's k-dimensional approximant: E is N x 2, err a 2-vector) and
    # the target given as a callable sampled at t = (s + 1)·dt; N = 60, 1500 steps, RLS from the first step
    spec = ForceSpec(n_neurons=60)

    def f(t):
        return np.c_[np.sin(2 * np.pi * 5 * t), np.cos(2 * np.pi * 3 * t)]

    ours = run_force(spec, f, seed=2, learn_start_s=0.0, learn_stop_s=1.0, duration_s=0.06)
    w = force_weights(spec, 2, 2)
    np.testing.assert_array_equal(ours.target, f(np.arange(1, 1501) * spec.dt_s))
    ref = izforcesine_numpy(w.omega_dense(), w.enc, w.v0, ours.target, **matlab_args(spec, 0, 25000))
    assert ours.z.shape == (1500, 2) and ours.n_rls_updates == 75 and ref["spikes"].sum() > 100
    np.testing.assert_array_equal(ours.spikes_per_step, ref["spikes"])
    np.testing.assert_allclose(ours.z, ref["current"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.phi, ref["BPhi"], rtol=0, atol=1e-12)


def test_force_weights_follow_the_matlab_formulas() -> None:
    # expected: OMEGA = G·randn·(rand < p)/(p·sqrt(N)) has density p and std G/(sqrt(p)·sqrt(N)) over all entries
    # (E[(G x m/(p sqrt N))²] = G² p /(p² N)); E = Q·(2·rand − 1) lies in [−Q, Q]; v0 in [vr, vpeak)
    spec = ForceSpec(n_neurons=400)
    w = force_weights(spec, 0, 2)
    omega = w.omega_dense()
    assert abs(np.mean(omega != 0) - spec.p) < 0.005
    assert abs(omega.std() / (spec.g / math.sqrt(spec.p * spec.n_neurons)) - 1) < 0.02
    assert w.enc.shape == (400, 2) and np.abs(w.enc).max() <= spec.q and np.abs(w.enc).max() > 0.99 * spec.q
    assert spec.v_rest <= w.v0.min() and w.v0.max() < spec.v_peak
    assert abs(spec.vt - (-19.2)) < 1e-12  # vr + 40 - b/k
    assert ForceSpec(b=-3.0).vt == -60 + 40 + 3 / 2.5
    # per-presynaptic lists: row j holds column j of OMEGA with postsynaptic indices ascending
    j = 7
    seg = slice(w.indptr[j], w.indptr[j + 1])
    np.testing.assert_array_equal(w.indices[seg], np.flatnonzero(omega[:, j]))
    assert np.all(np.diff(w.indices[seg]) > 0)
    w2 = force_weights(spec, 0, 2)
    np.testing.assert_array_equal(w2.data, w.data)  # same seed, same draw


def test_force_learns_a_sine() -> None:
    # expected: Nicola & Clopath (2017) Fig. 2: FORCE makes the free-running readout follow the 5 Hz sine after
    # learning. Here N = 200 (not 2000), 3 s: RLS 0.5-2 s, test 2-3 s. Measured test correlations 0.982, 0.970,
    # 0.983 and RMSE 0.137, 0.179, 0.133 for seeds 0, 1, 2; a zero readout has RMSE 1/sqrt(2) = 0.707. (Over longer
    # free runs the phase drifts: N = 2000, 5 s of test gives 0.85, see benchmarks/force_sine.py)
    spec = ForceSpec(n_neurons=200)
    target = sine_target(3.0, spec.dt_s)
    for seed in (0, 1, 2):
        res = run_force(spec, target, seed=seed, learn_start_s=0.5, learn_stop_s=2.0)
        assert res.correlation(2.0, 3.0) > 0.95, seed
        assert res.rmse(2.0, 3.0) < 0.25, seed
        assert res.learn_steps == (12500, 49980)  # s % 20 == 0 and 12500 < s + 1 < 50000
        assert res.n_rls_updates == (49980 - 12500) // 20 + 1
        assert 5.0 < res.rate_hz(2.0, 3.0) < 100.0
    # without RLS the readout stays 0
    res = run_force(spec, target, seed=0, learn_start_s=2.0, learn_stop_s=2.0)
    assert res.n_rls_updates == 0 and not res.z.any()
    assert abs(res.rmse(2.0, 3.0) - 1 / math.sqrt(2)) < 0.01


_THREAD_SCRIPT = """
import hashlib, numpy as np
from snn.reservoir.force import ForceSpec, run_force, sine_target
spec = ForceSpec(n_neurons=600)
res = run_force(spec, sine_target(0.02, spec.dt_s), seed=4, learn_start_s=0.004, learn_stop_s=0.02)
print(hashlib.sha256(res.z.tobytes() + res.phi.tobytes() + res.spike_counts.tobytes()).hexdigest(), res.n_rls_updates)
"""


def test_force_same_result_with_one_and_two_threads() -> None:
    # expected: bit-identical z, decoder and spike counts: the kernel's only prange loops (rows of P in the RLS
    # update, used from PARALLEL_MIN_ROWS rows on, hence N = 600 here) compute each row independently with a serial
    # inner sum, so the thread count cannot change any result
    assert PARALLEL_MIN_ROWS <= 600
    outs = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        proc = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(proc.stdout.strip().splitlines()[-1])
    assert outs[0] == outs[1]
    assert outs[0].endswith(" 20")  # RLS 0.004-0.02 s: steps 100, 120, ..., 480


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: ForceSpec(n_neurons=0), "force.n_neurons"),
        (lambda: ForceSpec(dt_s=-4e-5), "force.dt_s"),
        (lambda: ForceSpec(tau_rise_s=0.0), "force.tau_rise_s"),
        (lambda: ForceSpec(tau_decay_s=float("nan")), "force.tau_decay_s"),
        (lambda: ForceSpec(p=1.5), "force.p"),
        (lambda: ForceSpec(v_threshold=40.0), "force.v_threshold"),
        (lambda: ForceSpec(v_reset=35.0), "force.v_reset"),
        (lambda: ForceSpec(step=0), "force.step"),
        (lambda: ForceSpec(rls_variant="lms"), "force.rls_variant"),
        (lambda: ForceSpec(rls_variant=["exact"]), "force.rls_variant"),
        (lambda: ForceSpec(bias=True), "force.bias"),
        (lambda: run_force(ForceSpec(n_neurons=5), [0.0, np.nan, 1.0]), "force.target"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.zeros((3, 1, 1))), "force.target"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.zeros(10), duration_s=1.0), "force.target"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.sin), "force.duration_s"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.zeros(3), seed=-1), "force.seed"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.zeros(3), learn_start_s=-1.0), "force.learn_start_s"),
        (lambda: run_force(ForceSpec(n_neurons=5), np.zeros(3), learn_stop_s=float("inf")), "force.learn_stop_s"),
        (lambda: run_force({"n_neurons": 5}, np.zeros(3)), "force.spec"),
        (lambda: sine_target(0.0), "force.duration_s"),
    ],
)
def test_force_bad_input_one_line_error(call, path) -> None:
    # expected: snn.errors.ConfigError naming the key path, on one line, before any numba code runs
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == path
    assert "\n" not in str(info.value)


def test_force_benchmark_quick(tmp_path) -> None:
    # expected: the JSON keys of the brief; values measured on this machine: test correlation 0.90, rate ~36 Hz,
    # peer (numpy transliteration, N 500, 0.4 s) with identical spikes and |dz| ~1e-15
    out = tmp_path / "force.json"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.force_sine", "--quick", "--json", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    for key in ("test_rmse", "test_correlation", "train_rmse", "mean_rate_hz", "n_neurons", "sim_s", "wall_s",
                "realtime_factor", "peer_numpy_transliteration", "machine"):
        assert key in data
    assert data["n_neurons"] == 500 and abs(data["sim_s"] - 3.0) < 1e-9
    assert data["test_correlation"] > 0.8
    assert data["test_rmse"] < 0.5  # a zero readout: 0.707
    assert 1.0 < data["mean_rate_hz"] < 200.0
    assert data["wall_s"] > 0 and abs(data["realtime_factor"] - data["wall_s"] / data["sim_s"]) < 1e-12
    peer = data["peer_numpy_transliteration"]
    assert peer["spikes_per_step_identical"] and peer["spike_counts_identical"]
    assert peer["max_abs_z_diff"] < 1e-9 and peer["rls_updates"] > 0
    assert abs(data["test_sine_fit"]["freq_hz"] - 5.0) < 0.2  # the readout oscillates near the target's 5 Hz
