"""HLOP numerical core: Oja subspace rule, frozen rows, projections, momentum/clamp, diagnostics, config.

Expected values come from closed forms (principal subspace of a known covariance, orthogonal projectors), hand
calculations written next to the assertions, and the reference code pkuxmq/HLOP-SNN @ 530b89a
(``modules/hlop_module.py``, ``spiking_train_pmnist.py``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from snn.errors import ConfigError
from snn.hlop import (
    HLOPConfig,
    Subspace,
    kernels,
    layer_report,
    oja_subspace_numpy,
    orthonormality_error,
    principal_angles,
    quantise,
    random_orthonormal_rows,
    residual_energy,
    warn_if_unconverged,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gaussian_source(n: int, eigenvalues: list[float], floor: float, seed: int):
    """Zero-mean Gaussian data with covariance Q diag(λ) Qᵀ: the top-k eigenvectors are Q[:, :k] (closed form)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.r_[eigenvalues, np.full(n - len(eigenvalues), floor)]
    A = Q * np.sqrt(lam)

    def batch(size: int) -> np.ndarray:
        return rng.standard_normal((size, n)) @ A.T

    return Q, batch


def _max_angle_deg(rows: np.ndarray, cols: np.ndarray) -> float:
    return float(np.degrees(subspace_angles(rows.T, cols)).max())


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_oja_converges_to_principal_subspace(backend: str) -> None:
    # Oja (1989): stable fixed point of ΔH = Y(X − YH) is an orthonormal basis of the top-k eigenspace of E[xxᵀ].
    # Measured (numpy, lr 0.01, batch 64): max angle 89° after 1 batch, 6° after 50, 2.4° after 100–400
    # (batch noise floor), max|HHᵀ − I| ~1e-3.
    n, k = 64, 6
    Q, batch = _gaussian_source(n, [8, 6, 5, 4, 3, 2.5], 0.05, seed=1)
    s = Subspace(n, lr=0.01, name="fc1", backend=backend)
    s.begin_task(k, np.random.default_rng(0))
    assert orthonormality_error(s) < 1e-12  # random orthonormal start (torch.nn.init.orthogonal_)
    assert _max_angle_deg(s.H, Q[:, :k]) > 45.0  # a random start is far from the answer
    for _ in range(200):
        s.hebbian_update(batch(64))
    assert _max_angle_deg(s.H, Q[:, :k]) < 4.0
    assert orthonormality_error(s) < 0.01


def test_frozen_rows_never_change_and_new_rows_learn_residual() -> None:
    # Task 2 appends rows; Y and the reconstruction use all rows, so the new rows converge to the top-3
    # eigenvectors of the residual covariance (I − P) C (I − P), P = HfᵀHf of the *actual* frozen rows (closed
    # form; GPM's residual SVD is the batch analogue), and all 6 rows span the top-6 eigenvectors of C.
    # Measured with these seeds: 0.69° and 0.85° (task-1 rows alone are 3.8° off the top-3, which the new rows
    # absorb, so comparing them with eigenvectors 4..6 would be wrong by as much).
    n = 40
    lam = [9.0, 8.0, 7.0, 2.0, 1.8, 1.6]
    Q, batch = _gaussian_source(n, lam, 0.01, seed=2)
    C = (Q * np.r_[lam, np.full(n - 6, 0.01)]) @ Q.T
    s = Subspace(n, lr=0.01, name="fc2")
    rng = np.random.default_rng(3)
    s.begin_task(3, rng)
    for _ in range(200):
        s.hebbian_update(batch(64))
    s.end_task()
    frozen = s.H[:3].copy()
    frozen_m = s.M[:3].copy()
    s.begin_task(3, rng)
    assert s.n_frozen == 3 and s.k == 6
    assert np.all(s.M[3:] == 0.0)  # new rows start with zero momentum (add_subspace)
    P = frozen.T @ frozen
    _, vecs = np.linalg.eigh((np.eye(n) - P) @ C @ (np.eye(n) - P))
    for _ in range(200):
        s.hebbian_update(batch(64))
    np.testing.assert_array_equal(s.H[:3], frozen)  # bit-identical
    np.testing.assert_array_equal(s.M[:3], frozen_m)  # the code restores frozen momentum rows
    assert _max_angle_deg(s.H[3:], vecs[:, -3:]) < 2.0
    assert _max_angle_deg(s.H, Q[:, :6]) < 2.0
    s.end_task()
    before = s.H.copy()
    s.hebbian_update(batch(8))  # every row frozen: no-op
    np.testing.assert_array_equal(s.H, before)


