"""Numba kernel of the bit-exact fixed-point LIF emulation of an FPGA design (:mod:`hardware.fpga`).

Every value is an int64 *code* ``q`` of an ``ap_fixed<W, I, Q, O>`` format with ``F = W - I`` fraction bits
(value ``q · 2**-F``). :func:`requantize` is ap_fixed's assignment of a wider exact value to a format: the code
``x`` with ``F + shift`` fraction bits is rounded to ``F`` bits by the rounding mode ``Q`` and then brought into
range by the overflow mode ``O``, the rules of :meth:`hardware.fixed_point.ApFixed.quantize_raw` (checked against it
on a dense grid in ``tests/test_fpga_emulation.py``). Modes are passed as indices into
:data:`hardware.fixed_point.ROUNDING` and :data:`~hardware.fixed_point.OVERFLOW`.

A format travels as one row ``(width, frac, signed, rounding, overflow)`` of the int64 array ``fmt`` (rows
:data:`WEIGHT`, :data:`STATE`, :data:`ACCUM`, :data:`COEF`). The datapath of one step is written out in
:mod:`hardware.fpga`'s docstring; loops run in a fixed order and integer arithmetic is exact, so results do not
depend on the number of numba threads; trials run in parallel (``prange``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: rows of the ``fmt`` array
WEIGHT, STATE, ACCUM, COEF = 0, 1, 2, 3
#: columns of a ``fmt`` row
WIDTH, FRAC, SIGNED, ROUND, OVERFLOW = 0, 1, 2, 3, 4

# indices into hardware.fixed_point.ROUNDING / OVERFLOW
TRN, TRN_ZERO, RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV = 0, 1, 2, 3, 4, 5, 6
WRAP, SAT, SAT_ZERO = 0, 1, 2


@njit(cache=True, inline="always")
def requantize(x: int, shift: int, rounding: int, overflow: int, width: int, signed: int) -> int:
    """``x`` (a code with ``F + shift`` fraction bits) as a code with ``F`` fraction bits of the format
    ``(width, signed, rounding, overflow)``. ``shift <= 0``: an exact left shift, then overflow only."""
    if shift > 0:
        f = x >> shift  # floor (arithmetic shift)
        r = x - (f << shift)  # 0 <= r < 2**shift
        half = np.int64(1) << (shift - 1)
        if rounding == TRN:
            q = f
        elif rounding == TRN_ZERO:
            q = f + 1 if (r != 0 and x < 0) else f
        elif rounding == RND:
            q = f + 1 if r >= half else f
        elif rounding == RND_ZERO:
            q = f + 1 if (r > half or (r == half and x < 0)) else f
        elif rounding == RND_MIN_INF:
            q = f + 1 if r > half else f
        elif rounding == RND_INF:
            q = f + 1 if (r > half or (r == half and x > 0)) else f
        else:  # RND_CONV: ties to even
            q = f + 1 if (r > half or (r == half and (f & 1) == 1)) else f
    else:
        q = x << (-shift)
    if signed:
        lo = -(np.int64(1) << (width - 1))
        hi = (np.int64(1) << (width - 1)) - 1
    else:
        lo = np.int64(0)
        hi = (np.int64(1) << width) - 1
    if q < lo or q > hi:
        if overflow == SAT:
            q = lo if q < lo else hi
        elif overflow == SAT_ZERO:
            q = np.int64(0)
        else:  # WRAP: the low `width` bits, two's complement when signed
            span = np.int64(1) << width
            q = q & (span - 1)
            if signed and q > hi:
                q -= span
    return q


@njit(cache=True)
def requantize_array(x: np.ndarray, shift: int, rounding: int, overflow: int, width: int, signed: int) -> np.ndarray:
    """:func:`requantize` of every element of the int64 array ``x`` (for the tests)."""
    out = np.empty_like(x)
    for k in range(x.shape[0]):
        out[k] = requantize(x[k], shift, rounding, overflow, width, signed)
    return out


@njit(cache=True, inline="always")
def _to(fmt: np.ndarray, row: int, x: int, shift: int) -> int:
    return requantize(x, shift, fmt[row, ROUND], fmt[row, OVERFLOW], fmt[row, WIDTH], fmt[row, SIGNED])


@njit(cache=True)
def fpga_trial(x: np.ndarray, w_in: np.ndarray, w_rec: np.ndarray, alpha_v: np.ndarray, alpha_i: np.ndarray,
               coupling: np.ndarray, bias: np.ndarray, theta: np.ndarray, v_reset: np.ndarray,
               subtract: np.ndarray, fmt: np.ndarray, v: np.ndarray, i: np.ndarray,
               spikes: np.ndarray, v_out: np.ndarray, i_out: np.ndarray) -> None:
    """One trial. ``x`` (T, Nin) input spikes (0/1); ``w_in`` (Nin, N), ``w_rec`` (N, N) weight codes [pre, post];
    per neuron (N,): ``alpha_v``, ``alpha_i``, ``coupling`` (COEF codes), ``bias``, ``theta``, ``v_reset`` (STATE
    codes), ``subtract`` (bool); ``fmt`` (4, 5) the formats. State ``v``, ``i`` (N,) STATE codes, updated in place.
    Outputs: ``spikes`` (T, N) bool, ``v_out``, ``i_out`` (T, N) int64."""
    n_steps, n_in = x.shape
    n = v.shape[0]
    fw, fs, fa, fc = fmt[WEIGHT, FRAC], fmt[STATE, FRAC], fmt[ACCUM, FRAC], fmt[COEF, FRAC]
    fm = max(fa, fw)  # fraction bits of acc + w
    da, dw = fm - fa, fm - fw
    fm2 = max(fs, fa)  # fraction bits of i + acc
    ds, dacc = fm2 - fs, fm2 - fa
    active = np.zeros(n_in, np.int64)
    fired_idx = np.zeros(n, np.int64)
    for t in range(n_steps):
        n_fired = 0
        for k in range(n):
            vk = v[k]
            ik = i[k]
            pv = _to(fmt, STATE, alpha_v[k] * vk, fc)  # alpha_v * v -> state
            pi = _to(fmt, STATE, coupling[k] * ik, fc)  # c * i -> state
            vn = _to(fmt, STATE, pv + pi + bias[k], 0)  # exact sum, state overflow
            i[k] = _to(fmt, STATE, alpha_i[k] * ik, fc)  # alpha_i * i -> state
            s = vn > theta[k]
            if s:
                if subtract[k]:
                    vn = _to(fmt, STATE, vn - theta[k] + v_reset[k], 0)
                else:
                    vn = v_reset[k]
                fired_idx[n_fired] = k
                n_fired += 1
            v[k] = vn
            spikes[t, k] = s
            v_out[t, k] = vn
        n_act = 0
        for p in range(n_in):
            if x[t, p] != 0:
                active[n_act] = p
                n_act += 1
        if n_act + n_fired > 0:
            for k in range(n):
                acc = np.int64(0)
                for a in range(n_act):
                    acc = _to(fmt, ACCUM, (acc << da) + (w_in[active[a], k] << dw), da)
                for a in range(n_fired):
                    acc = _to(fmt, ACCUM, (acc << da) + (w_rec[fired_idx[a], k] << dw), da)
                i[k] = _to(fmt, STATE, (i[k] << ds) + (acc << dacc), ds)
        for k in range(n):
            i_out[t, k] = i[k]


@njit(cache=True, parallel=True)
def fpga_batch(x: np.ndarray, w_in: np.ndarray, w_rec: np.ndarray, alpha_v: np.ndarray, alpha_i: np.ndarray,
               coupling: np.ndarray, bias: np.ndarray, theta: np.ndarray, v_reset: np.ndarray,
               subtract: np.ndarray, fmt: np.ndarray, v: np.ndarray, i: np.ndarray,
               spikes: np.ndarray, v_out: np.ndarray, i_out: np.ndarray) -> None:
    """All trials of ``x`` (B, T, Nin) in parallel, each an independent :func:`fpga_trial` from its own state;
    state and output arrays have the leading trial axis B."""
    for b in prange(x.shape[0]):
        fpga_trial(x[b], w_in, w_rec, alpha_v, alpha_i, coupling, bias, theta, v_reset, subtract, fmt, v[b], i[b],
                   spikes[b], v_out[b], i_out[b])
