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
    C_BIAS,
    C_DE,
    C_DI,
    C_DT,
    C_K,
    C_KE,
    C_KI,
    C_KL,
    C_NK,
    C_REF,
    C_VRESET,
    C_VTH,
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
from snn.engine.kernels.vexp import vexp
from snn.rng import normal

_BLOCK = 64  # neurons per threshold-scan block: small enough to stay in L1 between the two looks


def at(x, k):  # pragma: no cover - replaced by the overload inside numba
    """``x[k]`` for a per-neuron coefficient array, ``x`` itself for a scalar (numba-only helper)."""
    return x[k] if isinstance(x, np.ndarray) else x


@overload(at, inline="always")
def _at_overload(x, k):
    if isinstance(x, types.Array):
        return lambda x, k: x[k]
    return lambda x, k: x


def may_cross(values, start, stop, threshold, inclusive):  # pragma: no cover - replaced by the overload
    """Whether any of ``values[start:stop]`` reaches a scalar ``threshold``; always True for per-neuron ones.

    The count is branch-free so it vectorises; unsigned indices spare numba's negative-index wraparound
    (which would stop the vectoriser) without creating an array view per block.
    """
    return True


@overload(may_cross, inline="always")
def _may_cross_overload(values, start, stop, threshold, inclusive):
    if isinstance(threshold, types.Array):
        return lambda values, start, stop, threshold, inclusive: True

    def scan(values, start, stop, threshold, inclusive):
        count = 0
        base = np.uint64(start)
        if inclusive:
            for k in range(stop - start):
                count += values[base + np.uint64(k)] >= threshold
        else:
            for k in range(stop - start):
                count += values[base + np.uint64(k)] > threshold
        return count > 0

    return scan


def zero_like(x):  # pragma: no cover - replaced by the overload inside numba
    """A zero of ``x``'s float type (numba-only helper)."""
    return 0 * x


@overload(zero_like, inline="always")
def _zero_like_overload(x):
    if x == types.float32:
        return lambda x: np.float32(0.0)
    return lambda x: np.float64(0.0)


@njit(cache=True, inline="always")
def held(vn, vo, t32, last, ref):
    """``vn``, or ``vo`` while refractory (``t - last < ref``; step counts are int32, as ``ls``).

    Written as a select between two computed values (``vo + 0`` equals ``vo``; only a -0.0 becomes +0.0) so that
    LLVM emits a vector blend: ``vn if active else vo`` with ``vo`` just loaded from the same slot becomes a masked
    store (vmaskmovps), which is microcoded on AMD Zen and made the LIF update ~3x slower there (measured here).
    The int32 difference keeps float32 populations at 8 lanes (an int64 one splits them into 4-lane halves).
    """
    return vn if np.int32(t32 - last) >= ref else vo + zero_like(vo)


@njit(cache=True, inline="always")
def emit(t, b, g, record, fired, nf, spk_step, spk_idx, spk_n):
    """List neuron g as spiking in this step (for delivery) and, if recorded, append (step, g) to the buffer."""
    fired[nf] = g
    if record:
        m = spk_n[b]
        spk_step[b, m] = t
        spk_idx[b, m] = g
        spk_n[b] = m + 1
    return nf + 1


# --- linear models (LIF, adaptive LIF, IF, LI) -------------------------------------------------------------
# The arrays passed below are the population's own slices (index 0 = its first neuron): simple contiguous
# loops that LLVM vectorises; the population loop around them runs once per step.


@njit(cache=True)
def _integrate_plain(t, v, ie, ii, ls, lin, em, ce, ci, de, di, ref):
    """Exact step without adaptation or noise. Brian2: ``_v = lin + (((c_e*ge) + (c_i*gi)) + (e_m*v))``;
    ``v`` is held while refractory (``ref`` is 0 for non-spiking models), the currents keep decaying."""
    t32 = np.int32(t)
    for k in range(v.shape[0]):
        ge = ie[k]
        gi = ii[k]
        vo = v[k]
        vn = at(lin, k) + (((at(ce, k) * ge) + (at(ci, k) * gi)) + (at(em, k) * vo))
        v[k] = held(vn, vo, t32, ls[k], at(ref, k))
        ie[k] = at(de, k) * ge
        ii[k] = at(di, k) * gi


