"""Numba kernels behind :mod:`snn.connect.builders`.

Kernels take arrays and scalars only and do no validation (the builders validate first, so a bad argument
never surfaces as a numba traceback).

Randomness: rows (or columns) are split into blocks of a FIXED size chosen by the caller, and block ``b`` draws
only from stream ``states[b]`` (SplitMix64, :mod:`snn.rng`). ``prange`` merely distributes whole blocks over
threads, so the output is bit-identical at any thread count. Kernels advance ``states`` in place; the builders
pass a fresh copy to every pass that must replay the same numbers.

Each random kernel is one per-block function (``*_block``) driven by a ``*_par`` (``prange`` over blocks) and a
``*_ser`` (plain loop) entry point. Both run the very same block code, so they give identical output; the serial
driver exists because launching a parallel region costs ~0.01-1 ms (more on a loaded machine), which would
dominate small builds such as a 135-neuron LSM column.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from snn.rng import next_u64, uniform

_U64_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# --------------------------------------------------------------------------------------------------- helpers


@njit(cache=True, inline="always")
def _geometric_step(states: np.ndarray, b: int, inv_log_q: float) -> float:
    """Number of failures before the next success of a Bernoulli(p) sequence (inv_log_q = 1 / log(1 - p)).

    Returned as a float so that an astronomically large skip (tiny p) cannot overflow an integer cast.
    """
    u = 1.0 - uniform(states, b)  # in (0, 1], so the log is finite
    return np.floor(np.log(u) * inv_log_q)


@njit(cache=True, inline="always")
def _randbelow(states: np.ndarray, b: int, m: int) -> int:
    """Exactly uniform integer in [0, m) for 1 <= m < 2**63 (rejection of the 2**64 mod m low outputs)."""
    mm = np.uint64(m)
    limit = (np.uint64(0) - mm) % mm  # 2**64 mod m: the accepted range [limit, 2**64) is a multiple of m long
    r = next_u64(states, b)
    while r < limit:
        r = next_u64(states, b)
    return np.int64(r % mm)


@njit(cache=True, inline="always")
def _hash_slot(t: int, mask: int) -> int:
    # Fibonacci hashing: the high product bits are well mixed, so keep those.
    return np.int64((np.uint64(t) * _U64_GOLDEN) >> np.uint64(32)) & mask


@njit(cache=True)
def _floyd_sample(states: np.ndarray, b: int, n: int, k: int, table: np.ndarray, out: np.ndarray) -> None:
    """Write k distinct uniform integers from [0, n) into out[:k] (Floyd's algorithm; order is not sorted).

    ``table`` is an open-addressing hash set of power-of-two length >= 2k, used for O(1) membership tests so
    memory stays O(k) rather than O(n).
    """
    mask = table.shape[0] - 1
    table[:] = -1
    for m in range(k):
        top = n - k + m  # Floyd: draw t in [0, top]; if already taken, take top itself (never taken before)
        t = _randbelow(states, b, top + 1)
        h = _hash_slot(t, mask)
        found = False
        while table[h] != -1:
            if table[h] == t:
                found = True
                break
            h = (h + 1) & mask
        if found:
            t = top
            h = _hash_slot(t, mask)
            while table[h] != -1:
                h = (h + 1) & mask
        table[h] = t
        out[m] = t


@njit(cache=True)
def _radix_sort(buf: np.ndarray, k: int, n_passes: int, tmp: np.ndarray, hist: np.ndarray) -> None:
    """Sort buf[:k] (non-negative ints < 256**n_passes) ascending; LSD radix, 8 bits per pass.

    O(n_passes * (k + 256)): several times faster than a comparison sort for the k ~ 10..10^4 rows of a
    fixed-degree builder. Short rows use insertion sort.
    """
    if k <= 32:
        for a in range(1, k):
            v = buf[a]
            b = a - 1
            while b >= 0 and buf[b] > v:
                buf[b + 1] = buf[b]
                b -= 1
            buf[b + 1] = v
        return
    src = buf
    dst = tmp
    for p in range(n_passes):
        shift = 8 * p
        hist[:] = 0
        for a in range(k):
            hist[((src[a] >> shift) & 255) + 1] += 1
        for d in range(256):
            hist[d + 1] += hist[d]
        for a in range(k):
            d = (src[a] >> shift) & 255
            dst[hist[d]] = src[a]
            hist[d] += 1
        src, dst = dst, src
    if n_passes % 2 == 1:  # result sits in tmp
        buf[:k] = tmp[:k]


# ------------------------------------------------------------------------------------------ fixed probability


@njit(cache=True)
def fixed_probability_block(
    b: int, n_pre: int, n_cols: int, inv_log_q: float, skip_diag: bool, block: int, states: np.ndarray,
    write: bool, counts: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
) -> None:
    """Bernoulli(p) for every pair of the rows of block ``b``, by geometric skips over the ``n_cols`` candidates.

    ``write=False``: store the row lengths in ``counts``. ``write=True``: replay the same draws and write the
    column indices at ``indptr`` offsets. With ``skip_diag`` the candidates are the n_post - 1 columns other than
    the row index (column c >= i maps to c + 1), which keeps rows sorted without a rejection step.
    """
    r0 = b * block
    r1 = min(r0 + block, n_pre)
    for i in range(r0, r1):
        pos = indptr[i] if write else 0
        c = 0
        j = -1.0
        while True:
            j += 1.0 + _geometric_step(states, b, inv_log_q)
            if j >= n_cols:
                break
            if write:
                col = np.int64(j)
                if skip_diag and col >= i:
                    col += 1
                indices[pos + c] = col
            c += 1
        if not write:
            counts[i] = c


@njit(cache=True, parallel=True)
def fixed_probability_par(n_pre, n_cols, inv_log_q, skip_diag, block, states, write, counts, indptr, indices):
    for b in prange(states.shape[0]):
        fixed_probability_block(b, n_pre, n_cols, inv_log_q, skip_diag, block, states, write, counts, indptr,
                                indices)


@njit(cache=True)
def fixed_probability_ser(n_pre, n_cols, inv_log_q, skip_diag, block, states, write, counts, indptr, indices):
    for b in range(states.shape[0]):
        fixed_probability_block(b, n_pre, n_cols, inv_log_q, skip_diag, block, states, write, counts, indptr,
                                indices)


@njit(cache=True)
def _all_to_all_row(i: int, n_post: int, row_len: int, skip_diag: bool, indices: np.ndarray) -> None:
    base = i * row_len
    c = 0
    for j in range(n_post):
        if skip_diag and j == i:
            continue
        indices[base + c] = j
        c += 1


@njit(cache=True, parallel=True)
def all_to_all_par(n_pre: int, n_post: int, skip_diag: bool, indices: np.ndarray) -> None:
    """Fill indices for all pairs (row-major), skipping i == j when ``skip_diag``."""
    row_len = n_post - 1 if skip_diag else n_post
    for i in prange(n_pre):
        _all_to_all_row(i, n_post, row_len, skip_diag, indices)


@njit(cache=True)
def all_to_all_ser(n_pre: int, n_post: int, skip_diag: bool, indices: np.ndarray) -> None:
    row_len = n_post - 1 if skip_diag else n_post
    for i in range(n_pre):
        _all_to_all_row(i, n_post, row_len, skip_diag, indices)


# ------------------------------------------------------------------------------------------ fixed degree


@njit(cache=True)
def sample_rows_block(
    b: int, n_rows: int, n_avail: int, k: int, skip_diag: bool, block: int, states: np.ndarray, table_size: int,
    sort_rows: bool, out: np.ndarray,
) -> None:
    """For every row r of block ``b`` write k distinct uniform candidates into out[r*k:(r+1)*k].

    Candidates are [0, n_avail), or with ``skip_diag`` the values other than r (n_avail = n - 1, value v >= r
    maps to v + 1). ``sort_rows`` sorts each row ascending (needed when rows are CSR rows).
    """
    n_passes = 1
    while n_passes < 8 and (n_avail - 1) >> (8 * n_passes) > 0:
        n_passes += 1
    table = np.empty(table_size, dtype=np.int64)
    buf = np.empty(k, dtype=np.int64)
    tmp = np.empty(k, dtype=np.int64)
    hist = np.empty(257, dtype=np.int64)
    r0 = b * block
    r1 = min(r0 + block, n_rows)
    for r in range(r0, r1):
        _floyd_sample(states, b, n_avail, k, table, buf)
        if sort_rows:
            _radix_sort(buf, k, n_passes, tmp, hist)
        base = r * k
        for m in range(k):
            v = buf[m]
            if skip_diag and v >= r:
                v += 1
            out[base + m] = v


@njit(cache=True, parallel=True)
def sample_rows_par(n_rows, n_avail, k, skip_diag, block, states, table_size, sort_rows, out):
    for b in prange(states.shape[0]):
        sample_rows_block(b, n_rows, n_avail, k, skip_diag, block, states, table_size, sort_rows, out)


@njit(cache=True)
def sample_rows_ser(n_rows, n_avail, k, skip_diag, block, states, table_size, sort_rows, out):
    for b in range(states.shape[0]):
        sample_rows_block(b, n_rows, n_avail, k, skip_diag, block, states, table_size, sort_rows, out)


@njit(cache=True)
def transpose_fixed_rows(n_rows: int, n_cols: int, k: int, cols: np.ndarray, indptr: np.ndarray,
                         indices: np.ndarray) -> None:
    """Counting-sort transpose of a matrix with exactly k entries per row (``cols`` row-major, length n_rows*k).

    Writes CSR of the transpose: ``indptr`` (n_cols + 1) and ``indices`` (row numbers). Rows are visited in
    ascending order, so each output row comes out sorted (stable counting sort), in O(nnz + n_cols) time.
    """
    indptr[:] = 0
    for s in range(cols.shape[0]):
        indptr[cols[s] + 1] += 1
    for c in range(n_cols):
        indptr[c + 1] += indptr[c]
    fill = indptr[:-1].copy()
    for r in range(n_rows):
        base = r * k
        for m in range(k):
            c = cols[base + m]
            indices[fill[c]] = r
            fill[c] += 1


# ------------------------------------------------------------------------------------------ from pairs


@njit(cache=True)
def stable_counting_order(keys: np.ndarray, n_bins: int, order_in: np.ndarray, order_out: np.ndarray) -> None:
    """order_out = order_in stably sorted by keys[order_in] (keys in [0, n_bins)); O(n + n_bins)."""
    start = np.zeros(n_bins + 1, dtype=np.int64)
    for s in range(keys.shape[0]):
        start[keys[s] + 1] += 1
    for v in range(n_bins):
        start[v + 1] += start[v]
    for s in range(order_in.shape[0]):
        o = order_in[s]
        v = keys[o]
        order_out[start[v]] = o
        start[v] += 1


# ------------------------------------------------------------------------------------------ spatial


@njit(cache=True)
def cell_coords(pos: np.ndarray, origin: np.ndarray, inv_s: float, ncell: np.ndarray, out: np.ndarray) -> None:
    """Integer cell coordinates ``floor((pos - origin) / side)`` of every point (``inv_s`` = 1 / side).

    Pre points may fall outside the post grid; they are clamped to +-2**40 only so the integer cast cannot
    overflow (such a point is just "far outside"). The same expression is used for pre and post points so both
    sides agree on cell boundaries.
    """
    for n in range(pos.shape[0]):
        for a in range(3):
            f = np.floor((pos[n, a] - origin[a]) * inv_s)
            f = min(max(f, -1099511627776.0), 1099511627776.0)
            out[n, a] = np.int64(f)


@njit(cache=True)
def build_cells(post_cell: np.ndarray, ncell: np.ndarray, cell_start: np.ndarray, cell_items: np.ndarray) -> None:
    """Counting sort of post neurons by linear cell id (x fastest); items within a cell stay ascending."""
    n_cells = cell_start.shape[0] - 1
    cell_start[:] = 0
    nx = ncell[0]
    ny = ncell[1]
    n = post_cell.shape[0]
    cid = np.empty(n, dtype=np.int64)
    for j in range(n):
        cid[j] = post_cell[j, 0] + nx * (post_cell[j, 1] + ny * post_cell[j, 2])
        cell_start[cid[j] + 1] += 1
    for c in range(n_cells):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:-1].copy()
    for j in range(n):
        cell_items[fill[cid[j]]] = j
        fill[cid[j]] += 1


@njit(cache=True)
def distance_block(
    b: int, pre_pos: np.ndarray, post_pos: np.ndarray, near: bool, pre_cell: np.ndarray, origin: np.ndarray,
    side: float, reach: int, ncell: np.ndarray, cell_start: np.ndarray, cell_items: np.ndarray, c: float,
    inv_lam2: float, r_near2: float, prune2: float, cutoff2: float, far: bool, q_far: float, inv_log_q: float,
    skip_diag: bool, block: int, states: np.ndarray, write: bool, counts: np.ndarray, indptr: np.ndarray,
    indices: np.ndarray,
) -> None:
    """Rows of block ``b``: connect each pair independently with probability c * exp(-d**2 * inv_lam2), with
    d <= sqrt(cutoff2).

    Near pairs (d**2 <= r_near2, only if ``near``) are found through the cell grid: with ``reach`` =
    ceil(r_near / side) every near pair lies within +-reach cells on each axis; cells whose box is farther than
    sqrt(prune2) (r_near plus a rounding margin) are skipped, and the rest are tested pair by pair.

    Far pairs (r_near2 < d**2 <= cutoff2; every pair when r_near2 < 0) have probability at most q_far and are
    handled by thinning: visit the columns with geometric skips at rate q_far (inv_log_q = 1 / log(1 - q_far))
    and accept a visited far pair with probability p(d) / q_far. Each far pair is then connected with
    probability q_far * p(d) / q_far = p(d) exactly, at O(n_post * q_far) cost per row, so the kernel needs no
    truncation to be exact and memory stays O(synapses).

    ``write=False`` stores row lengths in ``counts``; ``write=True`` replays the same draws, writes at ``indptr``
    offsets and sorts each row.
    """
    n_pre = pre_pos.shape[0]
    n_post = post_pos.shape[0]
    nx = ncell[0]
    ny = ncell[1]
    nz = ncell[2]
    r0 = b * block
    r1 = min(r0 + block, n_pre)
    for i in range(r0, r1):
        pos = indptr[i] if write else 0
        cnt = 0
        px = pre_pos[i, 0]
        py = pre_pos[i, 1]
        pz = pre_pos[i, 2]
        z_hi = min(pre_cell[i, 2] + reach, nz - 1) if near else -1
        for gz in range(max(pre_cell[i, 2] - reach, 0), z_hi + 1):
            lo = origin[2] + gz * side
            gap_z = max(lo - pz, pz - (lo + side), 0.0)
            if gap_z * gap_z > prune2:
                continue
            for gy in range(max(pre_cell[i, 1] - reach, 0), min(pre_cell[i, 1] + reach, ny - 1) + 1):
                lo = origin[1] + gy * side
                gap_y = max(lo - py, py - (lo + side), 0.0)
                gap_zy = gap_z * gap_z + gap_y * gap_y
                if gap_zy > prune2:
                    continue
                for gx in range(max(pre_cell[i, 0] - reach, 0), min(pre_cell[i, 0] + reach, nx - 1) + 1):
                    lo = origin[0] + gx * side
                    gap_x = max(lo - px, px - (lo + side), 0.0)
                    if gap_zy + gap_x * gap_x > prune2:
                        continue
                    cell = gx + nx * (gy + ny * gz)
                    for s in range(cell_start[cell], cell_start[cell + 1]):
                        j = cell_items[s]
                        if skip_diag and j == i:
                            continue
                        dx = post_pos[j, 0] - px
                        dy = post_pos[j, 1] - py
                        dz = post_pos[j, 2] - pz
                        d2 = dx * dx + dy * dy + dz * dz
                        if d2 > r_near2:
                            continue
                        if uniform(states, b) < c * np.exp(-d2 * inv_lam2):
                            if write:
                                indices[pos + cnt] = j
                            cnt += 1
        if far:
            jf = -1.0
            while True:
                jf += 1.0 + _geometric_step(states, b, inv_log_q)
                if jf >= n_post:
                    break
                j = np.int64(jf)
                if skip_diag and j == i:
                    continue
                dx = post_pos[j, 0] - px
                dy = post_pos[j, 1] - py
                dz = post_pos[j, 2] - pz
                d2 = dx * dx + dy * dy + dz * dz
                if d2 <= r_near2 or d2 > cutoff2:
                    continue  # near pairs were already decided above; beyond the cutoff never connects
                if uniform(states, b) * q_far < c * np.exp(-d2 * inv_lam2):
                    if write:
                        indices[pos + cnt] = j
                    cnt += 1
        if write:
            if cnt > 1:
                indices[pos:pos + cnt].sort()
        else:
            counts[i] = cnt


@njit(cache=True, parallel=True)
def distance_par(pre_pos, post_pos, near, pre_cell, origin, side, reach, ncell, cell_start, cell_items, c, inv_lam2,
                 r_near2, prune2, cutoff2, far, q_far, inv_log_q, skip_diag, block, states, write, counts, indptr,
                 indices):
    for b in prange(states.shape[0]):
        distance_block(b, pre_pos, post_pos, near, pre_cell, origin, side, reach, ncell, cell_start, cell_items, c,
                       inv_lam2, r_near2, prune2, cutoff2, far, q_far, inv_log_q, skip_diag, block, states, write,
                       counts, indptr, indices)


@njit(cache=True)
def distance_ser(pre_pos, post_pos, near, pre_cell, origin, side, reach, ncell, cell_start, cell_items, c, inv_lam2,
                 r_near2, prune2, cutoff2, far, q_far, inv_log_q, skip_diag, block, states, write, counts, indptr,
                 indices):
    for b in range(states.shape[0]):
        distance_block(b, pre_pos, post_pos, near, pre_cell, origin, side, reach, ncell, cell_start, cell_items, c,
                       inv_lam2, r_near2, prune2, cutoff2, far, q_far, inv_log_q, skip_diag, block, states, write,
                       counts, indptr, indices)