def test_project_out_closed_form() -> None:
    # P = HfᵀHf is the orthogonal projector onto span(Hf) for orthonormal Hf: (G − GP) Hfᵀ = 0, and rows of G
    # orthogonal to span(Hf) pass unchanged; a weight update ΔW = −η project_out(G) leaves W x_old unchanged.
    rng = np.random.default_rng(4)
    n = 12
    s = Subspace(n, lr=0.01)
    s.begin_task(4, rng)
    s.end_task()
    s.begin_task(2, rng)  # unfrozen rows must not take part in the projection
    Hf = s.frozen
    G = rng.standard_normal((5, n))
    out = s.project_out(G)
    np.testing.assert_allclose(out @ Hf.T, 0.0, atol=1e-12)
    np.testing.assert_allclose(out, G - G @ Hf.T @ Hf, atol=1e-13)
    G_perp = G - G @ Hf.T @ Hf  # already orthogonal: unchanged
    np.testing.assert_allclose(s.project_out(G_perp), G_perp, atol=1e-13)
    np.testing.assert_allclose(s.project_out(G[0]), out[0], atol=1e-13)  # one row
    x_old = Hf.T @ rng.standard_normal(4)  # old-task input in span(Hf)
    W = rng.standard_normal((5, n))
    np.testing.assert_allclose((W - 0.1 * out) @ x_old, W @ x_old, atol=1e-12)
    # input form (non-spiking): δᵀ X̃ equals project_out(δᵀ X)
    X = rng.standard_normal((7, n))
    delta = rng.standard_normal((7, 5))
    np.testing.assert_allclose(delta.T @ s.project_inputs(X), s.project_out(delta.T @ X), atol=1e-12)
    # numba kernel of the same projection
    res = np.empty_like(G)
    kernels.project_out_rows(np.ascontiguousarray(G), np.ascontiguousarray(Hf), res)
    np.testing.assert_allclose(res, out, atol=1e-13)
    # task 1: nothing frozen, gradients unchanged
    s1 = Subspace(n, lr=0.01)
    s1.begin_task(3, rng)
    np.testing.assert_array_equal(s1.project_out(G), G)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_one_step_momentum_and_clamp_by_hand(backend: str) -> None:
    # Hand calculation of update_weights (hlop_module.py), one iteration, B = 1, rows: 0 frozen, 1 learning.
    # H = [[0, 0, 1], [1, 0, 0]], x = [2, 3, 4]: y = x Hᵀ = [4, 2]; x − yH = [2−2, 3, 4−4] = [0, 3, 0];
    # Δ row 1 = 2·[0, 3, 0] = [0, 6, 0] → clamp 5 → [0, 5, 0]; M row 1 = 0.9·[0.5, −1, 0] + 0.1·[0, 5, 0]
    # = [0.45, −0.4, 0]; H row 1 = [1, 0, 0] + 0.1·M = [1.045, −0.04, 0]. Row 0 and its momentum unchanged.
    s = Subspace(3, lr=0.1, momentum=0.9, clamp=5.0, iterations=1, backend=backend)
    s.load_state({"H": np.array([[0.0, 0, 1], [1, 0, 0]]), "momentum": np.array([[7.0, 7, 7], [0.5, -1, 0]]),
                  "n_frozen": np.array(1), "n_tasks": np.array(2)})
    s.hebbian_update(np.array([[2.0, 3.0, 4.0]]))
    np.testing.assert_allclose(s.H, [[0, 0, 1], [1.045, -0.04, 0]], atol=1e-14)
    np.testing.assert_allclose(s.M, [[7, 7, 7], [0.45, -0.4, 0]], atol=1e-14)


