"""Gated three-factor readout (kernel, online/offline phases), the prediction-object paradigm, the benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snn.errors import ConfigError
from snn.reservoir.kernels.three_factor import three_factor_run
from snn.reservoir.paradigm import PredictionParadigm
from snn.reservoir.three_factor import ThreeFactorParams, ThreeFactorReadout

ROOT = Path(__file__).resolve().parent.parent


def _reference(W, A, R, Y, G, eta, decay, accumulate):
    """Plain numpy, one sample at a time, of the module docstring's equations."""
    W, A = W.copy(), A.copy()
    Z = np.empty_like(Y)
    for s in range(R.shape[0]):
        Z[s] = W.T @ R[s]
        D = eta * G[s] * (np.outer(R[s], Y[s] - Z[s]) - decay * W)
        if accumulate:
            A += D
        else:
            W += D
    return W, A, Z


@pytest.mark.parametrize("accumulate", [False, True])
def test_kernel_equals_numpy_reference(accumulate: bool) -> None:
    # expected: a plain-numpy loop over z = Wᵀr, M = y − z, ΔW = η g (r Mᵀ − λ W) (snn.reservoir.three_factor)
    rng = np.random.default_rng(0)
    R = rng.random((50, 7))
    Y = rng.random((50, 3))
    G = rng.choice([0.0, 0.5, 1.0], size=50)
    W0 = rng.normal(size=(7, 3))
    A0 = rng.normal(size=(7, 3))
    W, A, Z = W0.copy(), A0.copy(), np.empty((50, 3))
    three_factor_run(W, A, R, Y, G, 0.03, 0.1, accumulate, Z)
    W_ref, A_ref, Z_ref = _reference(W0, A0, R, Y, G, 0.03, 0.1, accumulate)
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(A, A_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(Z, Z_ref, rtol=0, atol=1e-12)
    # the class wrapper runs the same kernel: same result through run_trial and through step
    ro = ThreeFactorReadout(7, 3, ThreeFactorParams(eta=0.03, weight_decay=0.1))
    ro.W, ro.pending = W0.copy(), A0.copy()
    np.testing.assert_allclose(ro.run_trial(R, Y, G, accumulate=accumulate), Z_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ro.W, W_ref, rtol=0, atol=1e-12)
    ro2 = ThreeFactorReadout(7, 3, ThreeFactorParams(eta=0.03, weight_decay=0.1))
    ro2.W, ro2.pending = W0.copy(), A0.copy()
    for s in range(50):
        np.testing.assert_allclose(ro2.step(R[s], Y[s], float(G[s]), accumulate), Z_ref[s], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ro2.W, W_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ro2.pending, A_ref, rtol=0, atol=1e-12)
    assert ro.n_updates == ro2.n_updates == int(np.count_nonzero(G))


def test_gate_zero_changes_nothing() -> None:
    # expected: ΔW = η·g·(…) = 0 exactly when g = 0, in both phases; outputs are then R @ W (hand reasoning)
    rng = np.random.default_rng(1)
    ro = ThreeFactorReadout(5, 2, ThreeFactorParams(eta=0.5, weight_decay=0.3))
    ro.W = rng.normal(size=(5, 2))
    W0 = ro.W.copy()
    R, Y = rng.random((40, 5)), rng.random((40, 2))
    for accumulate in (False, True):
        Z = ro.run_trial(R, Y, np.zeros(40), accumulate=accumulate)
        np.testing.assert_array_equal(ro.W, W0)
        np.testing.assert_array_equal(ro.pending, np.zeros((5, 2)))
        np.testing.assert_allclose(Z, R @ W0, rtol=0, atol=1e-12)
    assert ro.n_updates == 0


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_lms_on_fixed_trace_converges_to_bernoulli_probability(p: float) -> None:
    # expected (closed form): with a fixed trace r the output obeys z ← z + μ (y − z), μ = η‖r‖², so for
    # Bernoulli(p) targets E[z] → p (LMS converges to the conditional mean) with stationary variance
    # μ/(2 − μ)·p(1 − p). Checked two ways: the recursion reproduced exactly, and the mean of z over the last
    # 20,000 steps within 5 standard errors of p (autocorrelation time 1/μ = 100 steps: ~200 independent samples)
    rng = np.random.default_rng(2)
    r = np.array([0.5, 1.0, 0.25])
    mu = 0.01
    eta = mu / float(r @ r)
    y = (rng.random(30_000) < p).astype(float)
    ro = ThreeFactorReadout(3, 1, ThreeFactorParams(eta=eta))
    Z = ro.run_trial(np.tile(r, (y.size, 1)), y, 1.0)[:, 0]
    z, z_ref = 0.0, np.empty(y.size)
    for k in range(y.size):
        z_ref[k] = z
        z += mu * (y[k] - z)
    np.testing.assert_allclose(Z, z_ref, rtol=0, atol=1e-9)
    tail = Z[10_000:]
    sd = np.sqrt(mu / (2 - mu) * p * (1 - p))
    assert abs(tail.mean() - p) < 5 * sd / np.sqrt(tail.size * mu / 2)
    assert abs(tail.std() - sd) < 0.25 * sd


def test_consolidation_applies_exactly_the_accumulated_update() -> None:
    # expected (closed form): with W frozen at W0 during the offline phase, pending = Σ_s η g_s (r_s (y_s − W0ᵀ
    # r_s)ᵀ − λ W0); consolidate() adds κ·pending to W0 and clears pending
    rng = np.random.default_rng(3)
    prm = ThreeFactorParams(eta=0.02, weight_decay=0.5, consolidation_rate=0.7)
    ro = ThreeFactorReadout(6, 2, prm)
    W0 = rng.normal(size=(6, 2))
    ro.W = W0.copy()
    R, Y, G = rng.random((30, 6)), rng.random((30, 2)), rng.random(30)
    Z = ro.run_trial(R[:10], Y[:10], G[:10], accumulate=True)
    Z = np.vstack([Z, ro.run_trial(R[10:], Y[10:], G[10:], accumulate=True)])  # sums across calls
    np.testing.assert_allclose(Z, R @ W0, rtol=0, atol=1e-12)
    expected = prm.eta * ((R * G[:, None]).T @ (Y - R @ W0) - prm.weight_decay * G.sum() * W0)
    np.testing.assert_allclose(ro.pending, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ro.W, W0)
    applied = ro.consolidate()
    np.testing.assert_allclose(applied, 0.7 * expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ro.W, W0 + 0.7 * expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ro.pending, np.zeros((6, 2)))
    assert ro.n_consolidations == 1


def test_gate_window() -> None:
    # expected: by hand, window [0.1, 0.3] s after a cue at 0.05 s covers times 0.15 ... 0.35 inclusive
    prm = ThreeFactorParams(gate_start_s=0.1, gate_end_s=0.3)
    g = prm.gate(np.array([0.0, 0.1, 0.15, 0.25, 0.35, 0.4]), cue_onset_s=0.05)
    np.testing.assert_array_equal(g, [0, 0, 1, 1, 1, 0])


# ---- paradigm ------------------------------------------------------------------------------------------------


def test_paradigm_sequences_are_seeded_and_have_the_requested_statistics() -> None:
    par = PredictionParadigm(n_outcomes=2, latencies_s=(0.3, 0.6), probabilities=(0.25, 1.0), reps_per_block=3,
                             n_blocks=200, switch_block=100, switch="latency")
    a, b, c = par.sequence(5), par.sequence(5), par.sequence(6)
    for name in ("cue", "outcome", "latency_s", "probability", "occurred", "block", "switched"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.cue, c.cue)
    assert a.n_trials == 8 * 3 * 200 == par.n_trials
    # expected: every block holds each of the 2·2·2 = 8 conditions exactly reps_per_block = 3 times
    for blk in range(par.n_blocks):
        counts = np.bincount(a.cue[a.block == blk], minlength=8)
        np.testing.assert_array_equal(counts, np.full(8, 3))
    # expected: outcome frequency per cue is Binomial(n, p): within 4 standard deviations of p
    cond = par.conditions(False)
    for cue in range(8):
        sel = a.cue == cue
        p = cond["probability"][cue]
        n = int(sel.sum())
        assert abs(a.occurred[sel].mean() - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12
    # expected: cue = (outcome · 2 + latency index) · 2 + probability index; the latency switch reverses latencies
    np.testing.assert_array_equal(cond["outcome"], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(cond["latency_s"], [0.3, 0.3, 0.6, 0.6, 0.3, 0.3, 0.6, 0.6])
    np.testing.assert_array_equal(cond["probability"], [0.25, 1, 0.25, 1, 0.25, 1, 0.25, 1])
    after = par.conditions(True)
    np.testing.assert_array_equal(after["latency_s"], [0.6, 0.6, 0.3, 0.3, 0.6, 0.6, 0.3, 0.3])
    np.testing.assert_array_equal(after["probability"], cond["probability"])
    assert par.switch_trial == 100 * 24
    np.testing.assert_array_equal(a.switched, np.arange(a.n_trials) >= par.switch_trial)
    np.testing.assert_array_equal(a.latency_s[a.switched], after["latency_s"][a.cue[a.switched]])
    np.testing.assert_array_equal(a.latency_s[~a.switched], cond["latency_s"][a.cue[~a.switched]])
    # a probability switch: same cue order and uniforms, reversed probabilities after the switch
    prob = PredictionParadigm(n_outcomes=2, latencies_s=(0.3, 0.6), probabilities=(0.25, 1.0), reps_per_block=3,
                              n_blocks=200, switch_block=100, switch="probability").sequence(5)
    np.testing.assert_array_equal(prob.cue, a.cue)
    np.testing.assert_array_equal(prob.probability[prob.switched], 1.25 - cond["probability"][a.cue[a.switched]])


def test_paradigm_input_and_targets() -> None:
    par = PredictionParadigm(n_outcomes=1, latencies_s=(0.3,), probabilities=(0.5, 1.0), n_blocks=20,
                             switch="none", id_channels=4, id_rate_hz=50.0, time_channels=3)
    seq = par.sequence(1)
    assert par.n_channels == 2 * 4 + 3
    # a trial's spikes do not depend on how trials are batched (seeded by trial)
    whole = par.cue_input(seq, 0, 4, seed=9)
    parts = [par.cue_input(seq, 0, 2, seed=9), par.cue_input(seq, 2, 4, seed=9)]
    for k in range(4):
        src, kk = (parts[0], k) if k < 2 else (parts[1], k - 2)
        mine = np.lexsort((src.times[src.trials == kk], src.indices[src.trials == kk]))
        ref = np.lexsort((whole.times[whole.trials == k], whole.indices[whole.trials == k]))
        np.testing.assert_array_equal(src.indices[src.trials == kk][mine], whole.indices[whole.trials == k][ref])
        np.testing.assert_array_equal(src.times[src.trials == kk][mine], whole.times[whole.trials == k][ref])
    # expected: identity channels of the trial's own cue only, Poisson at 50 Hz for 0.9 s (mean 45 spikes per
    # channel; over 40 trials × 4 channels the mean is within 4 standard errors sqrt(45 / 160))
    src = par.cue_input(seq, 0, 40, seed=2)
    counts = np.zeros((40, par.n_channels))
    np.add.at(counts, (src.trials, src.indices), 1)
    own = np.array([counts[k, 4 * seq.cue[k]:4 * seq.cue[k] + 4] for k in range(40)])
    other = np.array([counts[k, 4 * (1 - seq.cue[k]):4 * (1 - seq.cue[k]) + 4] for k in range(40)])
    assert other.sum() == 0
    assert abs(own.mean() - 45.0) < 4 * np.sqrt(45.0 / own.size)
    assert np.all(src.times[np.isin(src.indices, range(8))] >= par.cue_onset_s)
    # targets: realised bump only when the outcome occurred; expected = p · bump; peak 1 at t_cue + latency
    times = np.array([par.cue_onset_s + 0.3, par.cue_onset_s + 0.3 + par.target_width_s])
    Y = par.when_target(seq, times)
    E = par.expected_when(seq, times)
    np.testing.assert_allclose(Y[:, 0], seq.occurred.astype(float), rtol=0, atol=1e-12)
    np.testing.assert_allclose(E[:, 0], seq.probability, rtol=0, atol=1e-12)
    np.testing.assert_allclose(E[:, 1], seq.probability * np.exp(-0.5), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(par.what_target(seq), np.ones((seq.n_trials, 1)))


# ---- validation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "path"), [
    (lambda: ThreeFactorParams(eta=0.0), "three_factor.eta"),
    (lambda: ThreeFactorParams(eta=float("nan")), "three_factor.eta"),
    (lambda: ThreeFactorParams(weight_decay=-1.0), "three_factor.weight_decay"),
    (lambda: ThreeFactorParams(eta=0.5, weight_decay=3.0), "three_factor.weight_decay"),
    (lambda: ThreeFactorParams(consolidation_rate=-0.1), "three_factor.consolidation_rate"),
    (lambda: ThreeFactorParams(trace_tau_s="fast"), "three_factor.trace_tau_s"),
    (lambda: ThreeFactorParams(gate_start_s=0.5, gate_end_s=0.2), "three_factor.gate_end_s"),
    (lambda: ThreeFactorReadout(0), "three_factor.n_features"),
    (lambda: ThreeFactorReadout(3, 1, params={"eta": 1}), "three_factor.params"),
    (lambda: ThreeFactorReadout(3).run_trial(np.ones((4, 2)), np.ones(4)), "three_factor.traces"),
    (lambda: ThreeFactorReadout(3).run_trial(np.ones((4, 3)), np.ones(5)), "three_factor.target"),
    (lambda: ThreeFactorReadout(3).run_trial(np.ones((4, 3)), np.ones(4), 1.5), "three_factor.gate"),
    (lambda: ThreeFactorReadout(3).run_trial(np.ones((4, 3)), np.ones(4), np.ones(3)), "three_factor.gate"),
    (lambda: ThreeFactorReadout(3).run_trial(np.full((4, 3), np.nan), np.ones(4)), "three_factor.traces"),
    (lambda: ThreeFactorReadout(3).step(np.ones((2, 3)), 1.0), "three_factor.r"),
    (lambda: ThreeFactorParams().gate("abc"), "three_factor.times_s"),
    (lambda: ThreeFactorParams().gate([0.2, np.nan]), "three_factor.times_s"),
    (lambda: PredictionParadigm(probabilities=(0.0, 0.5)), "paradigm.probabilities"),
    (lambda: PredictionParadigm(probabilities=(0.5, 0.5)), "paradigm.probabilities"),
    (lambda: PredictionParadigm(latencies_s=(0.3, 2.0)), "paradigm.latencies_s"),
    (lambda: PredictionParadigm(switch="sometimes"), "paradigm.switch"),
    (lambda: PredictionParadigm(n_blocks=10, switch_block=10), "paradigm.switch_block"),
    (lambda: PredictionParadigm(n_outcomes=0), "paradigm.n_outcomes"),
    (lambda: PredictionParadigm(cue_onset_s=2.0), "paradigm.cue_onset_s"),
    (lambda: PredictionParadigm(id_rate_hz=2000.0), "paradigm.id_rate_hz"),
    (lambda: PredictionParadigm().sequence(-1), "paradigm.seed"),
    (lambda: PredictionParadigm(n_blocks=2, switch="none").cue_input(
        PredictionParadigm(n_blocks=2, switch="none").sequence(0), 3, 2, 0), "paradigm.trials"),
])
def test_bad_input_raises_one_line_config_error(make, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.path == path
    assert "\n" not in str(info.value)


# ---- benchmark -----------------------------------------------------------------------------------------------


def test_what_when_benchmark_quick_smoke(tmp_path: Path) -> None:
    out = tmp_path / "what_when.json"
    # smaller than --quick alone (150 neurons, 12 blocks) to keep this file fast
    proc = subprocess.run([sys.executable, "-m", "benchmarks.what_when", "--quick", "--n-exc", "120", "--n-inh", "30",
                           "--blocks", "12", "--eval-blocks", "3", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data == json.loads(proc.stdout)
    for key in ("peak_time_error_ms", "amplitude_probability_correlation", "adaptation", "what_when_angle_deg",
                "n_neurons", "timings", "machine", "peer_force"):
        assert key in data
    assert data["n_neurons"] == 150
    # peaks are searched inside the gate (0.1 ... 0.9 s after the cue): no error can exceed 600 ms
    assert 0.0 <= data["peak_time_error_ms"] <= 600.0
    assert -1.0 <= data["amplitude_probability_correlation"] <= 1.0
    assert 0.0 <= data["what_when_angle_deg"] <= 90.0
    ad = data["adaptation"]
    n_after = data["config"]["n_trials"] - data["adaptation"]["latency_switch"]["switch_trial"]
    assert len(ad["three_factor_error_after_switch"]) == len(ad["force_no_reset_error_after_switch"]) == n_after
    for key in ("three_factor_trials_to_criterion", "force_no_reset_trials_to_criterion"):
        assert ad[key] == "not reached" or 1 <= ad[key] <= n_after
    assert all(v >= 0 for v in ad["three_factor_error_after_switch"])
    assert data["timings"]["simulate_s"] > 0 and data["rate_hz"] > 0
