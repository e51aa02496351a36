"""Seeded connectivity builders: validated public API over the numba kernels in :mod:`snn.connect.kernels`.

Every builder returns a :class:`~snn.model.connectivity.Connectivity` (CSR: ``indptr`` int64, ``indices`` int32,
rows sorted ascending). Memory is O(synapses): no dense n_pre x n_post array is ever formed, except by
:func:`all_to_all` and :func:`from_dense`, where the dense size *is* the synapse count.

Determinism: random builders split rows into blocks of a fixed size (:data:`BLOCK_ROWS`, independent of the
thread count) and give every block its own SplitMix64 stream from :func:`snn.rng.stream_states`, so the same
``seed`` gives bit-identical output at any ``numba`` thread count.

Autapses: ``allow_autapses=False`` excludes the pairs i == j. That identifies "the same neuron" only for a
recurrent projection of a population onto itself, so the flag takes effect only when ``n_pre == n_post``; for
projections between populations of different sizes there are no autapses and it is ignored. (For two
*different* populations of equal size, pass ``allow_autapses=True``.)
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence

import numpy as np

from snn.connect import kernels
from snn.errors import ConfigError
from snn.model.connectivity import Connectivity
from snn.rng import stream_states

#: Rows per random-stream block. Fixed (not derived from the thread count) so results are thread-independent;
#: large enough that per-block overhead is negligible, small enough to balance load over a few cores.
BLOCK_ROWS = 1024

#: Largest population size: indices are int32.
MAX_NEURONS = int(np.iinfo(np.int32).max)

#: Below this many expected inner-loop steps (synapses or pair visits) the serial kernel driver is used: a parallel
#: launch costs ~0.01-1 ms, more than the whole build of a small network. Both drivers run the same block code,
#: so the choice never changes the result.
PARALLEL_MIN_WORK = 200_000

# Salts separate the streams of different builders drawn from the same seed.
_SALT_FIXED_PROBABILITY = 0x5EED_0001
_SALT_FIXED_INDEGREE = 0x5EED_0002
_SALT_FIXED_OUTDEGREE = 0x5EED_0003
_SALT_DISTANCE = 0x5EED_0004

# Near-search radius for distance_dependent without a cutoff, in units of lam: pairs farther apart (probability
# below c * exp(-9) ~ 1.2e-4 c) are sampled by thinning instead, which keeps the result exact (see kernels).
_NEAR_RADIUS_LAMBDAS = 3.0


# --------------------------------------------------------------------------------------------------- validation


def _size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(name, value, "must be an integer >= 0")
    value = int(value)
    if value < 0 or value > MAX_NEURONS:
        raise ConfigError(name, value, f"must be an integer in [0, {MAX_NEURONS}] (indices are int32)")
    return value


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 0:
        raise ConfigError(name, value, "must be an integer >= 0")
    return int(value)


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError("seed", seed, "must be an integer")
    return int(seed)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(name, value, "must be a bool")
    return bool(value)


def _real(name: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(name, value, "must be a real number")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(name, value, "must be finite")
    return value


def _probability(name: str, value: object) -> float:
    value = _real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(name, value, "must be in [0, 1]")
    return value


def _skip_diag(allow_autapses: object, n_pre: int, n_post: int) -> bool:
    return not _flag("allow_autapses", allow_autapses) and n_pre == n_post


def _driver(par, ser, n_blocks: int, work: float):
    """The parallel kernel driver when there is enough work for more than one thread, else the serial one."""
    return par if n_blocks > 1 and work >= PARALLEL_MIN_WORK else ser


#: bytes a synapse needs while its connectivity is built (int32 index; builders may need about as much again)
_BUILD_BYTES_PER_SYNAPSE = 4


def _check_memory(expected_synapses: float) -> None:
    """Refuse, in one line and before any work, a connectivity larger than this machine's memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - platforms without sysconf
        return
    need = expected_synapses * _BUILD_BYTES_PER_SYNAPSE
    if need > total:
        raise ConfigError("connectivity.synapses", int(expected_synapses),
                          f"would need {need / 2**30:.1f} GiB for the synapse indices; this machine has "
                          f"{total / 2**30:.1f} GiB")


def _blocks(n_rows: int) -> int:
    return (n_rows + BLOCK_ROWS - 1) // BLOCK_ROWS


