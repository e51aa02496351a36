"""Tests for snn.connect: structure, exact degrees, statistics against closed-form expectations, determinism.

Statistical tests use fixed seeds and tolerances of ~5 standard deviations of the stated sampling distribution,
so a correct builder fails with negligible probability while a biased one (wrong p, off-by-one in a skip,
non-uniform sampling) fails reliably.
"""

from __future__ import annotations

import itertools
import math
import time

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn.connect import (
    BLOCK_ROWS,
    all_to_all,
    builders,
    distance_dependent,
    fixed_indegree,
    fixed_outdegree,
    fixed_probability,
    from_dense,
    from_pairs,
    grid_positions,
    one_to_one,
)
from snn.connect.builders import _distance_impl
from snn.errors import ConfigError
from snn.model.connectivity import Connectivity


def assert_valid_csr(c: Connectivity) -> None:
    """CSR invariants every builder promises: dtypes, and rows strictly ascending (sorted, no duplicates)."""
    assert c.indptr.dtype == np.int64 and c.indices.dtype == np.int32
    assert c.indptr.shape == (c.n_pre + 1,) and c.indptr[0] == 0 and c.indptr[-1] == c.indices.shape[0]
    rows = c.pre_indices()
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(c.indices.astype(np.int64))[same_row] > 0), "rows must be strictly ascending"


def z_score(observed: float, n: float, p: float) -> float:
    """(observed - mean) / sd of Binomial(n, p)."""
    sd = math.sqrt(max(n * p * (1.0 - p), 1e-300))
    return (observed - n * p) / sd


def with_threads(n: int, fn, *args, **kwargs):
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        return fn(*args, **kwargs)
    finally:
        numba.set_num_threads(previous)


# ------------------------------------------------------------------------------------------ fixed_probability


