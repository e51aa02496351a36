"""The spiking MLP's kernels and gradients, and continual learning with HLOP and the baselines (local rules)."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest

from snn.continual.streams import Stream, Task, load_stream
from snn.errors import ConfigError
from snn.hlop import HLOPConfig
from snn.learn import METHODS, BaselineConfig, Forward, LocalLearner, MLPConfig, SpikingMLP
from snn.learn.kernels import if_constant_input, if_spike_input


def _if_reference(currents: np.ndarray, threshold: float) -> np.ndarray:
    """IF neurons with soft reset, step by step in plain numpy: currents (B, T, n) -> spikes (B, T, n)."""
    v = np.zeros((currents.shape[0], currents.shape[2]))
    out = np.zeros(currents.shape, np.uint8)
    for t in range(currents.shape[1]):
        v += currents[:, t]
        out[:, t] = v >= threshold
        v -= threshold * out[:, t]
    return out


def test_if_kernels_match_a_numpy_reference() -> None:
    # expected: v += I; spike at v >= θ; v -= θ, written independently above; layer 2 gets W s(t) each step
    rng = np.random.default_rng(0)
    current = rng.normal(0.4, 0.6, (7, 30))
    s1 = np.empty((7, 9, 30), np.uint8)
    if_constant_input(current, 9, 0.8, s1)
    np.testing.assert_array_equal(s1, _if_reference(np.repeat(current[:, None, :], 9, axis=1), 0.8))
    W = rng.normal(0, 0.3, (12, 30))
    s2 = np.empty((7, 9, 12), np.uint8)
    if_spike_input(s1, np.ascontiguousarray(W.T), 0.8, s2)
    np.testing.assert_array_equal(s2, _if_reference(np.einsum("btj,ij->bti", s1.astype(float), W), 0.8))
    assert 0 < s1.mean() < 1 and 0 < s2.mean() < 1


def test_rate_of_a_constant_current_is_the_surrogate() -> None:
    # expected: an IF neuron with constant current I fires floor(T I / θ) times in T steps (soft reset, v(0) = 0),
    # the rate clamp(I/θ, 0, 1) up to 1/T that DSR differentiates (currents exact in binary: no rounding)
    current = np.array([[-0.25, 0.0, 0.25, 0.5, 0.875, 1.0, 2.5]])
    s = np.empty((1, 100, 7), np.uint8)
    if_constant_input(current, 100, 1.0, s)
    np.testing.assert_array_equal(s.sum(axis=1)[0], [0, 0, 25, 50, 87, 100, 100])


def test_gradients_are_exact_for_the_rate_surrogate() -> None:
    # expected: central finite differences of the cross-entropy of the rate model r_l = clamp(Ī_l/θ, 0, 1)
    # (the function DSR differentiates); our backward pass fed with that model's traces must match them
    rng = np.random.default_rng(1)
    cfg = MLPConfig(widths=(6, 5, 4, 3), threshold=0.7)
    net = SpikingMLP(cfg, seed=2)
    X = rng.uniform(0, 1, (8, 6))
    y = rng.integers(0, 3, 8)

    def surrogate(W: list[np.ndarray]) -> tuple[Forward, float]:
        traces, currents = [X], []
        for w in W[:-1]:
            currents.append(traces[-1] @ w.T)
            traces.append(np.clip(currents[-1] / cfg.threshold, 0, 1))
        z = traces[-1] @ W[-1].T
        currents.append(z)
        zc = z - z.max(axis=1, keepdims=True)
        loss = float(np.mean(np.log(np.exp(zc).sum(axis=1)) - zc[np.arange(8), y]))
        return Forward(tuple(traces), tuple(currents)), loss

    fwd, _ = surrogate(net.W)
    grads = net.gradients(fwd, y)
    eps = 1e-6
    for k, W in enumerate(net.W):
        num = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus = [w.copy() for w in net.W]
            minus = [w.copy() for w in net.W]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (surrogate(plus)[1] - surrogate(minus)[1]) / (2 * eps)
        np.testing.assert_allclose(grads[k], num, rtol=1e-5, atol=1e-8)


def test_forward_is_thread_count_invariant() -> None:
    net = SpikingMLP(MLPConfig(widths=(40, 30, 20, 5)), seed=3)
    X = np.random.default_rng(4).uniform(0, 1, (64, 40))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = net.forward(X)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = net.forward(X)
    finally:
        numba.set_num_threads(before)
    for ta, tb in zip(a.traces, b.traces):
        np.testing.assert_array_equal(ta, tb)


def _stream(n_tasks: int = 3, seed: int = 0) -> Stream:
    """Permuted 'prototype' tasks: 5 classes of noisy binary patterns on 64 inputs, a fixed permutation per task
    (the first the identity). Small enough for seconds of training, and permuted tasks interfere."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((5, 64)) < 0.3).astype(np.float32)
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 5, n)
        X = np.clip(protos[y] + rng.normal(0, 0.25, (n, 64)), 0, 1).astype(np.float32)
        return X, y.astype(np.int64)
    (Xa, ya), (Xb, yb) = draw(400), draw(200)
    tasks = []
    for t in range(n_tasks):
        p = np.arange(64) if t == 0 else rng.permutation(64)
        tasks.append(Task(t, Xa[:, p], ya, Xb[:, p], yb, tuple(range(5)), f"perm{t}"))
    return Stream(tuple(tasks), "domain", 5, (64,))