def _indptr_from_counts(counts: np.ndarray) -> np.ndarray:
    indptr = np.empty(counts.shape[0] + 1, dtype=np.int64)
    indptr[0] = 0
    np.cumsum(counts, out=indptr[1:])
    return indptr


def _int_vector(name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
        raise ConfigError(name, values, "must be a 1-D array of integers") from exc
    if arr.ndim != 1:
        raise ConfigError(name, values, "must be a 1-D array of integers")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)  # np.asarray([]) is float64; an empty list is still valid
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(name, values, "must be a 1-D array of integers")
    return arr.astype(np.int64, copy=False)


def _positions(name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(name, values, "must be an (N, D) array of real coordinates, D in 1..3") from exc
    if arr.ndim != 2 or not 1 <= arr.shape[1] <= 3:
        raise ConfigError(name, values, "must be an (N, D) array of real coordinates, D in 1..3")
    if arr.shape[0] > MAX_NEURONS:
        raise ConfigError(name, values, f"must have at most {MAX_NEURONS} rows (indices are int32)")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(name, values, "must be finite")
    if arr.shape[1] < 3:  # pad to 3-D: missing axes are zero, which leaves all distances unchanged
        arr = np.concatenate([arr, np.zeros((arr.shape[0], 3 - arr.shape[1]))], axis=1)
    return np.ascontiguousarray(arr)


# ------------------------------------------------------------------------------------------ random builders


def fixed_probability(n_pre: int, n_post: int, p: float, *, seed: int, allow_autapses: bool = True) -> Connectivity:
    """Connect every (pre, post) pair independently with probability ``p`` (Brian2's ``connect(p=...)``).

    Expected synapse count ``p * n_pre * n_post`` (``p * n * (n - 1)`` without autapses). Cost O(synapses):
    each row is generated by geometric skips between successive targets, twice (count, then write), so only
    the final arrays are allocated. ``p == 0`` and ``p == 1`` are exact (empty / all pairs).

    Args:
        n_pre, n_post: population sizes (neurons).
        p: connection probability, in [0, 1].
        seed: random seed; same seed -> identical result at any thread count.
        allow_autapses: if False and ``n_pre == n_post``, pairs i == j are never connected.
    """
    n_pre = _size("n_pre", n_pre)
    n_post = _size("n_post", n_post)
    p = _probability("p", p)
    seed = _seed(seed)
    skip_diag = _skip_diag(allow_autapses, n_pre, n_post)
    if p == 1.0:
        return all_to_all(n_pre, n_post, allow_autapses=not skip_diag)
    n_cols = n_post - 1 if skip_diag else n_post
    if p == 0.0 or n_pre == 0 or n_cols <= 0:
        return Connectivity(n_pre, n_post, np.zeros(n_pre + 1, dtype=np.int64), np.zeros(0, dtype=np.int32))
    _check_memory(float(n_pre) * n_cols * p)
    inv_log_q = 1.0 / math.log1p(-p)
    states = stream_states(seed, _blocks(n_pre), _SALT_FIXED_PROBABILITY)
    counts = np.empty(n_pre, dtype=np.int64)
    dummy_ptr = np.zeros(1, dtype=np.int64)
    dummy_idx = np.zeros(0, dtype=np.int32)
    run = _driver(kernels.fixed_probability_par, kernels.fixed_probability_ser, states.shape[0],
                  float(n_pre) * n_cols * p)
    run(n_pre, n_cols, inv_log_q, skip_diag, BLOCK_ROWS, states.copy(), False, counts, dummy_ptr, dummy_idx)
    indptr = _indptr_from_counts(counts)
    del counts
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    run(n_pre, n_cols, inv_log_q, skip_diag, BLOCK_ROWS, states.copy(), True, dummy_ptr, indptr, indices)
    return Connectivity(n_pre, n_post, indptr, indices)


def _sample_fixed(n_rows: int, n_cand: int, k: int, skip_diag: bool, seed: int, salt: int, sort_rows: bool
                  ) -> np.ndarray:
    """k distinct candidates per row, row-major int32 array of length n_rows * k (see kernels)."""
    n_avail = n_cand - 1 if skip_diag else n_cand
    _check_memory(float(n_rows) * k)
    out = np.empty(n_rows * k, dtype=np.int32)
    if n_rows == 0 or k == 0:
        return out
    table_size = 1 << max(1, (2 * k - 1).bit_length())  # power of two >= 2k: hash load factor <= 1/2
    states = stream_states(seed, _blocks(n_rows), salt)
    run = _driver(kernels.sample_rows_par, kernels.sample_rows_ser, states.shape[0], float(n_rows) * k)
    run(n_rows, n_avail, k, skip_diag, BLOCK_ROWS, states, table_size, sort_rows, out)
    return out


def fixed_indegree(n_pre: int, n_post: int, k: int, *, seed: int, allow_autapses: bool = True) -> Connectivity:
    """Every postsynaptic neuron gets exactly ``k`` distinct presynaptic partners, uniformly at random.

    Partners are drawn without replacement (Floyd's algorithm, one stream per block of 1024 posts), then the
    post-major pairs are transposed into pre-major CSR by a counting sort. Peak memory ~8 bytes per synapse.

    Args:
        n_pre, n_post: population sizes (neurons).
        k: in-degree (synapses per post); at most n_pre (n_pre - 1 without autapses).
        seed: random seed.
        allow_autapses: if False and ``n_pre == n_post``, post j never picks pre j.
    """
    n_pre = _size("n_pre", n_pre)
    n_post = _size("n_post", n_post)
    k = _count("k", k)
    seed = _seed(seed)
    skip_diag = _skip_diag(allow_autapses, n_pre, n_post)
    avail = n_pre - 1 if skip_diag else n_pre
    if n_post > 0 and k > avail:
        note = ", autapses excluded" if skip_diag else ""
        raise ConfigError("k", k, f"must be <= {avail} (presynaptic candidates per post{note})")
    pres = _sample_fixed(n_post, n_pre, k, skip_diag, seed, _SALT_FIXED_INDEGREE, sort_rows=False)
    indptr = np.empty(n_pre + 1, dtype=np.int64)
    indices = np.empty(pres.shape[0], dtype=np.int32)
    kernels.transpose_fixed_rows(n_post, n_pre, k, pres, indptr, indices)
    return Connectivity(n_pre, n_post, indptr, indices)


def fixed_outdegree(n_pre: int, n_post: int, k: int, *, seed: int, allow_autapses: bool = True) -> Connectivity:
    """Every presynaptic neuron gets exactly ``k`` distinct postsynaptic targets, uniformly at random.

    Args:
        n_pre, n_post: population sizes (neurons).
        k: out-degree (synapses per pre); at most n_post (n_post - 1 without autapses).
        seed: random seed.
        allow_autapses: if False and ``n_pre == n_post``, pre i never targets post i.
    """
    n_pre = _size("n_pre", n_pre)
    n_post = _size("n_post", n_post)
    k = _count("k", k)
    seed = _seed(seed)
    skip_diag = _skip_diag(allow_autapses, n_pre, n_post)
    avail = n_post - 1 if skip_diag else n_post
    if n_pre > 0 and k > avail:
        note = ", autapses excluded" if skip_diag else ""
        raise ConfigError("k", k, f"must be <= {avail} (postsynaptic candidates per pre{note})")
    indices = _sample_fixed(n_pre, n_post, k, skip_diag, seed, _SALT_FIXED_OUTDEGREE, sort_rows=True)
    indptr = np.arange(n_pre + 1, dtype=np.int64) * k
    return Connectivity(n_pre, n_post, indptr, indices)


# ------------------------------------------------------------------------------------------ deterministic


def one_to_one(n: int) -> Connectivity:
    """Pre i connects to post i, for i in [0, n)."""
    n = _size("n", n)
    return Connectivity(n, n, np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32))