@pytest.mark.parametrize("allow_autapses", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_fixed_probability_count_within_binomial(seed: int, allow_autapses: bool) -> None:
    # Expected: each of the n_pre*n_post pairs (n*(n-1) without autapses) is Bernoulli(p), so nnz ~ Binomial.
    n, p = 3000, 0.02
    c = fixed_probability(n, n, p, seed=seed, allow_autapses=allow_autapses)
    assert_valid_csr(c)
    pairs = n * n if allow_autapses else n * (n - 1)
    assert abs(z_score(c.nnz, pairs, p)) < 5.0
    if not allow_autapses:
        assert not np.any(c.pre_indices() == c.indices)


def test_fixed_probability_per_pair_probability() -> None:
    # Expected: over R independent seeds, each pair's connection count ~ Binomial(R, p); every pair must stay
    # within 5.5 sd (600 pairs, so a correct builder exceeds it with probability ~1e-5). Catches skip off-by-ones
    # that would bias particular columns (e.g. the first column of a row or the column after the diagonal).
    n_pre, n_post, p, reps = 20, 30, 0.3, 400
    counts = np.zeros((n_pre, n_post))
    counts_noaut = np.zeros((n_post, n_post))
    for seed in range(reps):
        counts += fixed_probability(n_pre, n_post, p, seed=seed).to_dense()
        counts_noaut += fixed_probability(n_post, n_post, p, seed=seed, allow_autapses=False).to_dense()
    sd = math.sqrt(reps * p * (1 - p))
    assert np.max(np.abs(counts - reps * p)) < 5.5 * sd
    assert np.all(np.diag(counts_noaut) == 0)
    off = counts_noaut[~np.eye(n_post, dtype=bool)]
    assert np.max(np.abs(off - reps * p)) < 5.5 * sd


def test_fixed_probability_small_p_per_column_uniform() -> None:
    # Expected: with tiny p the geometric skips are long; column totals over all rows ~ Binomial(n_pre, p) each.
    # A chi-square-like bound: sum of squared z over n_post columns ~ chi2(n_post), mean n_post, sd sqrt(2 n_post).
    n_pre, n_post, p = 20000, 200, 0.005
    c = fixed_probability(n_pre, n_post, p, seed=7)
    col = c.in_degree()
    chi2 = np.sum((col - n_pre * p) ** 2 / (n_pre * p * (1 - p)))
    assert chi2 < n_post + 5 * math.sqrt(2 * n_post)


def test_fixed_probability_edge_probabilities() -> None:
    # Expected: p = 0 -> no synapses; p = 1 -> every pair (minus the diagonal without autapses), exactly.
    assert fixed_probability(50, 40, 0.0, seed=1).nnz == 0
    full = fixed_probability(50, 40, 1.0, seed=1)
    assert_valid_csr(full)
    np.testing.assert_array_equal(full.to_dense(), np.ones((50, 40)))
    noaut = fixed_probability(30, 30, 1.0, seed=1, allow_autapses=False)
    np.testing.assert_array_equal(noaut.to_dense(), 1 - np.eye(30, dtype=np.int64))
    # Extremely small p: skips far beyond n_post must not overflow, just give (almost surely) nothing.
    assert fixed_probability(3000, 3000, 1e-300, seed=1).nnz == 0
    # Empty populations.
    assert fixed_probability(0, 10, 0.5, seed=1).nnz == 0
    assert fixed_probability(10, 0, 0.5, seed=1).indptr.tolist() == [0] * 11
    assert fixed_probability(1, 1, 0.9, seed=1, allow_autapses=False).nnz == 0


def test_fixed_probability_seeds_and_repeatability() -> None:
    # Expected: same seed -> identical arrays (pure function of the seed); different seeds -> different draws.
    a = fixed_probability(2500, 2000, 0.01, seed=42)
    b = fixed_probability(2500, 2000, 0.01, seed=42)
    d = fixed_probability(2500, 2000, 0.01, seed=43)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.nnz != d.nnz or not np.array_equal(a.indices, d.indices)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs at least 2 numba threads")
@pytest.mark.parametrize(
    "build",
    [
        lambda: fixed_probability(5 * BLOCK_ROWS + 17, 3000, 0.01, seed=9),
        lambda: fixed_probability(3 * BLOCK_ROWS, 3 * BLOCK_ROWS, 0.003, seed=9, allow_autapses=False),
        lambda: fixed_indegree(2000, 4 * BLOCK_ROWS + 5, 12, seed=9),
        lambda: fixed_outdegree(4 * BLOCK_ROWS + 5, 2000, 40, seed=9),
        lambda: distance_dependent(grid_positions((20, 20, 12)), grid_positions((20, 20, 12)), 0.3, 1.5, seed=9),
    ],
    ids=["fixed_probability", "fixed_probability_noaut", "fixed_indegree", "fixed_outdegree", "distance"],
)
def test_thread_count_independence(build, monkeypatch: pytest.MonkeyPatch) -> None:
    # Expected: block decomposition is fixed and each block has its own stream, so the serial driver and the
    # parallel driver at 1 and 2 threads must agree bit for bit (sizes span several 1024-row blocks so both
    # threads get work; PARALLEL_MIN_WORK is patched to force each driver regardless of problem size).
    monkeypatch.setattr(builders, "PARALLEL_MIN_WORK", math.inf)
    serial = build()
    monkeypatch.setattr(builders, "PARALLEL_MIN_WORK", 0)
    one = with_threads(1, build)
    two = with_threads(2, build)
    for other in (one, two):
        np.testing.assert_array_equal(serial.indptr, other.indptr)
        np.testing.assert_array_equal(serial.indices, other.indices)
    assert serial.nnz > 0


def test_fixed_probability_timing_print() -> None:
    # Informational only: never asserts on wall-clock time (shared CI machines vary too much).
    fixed_probability(10, 10, 0.5, seed=0)  # compile / load cache outside the timed region
    t0 = time.perf_counter()
    c = fixed_probability(30_000, 30_000, 0.01, seed=0)
    dt = time.perf_counter() - t0
    print(f"fixed_probability: {c.nnz:.3g} synapses in {dt:.3f} s ({c.nnz / max(dt, 1e-9) / 1e6:.0f} M/s)")
    assert abs(z_score(c.nnz, 30_000**2, 0.01)) < 5.0


# ------------------------------------------------------------------------------------------ fixed degree


def test_fixed_indegree_exact_and_distinct() -> None:
    # Expected: by definition every post has in-degree exactly k; valid CSR rows => no repeated (pre, post).
    c = fixed_indegree(300, 2500, 17, seed=3)
    assert_valid_csr(c)
    assert np.all(c.in_degree() == 17)
    assert c.nnz == 2500 * 17
    noaut = fixed_indegree(400, 400, 399, seed=3, allow_autapses=False)  # k = n - 1: everything but the diagonal
    np.testing.assert_array_equal(noaut.to_dense(), 1 - np.eye(400, dtype=np.int64))
    small = fixed_indegree(200, 200, 5, seed=4, allow_autapses=False)
    assert not np.any(small.pre_indices() == small.indices)
    assert np.all(small.in_degree() == 5)


def test_fixed_outdegree_exact_and_distinct() -> None:
    # Expected: every pre has out-degree exactly k; valid CSR (strictly ascending rows) => distinct targets.
    c = fixed_outdegree(2500, 300, 17, seed=3)
    assert_valid_csr(c)
    assert np.all(c.out_degree() == 17)
    full = fixed_outdegree(300, 300, 299, seed=3, allow_autapses=False)
    assert_valid_csr(full)
    np.testing.assert_array_equal(full.to_dense(), 1 - np.eye(300, dtype=np.int64))
    big_k = fixed_outdegree(50, 70000, 3000, seed=5)  # > 32 per row and > 2 radix digits: exercises the sort
    assert_valid_csr(big_k)
    assert np.all(big_k.out_degree() == 3000)
    assert not np.any(fixed_outdegree(300, 300, 7, seed=1, allow_autapses=False).to_dense().diagonal())


@pytest.mark.parametrize("which", ["in", "out"])
def test_fixed_degree_partner_uniformity(which: str) -> None:
    # Expected: with n candidates and k draws per row, each candidate is chosen in a row with probability k/n,
    # so its total over R rows ~ Binomial(R, k/n). Sum of squared z-scores ~ chi2(n): mean n, sd sqrt(2n).
    # A modulo-biased or off-by-one sampler (e.g. never picking the last candidate) fails this bound.
    n, k, rows = 60, 7, 30000
    if which == "in":
        totals = fixed_indegree(n, rows, k, seed=11).out_degree()  # how often each pre was picked
    else:
        totals = fixed_outdegree(rows, n, k, seed=11).in_degree()  # how often each post was picked
    q = k / n
    chi2 = np.sum((totals - rows * q) ** 2 / (rows * q * (1 - q)))
    assert chi2 < n + 5 * math.sqrt(2 * n)


@pytest.mark.parametrize("which", ["in", "out"])
def test_fixed_degree_subsets_uniform(which: str) -> None:
    # Expected: Floyd's algorithm gives every k-subset of the n candidates probability 1 / C(n, k). With n = 6,
    # k = 3 there are 20 subsets; over R rows the subset histogram has chi-square ~ chi2(19) (mean 19, sd ~6.2).
    n, k, rows = 6, 3, 40000
    if which == "out":
        c = fixed_outdegree(rows, n, k, seed=21)
        subsets = c.indices.reshape(rows, k)
    else:
        c = fixed_indegree(n, rows, k, seed=21)
        dense_t = c.to_dense().T  # rows = posts
        subsets = np.sort(np.nonzero(dense_t)[1].reshape(rows, k), axis=1)
    index = {s: i for i, s in enumerate(itertools.combinations(range(n), k))}
    hist = np.bincount([index[tuple(s)] for s in subsets.tolist()], minlength=len(index))
    expected = rows / len(index)
    chi2 = np.sum((hist - expected) ** 2 / expected)
    assert chi2 < 19 + 5 * math.sqrt(2 * 19)


def test_fixed_degree_seeds() -> None:
    # Expected: deterministic per seed; different seeds give different samples.
    a = fixed_indegree(500, 500, 20, seed=1)
    np.testing.assert_array_equal(a.indices, fixed_indegree(500, 500, 20, seed=1).indices)
    assert not np.array_equal(a.indices, fixed_indegree(500, 500, 20, seed=2).indices)
    b = fixed_outdegree(500, 500, 20, seed=1)
    np.testing.assert_array_equal(b.indices, fixed_outdegree(500, 500, 20, seed=1).indices)
    assert not np.array_equal(b.indices, fixed_outdegree(500, 500, 20, seed=2).indices)


def test_fixed_degree_zero_and_empty() -> None:
    assert fixed_indegree(10, 20, 0, seed=0).nnz == 0
    assert fixed_outdegree(10, 20, 0, seed=0).nnz == 0
    assert fixed_indegree(0, 0, 5, seed=0).nnz == 0  # no posts: nothing to sample, k is not constrained
    assert fixed_outdegree(0, 7, 100, seed=0).nnz == 0


# ------------------------------------------------------------------------------------------ deterministic


def test_one_to_one_and_all_to_all() -> None:
    # Expected: identity matrix; all-ones matrix; all-ones minus identity without autapses.
    c = one_to_one(7)
    assert_valid_csr(c)
    np.testing.assert_array_equal(c.to_dense(), np.eye(7, dtype=np.int64))
    a = all_to_all(4, 6)
    assert_valid_csr(a)
    np.testing.assert_array_equal(a.to_dense(), np.ones((4, 6), dtype=np.int64))
    b = all_to_all(5, 5, allow_autapses=False)
    assert_valid_csr(b)
    np.testing.assert_array_equal(b.to_dense(), 1 - np.eye(5, dtype=np.int64))
    # Different sizes: no i == j identity between the populations, so the flag has no effect (documented).
    assert all_to_all(3, 5, allow_autapses=False).nnz == 15
    assert one_to_one(0).nnz == 0 and all_to_all(0, 3).nnz == 0 and all_to_all(1, 1, allow_autapses=False).nnz == 0


def test_from_pairs_order_reproduces_pairs() -> None:
    # Expected: CSR lists the given pairs sorted by (pre, post); order maps CSR slots back to input positions,
    # and the sort is stable, so duplicate pairs keep their input order (weights of multapses stay attached).
    pre = np.array([3, 1, 1, 0, 1, 3])
    post = np.array([2, 2, 0, 1, 2, 0])
    c, order = from_pairs(pre, post, 4, 3)
    assert_valid_csr_multapses(c)
    assert order.dtype == np.int64
    np.testing.assert_array_equal(order, [3, 2, 1, 4, 5, 0])
    np.testing.assert_array_equal(c.pre_indices(), pre[order])
    np.testing.assert_array_equal(c.indices, post[order])
    weights = np.arange(6.0)
    dense = np.zeros((4, 3))
    np.add.at(dense, (pre, post), weights)
    np.testing.assert_array_equal(c.to_dense(weights[order]), dense)
    empty, order0 = from_pairs([], [], 2, 2)
    assert empty.nnz == 0 and order0.shape == (0,)


def assert_valid_csr_multapses(c: Connectivity) -> None:
    """Like assert_valid_csr but duplicates are allowed (non-decreasing rows)."""
    assert c.indptr.dtype == np.int64 and c.indices.dtype == np.int32
    rows = c.pre_indices()
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(c.indices.astype(np.int64))[same_row] >= 0)