@njit(cache=True)
def _integrate_general(t, b, v, ie, ii, w, ls, nmean, nstd, rng, adapt, noisy, lin, em, ce, ci, cw, cx, de, di, dw,
                       ref):
    """Exact step with a spike-triggered adaptation current and/or a Gaussian current held over the step."""
    t32 = np.int32(t)
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
        v[k] = held(vn, vo, t32, ls[k], at(ref, k))
        ie[k] = at(de, k) * ge
        ii[k] = at(di, k) * gi


@njit(cache=True)
def _threshold_linear(t, b, g0, v, w, ls, vth, vreset, ref, jump, sub, subtract, adapt, record,
                      fired, nf, spk_step, spk_idx, spk_n):
    """Spike where ``v > v_th`` and not refractory, reset to a value or by subtraction, list and record.
    Blocks without a crossing (most of them) cost one vectorised count."""
    n = v.shape[0]
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        if not may_cross(v, s, e, vth, False):
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
                nf = emit(t, b, g0 + k, record, fired, nf, spk_step, spk_idx, spk_n)
    return nf


@njit(cache=True)
def _linear(t, b, g0, flags, v, ie, ii, w, ls, nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n,
            lin, em, ce, ci, cw, cx, de, di, dw, vth, vreset, ref, jump, sub):
    adapt = (flags & F_ADAPT) != 0
    noisy = (flags & F_NOISE) != 0
    if adapt or noisy:
        _integrate_general(t, b, v, ie, ii, w, ls, nmean, nstd, rng, adapt, noisy, lin, em, ce, ci, cw, cx, de, di,
                           dw, ref)
    else:
        _integrate_plain(t, v, ie, ii, ls, lin, em, ce, ci, de, di, ref)
    if not flags & F_SPIKING:
        return nf
    return _threshold_linear(t, b, g0, v, w, ls, vth, vreset, ref, jump, sub, (flags & F_RESET_SUBTRACT) != 0,
                             adapt, (flags & F_RECORD) != 0, fired, nf, spk_step, spk_idx, spk_n)


@njit(cache=True)
def update_linear(t, b, g0, n, flags, coef, co, cl, v, ie, ii, w, ls, nmean, nstd, rng,
                  fired, nf, spk_step, spk_idx, spk_n):
    """LIF / adaptive LIF / IF / LI population ``[g0, g0 + n)`` of trial ``b`` at step ``t``.

    Returns the new number of entries in ``fired`` (global indices of neurons that spiked this step).
    """
    g1 = g0 + n
    sv, sie, sii, sw, sls, snm, sns = v[g0:g1], ie[g0:g1], ii[g0:g1], w[g0:g1], ls[g0:g1], nmean[g0:g1], nstd[g0:g1]
    if cl == 1:
        x = co
        return _linear(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step, spk_idx, spk_n,
                       coef[x + L_LIN], coef[x + L_EM], coef[x + L_CE], coef[x + L_CI], coef[x + L_CW],
                       coef[x + L_CX], coef[x + L_DE], coef[x + L_DI], coef[x + L_DW], coef[x + L_VTH],
                       coef[x + L_VRESET], np.int32(coef[x + L_REF]), coef[x + L_JUMP], coef[x + L_SUB])

    def row(slot):
        return coef[co + slot * cl: co + (slot + 1) * cl]

    return _linear(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step, spk_idx, spk_n,
                   row(L_LIN), row(L_EM), row(L_CE), row(L_CI), row(L_CW), row(L_CX), row(L_DE), row(L_DI),
                   row(L_DW), row(L_VTH), row(L_VRESET), row(L_REF), row(L_JUMP), row(L_SUB))


# --- conductance-based LIF ---------------------------------------------------------------------------------


