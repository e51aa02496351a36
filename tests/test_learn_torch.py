"""The BPTT path (norse LIF layers, PyTorch): neuron and surrogate, HLOP projection on weight gradients, and
continual learning with HLOP and the baselines behind the learner protocol."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("norse")

from snn.continual.streams import Stream, Task, load_stream  # noqa: E402
from snn.errors import ConfigError  # noqa: E402
from snn.hlop import HLOPConfig, Subspace  # noqa: E402
from snn.learn import METHODS, BaselineConfig, MLPConfig  # noqa: E402
from snn.learn.torch_path import TorchConfig, TorchLearner, make_torch_learner, project_rows  # noqa: E402

torch.set_num_threads(1)   # 2-core machine shared with other jobs; results are bit-identical per thread count


def _lif_reference(current: np.ndarray, tau: float, v_th: float) -> np.ndarray:
    """spikingjelly's LIF with decay_input=False, v_reset=None, written out: v ← (1 − 1/τ) v + I;
    s = [v > v_th]; v ← v − v_th s. current (T, B, n) -> spikes (T, B, n)."""
    v = np.zeros(current.shape[1:])
    out = np.zeros(current.shape)
    for t in range(current.shape[0]):
        v = (1 - 1 / tau) * v + current[t]
        out[t] = v > v_th
        v = v - v_th * out[t]
    return out


def test_norse_lif_layer_is_the_reference_neuron() -> None:
    # expected: the reference code's neuron (HLOP-SNN spiking_MLP_bptt: tau=2, decay_input=False, soft reset),
    # integrated by hand above; currents are multiples of 1/8 (exact in binary) so no threshold tie is rounded
    cfg = TorchConfig(widths=(4, 30, 3), steps=9, tau=2.0, v_th=1.0, dtype="float64", device="cpu")
    learner = TorchLearner("finetune", cfg)
    rng = np.random.default_rng(0)
    current = np.round(rng.normal(0.6, 0.7, (9, 5, 30)) * 8) / 8
    spikes = learner.net.lif(torch.as_tensor(current)).numpy()
    np.testing.assert_array_equal(spikes, _lif_reference(current, 2.0, 1.0))
    assert 0.1 < spikes.mean() < 0.9


def test_sigmoid_surrogate_is_spikingjellys() -> None:
    # expected: spikingjelly's Sigmoid(alpha=4): ds/dv = α σ(α(v − V_th)) (1 − σ(α(v − V_th))) (closed form)
    # at the first step, v = I (v(0) = 0, decay_input=False)
    cfg = TorchConfig(widths=(4, 7, 3), steps=1, dtype="float64", device="cpu")
    learner = TorchLearner("finetune", cfg)
    current = torch.linspace(-1.0, 3.0, 7, dtype=torch.float64).reshape(1, 1, 7).requires_grad_(True)
    learner.net.lif(current).sum().backward()
    x = current.detach().numpy().ravel() - 1.0
    sig = 1 / (1 + np.exp(-4 * x))
    np.testing.assert_allclose(current.grad.numpy().ravel(), 4 * sig * (1 - sig), rtol=1e-12)


@pytest.mark.parametrize(("readout", "reset"), [("mean_current", "subtract"), ("mean_membrane", "zero")])
def test_weight_gradient_is_the_sum_over_steps_of_error_times_trace(readout, reset) -> None:
    # expected (reference sheet hlop.md §1, BPTT row): G_l = Σ_t δ_l(t) s_{l-1}(t)ᵀ with δ_l(t) = ∂L/∂I_l(t), so
    # projecting the gradient, G_l P⊥, is the reference's Σ_t δ_l(t) (P⊥ s_{l-1}(t))ᵀ (P⊥ = I − Hfᵀ Hf, any Hf)
    cfg = TorchConfig(widths=(12, 9, 7, 4), steps=5, readout=readout, reset=reset, dtype="float64", device="cpu")
    learner = TorchLearner("finetune", cfg, seed=3)
    rng = np.random.default_rng(7)
    X = learner.net.inputs(rng.random((6, 12)))
    fwd = learner.net.forward(X)
    for c in fwd.currents:
        c.retain_grad()
    torch.nn.functional.cross_entropy(fwd.logits, torch.as_tensor(rng.integers(0, 4, 6))).backward()
    pre = [X.expand(5, *X.shape)] + [s.detach() for s in fwd.spikes]
    assert float(pre[1].mean()) > 0.05 and float(pre[2].mean()) > 0.05   # both hidden layers spike
    for w, c, s in zip(learner.net.W, fwd.currents, pre):
        np.testing.assert_allclose(w.grad.numpy(), torch.einsum("tbo,tbi->oi", c.grad, s).numpy(), rtol=1e-10,
                                   atol=1e-14)
        Hf = torch.as_tensor(rng.normal(size=(3, s.shape[-1])))
        s_perp = s - (s @ Hf.T) @ Hf
        np.testing.assert_allclose(project_rows(w.grad, Hf).numpy(),
                                   torch.einsum("tbo,tbi->oi", c.grad, s_perp).numpy(), rtol=1e-9, atol=1e-13)


def _hlop_learner(k_first=(6, 6, 6)) -> TorchLearner:
    cfg = TorchConfig(widths=(64, 20, 20, 5), steps=4, epochs=1, batch=16, dtype="float64", device="cpu")
    return TorchLearner("hlop", cfg, hlop=HLOPConfig(k_first=k_first, k_added=((3, 3, 3),), lr=0.01))


def test_torch_projection_equals_subspace_project_out() -> None:
    # expected: Subspace.project_out(G) = G − (G Hfᵀ) Hf (closed form, its definition) for frozen rows that are
    # not orthonormal (the reference uses Hfᵀ Hf as is), through the learner's gradient hook at task 2
    stream = _stream(2)
    learner = _hlop_learner()
    learner.begin_task(0, stream[0])
    rng = np.random.default_rng(1)
    for layer, n in zip(learner.subspaces, (64, 20, 20)):
        layer.hebbian_update(rng.random((32, n)))
        layer.H += rng.normal(0, 0.05, layer.H.shape)   # rows as an unconverged Hebbian rule may leave them
        layer.end_task()
    learner.begin_task(1, stream[1])
    grads = [rng.normal(size=tuple(w.shape)) for w in learner.net.W]
    for w, G in zip(learner.net.W, grads):
        w.grad = torch.as_tensor(G)
    learner._project(1)
    for w, G, layer in zip(learner.net.W, grads, learner.subspaces):
        assert layer.n_frozen == 6
        np.testing.assert_allclose(w.grad.numpy(), layer.project_out(G), rtol=0, atol=1e-13)
        assert np.abs(layer.frozen @ layer.frozen.T - np.eye(6)).max() > 1e-3   # not a trivial projector
    # no frozen rows (task 1): identity
    G = torch.ones(3, 64, dtype=torch.float64)
    assert project_rows(G, torch.zeros(0, 64, dtype=torch.float64)) is G


def test_projected_sgd_keeps_old_span_outputs() -> None:
    # expected: with orthonormal frozen rows Hf, every projected update ΔW satisfies ΔW Hfᵀ = 0 (closed form),
    # so W h is unchanged for every h in span(Hf) after a whole task of BPTT steps
    stream = _stream(2)
    learner = _hlop_learner()
    learner.begin_task(0, stream[0])
    for layer in learner.subspaces:   # orthonormalise the rows so that Hfᵀ Hf is the exact projector
        q, _ = np.linalg.qr(layer.H.T)
        layer.H[:] = q.T
        layer.end_task()
    learner.begin_task(1, stream[1])
    before = [w.detach().clone().numpy() for w in learner.net.W]
    learner.train_task(1, stream[1], np.random.default_rng(2))
    for w0, w, layer in zip(before, learner.net.W, learner.subspaces):
        Hf = np.array(layer.frozen)
        h = np.random.default_rng(3).normal(size=(10, Hf.shape[0])) @ Hf   # vectors in span(Hf)
        assert np.abs(w.detach().numpy() - w0).max() > 1e-3                 # the layer did learn
        np.testing.assert_allclose(w.detach().numpy() @ h.T, w0 @ h.T, rtol=0, atol=1e-11)


def test_input_layer_hebbian_on_b_rows_equals_t_copies() -> None:
    # expected: the mini-batch Oja step Yᵀ(X − YH)/N is unchanged when every row of X is repeated T times (sums and
    # N scale by T), so the input layer may pass B rows instead of the reference's T·B identical step vectors
    rng = np.random.default_rng(4)
    X = rng.random((16, 30))
    a, b = Subspace(30, lr=0.01), Subspace(30, lr=0.01)
    a.begin_task(5, np.random.default_rng(0))
    b.begin_task(5, np.random.default_rng(0))
    a.hebbian_update(X)
    b.hebbian_update(np.tile(X, (6, 1)))
    np.testing.assert_allclose(a.H, b.H, rtol=0, atol=1e-14)


def test_ewc_fisher_is_the_mean_squared_per_sample_gradient() -> None:
    # expected: the empirical Fisher's definition (Kirkpatrick et al. 2017), F = mean_s (∂L_s/∂W)², with each
    # sample's gradient from its own backward pass (a plain loop), against the per-sample weight copies
    stream = _stream(1)
    cfg = TorchConfig(widths=(64, 12, 10, 5), steps=3, dtype="float64", device="cpu")
    learner = TorchLearner("ewc", cfg, baselines=BaselineConfig(ewc_samples=20))
    learner._fisher(stream[0], np.random.default_rng(6))
    idx = np.random.default_rng(6).choice(stream[0].X_train.shape[0], 20, replace=False)
    expected = [np.zeros(tuple(w.shape)) for w in learner.net.W]
    for i in idx:
        for w in learner.net.W:
            w.grad = None
        logits = learner.net.forward(learner.net.inputs(stream[0].X_train[i:i + 1])).logits
        torch.nn.functional.cross_entropy(logits, torch.as_tensor(np.array(stream[0].y_train[i:i + 1]))).backward()
        for e, w in zip(expected, learner.net.W):
            e += w.grad.numpy() ** 2 / 20
    assert sum(float(e.sum()) for e in expected) > 0
    for got, e in zip(learner.fisher[0], expected):
        np.testing.assert_allclose(got.numpy(), e, rtol=1e-10, atol=1e-15)


def _stream(n_tasks: int = 3, seed: int = 0) -> Stream:
    """Permuted 'prototype' tasks: 5 classes of noisy binary patterns on 64 inputs (as test_learn_local)."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((5, 64)) < 0.3).astype(np.float32)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 5, n)
        X = np.clip(protos[y] + rng.normal(0, 0.25, (n, 64)), 0, 1).astype(np.float32)
        return X, y.astype(np.int64)
    (Xa, ya), (Xb, yb) = draw(200), draw(100)
    tasks = []
    for t in range(n_tasks):
        p = np.arange(64) if t == 0 else rng.permutation(64)
        tasks.append(Task(t, Xa[:, p], ya, Xb[:, p], yb, tuple(range(5)), f"perm{t}"))
    return Stream(tuple(tasks), "domain", 5, (64,))