def _run(method: str, stream: Stream, **kw) -> tuple[np.ndarray, LocalLearner]:
    mlp = MLPConfig(widths=(64, 60, 60, 5), steps=6, lr=0.1, epochs=4, batch=16)
    hlop = HLOPConfig(k_first=(12, 14, 14), k_added=((8, 8, 8),), lr=(0.01, 0.01, 0.01))
    learner = LocalLearner(method, mlp, hlop=hlop, seed=0, scenario=stream.scenario, **kw)
    rng = np.random.default_rng(0)
    R = np.zeros((len(stream), len(stream)))
    for t, task in enumerate(stream):
        learner.begin_task(t, task)
        learner.train_task(t, task, rng)
        learner.end_task(t, task, rng)
        R[t] = [learner.evaluate(s) for s in stream]
    return R, learner


@pytest.fixture(scope="module")
def results() -> dict[str, np.ndarray]:
    # 3 permuted tasks of the HLOP pilot's Gaussian-bump classes (16 x 16, 10 classes), 800 training samples each:
    # small enough for seconds per method with one BLAS thread, hard enough that fine-tuning forgets
    from threadpoolctl import threadpool_limits

    stream = load_stream("pbumps16", n_tasks=3, n_train=800, n_test=300)
    mlp = MLPConfig(widths=(256, 100, 100, 10), steps=6, lr=0.05, epochs=3, batch=32)
    hlop = HLOPConfig(k_first=(30, 25, 25), k_added=((20, 15, 15),), lr=(0.001, 0.01, 0.01))
    out = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # 75 batches per task leave some rows unconverged
        for method in ("finetune", "hlop", "gpm"):
            learner = LocalLearner(method, mlp, hlop=hlop, seed=0, scenario=stream.scenario)
            rng = np.random.default_rng(0)
            R = np.zeros((3, 3))
            for t, task in enumerate(stream):
                learner.begin_task(t, task)
                learner.train_task(t, task, rng)
                learner.end_task(t, task, rng)
                R[t] = [learner.evaluate(s) for s in stream]
            out[method] = R
    return out


def test_every_method_learns_the_current_task(results) -> None:
    for method, R in results.items():
        assert np.all(np.diag(R) > 0.45), (method, np.diag(R))   # 10 classes: chance 0.1; ~0.65-0.75 measured


def test_projection_methods_forget_less_than_finetune(results) -> None:
    # expected (HLOP paper, Table 1; reference sheet pilot: BWT -16 % vs -2.9 % / -1.1 %): fine-tuning forgets,
    # HLOP and GPM keep old tasks. Measured here: BWT -0.14 (finetune), -0.04 (hlop), 0.00 (gpm)
    def bwt(R: np.ndarray) -> float:
        return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))
    assert bwt(results["finetune"]) < -0.08, results["finetune"]
    for method in ("hlop", "gpm"):
        assert bwt(results[method]) > bwt(results["finetune"]) + 0.05, (method, results[method])