@njit(cache=True, inline="always", error_model="numpy")
def _conductance_v(vo, ge, gi, drive, k, ke, ki, kl, nk, dt):
    """Exponential Euler in Brian2's operation order (``method='exponential_euler'``), with the conductances
    held at their start-of-step values: ``B = (-1/tau_m - g_e/tau_m) - g_i/tau_m``,
    ``A/B = (v_rest/tau_m + ((bias/tau_m + e_exc g_e/tau_m) + e_inh g_i/tau_m)) / B``,
    ``v <- -A/B + (A/B + v) e^{B dt}``. ``e^{B dt}`` is :func:`~snn.engine.kernels.vexp.vexp` (within 1 ulp
    of numpy's exp), so the loops around this vectorise."""
    rate = (nk + (k * (-ge))) - (k * gi)
    ba = (kl + (((k * drive) + (ke * ge)) + (ki * gi))) / rate
    return (-ba) + ((ba + vo) * vexp(dt * rate))


# error_model="numpy": no ZeroDivisionError branch (the rate is always < 0), so the loops vectorise
@njit(cache=True, error_model="numpy")
def _integrate_conductance(t, v, ge_, gi_, ls, k, ke, ki, kl, nk, dt, de, di, bias, ref):
    """One step of every neuron (see :func:`_conductance_v`); ``v`` is held while refractory, the
    conductances decay exactly."""
    t32 = np.int32(t)
    for j in range(v.shape[0]):
        ge = ge_[j]
        gi = gi_[j]
        vo = v[j]
        vn = _conductance_v(vo, ge, gi, at(bias, j), at(k, j), at(ke, j), at(ki, j), at(kl, j), at(nk, j), at(dt, j))
        v[j] = held(vn, vo, t32, ls[j], at(ref, j))
        ge_[j] = at(de, j) * ge
        gi_[j] = at(di, j) * gi


@njit(cache=True, error_model="numpy")
def _integrate_conductance_noisy(t, b, v, ge_, gi_, ls, nmean, nstd, rng, k, ke, ki, kl, nk, dt, de, di, bias, ref):
    """As :func:`_integrate_conductance` with a Gaussian current added to ``bias`` (a separate loop: the
    random draws would stop the vectoriser)."""
    t32 = np.int32(t)
    for j in range(v.shape[0]):
        ge = ge_[j]
        gi = gi_[j]
        vo = v[j]
        drive = at(bias, j) + (nmean[j] + nstd[j] * normal(rng, b))
        vn = _conductance_v(vo, ge, gi, drive, at(k, j), at(ke, j), at(ki, j), at(kl, j), at(nk, j), at(dt, j))
        v[j] = held(vn, vo, t32, ls[j], at(ref, j))
        ge_[j] = at(de, j) * ge
        gi_[j] = at(di, j) * gi


@njit(cache=True)
def _conductance(t, b, g0, flags, v, ie, ii, w, ls, nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n,
                 k, ke, ki, kl, nk, dt, de, di, vth, vreset, ref, bias):
    if flags & F_NOISE:
        _integrate_conductance_noisy(t, b, v, ie, ii, ls, nmean, nstd, rng, k, ke, ki, kl, nk, dt, de, di, bias, ref)
    else:
        _integrate_conductance(t, v, ie, ii, ls, k, ke, ki, kl, nk, dt, de, di, bias, ref)
    return _threshold_linear(t, b, g0, v, w, ls, vth, vreset, ref, vth, vth, False, False, (flags & F_RECORD) != 0,
                             fired, nf, spk_step, spk_idx, spk_n)