@settings(max_examples=60, deadline=None)
@given(
    n_pre=st.integers(1, 30),
    n_post=st.integers(1, 30),
    data=st.data(),
)
def test_from_pairs_property(n_pre: int, n_post: int, data) -> None:
    # Expected: order is a permutation; pairs[order] are sorted lexicographically by (pre, post, input index);
    # the multigraph (pair multiplicities) is unchanged.
    m = data.draw(st.integers(0, 80))
    pre = np.array(data.draw(st.lists(st.integers(0, n_pre - 1), min_size=m, max_size=m)), dtype=np.int64)
    post = np.array(data.draw(st.lists(st.integers(0, n_post - 1), min_size=m, max_size=m)), dtype=np.int64)
    c, order = from_pairs(pre, post, n_pre, n_post)
    assert_valid_csr_multapses(c)
    np.testing.assert_array_equal(np.sort(order), np.arange(m))
    np.testing.assert_array_equal(order, np.lexsort((np.arange(m), post, pre)))
    dense = np.zeros((n_pre, n_post), dtype=np.int64)
    np.add.at(dense, (pre, post), 1)
    np.testing.assert_array_equal(c.to_dense(), dense)


@settings(max_examples=40, deadline=None)
@given(n_pre=st.integers(0, 12), n_post=st.integers(0, 12), density=st.floats(0, 1), seed=st.integers(0, 2**32))
def test_from_dense_round_trip_property(n_pre: int, n_post: int, density: float, seed: int) -> None:
    # Expected: to_dense(values) reproduces the input exactly (values are the nonzeros in CSR order).
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n_pre, n_post)) * (rng.random((n_pre, n_post)) < density)
    c, values = from_dense(m)
    assert_valid_csr(c)
    assert values.dtype == np.float64 and c.nnz == np.count_nonzero(m)
    np.testing.assert_array_equal(c.to_dense(values), m)