def _bwt(R: np.ndarray) -> float:
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))


@pytest.fixture(scope="module")
def results() -> dict[str, np.ndarray]:
    # the 3-task stream of test_learn_local (pbumps16, 800 training samples per task), 256-100-100-10, T = 6,
    # reference LIF / surrogate, SGD lr 0.1, batch 64, 3 epochs; HLOP schedule and η of test_learn_local
    from threadpoolctl import threadpool_limits

    stream = load_stream("pbumps16", n_tasks=3, n_train=800, n_test=300)
    cfg = TorchConfig(widths=(256, 100, 100, 10), epochs=3, device="cpu")
    hlop = HLOPConfig(k_first=(30, 25, 25), k_added=((20, 15, 15),), lr=(0.001, 0.01, 0.01))
    out = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # 39 batches per task leave some rows unconverged
        for method in ("finetune", "hlop", "gpm"):
            learner = TorchLearner(method, cfg, hlop=hlop, seed=0, scenario=stream.scenario)
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
        assert np.all(np.diag(R) > 0.45), (method, np.diag(R))   # 10 classes: chance 0.1; ~0.6-0.8 measured


def test_projection_methods_forget_less_than_finetune(results) -> None:
    # expected (HLOP paper, Table 1, BPTT row: HLOP BWT ≈ −1 to −2 % vs ≈ −25 % for the baseline): fine-tuning
    # forgets, HLOP and GPM keep old tasks. Measured here (2026-12-07, CPU, 1 thread): ACC / BWT
    # finetune 0.652 / −0.137, hlop 0.703 / −0.008 (the same settings in test_learn_local's IF path: −0.14 / −0.04)
    assert _bwt(results["finetune"]) < -0.08, results["finetune"]
    for method in ("hlop", "gpm"):
        assert _bwt(results[method]) > _bwt(results["finetune"]) + 0.05, (method, results[method])