@njit(cache=True)
def update_conductance(t, b, g0, n, flags, coef, co, cl, v, ie, ii, w, ls, nmean, nstd, rng,
                       fired, nf, spk_step, spk_idx, spk_n):
    """Conductance-based LIF population ``[g0, g0 + n)`` of trial ``b`` at step ``t`` (``ie``/``ii`` hold the
    conductances); returns the new ``fired`` count."""
    g1 = g0 + n
    sv, sie, sii, sw, sls, snm, sns = v[g0:g1], ie[g0:g1], ii[g0:g1], w[g0:g1], ls[g0:g1], nmean[g0:g1], nstd[g0:g1]
    if cl == 1:
        x = co
        return _conductance(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step, spk_idx,
                            spk_n, coef[x + C_K], coef[x + C_KE], coef[x + C_KI], coef[x + C_KL], coef[x + C_NK],
                            coef[x + C_DT], coef[x + C_DE], coef[x + C_DI], coef[x + C_VTH], coef[x + C_VRESET],
                            np.int32(coef[x + C_REF]), coef[x + C_BIAS])

    def row(slot):
        return coef[co + slot * cl: co + (slot + 1) * cl]

    return _conductance(t, b, g0, flags, sv, sie, sii, sw, sls, snm, sns, rng, fired, nf, spk_step, spk_idx, spk_n,
                        row(C_K), row(C_KE), row(C_KI), row(C_KL), row(C_NK), row(C_DT), row(C_DE), row(C_DI),
                        row(C_VTH), row(C_VRESET), row(C_REF), row(C_BIAS))


# --- Izhikevich ------------------------------------------------------------------------------------------


@njit(cache=True)
def _integrate_izhikevich(b, v, u, ie, ii, nmean, nstd, rng, noisy, a, bb, bias, dtms, de, di, k2, k1, k0):
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
def _threshold_izhikevich(t, b, g0, v, u, ls, vpeak, c, d, record, fired, nf, spk_step, spk_idx, spk_n):
    """``v >= v_peak`` → spike, ``v = c``, ``u += d``."""
    n = v.shape[0]
    for s in range(0, n, _BLOCK):
        e = min(n, s + _BLOCK)
        if not may_cross(v, s, e, vpeak, True):
            continue
        for k in range(s, e):
            if v[k] >= at(vpeak, k):
                v[k] = at(c, k)
                u[k] = u[k] + at(d, k)
                ls[k] = t
                nf = emit(t, b, g0 + k, record, fired, nf, spk_step, spk_idx, spk_n)
    return nf


@njit(cache=True)
def _izhikevich(t, b, g0, flags, v, u, ie, ii, ls, nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n,
                a, bb, c, d, vpeak, de, di, bias, dtms, k2, k1, k0):
    _integrate_izhikevich(b, v, u, ie, ii, nmean, nstd, rng, (flags & F_NOISE) != 0, a, bb, bias, dtms, de, di,
                          k2, k1, k0)
    return _threshold_izhikevich(t, b, g0, v, u, ls, vpeak, c, d, (flags & F_RECORD) != 0, fired, nf, spk_step,
                                 spk_idx, spk_n)


@njit(cache=True)
def update_izhikevich(t, b, g0, n, flags, coef, co, cl, v, ie, ii, u, ls, nmean, nstd, rng,
                      fired, nf, spk_step, spk_idx, spk_n):
    """Izhikevich population ``[g0, g0 + n)`` of trial ``b`` at step ``t``; returns the new ``fired`` count."""
    g1 = g0 + n
    sv, su, sie, sii, sls, snm, sns = v[g0:g1], u[g0:g1], ie[g0:g1], ii[g0:g1], ls[g0:g1], nmean[g0:g1], nstd[g0:g1]
    if cl == 1:
        x = co
        return _izhikevich(t, b, g0, flags, sv, su, sie, sii, sls, snm, sns, rng, fired, nf, spk_step, spk_idx,
                           spk_n, coef[x + Z_A], coef[x + Z_B], coef[x + Z_C], coef[x + Z_D], coef[x + Z_VPEAK],
                           coef[x + Z_DE], coef[x + Z_DI], coef[x + Z_BIAS], coef[x + Z_DTMS], coef[x + Z_K2],
                           coef[x + Z_K1], coef[x + Z_K0])

    def row(slot):
        return coef[co + slot * cl: co + (slot + 1) * cl]

    return _izhikevich(t, b, g0, flags, sv, su, sie, sii, sls, snm, sns, rng, fired, nf, spk_step, spk_idx, spk_n,
                       row(Z_A), row(Z_B), row(Z_C), row(Z_D), row(Z_VPEAK), row(Z_DE), row(Z_DI), row(Z_BIAS),
                       row(Z_DTMS), row(Z_K2), row(Z_K1), row(Z_K0))