def test_spiking_quantisation_by_hand() -> None:
    # y_q = round(clip(y, −s, s)/s·T_h)/T_h·s (HLOP.inference), s = 1, T_h = 10; torch.round rounds half to even:
    # 0.26 → round(2.6) = 3 → 0.3; 0.25 → round(2.5) = 2 → 0.2; 5 → clip 1 → 1; −0.34 → round(−3.4) → −0.3.
    y = np.array([0.26, 0.25, 5.0, -0.34])
    expected = [0.3, 0.2, 1.0, -0.3]
    np.testing.assert_allclose(quantise(y, 10, 1.0), expected, atol=1e-15)
    np.testing.assert_allclose([kernels.quantise(v, 10, 1.0) for v in y], expected, atol=1e-15)
    # spiking project_inputs uses the quantised y: Hf = e1, x = [0.26, 1] → x − 0.3 e1 = [−0.04, 1]
    s = Subspace(2, lr=0.01, lateral_steps=10, spiking_scale=1.0)
    s.load_state({"H": np.eye(2)[:1], "momentum": np.zeros((1, 2)), "n_frozen": np.array(1),
                  "n_tasks": np.array(2)})
    np.testing.assert_allclose(s.project_inputs(np.array([[0.26, 1.0]])), [[-0.04, 1.0]], atol=1e-15)


@pytest.mark.parametrize("steps", [0, 40])
def test_numba_kernel_equals_numpy_reference(steps: int) -> None:
    # Same equations, different summation order: equal up to rounding (measured max diff ~2e-16).
    rng = np.random.default_rng(5)
    B, k, n, f = 16, 9, 30, 4
    X = rng.standard_normal((B, n)) * 2.0
    H = random_orthonormal_rows(k, n, rng)
    M = rng.standard_normal((k, n)) * 0.1
    H1, M1, H2, M2 = H.copy(), M.copy(), H.copy(), M.copy()
    kernels.oja_subspace_iterations(H1, M1, X, f, 0.05, 0.9, 0.3, 5, steps, 20.0)
    oja_subspace_numpy(H2, M2, X, f, 0.05, 0.9, 0.3, 5, steps, 20.0)
    assert np.abs(H1 - H).max() > 1e-3  # the update did something (clamp 0.3 is active: |Δ| reaches ~ y·x)
    np.testing.assert_allclose(H1, H2, atol=1e-12)
    np.testing.assert_allclose(M1, M2, atol=1e-12)
    np.testing.assert_array_equal(H1[:f], H[:f])


_THREAD_SCRIPT = """
import hashlib, numpy as np
from snn.hlop import kernels, random_orthonormal_rows
rng = np.random.default_rng(6)
X = rng.standard_normal((37, 53)); H = random_orthonormal_rows(11, 53, rng); M = np.zeros_like(H)
kernels.oja_subspace_iterations(H, M, X, 3, 0.01, 0.9, 10.0, 5, 0, 20.0)
out = np.empty((13, 53)); kernels.project_out_rows(rng.standard_normal((13, 53)), H, out)
print(hashlib.sha256(H.tobytes() + M.tobytes() + out.tobytes()).hexdigest())
"""


def test_numba_kernel_same_result_at_1_and_2_threads() -> None:
    # prange loops compute whole rows with serial sums in a fixed order: bit-identical at any thread count.
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.append(proc.stdout.strip())
    assert digests[0] == digests[1]


