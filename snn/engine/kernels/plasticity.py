"""Event-driven plasticity: spike delivery through plastic projections, and their postsynaptic updates.

Nothing here loops over synapses at every step. Presynaptic state (STDP traces, Tsodyks-Markram ``u`` and
``x``) lives per *group*: one per presynaptic neuron, or one per (presynaptic neuron, delay) where delays
differ per synapse, because all synapses of a group see the same arrivals and so would hold identical
per-synapse state (Brian2 keeps it per synapse). Postsynaptic traces live per target neuron. Every trace
is decayed lazily from the step of its last update: ``x(t) = x(t_last) e^{-(t - t_last) dt / tau}``, the
factor read from a per-projection table of ``e^{-k dt / tau}`` (see ``snn.engine.plastic.decay_tables``).

Per step, as Brian2 schedules ``Synapses`` pathways (``pre`` pathways have order -1, ``post`` order +1): the
loop first delivers every projection's arrivals (:func:`deliver_plastic` for plastic ones: target update
with the weight before this spike, STP, depression from the postsynaptic trace, presynaptic trace jump),
then runs every plastic projection's postsynaptic updates (:func:`post_updates`: potentiation from the
presynaptic traces, postsynaptic trace jump) for the neurons that spiked in this step.
"""

from __future__ import annotations

import math

from numba import njit

from snn.engine.kernels.layout import (
    CH_EXC,
    CH_INH,
    G_U,
    G_X,
    G_X1,
    G_X2,
    PF_FACIL,
    PF_MULT,
    PF_NEAREST,
    PF_STP,
    PI_C0,
    PI_FLAGS,
    PI_G0,
    PI_P0,
    PI_POSTPOP,
    PI_RULE,
    PI_STRIDE,
    PI_WSHIFT,
    PP_A2M,
    PP_A2P,
    PP_A3M,
    PP_A3P,
    PP_RATE_FACIL,
    PP_RATE_REC,
    PP_RATE_X1,
    PP_RATE_X2,
    PP_RATE_Y1,
    PP_RATE_Y2,
    PP_U,
    PP_WMAX,
    PP_WMIN,
    RULE_NONE,
    RULE_PAIR,
    RULE_TRIPLET,
    T_FACIL,
    T_REC,
    T_X1,
    T_X2,
    T_Y1,
    T_Y2,
)


@njit(cache=True, inline="always")
def _jump(x, nearest):
    return 1.0 if nearest else x + 1.0


@njit(cache=True, inline="always")
def _decay(tab, col, dn, rate):
    """exp(-dn * rate), from the projection's table when dn is in it."""
    return tab[col, dn] if dn < tab.shape[1] else math.exp(-dn * rate)


@njit(cache=True, inline="always")
def _clip(w, lo, hi):
    return lo if w < lo else (hi if w > hi else w)


@njit(cache=True)
def _release(dn, g, grp, par, tab, facil):
    """Tsodyks-Markram at an arrival ``dn`` steps after the group's previous one: the fraction of the weight
    released (``r = u x`` after ``u += U (1 - u)``); ``x -= r``."""
    u = grp[g, G_U] * _decay(tab, T_FACIL, dn, par[PP_RATE_FACIL]) if facil else 0.0
    x = 1.0 + (grp[g, G_X] - 1.0) * _decay(tab, T_REC, dn, par[PP_RATE_REC])
    u = u + par[PP_U] * (1.0 - u)
    r = u * x
    grp[g, G_U] = u
    grp[g, G_X] = x - r
    return r


@njit(cache=True)
def _deliver_run(t, lo, hi, g, learn, rule, flags, par, tab, wshift, indices, pw, channel, post0, p0, reset_value,
                 ie, ii, v, ls, grp, grp_last, post_tr, post_last):
    """One group's synapses ``[lo, hi)`` receive an arrival at step t."""
    dn = t - grp_last[g]
    grp_last[g] = t
    stp = (flags & PF_STP) != 0
    r = _release(dn, g, grp, par, tab, (flags & PF_FACIL) != 0) if stp else 1.0
    learning = learn and rule != RULE_NONE
    nearest = (flags & PF_NEAREST) != 0
    mult = (flags & PF_MULT) != 0
    w_min = par[PP_WMIN]
    w_max = par[PP_WMAX]
    x2 = 0.0
    if learning and rule == RULE_TRIPLET:
        x2 = grp[g, G_X2] * _decay(tab, T_X2, dn, par[PP_RATE_X2])
    for s in range(lo, hi):
        j = indices[s]
        k = s + wshift
        w = pw[k]
        amount = w * r if stp else w
        if channel == CH_EXC:
            ie[post0 + j] += amount
        elif channel == CH_INH:
            ii[post0 + j] += amount
        elif not (reset_value[post0 + j] and ls[post0 + j] == t):  # Dirac input, as delivery._apply
            v[post0 + j] += amount
        if learning:
            pi = p0 + j
            y1 = post_tr[pi, 0] * _decay(tab, T_Y1, t - post_last[pi], par[PP_RATE_Y1])
            if rule == RULE_PAIR:
                dw = par[PP_A2M] * y1
                if mult:
                    dw = dw * (w - w_min)
            else:  # triplet: o1 (a2- + a3- r2), r2 taken before this spike's jump
                dw = y1 * (par[PP_A2M] + par[PP_A3M] * x2)
            pw[k] = _clip(w - dw, w_min, w_max)
    if learning:
        grp[g, G_X1] = _jump(grp[g, G_X1] * _decay(tab, T_X1, dn, par[PP_RATE_X1]), nearest)
        if rule == RULE_TRIPLET:
            grp[g, G_X2] = _jump(x2, nearest)
    return hi - lo