@pytest.mark.filterwarnings("ignore:HLOP layer")   # 7 batches leave the rows unconverged; not the point here
@pytest.mark.parametrize("method", ["ewc", "gpm", "replay", "joint", "hlop_replay"])
def test_state_round_trip_resumes_identically(method) -> None:
    # expected: a learner rebuilt from state() after task 1 continues exactly like the original (CPU, 1 thread)
    stream = _stream(2)
    cfg = TorchConfig(widths=(64, 30, 30, 5), steps=4, epochs=1, batch=32, device="cpu")
    kw = dict(hlop=HLOPConfig(k_first=(8, 8, 8), k_added=((4, 4, 4),), lr=0.01), scenario="domain",
              baselines=BaselineConfig(memory_per_class=10, ewc_samples=100, gpm_samples=50))
    a = TorchLearner(method, cfg, **kw)
    rng = np.random.default_rng(5)
    a.begin_task(0, stream[0])
    a.train_task(0, stream[0], rng)
    a.end_task(0, stream[0], rng)
    b = TorchLearner(method, cfg, **kw)
    b.load_state(a.state(), seen=list(a.seen))
    rng_b = np.random.default_rng()
    rng_b.bit_generator.state = rng.bit_generator.state
    for learner, r in ((a, rng), (b, rng_b)):
        learner.begin_task(1, stream[1])
        learner.train_task(1, stream[1], r)
        learner.end_task(1, stream[1], r)
    for key, value in a.state().items():
        np.testing.assert_array_equal(value, b.state()[key], err_msg=key)
    assert a.evaluate(stream[0]) == b.evaluate(stream[0])