def test_state_round_trip() -> None:
    # A restored Subspace continues exactly as the original (same H, M, frozen rows).
    n = 20
    _, batch = _gaussian_source(n, [5, 4, 3], 0.1, seed=7)
    rng = np.random.default_rng(8)
    a = Subspace(n, lr=0.01)
    a.begin_task(3, rng)
    a.hebbian_update(batch(32))
    a.end_task()
    a.begin_task(2, rng)
    a.hebbian_update(batch(32))
    st = a.state()
    b = Subspace(n, lr=0.01)
    b.load_state(st)
    assert (b.k, b.n_frozen, b.n_tasks) == (5, 3, 2)
    X = batch(32)
    a.hebbian_update(X)
    b.hebbian_update(X)
    np.testing.assert_array_equal(a.H, b.H)
    np.testing.assert_array_equal(a.M, b.M)
    buf = io.BytesIO()  # checkpoints are npz files (snn.continual.checkpoint): 0-d count arrays survive
    np.savez(buf, **a.state())
    buf.seek(0)
    c = Subspace(n, lr=0.01)
    with np.load(buf, allow_pickle=False) as z:
        c.load_state(dict(z))
    np.testing.assert_array_equal(c.H, a.H)
    assert (c.n_frozen, c.n_tasks) == (3, 2)
    st["H"][0, 0] = 99.0  # state() returns copies
    assert a.H[0, 0] != 99.0
    with pytest.raises(ConfigError) as info:
        b.load_state({**st, "momentum": np.zeros((1, n))})
    assert info.value.path == "hlop.layer.state.momentum" and "\n" not in str(info.value)


def test_diagnostics_hand_made() -> None:
    # Exact subspace: X in span(e1, e2), H = [e1; e2] → residual 0, angles 0. Orthogonal subspace H = e3 vs
    # top-1 direction e1 → 90°. H = [[1,0],[0,2]]: HHᵀ − I = diag(0, 3) → error 3. x = [3, 4, 0], H = e1:
    # residual ‖[0, 4, 0]‖² / ‖x‖² = 16/25.
    rng = np.random.default_rng(9)
    X = np.zeros((10, 5))
    X[:, :2] = rng.standard_normal((10, 2))
    H = np.eye(5)[:2]
    assert residual_energy(H, X) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(principal_angles(H, X), [0.0, 0.0], atol=1e-6)
    X1 = np.outer(rng.standard_normal(6), [1.0, 0, 0, 0, 0])
    np.testing.assert_allclose(principal_angles(np.eye(5)[2:3], X1, k=1), [90.0], atol=1e-9)
    assert orthonormality_error(np.array([[1.0, 0.0], [0.0, 2.0]])) == pytest.approx(3.0)
    assert residual_energy(np.eye(3)[:1], np.array([[3.0, 4.0, 0.0]])) == pytest.approx(16 / 25)
    rep = layer_report(H, X)
    assert rep["k"] == 2 and rep["orthonormality_error"] == 0.0 and rep["max_angle_deg"] < 1e-6


