"""Clock-driven neuron updates with threshold and reset, one population at a time.

Order inside a step follows Brian2's schedule (state update → threshold → synapses → reset). Each
population is updated in two passes: a branch-free pass that integrates every neuron (it vectorises), and
a threshold pass that scans blocks for crossings and only then resets, records and lists spikes.
The arithmetic mirrors Brian2's generated code operation by operation (see ``tests/brian2_reference.py``),
so float64 runs are bit-identical to Brian2's numpy target.

Coefficients arrive either as scalars (homogeneous population) or as per-neuron arrays; :func:`at` reads
both, and numba compiles one specialisation for each.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from snn.engine.kernels.layout import (
    F_ADAPT,
    F_NOISE,
    F_RECORD,
    F_RESET_SUBTRACT,
    F_SPIKING,
    L_CE,
    L_CI,
    L_CW,
    L_CX,
    L_DE,
    L_DI,
    L_DW,
    L_EM,
    L_JUMP,
    L_LIN,
    L_REF,
    L_SUB,
    L_VRESET,
    L_VTH,
    N_IZHIKEVICH,
    N_LINEAR,
    Z_A,
    Z_B,
    Z_BIAS,
    Z_C,
    Z_D,
    Z_DE,
    Z_DI,
    Z_DTMS,
    Z_K0,
    Z_K1,
    Z_K2,
    Z_VPEAK,
)
from snn.rng import normal

_BLOCK = 64  # neurons per threshold-scan block: small enough to stay in L1 between the two looks


def at(x, k):  # pragma: no cover - replaced by the overload inside numba
    """``x[k]`` for a per-neuron array, ``x`` for a scalar (numba-only helper)."""
    return x[k] if isinstance(x, np.ndarray) else x


@overload(at, inline="always")
def _at_overload(x, k):
    if isinstance(x, types.Array):
        return lambda x, k: x[k]
    return lambda x, k: x


def may_cross(values, threshold, inclusive):  # pragma: no cover - replaced by the overload inside numba
    """Whether any of ``values`` reaches a scalar ``threshold`` (vectorised count); always True for arrays."""
    return True


@overload(may_cross, inline="always")
def _may_cross_overload(values, threshold, inclusive):
    if isinstance(threshold, types.Array):
        return lambda values, threshold, inclusive: True

    def scan(values, threshold, inclusive):
        count = 0
        if inclusive:
            for k in range(values.shape[0]):
                count += values[k] >= threshold
        else:
            for k in range(values.shape[0]):
                count += values[k] > threshold
        return count > 0

    return scan


# --- linear models (LIF, adaptive LIF, IF, LI) -------------------------------------------------------------


@njit(cache=True)
def _linear_plain(t, v, ie, ii, ls, lin, em, ce, ci, de, di, ref):
    """Exact step without adaptation or noise. Brian2: ``_v = lin + (((c_e*ge) + (c_i*gi)) + (e_m*v))``;
    ``v`` is held while refractory (``ref`` is 0 for non-spiking models), the currents keep decaying."""
    for k in range(v.shape[0]):
        ge = ie[k]
        gi = ii[k]
        vo = v[k]
        vn = at(lin, k) + (((at(ce, k) * ge) + (at(ci, k) * gi)) + (at(em, k) * vo))
        v[k] = vn if (t - ls[k]) >= at(ref, k) else vo
        ie[k] = at(de, k) * ge
        ii[k] = at(di, k) * gi


@njit(cache=True)
def _linear_general(t, b, v, ie, ii, w, ls, lin, em, ce, ci, cw, cx, de, di, dw, ref, adapt, noisy,
                    nmean, nstd, rng):
    """Exact step with an adaptation current and/or a Gaussian current held over the step."""
    for k in range(v.shape[0]):
        ge = ie[k]
        gi = ii[k]
        vo = v[k]
        acc = ((at(ce, k) * ge) + (at(ci, k) * gi)) + (at(em, k) * vo)
        if adapt:
            acc = acc + at(cw, k) * w[k]
            w[k] = at(dw, k) * w[k]
        if noisy:
            acc = acc + at(cx, k) * (nmean[k] + nstd[k] * normal(rng, b))
        vn = at(lin, k) + acc
        if (t - ls[k]) < at(ref, k):
            vn = vo
        v[k] = vn
        ie[k] = at(de, k) * ge
        ii[k] = at(di, k) * gi


@njit(cache=True)
def _linear_threshold(t, b, g0, v, w, ls, vth, vreset, ref, jump, sub, subtract, adapt, record,
                      fired, nf, spk_step, spk_idx, spk_n):
    """Spike when ``v > v_th`` and not refractory; reset to a value or by subtraction; list and record."""
    n = v.shape[0]
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        if not may_cross(v[s:e], vth, False):
            continue
        for k in range(s, e):
            if v[k] > at(vth, k) and (t - ls[k]) >= at(ref, k):
                if subtract:
                    v[k] = v[k] - at(sub, k)
                else:
                    v[k] = at(vreset, k)
                if adapt:
                    w[k] = w[k] + at(jump, k)
                ls[k] = t
                fired[nf] = g0 + k
                nf += 1
                if record:
                    m = spk_n[b]
                    spk_step[b, m] = t
                    spk_idx[b, m] = g0 + k
                    spk_n[b] = m + 1
    return nf


@njit(cache=True)
def _linear_population(t, b, g0, flags, v, ie, ii, w, ls, nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n,
                       lin, em, ce, ci, cw, cx, de, di, dw, vth, vreset, ref, jump, sub):
    spiking = (flags & F_SPIKING) != 0
    adapt = (flags & F_ADAPT) != 0
    noisy = (flags & F_NOISE) != 0
    if adapt or noisy:
        _linear_general(t, b, v, ie, ii, w, ls, lin, em, ce, ci, cw, cx, de, di, dw, ref, adapt, noisy,
                        nmean, nstd, rng)
    else:
        _linear_plain(t, v, ie, ii, ls, lin, em, ce, ci, de, di, ref)
    if spiking:
        nf = _linear_threshold(t, b, g0, v, w, ls, vth, vreset, ref, jump, sub, (flags & F_RESET_SUBTRACT) != 0,
                               adapt, (flags & F_RECORD) != 0, fired, nf, spk_step, spk_idx, spk_n)
    return nf


@njit(cache=True)
def update_linear(t, b, g0, n, flags, coef, co, cl, v, ie, ii, w, ls, nmean, nstd, rng,
                  fired, nf, spk_step, spk_idx, spk_n):
    """LIF / adaptive LIF / IF / LI population ``[g0, g0 + n)`` of trial ``b`` at step ``t``.

    Returns the new number of entries in ``fired`` (global indices of neurons that spiked this step).
    """
    g1 = g0 + n
    sv, sie, sii, sw, sls = v[g0:g1], ie[g0:g1], ii[g0:g1], w[g0:g1], ls[g0:g1]
    snm, sns = nmean[g0:g1], nstd[g0:g1]
    if cl == 1:
        c = coef[co:co + N_LINEAR]
        return _linear_population(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step,
                                  spk_idx, spk_n, c[L_LIN], c[L_EM], c[L_CE], c[L_CI], c[L_CW], c[L_CX], c[L_DE],
                                  c[L_DI], c[L_DW], c[L_VTH], c[L_VRESET], np.int64(c[L_REF]), c[L_JUMP], c[L_SUB])

    def row(slot):
        return coef[co + slot * cl: co + (slot + 1) * cl]

    return _linear_population(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step,
                              spk_idx, spk_n, row(L_LIN), row(L_EM), row(L_CE), row(L_CI), row(L_CW), row(L_CX),
                              row(L_DE), row(L_DI), row(L_DW), row(L_VTH), row(L_VRESET), row(L_REF), row(L_JUMP),
                              row(L_SUB))


# --- Izhikevich ------------------------------------------------------------------------------------------


@njit(cache=True)
def _izhikevich_step(b, v, u, ie, ii, a, bb, bias, dtms, de, di, k0, k1, k2, noisy, nmean, nstd, rng):
    """Forward Euler in Brian2's operation order:
    ``_u = (dt/ms * (a*((b*v) - u))) + u``;
    ``_v = (dt/ms * ((140 + ((I + (0.04*(v**2))) + (5*v))) - u)) + v`` with ``I = (i_exc + i_inh) + bias``."""
    for k in range(v.shape[0]):
        vo = v[k]
        uo = u[k]
        current = (ie[k] + ii[k]) + at(bias, k)
        if noisy:
            current = current + (nmean[k] + nstd[k] * normal(rng, b))
        dt_ms = at(dtms, k)
        u[k] = (dt_ms * (at(a, k) * ((at(bb, k) * vo) - uo))) + uo
        v[k] = (dt_ms * ((at(k0, k) + ((current + (at(k2, k) * (vo * vo))) + (at(k1, k) * vo))) - uo)) + vo
        ie[k] = at(de, k) * ie[k]
        ii[k] = at(di, k) * ii[k]


@njit(cache=True)
def _izhikevich_threshold(t, b, g0, v, u, ls, vpeak, c, d, record, fired, nf, spk_step, spk_idx, spk_n):
    n = v.shape[0]
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        if not may_cross(v[s:e], vpeak, True):
            continue
        for k in range(s, e):
            if v[k] >= at(vpeak, k):
                v[k] = at(c, k)
                u[k] = u[k] + at(d, k)
                ls[k] = t
                fired[nf] = g0 + k
                nf += 1
                if record:
                    m = spk_n[b]
                    spk_step[b, m] = t
                    spk_idx[b, m] = g0 + k
                    spk_n[b] = m + 1
    return nf


@njit(cache=True)
def _izhikevich_population(t, b, g0, flags, v, u, ie, ii, ls, nmean, nstd, rng, fired, nf, spk_step, spk_idx,
                           spk_n, a, bb, c, d, vpeak, de, di, bias, dtms, k2, k1, k0):
    _izhikevich_step(b, v, u, ie, ii, a, bb, bias, dtms, de, di, k0, k1, k2, (flags & F_NOISE) != 0, nmean, nstd,
                     rng)
    return _izhikevich_threshold(t, b, g0, v, u, ls, vpeak, c, d, (flags & F_RECORD) != 0, fired, nf, spk_step,
                                 spk_idx, spk_n)


@njit(cache=True)
def update_izhikevich(t, b, g0, n, flags, coef, co, cl, v, ie, ii, u, ls, nmean, nstd, rng,
                      fired, nf, spk_step, spk_idx, spk_n):
    """Izhikevich population ``[g0, g0 + n)``; threshold ``v >= v_peak``, reset ``v = c``, ``u += d``."""
    g1 = g0 + n
    sv, su, sie, sii, sls = v[g0:g1], u[g0:g1], ie[g0:g1], ii[g0:g1], ls[g0:g1]
    snm, sns = nmean[g0:g1], nstd[g0:g1]
    if cl == 1:
        x = coef[co:co + N_IZHIKEVICH]
        return _izhikevich_population(t, b, g0, flags, sv, su, sie, sii, sls, snm, sns, rng, fired, nf, spk_step,
                                      spk_idx, spk_n, x[Z_A], x[Z_B], x[Z_C], x[Z_D], x[Z_VPEAK], x[Z_DE], x[Z_DI],
                                      x[Z_BIAS], x[Z_DTMS], x[Z_K2], x[Z_K1], x[Z_K0])

    def row(slot):
        return coef[co + slot * cl: co + (slot + 1) * cl]

    return _izhikevich_population(t, b, g0, flags, sv, su, sie, sii, sls, snm, sns, rng, fired, nf, spk_step,
                                  spk_idx, spk_n, row(Z_A), row(Z_B), row(Z_C), row(Z_D), row(Z_VPEAK), row(Z_DE),
                                  row(Z_DI), row(Z_BIAS), row(Z_DTMS), row(Z_K2), row(Z_K1), row(Z_K0))