def test_every_method_name_runs_one_task_in_each_scenario() -> None:
    stream = _stream(1)
    cfg = TorchConfig(widths=(64, 60, 60, 5), steps=6, epochs=4, batch=16, device="cpu")
    hlop = HLOPConfig(k_first=(12, 14, 14), k_added=((8, 8, 8),), lr=0.01)
    for method in METHODS:
        learner = make_torch_learner(method, cfg, hlop=hlop, seed=0, scenario="domain")
        rng = np.random.default_rng(0)
        learner.begin_task(0, stream[0])
        learner.train_task(0, stream[0], rng)
        learner.end_task(0, stream[0], rng)
        assert learner.evaluate(stream[0]) > 0.5, method   # 5 prototypes: chance 0.2
    # task scenario: the arg-max is restricted to the task's classes (here 2 of 5)
    task = Task(0, stream[0].X_train, stream[0].y_train % 2, stream[0].X_test, stream[0].y_test % 2, (0, 1), "t")
    learner = TorchLearner("finetune", cfg, scenario="task")
    assert set(np.unique(learner.predict(task.X_test, np.array([0, 1])))) <= {0, 1}


def test_make_torch_learner_from_mlp_config() -> None:
    # the study runner's MLPConfig maps onto the BPTT config (widths, T, threshold, lr, epochs, batch)
    mlp = MLPConfig(widths=(64, 20, 20, 5), steps=5, threshold=0.8, lr=0.07, epochs=2, batch=8)
    learner = make_torch_learner("finetune", mlp, device="cpu")
    cfg = learner.config
    assert (cfg.widths, cfg.steps, cfg.v_th, cfg.lr, cfg.epochs, cfg.batch) == ((64, 20, 20, 5), 5, 0.8, 0.07, 2, 8)
    assert learner.device.type == "cpu" and [tuple(w.shape) for w in learner.net.W] == [(20, 64), (20, 20), (5, 20)]
    bound = cfg.init_gain * math.sqrt(6 / 64)
    assert 0.9 * bound < float(learner.net.W[0].detach().abs().max()) <= bound


@pytest.mark.parametrize(("call", "path"), [
    (lambda: TorchLearner("sgd", TorchConfig(device="cpu")), "method"),
    (lambda: TorchLearner("hlop", TorchConfig(device="cpu")), "hlop"),
    (lambda: TorchLearner("hlop", TorchConfig(device="cpu"), hlop=HLOPConfig(k_first=(4, 4), lr=0.01)),
     "hlop.k_first"),
    (lambda: TorchLearner("gpm", TorchConfig(device="cpu"), baselines=BaselineConfig(gpm_thresholds=(0.9,))),
     "baselines.gpm_thresholds"),
    (lambda: TorchLearner("finetune", TorchConfig(device="cpu"), scenario="online"), "scenario"),
    (lambda: TorchLearner("finetune", MLPConfig()), "torch"),
    (lambda: TorchConfig(widths=(10, 3)), "torch.widths"),
    (lambda: TorchConfig(steps=0), "torch.steps"),
    (lambda: TorchConfig(tau=0.5), "torch.tau"),
    (lambda: TorchConfig(surrogate="sigmoidal"), "torch.surrogate"),
    (lambda: TorchConfig(readout="spikes"), "torch.readout"),
    (lambda: TorchConfig(dtype="float16"), "torch.dtype"),
    (lambda: TorchConfig(lr=math.nan), "torch.lr"),
    (lambda: TorchLearner("finetune", TorchConfig(device="tpu:x")), "torch.device"),
    (lambda: make_torch_learner("finetune", "mlp"), "mlp"),
    (lambda: TorchLearner("finetune", TorchConfig(widths=(4, 3, 2), device="cpu")).predict(np.ones((2, 5))),
     "torch.X"),
    (lambda: TorchLearner("finetune", TorchConfig(widths=(4, 3, 2), device="cpu")).load_state(
        {"net.W0": np.ones((3, 5))}), "torch.state.W0"),
])
def test_bad_input_one_line(call, path) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == path and "\n" not in str(info.value)


def test_missing_torch_is_one_config_error(monkeypatch) -> None:
    # expected: without the "torch" extra the module still imports and the factory names what to install
    import snn.learn.torch_path as tp

    monkeypatch.setattr(tp, "torch", None)
    with pytest.raises(ConfigError) as info:
        tp.make_torch_learner("finetune", TorchConfig(device="cpu"))
    assert info.value.path == "torch" and "pip install" in str(info.value) and "\n" not in str(info.value)