def test_warning_fires_for_unconverged_rows() -> None:
    # Rows scaled by 0.5: HHᵀ = 0.25 I → max|HHᵀ − I| = 0.75 > 0.25 (threshold from the pilot, see diagnostics).
    s = Subspace(10, lr=0.01, name="fc2")
    s.begin_task(3, np.random.default_rng(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converged rows: no warning
        assert warn_if_unconverged(s) is False
    s.load_state({**s.state(), "H": 0.5 * s.H})
    with pytest.warns(UserWarning, match=r"fc2.*0\.75"):
        assert warn_if_unconverged(s) is True
    # residual check: orthonormal e1 but traces along e2 → residual 1 > 0.5
    X = np.zeros((4, 10))
    X[:, 1] = 1.0
    with pytest.warns(UserWarning, match=r"conv3.*residual energy = 1"):
        warn_if_unconverged(np.eye(10)[:1], name="conv3", X=X, max_residual=0.5)


def test_config_schedule_pmnist() -> None:
    # spiking_train_pmnist.py: [80, 200, 100] in task 1; +70 in tasks 2–3; −20 at task ids 3, 6, 9 (0-based)
    # → +50 (tasks 4–6), +30 (7–9), +10 (10). Rows used in the last task = total after task 9: 460/580/480.
    cfg = HLOPConfig.pmnist()
    assert cfg.k_for_task(1) == (80, 200, 100)
    assert [cfg.k_for_task(t)[0] for t in range(2, 13)] == [70, 70, 50, 50, 50, 30, 30, 30, 10, 10, 10]
    assert cfg.total_k(9) == (460, 580, 480)
    assert cfg.lr == (0.001, 0.01, 0.01)
    assert (cfg.momentum, cfg.clamp, cfg.iterations, cfg.lateral_steps) == (0.9, 10.0, 5, None)
    subs = cfg.make_subspaces([784, 800, 800], names=["fc1", "fc2", "head"])
    assert [s.lr for s in subs] == [0.001, 0.01, 0.01] and subs[2].name == "head"
    rng = cfg.rng()
    for t in range(1, 11):
        for s, k in zip(subs, cfg.k_for_task(t)):
            s.begin_task(k, rng)
    assert [s.n_frozen for s in subs] == [460, 580, 480]
    assert HLOPConfig(k_first=(5,), lr=0.01).k_for_task(3) == (0,)


def test_config_from_dict() -> None:
    cfg = HLOPConfig.from_dict({"k_first": [40, 50], "k_added": [[25, 25]], "lr": [0.001, 0.01],
                                "lateral_steps": 40, "seed": 3})
    assert cfg.k_added == ((25, 25),) and cfg.k_for_task(5) == (25, 25) and cfg.lateral_steps == 40
    assert HLOPConfig.from_dict({"k_first": [4], "lr": 0.01, "lateral_steps": "none"}).lateral_steps is None


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"k_first": (4, -1), "lr": 0.01}, "hlop.k_first[1]"),
        ({"k_first": (), "lr": 0.01}, "hlop.k_first"),
        ({"k_first": (4, 4), "lr": (0.01,)}, "hlop.lr"),
        ({"k_first": (4, 4), "lr": (0.01, 0.0)}, "hlop.lr[1]"),
        ({"k_first": (4, 4), "lr": 0.01, "k_added": ((1, 1), (2,))}, "hlop.k_added[1]"),
        ({"k_first": (4,), "lr": 0.01, "momentum": 1.0}, "hlop.momentum"),
        ({"k_first": (4,), "lr": 0.01, "clamp": 0}, "hlop.clamp"),
        ({"k_first": (4,), "lr": 0.01, "iterations": 0}, "hlop.iterations"),
        ({"k_first": (4,), "lr": 0.01, "lateral_steps": 2.5}, "hlop.lateral_steps"),
        ({"k_first": (4,), "lr": 0.01, "seed": -1}, "hlop.seed"),
    ],
)
def test_config_validation(kwargs: dict, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        HLOPConfig(**kwargs)
    assert info.value.path == path
    assert "\n" not in str(info.value)


def test_config_from_dict_errors_and_subspace_errors() -> None:
    cases = [
        (lambda: HLOPConfig.from_dict({"k_first": [4], "lr": 0.01, "iteration": 5}), "hlop.iteration"),
        (lambda: HLOPConfig.from_dict({"lr": 0.01}), "hlop.k_first"),
        (lambda: HLOPConfig.from_dict({"k_first": [4], "lr": 0.01, "iterations": -2}, path="run.hlop"),
         "run.hlop.iterations"),
        (lambda: Subspace(0, lr=0.01), "hlop.layer.n_inputs"),
        (lambda: Subspace(4, lr=0.01, backend="torch"), "hlop.layer.backend"),
        (lambda: Subspace(4, lr=0.01, name="fc1").begin_task(5, np.random.default_rng()), "hlop.fc1.k_new"),
        (lambda: Subspace(4, lr=0.01, name="fc1").hebbian_update(np.zeros((2, 3))), "hlop.fc1.X"),
        (lambda: Subspace(4, lr=0.01).project_out(np.full((2, 4), np.nan)), "hlop.layer.G"),
    ]
    for fn, path in cases:
        with pytest.raises(ConfigError) as info:
            fn()
        assert info.value.path == path
        assert "\n" not in str(info.value)