def all_to_all(n_pre: int, n_post: int, *, allow_autapses: bool = True) -> Connectivity:
    """Every pre connects to every post (``n_pre * n_post`` synapses; ``n * (n - 1)`` without autapses)."""
    n_pre = _size("n_pre", n_pre)
    n_post = _size("n_post", n_post)
    skip_diag = _skip_diag(allow_autapses, n_pre, n_post)
    row_len = max(n_post - 1, 0) if skip_diag else n_post
    indptr = np.arange(n_pre + 1, dtype=np.int64) * row_len
    _check_memory(float(n_pre) * row_len)
    indices = np.empty(n_pre * row_len, dtype=np.int32)
    if indices.size:
        run = _driver(kernels.all_to_all_par, kernels.all_to_all_ser, _blocks(n_pre), float(indices.size))
        run(n_pre, n_post, skip_diag, indices)
    return Connectivity(n_pre, n_post, indptr, indices)


def from_pairs(pre: Sequence[int] | np.ndarray, post: Sequence[int] | np.ndarray, n_pre: int, n_post: int
               ) -> tuple[Connectivity, np.ndarray]:
    """CSR from explicit (pre[s], post[s]) pairs; duplicates are kept (multapses).

    Returns ``(connectivity, order)``: ``order`` (int64) is the permutation that sorts the given pairs into
    CSR order, so per-pair arrays follow with ``w[order]``. The sort is stable (by pre, then post, then input
    position) and O(pairs + n_pre + n_post) (two counting-sort passes).
    """
    n_pre = _size("n_pre", n_pre)
    n_post = _size("n_post", n_post)
    pre_arr = _int_vector("pre", pre)
    post_arr = _int_vector("post", post)
    if pre_arr.shape[0] != post_arr.shape[0]:
        raise ConfigError("post", post, f"must have the same length as pre ({pre_arr.shape[0]})")
    if pre_arr.size and (pre_arr.min() < 0 or pre_arr.max() >= n_pre):
        raise ConfigError("pre", pre, f"must lie in [0, n_pre={n_pre})")
    if post_arr.size and (post_arr.min() < 0 or post_arr.max() >= n_post):
        raise ConfigError("post", post, f"must lie in [0, n_post={n_post})")
    m = pre_arr.shape[0]
    # LSD radix sort: stable by post, then stable by pre -> sorted by (pre, post, input position).
    by_post = np.empty(m, dtype=np.int64)
    kernels.stable_counting_order(post_arr, n_post, np.arange(m, dtype=np.int64), by_post)
    order = np.empty(m, dtype=np.int64)
    kernels.stable_counting_order(pre_arr, n_pre, by_post, order)
    del by_post
    indptr = _indptr_from_counts(np.bincount(pre_arr, minlength=n_pre).astype(np.int64))
    indices = post_arr[order].astype(np.int32)
    return Connectivity(n_pre, n_post, indptr, indices), order