def test_hlop_update_is_orthogonal_to_frozen_rows() -> None:
    # expected: with orthonormal frozen rows Hf, G (I - Hfᵀ Hf) Hfᵀ = 0 (closed form), so W h is unchanged for
    # every h in their span; checked on the learner's own projection
    stream = _stream(2)
    mlp = MLPConfig(widths=(64, 20, 20, 5), epochs=1)
    learner = LocalLearner("hlop", mlp, hlop=HLOPConfig(k_first=(6, 6, 6), k_added=((3, 3, 3),), lr=0.01),
                           scenario="domain")
    for t in range(2):
        learner.begin_task(t, stream[t])
    grads = [np.random.default_rng(k).normal(size=W.shape) for k, W in enumerate(learner.net.W)]
    for layer in learner.subspaces:
        layer.end_task()   # every row frozen; rows are random orthonormal per task, so re-orthonormalise all
        q, _ = np.linalg.qr(layer.H.T)
        layer.H[:] = q.T
    for G, layer in zip(learner._project(grads, 1), learner.subspaces):
        np.testing.assert_allclose(G @ layer.H.T, 0, atol=1e-12)


@pytest.mark.parametrize("method", ["ewc", "replay", "joint", "hlop_replay"])
def test_state_round_trip_resumes_identically(method) -> None:
    # expected: a learner rebuilt from state() after task 1 continues exactly like the original
    stream = _stream(2)
    mlp = MLPConfig(widths=(64, 30, 30, 5), steps=4, epochs=1, batch=32)
    kw = dict(hlop=HLOPConfig(k_first=(8, 8, 8), k_added=((4, 4, 4),), lr=0.01), scenario="domain",
              baselines=BaselineConfig(memory_per_class=10, ewc_samples=100))
    a = LocalLearner(method, mlp, **kw)
    rng = np.random.default_rng(5)
    a.begin_task(0, stream[0])
    a.train_task(0, stream[0], rng)
    a.end_task(0, stream[0], rng)
    b = LocalLearner(method, mlp, **kw)
    b.load_state(a.state(), seen=list(a.seen))
    rng_b = np.random.default_rng()
    rng_b.bit_generator.state = rng.bit_generator.state
    for learner, r in ((a, rng), (b, rng_b)):
        learner.begin_task(1, stream[1])
        learner.train_task(1, stream[1], r)
        learner.end_task(1, stream[1], r)
    for Wa, Wb in zip(a.net.W, b.net.W):
        np.testing.assert_array_equal(Wa, Wb)


def test_every_method_name_runs_one_task() -> None:
    stream = _stream(1)
    for method in METHODS:
        R, _ = _run(method, stream)
        assert R[0, 0] > 0.5, method


@pytest.mark.parametrize(("call", "path"), [
    (lambda: LocalLearner("sgd", MLPConfig()), "method"),
    (lambda: LocalLearner("hlop", MLPConfig()), "hlop"),
    (lambda: LocalLearner("hlop", MLPConfig(), hlop=HLOPConfig(k_first=(4, 4), lr=0.01)), "hlop.k_first"),
    (lambda: LocalLearner("gpm", MLPConfig(), baselines=BaselineConfig(gpm_thresholds=(0.9,))),
     "baselines.gpm_thresholds"),
    (lambda: LocalLearner("finetune", MLPConfig(), scenario="online"), "scenario"),
    (lambda: LocalLearner("ewc", MLPConfig(), baselines={"ewc_lambda": 1.0}), "baselines"),  # a dict, not the class
    (lambda: MLPConfig(widths=(10, 3)), "mlp.widths"),
    (lambda: MLPConfig(steps=0), "mlp.steps"),
    (lambda: MLPConfig(lr=-1.0), "mlp.lr"),
    (lambda: BaselineConfig(gpm_thresholds=(0.95, 1.5)), "baselines.gpm_thresholds"),
    (lambda: SpikingMLP(MLPConfig(widths=(4, 3, 2)), 0).forward(np.ones((2, 5))), "mlp.X"),
])
def test_bad_input_one_line(call, path) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == path and "\n" not in str(info.value)
