"""Event-driven spike delivery through CSR rows, in Brian2's order.

At the end of step t every projection, in the order the network lists them, delivers the presynaptic
spikes that are due: those emitted in step ``t - d`` for a synapse with delay ``d``. The engine keeps the
last ``D = max_delay + 1`` steps of emitted spikes (a history ring of spike lists) instead of a ring of
summed inputs, so each postsynaptic variable receives its inputs one by one in exactly the order Brian2's
``SpikeQueue`` applies them (earlier emission first, then presynaptic index, then synapse order):
float64 runs are bit-identical, and no per-neuron buffer pass is needed.
Rows with per-synapse delays are stored sorted by delay, with per-row delay offsets, so the synapses due
from one spike at each step are one contiguous run of its row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from snn.engine.kernels.layout import CH_DELTA, CH_EXC, CH_INH
from snn.rng import normal


@njit(cache=True)
def _apply(s0, s1, indices, weights, channel, post0, t, reset_value, ie, ii, v, ls):
    if channel == CH_EXC:
        for s in range(s0, s1):
            ie[post0 + indices[s]] += weights[s]
    elif channel == CH_INH:
        for s in range(s0, s1):
            ii[post0 + indices[s]] += weights[s]
    else:
        # a Dirac input arriving in the step its target spikes is overwritten by a reset to a value, because
        # Brian2 runs synapses before resets (the reset already happened here, so such inputs are skipped)
        for s in range(s0, s1):
            j = post0 + indices[s]
            if not (reset_value[j] and ls[j] == t):
                v[j] += weights[s]


@njit(cache=True)
def deliver_rows(t, hist, b, src, f0, f1, pre0, indptr, row0, indices, weights, channel, post0, reset_value,
                 ie, ii, v, ls):
    """Deliver whole rows for the spikes ``hist[b, src, f0:f1]`` (global indices; the pre population starts at
    pre0, the projection's rows at ``indptr[row0]``)."""
    events = 0
    for f in range(f0, f1):
        i = row0 + hist[b, src, f] - pre0
        s0 = indptr[i]
        s1 = indptr[i + 1]
        events += s1 - s0
        _apply(s0, s1, indices, weights, channel, post0, t, reset_value, ie, ii, v, ls)
    return events


@njit(cache=True)
def deliver_delayed(t, b, p, max_delay, hist, hist_ptr, pre0, indptr, row0, indices, weights, doff, doff0, channel,
                    post0, reset_value, ie, ii, v, ls):
    """Per-synapse delays: for every spike of the last ``max_delay`` steps (earliest emission first, then
    presynaptic index, as Brian2's SpikeQueue), deliver the synapses whose delay has just elapsed.

    Rows are sorted by delay; ``doff`` (see ``compile.delay_offsets``) gives, per row and delay, where that
    delay's synapses start, so each (spike, delay) costs two adjacent loads plus the synapses it delivers.
    """
    n_slots = hist.shape[1]
    stride = max_delay + 2
    now = t % n_slots
    events = 0
    for d in range(max_delay, -1, -1):
        src = now - d if now >= d else now - d + n_slots  # (t - d) mod n_slots without a division per slot
        f0 = hist_ptr[b, src, p]
        f1 = hist_ptr[b, src, p + 1]
        for f in range(f0, f1):
            j = hist[b, src, f] - pre0
            base = indptr[row0 + j]
            o = doff0 + j * stride + d
            lo = base + doff[o]
            hi = base + doff[o + 1]
            if hi == lo:
                continue
            events += hi - lo
            if channel == CH_DELTA:
                _apply(lo, hi, indices, weights, channel, post0, t, reset_value, ie, ii, v, ls)
            else:  # the common case, written out: a call per (spike, delay) would cost more than its synapses
                target = ie if channel == CH_EXC else ii
                for s in range(lo, hi):
                    target[post0 + indices[s]] += weights[s]
    return events


@njit(cache=True)
def _read_add(s0, s1, indices, weights, std, rng, b, acc, seen, touched, n_touched):
    """Add synapses ``s0:s1`` (each with fresh noise of ``std``) into the per-neuron sums ``acc``."""
    for s in range(s0, s1):
        j = indices[s]
        if seen[j] == 0:
            seen[j] = 1
            acc[j] = 0.0
            touched[n_touched] = j
            n_touched += 1
        x = weights[s]
        if std > 0.0:
            x += std * normal(rng, b)
        acc[j] += x
    return n_touched


@njit(cache=True)
def _read_convert(n_touched, par, acc, seen, touched, channel, post0, t, reset_value, ie, ii, v, ls):
    """Each touched neuron's sum, rounded to the ADC step and clipped, as one input; the slots are cleared."""
    step = par[1]
    clip = par[2]
    for k in range(n_touched):
        j = touched[k]
        seen[j] = 0
        x = acc[j]
        if step > 0.0:
            x = np.rint(x / step) * step
        x = min(max(x, -clip), clip)
        g = post0 + j
        if channel == CH_EXC:
            ie[g] += x
        elif channel == CH_INH:
            ii[g] += x
        elif not (reset_value[g] and ls[g] == t):  # a Dirac input: as _apply
            v[g] += x


@njit(cache=True)
def deliver_read(t, hist, b, src, f0, f1, pre0, indptr, row0, indices, weights, channel, post0, reset_value,
                 ie, ii, v, ls, par, rng, acc, seen, touched):
    """Deliver the spikes ``hist[b, src, f0:f1]`` through an analog read (:class:`snn.model.AnalogRead`).

    ``par`` = (noise std, ADC step, ADC clip). Every synapse adds ``w + std · N(0, 1)`` into ``acc`` (one slot per
    postsynaptic neuron; ``seen`` marks the slots in use, ``touched`` lists them in first-touch order); then each
    touched neuron gets its sum, rounded to the ADC step and clipped, as one input, and its slot is cleared.
    """
    events = 0
    n_touched = 0
    for f in range(f0, f1):
        i = row0 + hist[b, src, f] - pre0
        s0 = indptr[i]
        s1 = indptr[i + 1]
        events += s1 - s0
        n_touched = _read_add(s0, s1, indices, weights, par[0], rng, b, acc, seen, touched, n_touched)
    _read_convert(n_touched, par, acc, seen, touched, channel, post0, t, reset_value, ie, ii, v, ls)
    return events


@njit(cache=True)
def deliver_delayed_read(t, b, p, max_delay, hist, hist_ptr, pre0, indptr, row0, indices, weights, doff, doff0,
                         channel, post0, reset_value, ie, ii, v, ls, par, rng, acc, seen, touched):
    """:func:`deliver_delayed`'s synapses (per-synapse delays) through an analog read: every synapse due now, from
    any delay, adds into one per-step sum per neuron, which is converted once (as :func:`deliver_read`)."""
    n_slots = hist.shape[1]
    stride = max_delay + 2
    now = t % n_slots
    events = 0
    n_touched = 0
    for d in range(max_delay, -1, -1):
        src = now - d if now >= d else now - d + n_slots
        for f in range(hist_ptr[b, src, p], hist_ptr[b, src, p + 1]):
            j = hist[b, src, f] - pre0
            base = indptr[row0 + j]
            o = doff0 + j * stride + d
            lo = base + doff[o]
            hi = base + doff[o + 1]
            events += hi - lo
            n_touched = _read_add(lo, hi, indices, weights, par[0], rng, b, acc, seen, touched, n_touched)
    _read_convert(n_touched, par, acc, seen, touched, channel, post0, t, reset_value, ie, ii, v, ls)
    return events