def from_dense(matrix: np.ndarray | Sequence[Sequence[float]]) -> tuple[Connectivity, np.ndarray]:
    """CSR of the nonzero entries of a dense (n_pre, n_post) matrix.

    Returns ``(connectivity, values)`` with ``values`` (float64) the nonzero entries in CSR order, so
    ``connectivity.to_dense(values)`` reproduces ``matrix``.
    """
    try:
        arr = np.asarray(matrix)
    except (TypeError, ValueError) as exc:
        raise ConfigError("matrix", matrix, "must be a 2-D numeric array") from exc
    if arr.ndim != 2 or not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)
                             or np.issubdtype(arr.dtype, np.floating)):
        raise ConfigError("matrix", matrix, "must be a 2-D numeric array (bool, integer or float)")
    n_pre, n_post = arr.shape
    if n_pre > MAX_NEURONS or n_post > MAX_NEURONS:
        raise ConfigError("matrix", matrix, f"dimensions must be <= {MAX_NEURONS} (indices are int32)")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ConfigError("matrix", matrix, "must be finite (NaN/inf entries are neither synapse nor gap)")
    rows, cols = np.nonzero(arr)  # row-major order == CSR order, columns ascending within a row
    values = arr[rows, cols].astype(np.float64)
    indptr = _indptr_from_counts(np.bincount(rows, minlength=n_pre).astype(np.int64))
    return Connectivity(n_pre, n_post, indptr, cols.astype(np.int32)), values


# ------------------------------------------------------------------------------------------ spatial


