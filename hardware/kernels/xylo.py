"""Numba kernel of the bit-exact Xylo integer emulation (:mod:`hardware.xylo`), one trial per call plus a batch driver.

Semantics: ``xylosim.v2`` of ``xylosim==0.1.3`` (SynSense's C++ simulator, ``src/v2/cpp/XyloLayer.cpp`` and
``XyloIAFNeuron.cpp``), as written down in /work/shared/reference/xylo-semantics.md (section numbers below are
that sheet's). All states are int16 registers, held here in int64 and brought back to int16 exactly where the C++
code saturates or wraps:

.. code-block:: text

    sat(x)    = min(max(x, -32768), 32767)                 (safe_add, §2)
    wrap16(x) = ((x + 32768) mod 65536) - 32768            (a C++ int -> int16_t conversion)
    D(v, d)   = v >> d  if (v >> d) != 0  else sign(v)     (decay, §3; >> is an arithmetic shift)

    state (zero on a fresh chip; kept between calls as xylosim keeps it between ``evolve`` calls):
    I (N, S), V (N,), Io (O,), Vo (O,), B (N,) = hidden spike counts of the previous step

    one step t (§4):
    (A) for input channel p = 0..Nin-1:  k = min(x[t, p], 15)
            for each synapse (n, s, w) of p:  I[n, s] = sat(I[n, s] + k · wrap16(w << shift_in))
    (B) for hidden source p = 0..N-1:    k = min(B[p], 31)
            for each synapse (n, s, w) of p:  I[n, s] = sat(I[n, s] + k · wrap16(w << shift_rec))
    (C) for hidden source p = 0..N-1:    k = min(B[p], 31)
            for each synapse (o, w) of p:     Io[o] = sat(Io[o] + k · wrap16(w << shift_out))
    (D) B = 0
    (E) for hidden n = 0..N-1 (ascending; §5-§7):
            I[n, s] -= D(I[n, s], dash_syn[n, s])                      (decay after this step's input)
            dv = sat(wrap16(-D(V[n], dash_mem[n])) + Σ_s I[n, s])      (the sum is exact, C++ long)
            dv = sat(dv + bias[n])            if has_bias
            V[n] = sat(V[n] + dv)
            c = B[n]                          (alias spikes already received count towards the limit)
            while V[n] >= θ[n] and c < 31:  c += 1; V[n] = wrap16(V[n] - θ[n])     (subtractive reset)
            B[n] = c;  for a in aliases[n]:  B[a] = min(B[a] + c, 31)            (immediately, §7)
            record I[n, :], V[n]
        record B (after all hidden neurons and aliases)
    (F) for readout o = 0..O-1: the same update with one synapse, bias_out, θ_out, at most 1 spike, no aliases
    (G) hibernation flag (§10): go = no source delivered, every pre-decay I == 0 and every dv == 0 in this step;
        has_bias: record(in_hm) then in_hm = go;  else: in_hm = go then record(in_hm)
        (in_hm is false at the start of every call and is cleared at once by any delivery in (A)-(C))

Adding the same weight k times with saturation after each addition equals one saturating add of k · w (same sign),
so delivery adds ``k · w`` once per synapse; the saturation after each source (not after the whole sum) is kept.
Weights arrive as effective, already shifted and wrapped values: the input weights as a dense (Nin, N · S) array
(a zero weight adds 0 and changes nothing; dense rows let a channel's delivery run as vector instructions over all
N · S states), the recurrent and readout weights as per-source lists (CSR ``ptr``/``tgt``/``w``, ``tgt = n · S +
s``, zero weights left out), walked only for the sources that spiked in the previous step (kept in an ascending
list built while recording the spikes, so (B) and (C) cost nothing for silent neurons and (D) clears only their
buffer entries). (B) and (C) are interleaved per source: they change different states, so each state still gets
its additions in ascending source order. A trial works on its own contiguous copy of the state, written back at
the end.

Speed (benchmarks.hardware ``xylo_speed``: 16 inputs, 1000 hidden neurons with 2 synapses, 8 readouts, ~0.05
spikes per neuron and step): 16-20 µs of CPU per trial-step on one thread of the development machine (a shared
2-core AMD EPYC); it was about 45 µs before the dense input rows, the list of spiking sources, the per-trial
contiguous state (the batch's state arrays used to be trial-minor, so two threads shared cache lines and the
second thread made the run slower, not faster), the written-out two-state neuron update and the branch-free
decay. About half of what is left is the neuron update and its recording (every register of every neuron and
step), a quarter the recurrent delivery.

Loops run in a fixed order; trials are independent and run in parallel (``prange``), each in its own
non-parallel call, so results do not depend on the number of numba threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: spike count limits per step (XyloIAFNeuron.h: MAX_NUM_INP_SPIKES, MAX_NUM_SPIKES, MAX_NUM_OUT_SPIKES)
MAX_INPUT_SPIKES = 15
MAX_SPIKES = 31
MAX_OUT_SPIKES = 1


@njit(cache=True, inline="always")
def _sat(x: int) -> int:
    if x > 32767:
        return 32767
    if x < -32768:
        return -32768
    return x


@njit(cache=True, inline="always")
def _wrap16(x: int) -> int:
    return ((x + 32768) & 0xFFFF) - 32768


@njit(cache=True, inline="always")
def _decay(v: int, d: int) -> int:
    """D(v, d): the amount the bit-shift decay removes, at least 1 in magnitude (XyloIAFNeuron.cpp ``decay``)."""
    q = v >> d
    # v < 0 never shifts to 0 (floor), so the minimum decay only concerns 0 < v < 2**d; branch-free
    return q + ((q == 0) & (v > 0))


@njit(cache=True)
def xylo_trial(x: np.ndarray,
               w_in: np.ndarray,
               rec_ptr: np.ndarray, rec_tgt: np.ndarray, rec_w: np.ndarray,
               out_ptr: np.ndarray, out_post: np.ndarray, out_w: np.ndarray,
               threshold: np.ndarray, bias: np.ndarray, dash_mem: np.ndarray, dash_syn: np.ndarray,
               threshold_out: np.ndarray, bias_out: np.ndarray, dash_mem_out: np.ndarray, dash_syn_out: np.ndarray,
               has_bias: bool, alias_ptr: np.ndarray, alias_idx: np.ndarray,
               cur: np.ndarray, v: np.ndarray, cur_o: np.ndarray, v_o: np.ndarray, buf: np.ndarray,
               spikes: np.ndarray, spikes_out: np.ndarray, vmem: np.ndarray, isyn: np.ndarray,
               vmem_out: np.ndarray, isyn_out: np.ndarray, hibernation: np.ndarray) -> None:
    """One trial. ``x`` (T, Nin) input counts. State (int64, updated in place; the final state on return):
    ``cur`` (N, S) and ``v`` (N,) hidden synaptic currents and membranes, ``cur_o`` (O,) and ``v_o`` (O,) readout
    ones, ``buf`` (N,) the hidden spike counts of the last step (delivered at the next). Outputs (written in
    place): ``spikes`` (T, N), ``spikes_out`` (T, O), ``vmem`` (T, N), ``isyn`` (T, N, S), ``vmem_out`` (T, O),
    ``isyn_out`` (T, O), ``hibernation`` (T,). ``w_in`` (Nin, N · S): dense effective input weights, column
    n · S + s. Synapse lists: ``*_ptr`` per source, ``rec_tgt`` = n · S + s (the flat index of the target state),
    ``out_post`` = o, ``*_w`` effective weights. Other parameters
    as in the module docstring; ``dash_syn`` (N, S)."""
    n_steps, n_in = x.shape
    n_hid, n_syn = dash_syn.shape
    n_out = dash_syn_out.shape[0]
    # the trial's state in local contiguous arrays whatever the caller's layout (one trial's registers stay
    # together in cache and apart from the other threads' trials); copied back at the end
    cur_l = np.empty(n_hid * n_syn, np.int64)
    dsyn = np.empty(n_hid * n_syn, np.int64)
    for n in range(n_hid):
        for s in range(n_syn):
            cur_l[n * n_syn + s] = cur[n, s]
            dsyn[n * n_syn + s] = dash_syn[n, s]
    v_l = v.copy()
    buf_l = np.empty(n_hid, np.int64)
    active = np.empty(n_hid, np.int64)  # sources with spikes to deliver, ascending
    n_active = 0
    for n in range(n_hid):
        buf_l[n] = buf[n]
        if buf[n] != 0:
            active[n_active] = n
            n_active += 1
    in_hm = False  # clear_recordings() at the start of every evolve() call
    for t in range(n_steps):
        go = True
        # (A) input spikes of this step, channels in ascending order, at most 15 per channel
        for p in range(n_in):
            k = min(np.int64(x[t, p]), MAX_INPUT_SPIKES)
            if k > 0:
                in_hm = False
                go = False
                for i in range(n_hid * n_syn):  # dense row: a zero weight adds 0 and changes nothing
                    cur_l[i] = _sat(cur_l[i] + k * w_in[p, i])
        # (B) hidden spikes of the previous step onto hidden neurons and (C) onto readout neurons; only the
        # sources that spiked (ascending); (B) and (C) touch different states, so interleaving them per source
        # keeps each state's order of saturating additions. (D) their buffer entries are cleared on the way
        if n_active > 0:
            in_hm = False
            go = False
        for a in range(n_active):
            p = active[a]
            k = min(buf_l[p], MAX_SPIKES)
            buf_l[p] = 0
            for j in range(rec_ptr[p], rec_ptr[p + 1]):
                i = rec_tgt[j]
                cur_l[i] = _sat(cur_l[i] + k * rec_w[j])
            for j in range(out_ptr[p], out_ptr[p + 1]):
                o = out_post[j]
                cur_o[o] = _sat(cur_o[o] + k * out_w[j])
        # (E) hidden neurons in ascending order
        nonzero = 0  # OR of every pre-decay current and every dv: zero iff the hibernation rule's "no change"
        for n in range(n_hid):
            if n_syn == 2:
                base = 2 * n
                c0 = cur_l[base]
                c1 = cur_l[base + 1]
                nonzero |= c0 | c1
                c0 -= _decay(c0, dsyn[base])
                c1 -= _decay(c1, dsyn[base + 1])
                cur_l[base] = c0
                cur_l[base + 1] = c1
                isyn[t, n, 0] = c0
                isyn[t, n, 1] = c1
                total = c0 + c1
            else:
                c0 = cur_l[n]
                nonzero |= c0
                c0 -= _decay(c0, dsyn[n])
                cur_l[n] = c0
                isyn[t, n, 0] = c0
                total = c0
            vn = v_l[n]
            dv = _sat(_wrap16(-_decay(vn, dash_mem[n])) + total)
            if has_bias:
                dv = _sat(dv + bias[n])
            nonzero |= dv
            vn = _sat(vn + dv)
            th = threshold[n]
            count = buf_l[n]
            while vn >= th and count < MAX_SPIKES:
                count += 1
                vn = _wrap16(vn - th)
            v_l[n] = vn
            vmem[t, n] = vn
            if count != 0:
                buf_l[n] = count
                for j in range(alias_ptr[n], alias_ptr[n + 1]):
                    a = alias_idx[j]
                    buf_l[a] = min(buf_l[a] + count, MAX_SPIKES)
        if nonzero != 0:
            go = False
        # record the spike counts (after all aliases) and list the sources of the next step
        n_active = 0
        for n in range(n_hid):
            c = buf_l[n]
            spikes[t, n] = c
            if c != 0:
                active[n_active] = n
                n_active += 1
        # (F) readout neurons: one synapse, at most one spike, no aliases
        for o in range(n_out):
            c = cur_o[o]
            if c != 0:
                go = False
            c -= _decay(c, dash_syn_out[o])
            cur_o[o] = c
            dv = _sat(_wrap16(-_decay(v_o[o], dash_mem_out[o])) + c)
            if has_bias:
                dv = _sat(dv + bias_out[o])
            if dv != 0:
                go = False
            vo = _sat(v_o[o] + dv)
            th = threshold_out[o]
            count = 0
            if vo >= th:  # MAX_OUT_SPIKES = 1: at most one subtraction
                count = 1
                vo = _wrap16(vo - th)
            v_o[o] = vo
            spikes_out[t, o] = count
            isyn_out[t, o] = c
            vmem_out[t, o] = vo
        # (G) hibernation flag; with biases the recorded value lags one step (XyloLayer::evolve)
        if has_bias:
            hibernation[t] = in_hm
            in_hm = go
        else:
            in_hm = go
            hibernation[t] = in_hm
    for n in range(n_hid):
        for s in range(n_syn):
            cur[n, s] = cur_l[n * n_syn + s]
        v[n] = v_l[n]
        buf[n] = buf_l[n]


@njit(cache=True, parallel=True)
def xylo_batch(x: np.ndarray,
               w_in: np.ndarray,
               rec_ptr: np.ndarray, rec_tgt: np.ndarray, rec_w: np.ndarray,
               out_ptr: np.ndarray, out_post: np.ndarray, out_w: np.ndarray,
               threshold: np.ndarray, bias: np.ndarray, dash_mem: np.ndarray, dash_syn: np.ndarray,
               threshold_out: np.ndarray, bias_out: np.ndarray, dash_mem_out: np.ndarray, dash_syn_out: np.ndarray,
               has_bias: bool, alias_ptr: np.ndarray, alias_idx: np.ndarray,
               cur: np.ndarray, v: np.ndarray, cur_o: np.ndarray, v_o: np.ndarray, buf: np.ndarray,
               spikes: np.ndarray, spikes_out: np.ndarray, vmem: np.ndarray, isyn: np.ndarray,
               vmem_out: np.ndarray, isyn_out: np.ndarray, hibernation: np.ndarray) -> None:
    """All trials of ``x`` (B, T, Nin) in parallel, each an independent :func:`xylo_trial` from its own initial
    state; every state and output array has the leading trial axis B."""
    for b in prange(x.shape[0]):
        xylo_trial(x[b], w_in, rec_ptr, rec_tgt, rec_w, out_ptr, out_post, out_w,
                   threshold, bias, dash_mem, dash_syn, threshold_out, bias_out, dash_mem_out, dash_syn_out,
                   has_bias, alias_ptr, alias_idx, cur[b], v[b], cur_o[b], v_o[b], buf[b], spikes[b], spikes_out[b],
                   vmem[b], isyn[b], vmem_out[b], isyn_out[b], hibernation[b])
