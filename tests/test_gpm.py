"""GPM baseline (Saha et al. ICLR 2021): bases against closed forms and sahagobinda/GPM @ 1a238ec ``update_GPM``.

Representation matrices are built with known singular vectors and values, R = Σ σ_i u_i v_iᵀ, so the expected
ranks and bases follow by hand from the energy ratios written next to each assertion.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from snn.continual import GPMBasis, GPMConfig, first_task_rank, residual_rank
from snn.errors import ConfigError
from snn.hlop import Subspace, principal_angles


def _orthonormal(n: int, k: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, k)))
    return q


def _traces(U: np.ndarray, sigma: list[float], samples: int, seed: int) -> np.ndarray:
    """(samples, n) traces whose transpose R = U diag(σ) Vᵀ has exactly the singular values σ."""
    V = _orthonormal(samples, len(sigma), seed)
    return (V * np.asarray(sigma)) @ U.T


def _same_span(A: np.ndarray, B: np.ndarray) -> bool:
    return np.allclose(A @ A.T, B @ B.T, atol=1e-10)


@pytest.mark.parametrize(("threshold", "rule", "rank"), [
    # σ = (3, 2, 1): energies 9, 4, 1 of 14 → cumulative 0.643, 0.929, 1.
    (0.95, "reference", 2),  # code: #{cum < 0.95} = 2 (no "+1")
    (0.95, "paper", 3),      # paper Eq. 5: smallest r with cum >= 0.95 → 3
    (0.90, "reference", 1),  # #{cum < 0.90} = 1
    (0.90, "paper", 2),
    (0.60, "reference", 0),  # the first direction alone exceeds ε: the code keeps nothing
    (0.60, "paper", 1),
])
def test_first_task_basis_matches_svd(threshold: float, rule: str, rank: int) -> None:
    n, S = 20, 50
    U = _orthonormal(n, 3, 1)
    X = _traces(U, [3.0, 2.0, 1.0], S, 2)
    g = GPMBasis(n, rank_rule=rule, name="fc1")
    assert g.update(X, threshold) == rank
    assert g.M.shape == (n, rank)
    assert _same_span(g.M, U[:, :rank])  # M = U[:, :r] of np.linalg.svd, up to column signs
    np.testing.assert_allclose(g.M.T @ g.M, np.eye(rank), atol=1e-12)


def test_rank_helpers_by_hand() -> None:
    s = np.array([3.0, 2.0, 1.0])
    assert first_task_rank(s, 0.95) == 2 and first_task_rank(s, 0.95, "paper") == 3
    assert first_task_rank(np.zeros(3), 0.9) == 0
    # total 10, captured 0.5; σ̂² = 3, 1.5, 0.5 → 0.8 (>= 0.75: stop) → 1 column for ε 0.75, 2 for ε 0.9
    s_hat = np.sqrt([3.0, 1.5, 0.5])
    assert residual_rank(s_hat, 10.0, 0.5, 0.75) == 1
    assert residual_rank(s_hat, 10.0, 0.5, 0.9) == 2
    assert residual_rank(s_hat, 10.0, 0.95, 0.9) == 0  # already above ε: nothing added


def test_residual_step_adds_only_new_directions() -> None:
    # Task 1: σ = (3, 2, 1) on u1..u3, ε 0.95 → M = [u1, u2]. Task 2: R = 2 u1 v1ᵀ + 1 u4 v2ᵀ + 0.5 u5 v3ᵀ,
    # ‖R‖² = 4 + 1 + 0.25 = 5.25; captured by M: 4/5.25 = 0.762; + 1/5.25 → 0.952 >= 0.95: add u4 only.
    # With ε 0.99 u5 is needed too (0.952 + 0.25/5.25 = 1.0).
    n = 16
    U = _orthonormal(n, 5, 3)
    for eps, new in [(0.95, [3]), (0.99, [3, 4])]:
        g = GPMBasis(n)
        g.update(_traces(U[:, :3], [3.0, 2.0, 1.0], 40, 4), 0.95)
        old = g.M.copy()
        X2 = _traces(U[:, [0, 3, 4]], [2.0, 1.0, 0.5], 40, 5)
        assert g.update(X2, eps) == len(new)
        np.testing.assert_array_equal(g.M[:, :2], old)  # old columns untouched
        assert _same_span(g.M[:, 2:], U[:, new])
        np.testing.assert_allclose(g.M.T @ g.M, np.eye(g.rank), atol=1e-12)  # still orthonormal
        assert g.n_tasks == 2
    # data fully inside M: nothing added (captured = 1 >= ε)
    g = GPMBasis(n)
    g.update(_traces(U[:, :3], [3.0, 2.0, 1.0], 40, 6), 0.99)
    assert g.update(_traces(U[:, :2], [1.0, 1.0], 40, 7), 0.99) == 0


def test_first_call_with_zero_rank_then_residual_rule() -> None:
    # update_GPM takes the residual branch whenever feature_list is non-empty, even if task 1 kept r = 0:
    # task 2 then starts from captured 0 and adds until >= ε (σ = (3, 1): 9/10 = 0.9 < 0.95 → 2 columns).
    n = 8
    U = _orthonormal(n, 2, 8)
    g = GPMBasis(n)
    assert g.update(_traces(U[:, :1], [1.0], 10, 9), 0.5) == 0
    assert g.update(_traces(U, [3.0, 1.0], 10, 10), 0.95) == 2


def test_basis_is_capped_at_n() -> None:
    # [M, Û] is truncated to n columns (update_GPM); with ε = 1 any rounding would ask for extra columns.
    n = 3
    g = GPMBasis(n)
    g.update(np.random.default_rng(11).standard_normal((30, n)), 1.0)
    g.update(np.random.default_rng(12).standard_normal((30, n)), 1.0)
    assert g.rank <= n
    np.testing.assert_allclose(g.M.T @ g.M, np.eye(g.rank), atol=1e-10)


def test_projection_closed_form() -> None:
    # train_projected: G ← G − G M Mᵀ; then G M = 0 and rows orthogonal to span(M) are unchanged.
    n = 10
    U = _orthonormal(n, 4, 13)
    g = GPMBasis(n)
    g.load_state({"M": U, "n_tasks": np.array(1)})
    G = np.random.default_rng(14).standard_normal((6, n))
    out = g.project_out(G)
    np.testing.assert_allclose(out @ U, 0.0, atol=1e-12)
    np.testing.assert_allclose(out, G - G @ U @ U.T, atol=1e-13)
    np.testing.assert_allclose(g.project_out(out), out, atol=1e-13)
    np.testing.assert_allclose(g.project_out(G[2]), out[2], atol=1e-13)


def test_state_round_trip() -> None:
    n = 12
    a = GPMBasis(n)
    a.update(np.random.default_rng(15).standard_normal((20, n)), 0.9)
    b = GPMBasis(n)
    b.load_state(a.state())
    np.testing.assert_array_equal(a.M, b.M)
    assert b.n_tasks == 1
    X = np.random.default_rng(16).standard_normal((20, n))
    assert a.update(X, 0.95) == b.update(X, 0.95)
    np.testing.assert_array_equal(a.M, b.M)


def test_hlop_and_gpm_find_the_same_subspace() -> None:
    # Both target the top principal subspace of the old task's uncentred second moment: on rank-5 data plus small
    # noise, GPM (ε 0.99, paper rule) keeps the 5 signal directions and HLOP's 5 Oja rows converge to the same
    # span. Energies 9, 6.25, 4, 2.25, 1.44: cumulative 0.937 after 4, ~0.9999 after 5; the reference rule
    # (#{cum < ε}) would keep 4.
    rng = np.random.default_rng(17)
    n = 30
    U = _orthonormal(n, 5, 18)
    scales = np.array([3.0, 2.5, 2.0, 1.5, 1.2])

    def batch(size: int) -> np.ndarray:
        return (rng.standard_normal((size, 5)) * scales) @ U.T + 0.01 * rng.standard_normal((size, n))

    X = batch(300)
    assert GPMBasis(n).update(X, 0.99) == 4
    g = GPMBasis(n, rank_rule="paper")
    assert g.update(X, 0.99) == 5
    s = Subspace(n, lr=0.01)
    s.begin_task(5, rng)
    for _ in range(300):
        s.hebbian_update(batch(64))
    assert np.degrees(subspace_angles(s.H.T, g.M)).max() < 3.0
    # the same figure through the diagnostics, against the top-5 SVD subspace of fresh traces
    assert principal_angles(s.H, batch(2000)).max() < 3.0


def test_config_and_errors() -> None:
    cfg = GPMConfig(thresholds=(0.97,) * 5, threshold_step=0.003)
    assert cfg.threshold(0, 1) == pytest.approx(0.97) and cfg.threshold(4, 11) == pytest.approx(1.0)
    assert GPMConfig().thresholds == (0.95, 0.99, 0.99) and GPMConfig().samples == 300
    bases = GPMConfig().make_bases([784, 800, 800], names=["fc1", "fc2", "head"])
    assert [b.n_inputs for b in bases] == [784, 800, 800] and bases[1].name == "fc2"
    assert GPMConfig.from_dict({"thresholds": [0.9, 0.9], "samples": 125}).samples == 125
    cases = [
        (lambda: GPMConfig(thresholds=(0.95, 1.5)), "gpm.thresholds[1]"),
        (lambda: GPMConfig(samples=0), "gpm.samples"),
        (lambda: GPMConfig(rank_rule="plus_one"), "gpm.rank_rule"),
        (lambda: GPMConfig.from_dict({"threshold": 0.9}), "gpm.threshold"),
        (lambda: GPMConfig.from_dict({"samples": 0}, path="run.gpm"), "run.gpm.samples"),
        (lambda: GPMBasis(4, name="fc1").update(np.zeros((3, 5)), 0.9), "gpm.fc1.traces"),
        (lambda: GPMBasis(4, name="fc1").update(np.ones((3, 4)), 0.0), "gpm.fc1.threshold"),
        (lambda: GPMBasis(4).project_out(np.ones((2, 3))), "gpm.layer.G"),
        (lambda: GPMBasis(4).load_state({"M": np.zeros((5, 1)), "n_tasks": 1}), "gpm.layer.state.M"),
    ]
    for fn, path in cases:
        with pytest.raises(ConfigError) as info:
            fn()
        assert info.value.path == path
        assert "\n" not in str(info.value)
