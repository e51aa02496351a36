"""The step loop: advance a batch of independent trials through a chunk of time steps.

Trials run in parallel (``prange``); one step of one trial never forks threads, because per-step fork/join
costs more than it saves on small networks (measured here: about 14 µs per step). Every trial owns its
state, spike history, random stream and recording buffers, so results do not depend on the thread count.
A trial stops early when its spike buffer could overflow in the next step; the driver drains the buffer and
calls again from where each trial stopped.

One step of one trial:
1. sample state monitors (values at the start of the step, as Brian2's ``when='start'``);
2. every population: update, threshold, reset (neurons) or emit (sources), listing spikes in the history
   slot of this step;
3. every projection, in network order: deliver the spikes that are due now (delay d: emitted at t - d);
   plastic projections also run their presynaptic rule updates (see :mod:`.plasticity`);
4. every plastic projection, in network order: postsynaptic rule updates for this step's spikes.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from snn.engine.kernels.delivery import deliver_delayed, deliver_delayed_read, deliver_read, deliver_rows
from snn.engine.kernels.layout import (
    F_RECORD,
    F_UNIFORM_RATE,
    KIND_CONDUCTANCE,
    KIND_IZHIKEVICH,
    KIND_LINEAR,
    KIND_POISSON,
    PI_RULE,
    RULE_NONE,
)
from snn.engine.kernels.neurons import update_conductance, update_izhikevich, update_linear
from snn.engine.kernels.plasticity import deliver_plastic, post_updates
from snn.engine.kernels.sources import poisson_step, poisson_uniform_step, spike_times_step


@njit(cache=True)
def _read_var(code, g, v, ie, ii, aux):
    if code == 0:
        return v[g]
    if code == 1:
        return ie[g]
    if code == 2:
        return ii[g]
    return aux[g]


#: steps between two passes that flush subnormal state values to zero
FLUSH_EVERY = 64


@njit(cache=True)
def flush_subnormal(values, tiny):
    """Set magnitudes below ``tiny`` (the dtype's smallest normal number) to 0.

    Synaptic currents that decay without input sink into subnormal numbers, on which x86 arithmetic is
    roughly 100x slower; a flush every FLUSH_EVERY steps bounds that, at 1/64 of a memory pass. Values this
    small change no membrane potential (mV-sized), so results, including the Brian2 comparisons, stay equal.
    """
    # x times 1 or 0 (in tiny's type): "store 0 where tiny" would compile to a masked store, which is microcoded on
    # AMD Zen (see neurons.held); the product gives the same values (a flushed value becomes a signed zero)
    one = tiny / tiny
    zero = tiny - tiny
    for k in range(values.shape[0]):
        x = values[k]
        values[k] = x * (one if abs(x) >= tiny else zero)


@njit(cache=True)
def trial_steps(
    b,
    t_at, t_chunk0, t_stop,
    p_start, p_kind, p_flags, p_coff, p_clen, p_src, coef,
    v, ie, ii, aux, ls, reset_value,
    hist, hist_ptr,
    q_pre, q_row0, indptr, indices, weights, doff, q_doff0, q_const_delay, q_max_delay, q_channel, q_pre0,
    q_post0, q_read, read_par, read_acc, read_seen, read_touched,
    q_plastic, pl_int, pl_par, pl_tab, pw, grp, grp_last, post_tr, post_last, csc_ptr, csc_syn, csc_grp, learn,
    prob, pnext, st_ptr, st_idx,
    nmean, nstd, rng,
    spk_step, spk_idx, spk_n, spk_reserve,
    mon_var, mon_g, mon_every, mon_out,
    rate_out, events, tiny,
):
    """Advance trial ``b`` from ``t_at[b]`` to ``t_stop`` (or until its spike buffer is nearly full)."""
    n_pops = p_kind.shape[0]
    n_proj = q_pre.shape[0]
    n_slots = hist.shape[1]
    vb = v[b]
    ieb = ie[b]
    iib = ii[b]
    auxb = aux[b]
    lsb = ls[b]
    pwb = pw[b] if pw.shape[0] > 1 else pw[0]
    grpb = grp[b]
    grp_lastb = grp_last[b]
    post_trb = post_tr[b]
    post_lastb = post_last[b]
    n_plastic = pl_int.shape[0]
    t = t_at[b]
    n_events = 0
    while t < t_stop:
        if spk_n[b] + spk_reserve > spk_step.shape[1]:
            break
        if t % FLUSH_EVERY == 0:
            flush_subnormal(vb, tiny)
            flush_subnormal(ieb, tiny)
            flush_subnormal(iib, tiny)
            flush_subnormal(auxb, tiny)
        for k in range(mon_var.shape[0]):
            if t % mon_every[k] == 0:
                mon_out[b, t - t_chunk0, k] = _read_var(mon_var[k], mon_g[k], vb, ieb, iib, auxb)
        slot = t % n_slots
        fired = hist[b, slot]
        fptr = hist_ptr[b, slot]
        nf = 0
        for p in range(n_pops):
            fptr[p] = nf
            kind = p_kind[p]
            g0 = p_start[p]
            n = p_start[p + 1] - g0
            fl = p_flags[p]
            if kind == KIND_LINEAR:
                nf = update_linear(t, b, g0, n, fl, coef, p_coff[p], p_clen[p], vb, ieb, iib, auxb, lsb,
                                   nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n)
            elif kind == KIND_CONDUCTANCE:
                nf = update_conductance(t, b, g0, n, fl, coef, p_coff[p], p_clen[p], vb, ieb, iib, auxb, lsb,
                                        nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n)
            elif kind == KIND_IZHIKEVICH:
                nf = update_izhikevich(t, b, g0, n, fl, coef, p_coff[p], p_clen[p], vb, ieb, iib, auxb, lsb,
                                       nmean, nstd, rng, fired, nf, spk_step, spk_idx, spk_n)
            else:
                if kind == KIND_POISSON:
                    if fl & F_UNIFORM_RATE:
                        nf = poisson_uniform_step(t, b, g0, n, prob, p_src[p], pnext[b], p, rng, fired, nf)
                    else:
                        nf = poisson_step(b, g0, n, prob, p_src[p], rng, fired, nf)
                else:
                    nf = spike_times_step(t, b, g0, st_ptr[p_src[p]], st_idx[p_src[p]], fired, nf)
                if fl & F_RECORD:
                    m = spk_n[b]
                    for f in range(fptr[p], nf):
                        spk_step[b, m] = t
                        spk_idx[b, m] = fired[f]
                        m += 1
                    spk_n[b] = m
            rate_out[b, t - t_chunk0, p] = nf - fptr[p]
        fptr[n_pops] = nf
        wrow = weights[b] if weights.shape[0] > 1 else weights[0]
        for q in range(n_proj):
            p = q_pre[q]
            d_const = q_const_delay[q]
            r = q_plastic[q]
            if r >= 0:
                n_events += deliver_plastic(t, b, p, hist, hist_ptr, q_pre0[q], indptr, q_row0[q], indices, doff,
                                            q_doff0[q], d_const, q_max_delay[q], q_channel[q], q_post0[q], reset_value,
                                            ieb, iib, vb, lsb, learn, pl_int[r], pl_par[r], pl_tab[r], pwb, grpb,
                                            grp_lastb,
                                            post_trb, post_lastb)
            elif q_read[q] >= 0:  # an analog crossbar read (snn.model.AnalogRead)
                if d_const >= 0:
                    src = (t - d_const) % n_slots
                    f0 = hist_ptr[b, src, p]
                    f1 = hist_ptr[b, src, p + 1]
                    if f1 > f0:
                        n_events += deliver_read(t, hist, b, src, f0, f1, q_pre0[q], indptr, q_row0[q], indices,
                                                 wrow, q_channel[q], q_post0[q], reset_value, ieb, iib, vb, lsb,
                                                 read_par[q_read[q]], rng, read_acc[b], read_seen[b], read_touched[b])
                else:
                    n_events += deliver_delayed_read(t, b, p, q_max_delay[q], hist, hist_ptr, q_pre0[q], indptr,
                                                     q_row0[q], indices, wrow, doff, q_doff0[q], q_channel[q],
                                                     q_post0[q], reset_value, ieb, iib, vb, lsb, read_par[q_read[q]],
                                                     rng, read_acc[b], read_seen[b], read_touched[b])
            elif d_const >= 0:
                src = (t - d_const) % n_slots
                f0 = hist_ptr[b, src, p]
                f1 = hist_ptr[b, src, p + 1]
                if f1 > f0:
                    n_events += deliver_rows(t, hist, b, src, f0, f1, q_pre0[q], indptr, q_row0[q], indices, wrow,
                                             q_channel[q], q_post0[q], reset_value, ieb, iib, vb, lsb)
            else:
                n_events += deliver_delayed(t, b, p, q_max_delay[q], hist, hist_ptr, q_pre0[q], indptr, q_row0[q],
                                            indices, wrow, doff, q_doff0[q], q_channel[q], q_post0[q], reset_value,
                                            ieb, iib, vb, lsb)
        if learn:
            for r in range(n_plastic):
                if pl_int[r, PI_RULE] != RULE_NONE:
                    post_updates(t, b, slot, hist, hist_ptr, p_start, pl_int[r], pl_par[r], pl_tab[r], pwb, grpb,
                                 grp_lastb, post_trb, post_lastb, csc_ptr, csc_syn, csc_grp)
        t += 1
    events[b] += n_events
    t_at[b] = t


@njit(cache=True, parallel=True)
def run_chunk(
    t_at, t_chunk0, t_stop,
    p_start, p_kind, p_flags, p_coff, p_clen, p_src, coef,
    v, ie, ii, aux, ls, reset_value,
    hist, hist_ptr,
    q_pre, q_row0, indptr, indices, weights, doff, q_doff0, q_const_delay, q_max_delay, q_channel, q_pre0,
    q_post0, q_read, read_par, read_acc, read_seen, read_touched,
    q_plastic, pl_int, pl_par, pl_tab, pw, grp, grp_last, post_tr, post_last, csc_ptr, csc_syn, csc_grp, learn,
    prob, pnext, st_ptr, st_idx,
    nmean, nstd, rng,
    spk_step, spk_idx, spk_n, spk_reserve,
    mon_var, mon_g, mon_every, mon_out,
    rate_out, events, tiny,
):
    """All trials, in parallel. Each trial runs in its own (non-parallel) function call: the step loop
    compiles and vectorises as ordinary code instead of inside numba's parallel region."""
    for trial in prange(v.shape[0]):
        trial_steps(
            np.int64(trial),
            t_at, t_chunk0, t_stop,
            p_start, p_kind, p_flags, p_coff, p_clen, p_src, coef,
            v, ie, ii, aux, ls, reset_value,
            hist, hist_ptr,
            q_pre, q_row0, indptr, indices, weights, doff, q_doff0, q_const_delay, q_max_delay, q_channel,
            q_pre0, q_post0, q_read, read_par, read_acc, read_seen, read_touched,
            q_plastic, pl_int, pl_par, pl_tab, pw, grp, grp_last, post_tr, post_last, csc_ptr, csc_syn, csc_grp, learn,
            prob, pnext, st_ptr, st_idx,
            nmean, nstd, rng,
            spk_step, spk_idx, spk_n, spk_reserve,
            mon_var, mon_g, mon_every, mon_out,
            rate_out, events, tiny,
        )