def test_from_dense_types() -> None:
    c, v = from_dense([[0, 2], [3, 0]])
    np.testing.assert_array_equal(c.to_dense(v), [[0, 2], [3, 0]])
    c, v = from_dense(np.array([[True, False, True]]))
    np.testing.assert_array_equal(v, [1.0, 1.0])
    np.testing.assert_array_equal(c.indices, [0, 2])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 400), p=st.floats(0, 1), seed=st.integers(0, 2**63))
def test_fixed_probability_property(n: int, p: float, seed: int) -> None:
    # Expected: for any size, p and seed the output is valid CSR, autapse-free when asked, and repeatable.
    c = fixed_probability(n, n, p, seed=seed, allow_autapses=False)
    assert_valid_csr(c)
    assert not np.any(c.pre_indices() == c.indices)
    np.testing.assert_array_equal(c.indices, fixed_probability(n, n, p, seed=seed, allow_autapses=False).indices)


# ------------------------------------------------------------------------------------------ spatial


def test_grid_positions_order() -> None:
    # Expected: documented order index = x + nx * (y + ny * z), coordinates times spacing.
    nx, ny, nz = 4, 3, 2
    pos = grid_positions((nx, ny, nz), spacing=2.5)
    assert pos.shape == (24, 3) and pos.dtype == np.float64
    for x, y, z in itertools.product(range(nx), range(ny), range(nz)):
        np.testing.assert_array_equal(pos[x + nx * (y + ny * z)], [2.5 * x, 2.5 * y, 2.5 * z])
    assert grid_positions((0, 3, 3)).shape == (0, 3)