@njit(cache=True)
def deliver_plastic(t, b, p, hist, hist_ptr, pre0, indptr, row0, indices, doff, doff0, const_delay, max_delay,
                    channel, post0, reset_value, ie, ii, v, ls, learn, pi_row, par, tab, pw, grp, grp_last, post_tr,
                    post_last):
    """Arrivals of one plastic projection at step t, in Brian2's SpikeQueue order (earliest emission first,
    then presynaptic index). Returns the number of synaptic events."""
    n_slots = hist.shape[1]
    rule = pi_row[PI_RULE]
    flags = pi_row[PI_FLAGS]
    g0 = pi_row[PI_G0]
    stride = pi_row[PI_STRIDE]
    p0 = pi_row[PI_P0]
    wshift = pi_row[PI_WSHIFT]
    events = 0
    if const_delay >= 0:
        src = (t - const_delay) % n_slots
        for f in range(hist_ptr[b, src, p], hist_ptr[b, src, p + 1]):
            j = hist[b, src, f] - pre0
            lo = indptr[row0 + j]
            hi = indptr[row0 + j + 1]
            if hi > lo:
                events += _deliver_run(t, lo, hi, g0 + j, learn, rule, flags, par, tab, wshift, indices, pw, channel,
                                       post0, p0, reset_value, ie, ii, v, ls, grp, grp_last, post_tr, post_last)
        return events
    width = max_delay + 2
    for d in range(max_delay, -1, -1):
        src = (t - d) % n_slots
        for f in range(hist_ptr[b, src, p], hist_ptr[b, src, p + 1]):
            j = hist[b, src, f] - pre0
            base = indptr[row0 + j]
            o = doff0 + j * width + d
            lo = base + doff[o]
            hi = base + doff[o + 1]
            if hi > lo:
                events += _deliver_run(t, lo, hi, g0 + j * stride + d, learn, rule, flags, par, tab, wshift, indices,
                                       pw, channel, post0, p0, reset_value, ie, ii, v, ls, grp, grp_last, post_tr,
                                       post_last)
    return events


@njit(cache=True)
def post_updates(t, b, slot, hist, hist_ptr, p_start, pi_row, par, tab, pw, grp, grp_last, post_tr, post_last,
                 csc_ptr, csc_syn, csc_grp):
    """Potentiation at the synapses onto every neuron of the target population that spiked in step t, then
    the postsynaptic trace jumps (o2 is used before its own jump, as the triplet rule requires)."""
    rule = pi_row[PI_RULE]
    flags = pi_row[PI_FLAGS]
    nearest = (flags & PF_NEAREST) != 0
    mult = (flags & PF_MULT) != 0
    pop = pi_row[PI_POSTPOP]
    post0 = p_start[pop]
    p0 = pi_row[PI_P0]
    c0 = pi_row[PI_C0]
    w_min = par[PP_WMIN]
    w_max = par[PP_WMAX]
    a2p = par[PP_A2P]
    a3p = par[PP_A3P]
    rate_x1 = par[PP_RATE_X1]
    for f in range(hist_ptr[b, slot, pop], hist_ptr[b, slot, pop + 1]):
        j = hist[b, slot, f] - post0
        pi = p0 + j
        dn = t - post_last[pi]
        post_last[pi] = t
        y1 = post_tr[pi, 0] * _decay(tab, T_Y1, dn, par[PP_RATE_Y1])
        y2 = post_tr[pi, 1] * _decay(tab, T_Y2, dn, par[PP_RATE_Y2]) if rule == RULE_TRIPLET else 0.0
        gain = a2p + a3p * y2
        for c in range(csc_ptr[c0 + j], csc_ptr[c0 + j + 1]):
            k = csc_syn[c]
            g = csc_grp[c]
            x1 = grp[g, G_X1] * _decay(tab, T_X1, t - grp_last[g], rate_x1)
            w = pw[k]
            dw = gain * x1
            if mult:
                dw = dw * (w_max - w)
            pw[k] = _clip(w + dw, w_min, w_max)
        post_tr[pi, 0] = _jump(y1, nearest)
        if rule == RULE_TRIPLET:
            post_tr[pi, 1] = _jump(y2, nearest)