def grid_positions(shape: Sequence[int], spacing: float = 1.0) -> np.ndarray:
    """Positions (float64, shape (N, 3), same length unit as ``spacing``) of an nx x ny x nz grid.

    Neuron ``index = x + nx * (y + ny * z)``: x varies fastest, then y, then z. Row ``index`` holds
    ``(x, y, z) * spacing`` with integer grid coordinates starting at 0. N = nx * ny * nz.
    """
    try:
        dims = tuple(shape)
    except TypeError as exc:
        raise ConfigError("shape", shape, "must be a sequence of 3 integers (nx, ny, nz)") from exc
    if len(dims) != 3:
        raise ConfigError("shape", shape, "must be a sequence of 3 integers (nx, ny, nz)")
    for axis, n in zip("xyz", dims):
        _size(f"shape.n{axis}", n)
    nx, ny, nz = (int(n) for n in dims)
    if nx * ny * nz > MAX_NEURONS:
        raise ConfigError("shape", shape, f"must have at most {MAX_NEURONS} points (indices are int32)")
    spacing = _real("spacing", spacing)
    if spacing <= 0.0:
        raise ConfigError("spacing", spacing, "must be > 0")
    idx = np.arange(nx * ny * nz, dtype=np.int64)
    pos = np.empty((idx.shape[0], 3), dtype=np.float64)
    pos[:, 0] = idx % nx if nx else 0
    pos[:, 1] = (idx // nx) % ny if nx and ny else 0
    pos[:, 2] = idx // (nx * ny) if nx and ny else 0
    pos *= spacing
    return pos


def distance_dependent(pos_pre: np.ndarray, pos_post: np.ndarray, c: float, lam: float, *, seed: int,
                       allow_autapses: bool = False, cutoff: float | None = None) -> Connectivity:
    """Connect each pair independently with probability ``c * exp(-(d / lam)**2)`` (Maass et al. 2002 LSM).

    ``d`` is the Euclidean distance between ``pos_pre[i]`` and ``pos_post[j]``; ``lam`` and ``cutoff`` are in
    the same length unit as the positions (e.g. grid spacings). With ``cutoff=None`` (default) the kernel is
    not truncated, and still no pair is skipped or approximated: pairs within 3 * lam are found through a cell
    grid and tested one by one, farther pairs are sampled exactly by thinning at a cost proportional to their
    (tiny) connection probability; when lam is large compared with the volume, all pairs are thinned at rate c
    instead (whichever visits fewer pairs). With a ``cutoff``, pairs farther than ``cutoff`` are never
    connected. Memory O(synapses + neurons).

    Args:
        pos_pre, pos_post: (N, D) coordinates, D in 1..3 (missing axes are treated as 0).
        c: peak connection probability at d = 0, in [0, 1].
        lam: length constant lambda, > 0 and finite.
        seed: random seed.
        allow_autapses: default False (the usual recurrent LSM case); if False and the populations have equal
            size, pairs i == j are skipped.
        cutoff: optional maximum connection distance, > 0 (``inf`` means none).
    """
    pre = _positions("pos_pre", pos_pre)
    post = _positions("pos_post", pos_post)
    c = _probability("c", c)
    lam = _real("lam", lam)
    if lam <= 0.0 or lam * lam == 0.0:  # (d / lam)**2 is computed with 1 / lam**2, which must not underflow
        raise ConfigError("lam", lam, "must be > 0 (and lam**2 representable)")
    seed = _seed(seed)
    if cutoff is None:
        cut = math.inf
    else:
        if isinstance(cutoff, (bool, np.bool_)) or not isinstance(cutoff, numbers.Real) or math.isnan(cutoff) \
                or cutoff <= 0:
            raise ConfigError("cutoff", cutoff, "must be None or a number > 0")
        cut = float(cutoff)
    skip_diag = _skip_diag(allow_autapses, pre.shape[0], post.shape[0])
    return _distance_impl(pre, post, c, lam, cut, seed, skip_diag)


def _distance_impl(pre: np.ndarray, post: np.ndarray, c: float, lam: float, cut: float, seed: int,
                   skip_diag: bool, strategy: str | None = None) -> Connectivity:
    """distance_dependent on validated (N, 3) float64 positions; ``strategy`` ("near"/"thin") is for tests.

    Two exact strategies, chosen per call by estimated pair visits per row:

    * "near": test every pair within r_near = min(cutoff, 3 lam) found through a cell grid, and thin the rest
      at rate c * exp(-(r_near / lam)**2). Best when lam is small compared with the volume (LSM grids).
    * "thin": visit columns by geometric skips at rate c and accept with exp(-(d / lam)**2). Best when c is
      small and lam is large compared with the volume (the cell search would touch most pairs anyway).
    """
    n_pre, n_post = pre.shape[0], post.shape[0]
    if c == 0.0 or n_pre == 0 or n_post == 0:
        return Connectivity(n_pre, n_post, np.zeros(n_pre + 1, dtype=np.int64), np.zeros(0, dtype=np.int32))
    inv_lam2 = 1.0 / (lam * lam)
    r_near = min(cut, _NEAR_RADIUS_LAMBDAS * lam)
    q_near = c * math.exp(-(r_near * r_near) * inv_lam2)
    # Thinning beyond r_near covers r_near < d <= cutoff; pointless when the cutoff is r_near or q underflows.
    far_near = cut > r_near and q_near > 0.0

    # Cell grid over the post neurons. Side r_near / 2 searched +-2 cells with box pruning tests ~4x fewer
    # pairs than side r_near searched +-1 cell; the side grows if the bounding box would need more than ~2
    # cells per post neuron (widely spread points), which keeps memory O(neurons).
    lo = post.min(axis=0)
    extent = post.max(axis=0) - lo
    side = r_near / 2.0
    while side <= 0.0 or float(np.prod(np.floor(extent / side) + 1.0)) > 2.0 * n_post + 125.0:
        side = max(side * 1.5, 1e-300)

    # Pair visits per row: the near search touches about the fraction of the post bounding box covered by its
    # search window; a thinning visit (log, random access, second draw) costs ~2 near tests.
    window = float(np.prod(np.minimum(1.0, 2.0 * (r_near + side) / (extent + side))))
    near_cost = n_post * window + (2.0 * n_post * q_near if far_near else 0.0)
    thin_cost = 2.0 * n_post * c
    if strategy is None:
        strategy = "near" if near_cost <= thin_cost else "thin"
    work = n_pre * (near_cost if strategy == "near" else thin_cost)  # only for the serial/parallel choice

    if strategy == "near":
        ncell = (np.floor(extent / side) + 1.0).astype(np.int64)
        # Rounding margins: a near pair may not be pushed out of reach or pruned away by float error in the
        # cell coordinates, so both reach and the pruning radius carry a small relative + absolute slack.
        scale = float(max(np.max(np.abs(pre)), np.max(np.abs(post))))
        slack = 1e-6 * r_near + 1e-12 * scale
        reach = max(1, math.ceil((r_near + slack) / side))
        prune2 = (r_near + slack) ** 2
        inv_s = 1.0 / side
        post_cell = np.empty((n_post, 3), dtype=np.int64)
        kernels.cell_coords(post, lo, inv_s, ncell, post_cell)
        pre_cell = np.empty((n_pre, 3), dtype=np.int64)
        kernels.cell_coords(pre, lo, inv_s, ncell, pre_cell)
        cell_start = np.empty(int(np.prod(ncell)) + 1, dtype=np.int64)
        cell_items = np.empty(n_post, dtype=np.int64)
        kernels.build_cells(post_cell, ncell, cell_start, cell_items)
        del post_cell
        r_near2, q_far, far = r_near * r_near, q_near, far_near
    else:  # "thin": no near search; every pair with d <= cutoff is a thinning candidate at rate c
        ncell = np.ones(3, dtype=np.int64)
        pre_cell = np.zeros((n_pre, 3), dtype=np.int64)
        cell_start = np.zeros(2, dtype=np.int64)
        cell_items = np.zeros(0, dtype=np.int64)
        reach, prune2 = 0, -1.0
        r_near2, q_far, far = -1.0, c, True
    inv_log_q = (1.0 / math.log1p(-q_far) if q_far < 1.0 else 0.0) if far else -1.0  # q = 1: visit every column

    states = stream_states(seed, _blocks(n_pre), _SALT_DISTANCE)
    counts = np.empty(n_pre, dtype=np.int64)
    dummy_ptr = np.zeros(1, dtype=np.int64)
    dummy_idx = np.zeros(0, dtype=np.int32)
    args = (pre, post, strategy == "near", pre_cell, lo, side, reach, ncell, cell_start, cell_items, c, inv_lam2,
            r_near2, prune2, cut * cut, far, q_far, inv_log_q, skip_diag, BLOCK_ROWS)
    run = _driver(kernels.distance_par, kernels.distance_ser, states.shape[0], work)
    run(*args, states.copy(), False, counts, dummy_ptr, dummy_idx)
    indptr = _indptr_from_counts(counts)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    run(*args, states.copy(), True, counts, indptr, indices)
    return Connectivity(n_pre, n_post, indptr, indices)