def _distance_bins_check(pos_pre, pos_post, c_peak, lam, conns, rows=None, n_bins=12, max_d=None,
                         autapses=False) -> int:
    """Compare observed connections per distance bin with sum of c*exp(-(d/lam)^2) over the pairs in the bin.

    Expected counts come from the model definition (sum of per-pair Bernoulli probabilities, 0 for i == j
    without autapses); the variance is the sum of p(1-p), so each bin must be within 5 sd (+1 for
    discreteness). Returns the number of bins checked.
    """
    rows = np.arange(pos_pre.shape[0]) if rows is None else rows
    d = np.linalg.norm(pos_pre[rows][:, None, :] - pos_post[None, :, :], axis=2)
    p = c_peak * np.exp(-((d / lam) ** 2))
    if not autapses:
        p[np.arange(rows.shape[0]), rows] = 0.0
    observed = np.zeros_like(d)
    for conn in conns:
        dense = np.zeros((rows.shape[0], pos_post.shape[0]))
        for r, i in enumerate(rows):
            dense[r, conn.indices[conn.indptr[i]:conn.indptr[i + 1]]] = 1
        observed += dense
    max_d = d.max() if max_d is None else max_d
    edges = np.linspace(0, max_d + 1e-9, n_bins + 1)
    which = np.digitize(d, edges) - 1
    checked = 0
    for b in range(n_bins):
        sel = which == b
        if not np.any(sel):
            continue
        mean = p[sel].sum() * len(conns)
        var = (p[sel] * (1 - p[sel])).sum() * len(conns)
        assert abs(observed[sel].sum() - mean) <= 5 * math.sqrt(var) + 1, (b, observed[sel].sum(), mean)
        checked += 1
    return checked


@pytest.mark.parametrize("strategy", [None, "near", "thin"])
def test_distance_dependent_lsm_column(strategy: str | None) -> None:
    # Maass, Natschlaeger & Markram (2002): 15x3x3 column, C = 0.3 (EE), lambda = 2 grid units, no autapses.
    # Expected per distance bin: sum over pairs of C*exp(-(d/lambda)^2), aggregated over 100 seeds. Both exact
    # sampling strategies are forced in turn (None = the builder's own choice, i.e. the public function).
    pos = grid_positions((15, 3, 3))
    if strategy is None:
        conns = [distance_dependent(pos, pos, 0.3, 2.0, seed=s) for s in range(100)]
    else:
        conns = [_distance_impl(pos, pos, 0.3, 2.0, math.inf, s, True, strategy) for s in range(100)]
    for conn in conns:
        assert_valid_csr(conn)
        assert not np.any(conn.pre_indices() == conn.indices)
    assert _distance_bins_check(pos, pos, 0.3, 2.0, conns) >= 8
    # Self-connection probability would be C (d = 0); with allow_autapses=True the diagonal appears ~C*R times.
    with_aut = [distance_dependent(pos, pos, 0.3, 2.0, seed=s, allow_autapses=True) for s in range(100)]
    diag = sum(int(np.sum(c.pre_indices() == c.indices)) for c in with_aut)
    assert abs(z_score(diag, 135 * 100, 0.3)) < 5
    assert _distance_bins_check(pos, pos, 0.3, 2.0, with_aut, autapses=True) >= 8


