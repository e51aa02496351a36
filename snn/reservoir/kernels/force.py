"""Numba kernels for recursive least squares and the Nicola & Clopath (2017) spiking FORCE network.

Arrays in, arrays out (updated in place where named). All state is float64. Loops run in a fixed order, so a
result does not depend on the number of numba threads; the only ``prange`` loops (over rows of P) compute
each row independently with a serial inner sum, which keeps them bit-identical at any thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: variant codes shared with :mod:`snn.reservoir.rls`
EXACT = 0
NICOLA_CLOPATH = 1


@njit(cache=True, parallel=True)
def _p_times_r(P: np.ndarray, r: np.ndarray, k: np.ndarray) -> None:
    n = P.shape[0]
    for i in prange(n):
        acc = 0.0
        for j in range(n):
            acc += P[i, j] * r[j]
        k[i] = acc


@njit(cache=True, parallel=True)
def _rank1_down(P: np.ndarray, k: np.ndarray, c: float) -> None:
    n = P.shape[0]
    for i in prange(n):
        ck = c * k[i]
        for j in range(n):
            P[i, j] -= ck * k[j]


@njit(cache=True)
def rls_step(P: np.ndarray, w: np.ndarray, r: np.ndarray, target: np.ndarray, variant: int, k: np.ndarray,
             err: np.ndarray) -> None:
    """One RLS update, in place on ``P`` (n, n) and ``w`` (n, m); ``k`` (n,) is scratch.

    ``err`` (m,) receives the a-priori error ``wᵀr − target``. With ``k = P r`` and ``c = 1 / (1 + rᵀk)``:
    EXACT: ``w ← w − c k errᵀ`` (= ``P_new r errᵀ``); NICOLA_CLOPATH: ``w ← w − k errᵀ`` (P before the update);
    both then ``P ← P − c k kᵀ``.
    """
    n = P.shape[0]
    m = w.shape[1]
    for o in range(m):
        acc = 0.0
        for i in range(n):
            acc += w[i, o] * r[i]
        err[o] = acc - target[o]
    _p_times_r(P, r, k)
    rk = 0.0
    for i in range(n):
        rk += r[i] * k[i]
    c = 1.0 / (1.0 + rk)
    gain = c if variant == EXACT else 1.0
    for i in range(n):
        for o in range(m):
            w[i, o] -= gain * k[i] * err[o]
    _rank1_down(P, k, c)


@njit(cache=True)
def rls_run(P: np.ndarray, w: np.ndarray, R: np.ndarray, Y: np.ndarray, variant: int, errors: np.ndarray) -> None:
    """Sequential RLS updates over the rows of ``R`` (T, n) with targets ``Y`` (T, m); ``errors`` (T, m) out."""
    k = np.empty(P.shape[0])
    r = np.empty(P.shape[0])
    y = np.empty(w.shape[1])
    e = np.empty(w.shape[1])
    for t in range(R.shape[0]):
        for i in range(R.shape[1]):
            r[i] = R[t, i]
        for o in range(Y.shape[1]):
            y[o] = Y[t, o]
        rls_step(P, w, r, y, variant, k, e)
        for o in range(Y.shape[1]):
            errors[t, o] = e[o]



#: P with fewer rows than this is updated by one thread: a parallel region costs more than the whole update
#: there (and far more when the cores are shared); the arithmetic, hence the result, is the same either way
PARALLEL_MIN_ROWS = 512


@njit(cache=True)
def _down_then_times_rows(P: np.ndarray, k_prev: np.ndarray, c_prev: float, r: np.ndarray, k: np.ndarray,
                          i0: int) -> None:
    """Rows ``i0 … i0 + 3`` (fewer at the end) of :func:`_down_then_times`."""
    n = P.shape[0]
    if i0 + 4 <= n:
        a0 = c_prev * k_prev[i0]
        a1 = c_prev * k_prev[i0 + 1]
        a2 = c_prev * k_prev[i0 + 2]
        a3 = c_prev * k_prev[i0 + 3]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for j in range(n):
            kj = k_prev[j]
            rj = r[j]
            p0 = P[i0, j] - a0 * kj
            p1 = P[i0 + 1, j] - a1 * kj
            p2 = P[i0 + 2, j] - a2 * kj
            p3 = P[i0 + 3, j] - a3 * kj
            P[i0, j] = p0
            P[i0 + 1, j] = p1
            P[i0 + 2, j] = p2
            P[i0 + 3, j] = p3
            s0 += p0 * rj
            s1 += p1 * rj
            s2 += p2 * rj
            s3 += p3 * rj
        k[i0] = s0
        k[i0 + 1] = s1
        k[i0 + 2] = s2
        k[i0 + 3] = s3
    else:
        for i in range(i0, n):
            ai = c_prev * k_prev[i]
            acc = 0.0
            for j in range(n):
                pij = P[i, j] - ai * k_prev[j]
                P[i, j] = pij
                acc += pij * r[j]
            k[i] = acc


@njit(cache=True, parallel=True)
def _down_then_times_parallel(P: np.ndarray, k_prev: np.ndarray, c_prev: float, r: np.ndarray,
                              k: np.ndarray) -> None:
    for blk in prange((P.shape[0] + 3) // 4):
        _down_then_times_rows(P, k_prev, c_prev, r, k, 4 * blk)


@njit(cache=True)
def _down_then_times(P: np.ndarray, k_prev: np.ndarray, c_prev: float, r: np.ndarray, k: np.ndarray) -> None:
    """``P ← P − c_prev k_prev k_prevᵀ`` and then ``k = P r``, in one pass over P.

    Each entry and each row sum is computed with the very operations, in the very order, of
    :func:`_rank1_down` followed by :func:`_p_times_r`, so the result is bit-identical; it reads P once instead
    of twice, and runs four rows side by side so that four independent sums hide the latency of the additions
    (one row's sum is a serial chain: without reassociation it cannot use SIMD). Blocks of rows run in parallel
    when P has at least :data:`PARALLEL_MIN_ROWS` rows.
    """
    n = P.shape[0]
    if n >= PARALLEL_MIN_ROWS:
        _down_then_times_parallel(P, k_prev, c_prev, r, k)
    else:
        for blk in range((n + 3) // 4):
            _down_then_times_rows(P, k_prev, c_prev, r, k, 4 * blk)


@njit(cache=True)
def rls_step_deferred(P: np.ndarray, w: np.ndarray, r: np.ndarray, target: np.ndarray, variant: int,
                      k: np.ndarray, err: np.ndarray, pending: np.ndarray) -> None:
    """:func:`rls_step` with the downdate of P postponed to the next call: the same results, bit for bit.

    ``pending`` (n + 1,) carries the postponed ``(k, c)`` between calls (``pending[n] = c``; start with all
    zeros, where the downdate is a no-op: ``P − 0·k kᵀ = P``). Call :func:`rls_flush` after the last update to
    bring P up to date. A call applies the previous downdate and computes ``k = P r`` in one pass over P
    (:func:`_down_then_times`), so an update reads and writes P once instead of reading it twice and writing it
    once. ``w`` is up to date after every call.
    """
    n = P.shape[0]
    m = w.shape[1]
    for o in range(m):
        acc = 0.0
        for i in range(n):
            acc += w[i, o] * r[i]
        err[o] = acc - target[o]
    _down_then_times(P, pending[:n], pending[n], r, k)
    rk = 0.0
    for i in range(n):
        rk += r[i] * k[i]
    c = 1.0 / (1.0 + rk)
    gain = c if variant == EXACT else 1.0
    for i in range(n):
        for o in range(m):
            w[i, o] -= gain * k[i] * err[o]
    for i in range(n):
        pending[i] = k[i]
    pending[n] = c


@njit(cache=True)
def rls_flush(P: np.ndarray, pending: np.ndarray) -> None:
    """Apply the downdate postponed by :func:`rls_step_deferred` (``P ← P − c k kᵀ``) and clear it."""
    n = P.shape[0]
    if pending[n] != 0.0:
        _rank1_down(P, pending[:n], pending[n])
    for i in range(n + 1):
        pending[i] = 0.0


# parallel=True although no loop here is a prange: a cached non-parallel caller of a parallel function segfaults
# when loaded from the cache (numba issue #8578)
@njit(cache=True, parallel=True)
def force_run(v: np.ndarray, u: np.ndarray, ipsc: np.ndarray, h: np.ndarray, r: np.ndarray, hr: np.ndarray,
              z: np.ndarray, phi: np.ndarray, P: np.ndarray, omega_indptr: np.ndarray, omega_indices: np.ndarray,
              omega_data: np.ndarray, enc: np.ndarray, target: np.ndarray, params: np.ndarray, learn_lo: int,
              learn_hi: int, step: int, variant: int, z_out: np.ndarray, spikes_per_step: np.ndarray,
              spike_counts: np.ndarray) -> int:
    """The Izhikevich spiking FORCE network of Nicola & Clopath (2017), ``target.shape[0]`` Euler steps.

    State, updated in place (N neurons, m outputs): ``v``, ``u``, ``ipsc``, ``h``, ``r``, ``hr`` (N,), the
    readout ``z`` (m,) of the previous step, the decoder ``phi`` (N, m) and ``P`` (N, N). ``omega_*``: the static
    weights as per-presynaptic lists (row j of CSR = column j of OMEGA: postsynaptic indices ascending).
    ``enc`` (N, m): the encoders E. ``target`` (T, m): the supervisor at step s (MATLAB's ``zx(:, s+1)``).
    ``params`` (ms, mV, pA, pF): dt, C, k, vr, vt, a, b, d, vpeak, vreset, bias, exp(-dt/tr), exp(-dt/td),
    tr·td. RLS runs at step s (0-based) when ``s % step == 0`` and ``learn_lo < s + 1 < learn_hi`` (MATLAB's
    ``mod(i, step) == 1``, ``imin < i < icrit`` with i = s + 1). Out: ``z_out`` (T, m) the readout at each step
    (before that step's RLS update, as MATLAB's ``current``), ``spikes_per_step`` (T,), ``spike_counts`` (N,)
    (added to). Returns the number of RLS updates. The per-neuron work of a step is one fused loop; the order of
    the floating-point operations of each line follows IZFORCESINE.m (see :mod:`snn.reservoir.force`). RLS is
    :func:`rls_step_deferred` (bit-identical to :func:`rls_step`, one pass over P per update), flushed before
    returning so that P is current.
    """
    n = v.shape[0]
    m = z.shape[0]
    dt = params[0]
    cap = params[1]
    kk = params[2]
    vr = params[3]
    vt = params[4]
    a = params[5]
    b = params[6]
    d = params[7]
    vpeak = params[8]
    vreset = params[9]
    bias = params[10]
    er = params[11]
    ed = params[12]
    trtd = params[13]
    spike_jump = 1.0 / trtd
    spk = np.empty(n, np.int64)
    jd = np.zeros(n)
    z_new = np.empty(m)
    kbuf = np.empty(n)
    err = np.empty(m)
    y = np.empty(m)
    pending = np.zeros(n + 1)
    n_updates = 0
    for s in range(target.shape[0]):
        for o in range(m):
            z_new[o] = 0.0
        ns = 0
        for i in range(n):
            # I = IPSC + E*z + BIAS, with z from the previous step
            ez = 0.0
            for o in range(m):
                ez += enc[i, o] * z[o]
            cur = (ipsc[i] + ez) + bias
            v_old = v[i]
            # v uses v(t-1); u uses v_ = v(t-1) too (MATLAB keeps v_ for exactly this)
            v_new = v_old + (dt * ((kk * (v_old - vr) * (v_old - vt) - u[i]) + cur)) / cap
            u[i] = u[i] + dt * (a * (b * (v_old - vr) - u[i]))
            v[i] = v_new
            fired = v_new >= vpeak
            if fired:
                spk[ns] = i
                ns += 1
            # double exponential: IPSC and r move with the *old* h and hr, then h and hr decay (the jumps of this
            # step's spikes are added to h below, after the loop, once JD is complete)
            ipsc[i] = ipsc[i] * er + h[i] * dt
            h[i] = h[i] * ed
            r[i] = r[i] * er + hr[i] * dt
            hr[i] = hr[i] * ed + (spike_jump if fired else 0.0)
            for o in range(m):
                z_new[o] += phi[i, o] * r[i]
        spikes_per_step[s] = ns
        if ns > 0:
            # JD = sum(OMEGA(:, index), 2), summed over the spiking neurons in ascending order as MATLAB does
            for q in range(ns):
                j = spk[q]
                spike_counts[j] += 1
                for idx in range(omega_indptr[j], omega_indptr[j + 1]):
                    jd[omega_indices[idx]] += omega_data[idx]
            for i in range(n):
                if jd[i] != 0.0:
                    h[i] = h[i] + jd[i] / trtd
                    jd[i] = 0.0
        for o in range(m):
            z[o] = z_new[o]
            z_out[s, o] = z_new[o]
        if s % step == 0 and learn_lo < s + 1 < learn_hi:
            for o in range(m):
                y[o] = target[s, o]
            rls_step_deferred(P, phi, r, y, variant, kbuf, err, pending)
            n_updates += 1
        for q in range(ns):
            j = spk[q]
            u[j] = u[j] + d
            v[j] = vreset
    rls_flush(P, pending)
    return n_updates
