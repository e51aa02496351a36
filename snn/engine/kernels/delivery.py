"""Event-driven spike delivery through CSR rows, in Brian2's order.

At the end of step t every projection, in the order the network lists them, delivers the presynaptic
spikes that are due: those emitted in step ``t - d`` for a synapse with delay ``d``. The engine keeps the
last ``D = max_delay + 1`` steps of emitted spikes (a history ring of spike lists) instead of a ring of
summed inputs, so each postsynaptic variable receives its inputs one by one in exactly the order Brian2's
``SpikeQueue`` applies them (earlier emission first, then presynaptic index, then synapse order):
float64 runs are bit-identical, and no per-neuron buffer pass is needed.
Rows with per-synapse delays are stored sorted by delay, so the synapses due from one spike at each step
are the next contiguous run of its row; a cursor per (projection, listed spike) keeps the position.
"""

from __future__ import annotations

from numba import njit

from snn.engine.kernels.layout import CH_DELTA, CH_EXC, CH_INH


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
def deliver_delayed(t, b, p, max_delay, hist, hist_ptr, cursor, col, pre0, indptr, row0, indices, weights, delays,
                    dshift, channel, post0, reset_value, ie, ii, v, ls):
    """Per-synapse delays: for every spike of the last ``max_delay`` steps (earliest emission first, then
    presynaptic index, as Brian2's SpikeQueue), deliver the synapses whose delay has just elapsed.

    Rows are sorted by delay, and the delay a spike reaches grows by one per step, so ``cursor[b, slot, col + f]``
    (the next undelivered synapse of the f-th spike listed in that slot) only moves forward: each visit costs
    O(1) plus the synapses it delivers. A new spike (d == 0) starts at its row's beginning.
    """
    n_slots = hist.shape[1]
    now = t % n_slots
    events = 0
    for d in range(max_delay, -1, -1):
        src = now - d if now >= d else now - d + n_slots  # (t - d) mod n_slots without a division per slot
        f0 = hist_ptr[b, src, p]
        f1 = hist_ptr[b, src, p + 1]
        for f in range(f0, f1):
            i = row0 + hist[b, src, f] - pre0
            stop = indptr[i + 1]
            s = indptr[i] if d == 0 else cursor[b, src, col + f]
            lo = s
            if channel == CH_DELTA:
                while s < stop and delays[s - dshift] == d:
                    s += 1
                _apply(lo, s, indices, weights, channel, post0, t, reset_value, ie, ii, v, ls)
            else:  # the common case, written out: a call per visit would cost more than the few synapses it adds
                target = ie if channel == CH_EXC else ii
                while s < stop and delays[s - dshift] == d:
                    target[post0 + indices[s]] += weights[s]
                    s += 1
            cursor[b, src, col + f] = s
            events += s - lo
    return events