def test_distance_dependent_random_positions_both_strategies() -> None:
    # Uniform random points in a unit cube, lambda = 0.25, C = 0.2 (lambda comparable to the volume: the
    # regime where the builder switches to pure thinning). Both strategies must match the model per bin.
    rng = np.random.default_rng(0)
    pos = rng.random((1500, 3))
    for strategy in ("near", "thin"):
        conns = [_distance_impl(pos, pos, 0.2, 0.25, math.inf, s, True, strategy) for s in range(6)]
        assert _distance_bins_check(pos, pos, 0.2, 0.25, conns, n_bins=10) >= 8


def test_distance_dependent_large_grid() -> None:
    # 30x30x30 grid (27000 neurons), C = 0.5, lambda = 1.5: checked on 400 pre rows spread over the volume,
    # expected per bin from the model definition as above. Also checks the total against the full expectation
    # approximated per row: nnz ~ sum_j p(d_ij), tested on the same rows.
    pos = grid_positions((30, 30, 30))
    conn = distance_dependent(pos, pos, 0.5, 1.5, seed=5)
    assert_valid_csr(conn)
    assert not np.any(conn.pre_indices() == conn.indices)
    rows = np.linspace(0, pos.shape[0] - 1, 400).astype(np.int64)
    assert _distance_bins_check(pos, pos, 0.5, 1.5, [conn], rows=rows, n_bins=10, max_d=8.0) >= 8


def test_distance_dependent_far_pairs_exact_without_cutoff() -> None:
    # Pairs beyond the internal near radius (3 lambda) are sampled by thinning, not dropped: with 50000 posts at
    # d = 3.2 lambda from one pre, each connects with p = exp(-3.2^2) ~ 3.6e-5; over 40 seeds the count
    # ~ Binomial(2e6, p) (mean ~72). A truncating implementation would give 0.
    lam, n_post, reps = 1.0, 50000, 40
    angle = np.linspace(0, 2 * np.pi, n_post, endpoint=False)
    post = np.stack([3.2 * np.cos(angle), 3.2 * np.sin(angle), np.zeros(n_post)], axis=1)
    pre = np.zeros((1, 3))
    total = sum(distance_dependent(pre, post, 1.0, lam, seed=s).nnz for s in range(reps))
    p = math.exp(-3.2**2)
    assert abs(z_score(total, n_post * reps, p)) < 5
    # An explicit cutoff below that distance removes them all; one above keeps them.
    assert sum(distance_dependent(pre, post, 1.0, lam, seed=s, cutoff=3.1).nnz for s in range(5)) == 0
    kept = sum(distance_dependent(pre, post, 1.0, lam, seed=s, cutoff=3.3).nnz for s in range(reps))
    assert abs(z_score(kept, n_post * reps, p)) < 5


def test_distance_dependent_cutoff_and_shapes() -> None:
    # Expected: no synapse longer than the cutoff; 2-D positions behave like 3-D with z = 0; c = 0 is empty.
    pos = grid_positions((12, 12, 1))
    conn = distance_dependent(pos, pos, 1.0, 3.0, seed=1, cutoff=2.0)
    d = np.linalg.norm(pos[conn.pre_indices()] - pos[conn.indices], axis=1)
    assert conn.nnz > 0 and d.max() <= 2.0
    two_d = distance_dependent(pos[:, :2], pos[:, :2], 1.0, 3.0, seed=1, cutoff=2.0)
    np.testing.assert_array_equal(two_d.indices, conn.indices)
    assert distance_dependent(pos, pos, 0.0, 3.0, seed=1).nnz == 0
    # Pre and post populations of different sizes and places (e.g. input layer -> column).
    inp = np.array([[0.0, 0.0, 0.0], [100.0, 100.0, 100.0]])
    cross = distance_dependent(inp, pos, 1.0, 1.0, seed=2)
    assert cross.n_pre == 2 and cross.n_post == 144 and cross.out_degree()[1] == 0


# ------------------------------------------------------------------------------------------ bad input


BAD_CALLS = [
    ("n_pre", lambda: fixed_probability(-1, 5, 0.1, seed=0)),
    ("n_post", lambda: fixed_probability(5, 2.5, 0.1, seed=0)),
    ("n_pre", lambda: fixed_probability(True, 5, 0.1, seed=0)),
    ("p", lambda: fixed_probability(5, 5, 1.5, seed=0)),
    ("p", lambda: fixed_probability(5, 5, -0.1, seed=0)),
    ("p", lambda: fixed_probability(5, 5, float("nan"), seed=0)),
    ("p", lambda: fixed_probability(5, 5, "0.1", seed=0)),
    ("seed", lambda: fixed_probability(5, 5, 0.1, seed=1.5)),
    ("allow_autapses", lambda: fixed_probability(5, 5, 0.1, seed=0, allow_autapses="no")),
    ("n_post", lambda: fixed_probability(5, 2**31, 0.1, seed=0)),
    ("k", lambda: fixed_indegree(5, 5, 6, seed=0)),
    ("k", lambda: fixed_indegree(5, 5, 5, seed=0, allow_autapses=False)),
    ("k", lambda: fixed_indegree(5, 5, -1, seed=0)),
    ("n_pre", lambda: fixed_indegree(-5, 5, 1, seed=0)),
    ("k", lambda: fixed_outdegree(5, 5, 6, seed=0)),
    ("k", lambda: fixed_outdegree(5, 5, 5, seed=0, allow_autapses=False)),
    ("seed", lambda: fixed_outdegree(5, 5, 1, seed=None)),
    ("n", lambda: one_to_one(-1)),
    ("n_post", lambda: all_to_all(3, -2)),
    ("post", lambda: from_pairs([0, 1], [0], 2, 2)),
    ("pre", lambda: from_pairs([0, 2], [0, 1], 2, 2)),
    ("post", lambda: from_pairs([0, 1], [0, -1], 2, 2)),
    ("pre", lambda: from_pairs([0.5, 1], [0, 1], 2, 2)),
    ("pre", lambda: from_pairs([[0, 1]], [[0, 1]], 2, 2)),
    ("pre", lambda: from_pairs([[0, 1], [0]], [0, 1], 2, 2)),
    ("n_pre", lambda: from_pairs([0], [0], -1, 2)),
    ("matrix", lambda: from_dense(np.ones(3))),
    ("matrix", lambda: from_dense([[1.0, np.nan]])),
    ("matrix", lambda: from_dense([["a"]])),
    ("shape", lambda: grid_positions((3, 3))),
    ("shape.ny", lambda: grid_positions((3, -1, 3))),
    ("spacing", lambda: grid_positions((3, 3, 3), spacing=0.0)),
    ("spacing", lambda: grid_positions((3, 3, 3), spacing=float("inf"))),
    ("lam", lambda: distance_dependent(np.zeros((2, 3)), np.zeros((2, 3)), 0.3, float("inf"), seed=0)),
    ("lam", lambda: distance_dependent(np.zeros((2, 3)), np.zeros((2, 3)), 0.3, 0.0, seed=0)),
    ("c", lambda: distance_dependent(np.zeros((2, 3)), np.zeros((2, 3)), 1.3, 1.0, seed=0)),
    ("pos_pre", lambda: distance_dependent(np.zeros((2, 4)), np.zeros((2, 3)), 0.3, 1.0, seed=0)),
    ("pos_post", lambda: distance_dependent(np.zeros((2, 3)), np.full((2, 3), np.nan), 0.3, 1.0, seed=0)),
    ("pos_post", lambda: distance_dependent(np.zeros((2, 3)), np.zeros(3), 0.3, 1.0, seed=0)),
    ("cutoff", lambda: distance_dependent(np.zeros((2, 3)), np.zeros((2, 3)), 0.3, 1.0, seed=0, cutoff=-1.0)),
    ("seed", lambda: distance_dependent(np.zeros((2, 3)), np.zeros((2, 3)), 0.3, 1.0, seed="x")),
]


@pytest.mark.parametrize("name, call", BAD_CALLS, ids=[f"{i}-{name}" for i, (name, _) in enumerate(BAD_CALLS)])
def test_bad_input_raises_config_error(name: str, call) -> None:
    # Expected: a one-line ConfigError whose message starts with the offending argument's name.
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{name} = "), message
