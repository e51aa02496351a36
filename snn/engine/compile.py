"""Turn a :class:`~snn.model.Network` into the flat arrays the kernels run on. Reads the description only.

Global neuron index space: populations in order, then inputs. Every population gets a block of
coefficients (see :mod:`snn.engine.kernels.layout`), computed in float64 with the same formulas Brian2
generates, then cast to the run's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import typed

from snn.engine.kernels import layout as L
from snn.engine.plastic import PlasticInput, PlasticTables, build_plastic_tables
from snn.errors import ConfigError
from snn.model.network import (
    EventStreamInput,
    Network,
    Normal,
    PoissonInput,
    SpikeTimesInput,
    Uniform,
    WeightMonitor,
)
from snn.model.neurons import IF, LI, AdaptiveLIF, ConductanceLIF, Izhikevich, NeuronModel

DTYPES = {"float32": np.float32, "float64": np.float64}


def resolve_dtype(dtype: object) -> type:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise ConfigError("simulation.dtype", dtype, f"must be one of {sorted(DTYPES)}")
    return DTYPES[name]


def _exp_coupling(tau_syn: np.ndarray, tau_m: np.ndarray, dt: float) -> np.ndarray:
    """Contribution of an exponential current i(t) (time constant tau_syn) to v(t + dt) for unit r.

    Written exactly as Brian2's ``method='exact'`` code computes it (so float64 runs are bit-identical):
    ``((tau_s e^{-dt/tau_s}) (-e^{dt/tau_s} + e^{dt/tau_m})) e^{-dt/tau_m} / ((0 - tau_m) + tau_s)``.
    At tau_s == tau_m the limit ``(dt/tau) e^{-dt/tau}`` is used.
    """
    tau_s = np.asarray(tau_syn, dtype=np.float64)
    tau_m = np.asarray(tau_m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = ((tau_s * np.exp((-dt) / tau_s)) * ((-np.exp(dt / tau_s)) + np.exp(dt / tau_m))) * np.exp(
            (-dt) / tau_m
        ) / ((0.0 - tau_m) + tau_s)
        # where e^{dt/tau_s} overflows (tau_s << dt) the algebraically equal, stable form is used
        stable = tau_s * (np.exp((-dt) / tau_s) - np.exp((-dt) / tau_m)) / (tau_s - tau_m)
    c = np.where(np.isfinite(c), c, stable)
    same = np.isclose(tau_s, tau_m, rtol=1e-9, atol=0.0)
    return np.where(same, (dt / tau_m) * np.exp((-dt) / tau_m), c)


#: names of :func:`linear_step`'s coefficients and their rows in :func:`linear_coefficients`
LINEAR_STEP_ROWS = {"lin": L.L_LIN, "em": L.L_EM, "ce": L.L_CE, "ci": L.L_CI, "de": L.L_DE, "di": L.L_DI}


def linear_step(model: NeuronModel, dt: float, size: int) -> dict[str, np.ndarray]:
    """The engine's exact one-step update of a LIF / IF population (``size`` neurons), per neuron, by name:
    ``v(t+dt) = lin + em·v + ce·i_exc + ci·i_inh`` and ``i_exc(t+dt) = de·i_exc``, ``i_inh(t+dt) = di·i_inh``
    (mV and unitless; ``dt`` in seconds). The public view of the coefficients for code outside the engine (the
    hardware emulations realise the same equations in integers)."""
    rows = linear_coefficients(model, dt)
    return {name: np.broadcast_to(rows[k], (size,)).astype(np.float64) for name, k in LINEAR_STEP_ROWS.items()}


def linear_coefficients(model: NeuronModel, dt: float) -> np.ndarray:
    """Coefficient rows (N_LINEAR, n or 1) for LIF, AdaptiveLIF, IF and LI."""
    p = {name: np.asarray(getattr(model, name), dtype=np.float64) for name in model.parameter_names()}
    shape = np.broadcast_shapes(*(a.shape for a in p.values()))
    rows = np.zeros((L.N_LINEAR,) + shape, dtype=np.float64)
    r = p["r"]
    if isinstance(model, IF):
        rows[L.L_EM] = 1.0
        rows[L.L_LIN] = r * p["bias"] * dt / p["tau_m"]
        rows[L.L_CE] = r * p["tau_syn_exc"] * (1.0 - np.exp((-dt) / p["tau_syn_exc"])) / p["tau_m"]
        rows[L.L_CI] = r * p["tau_syn_inh"] * (1.0 - np.exp((-dt) / p["tau_syn_inh"])) / p["tau_m"]
        rows[L.L_CX] = r * dt / p["tau_m"]
    else:
        em = np.exp((-dt) / p["tau_m"])
        v_inf = p["v_rest"] + r * p["bias"]
        rows[L.L_EM] = em
        rows[L.L_LIN] = v_inf - (v_inf * em)
        ce = _exp_coupling(p["tau_syn_exc"], p["tau_m"], dt)
        ci = _exp_coupling(p["tau_syn_inh"], p["tau_m"], dt)
        rows[L.L_CE] = ce if np.all(r == 1.0) else r * ce
        rows[L.L_CI] = ci if np.all(r == 1.0) else r * ci
        rows[L.L_CX] = r * (1.0 - em)
    rows[L.L_DE] = np.exp((-dt) / p["tau_syn_exc"])
    rows[L.L_DI] = np.exp((-dt) / p["tau_syn_inh"])
    if isinstance(model, AdaptiveLIF):
        rows[L.L_CW] = -r * _exp_coupling(p["tau_adapt"], p["tau_m"], dt)
        rows[L.L_DW] = np.exp((-dt) / p["tau_adapt"])
        rows[L.L_JUMP] = p["adapt_jump"]
    if isinstance(model, LI):
        rows[L.L_VTH] = np.inf  # never spikes; L_REF stays 0 so v is never held
    else:
        rows[L.L_VTH] = p["v_threshold"]
        rows[L.L_VRESET] = p["v_reset"]
        rows[L.L_SUB] = p["v_threshold"] - p["v_reset"]
        ref = p["t_ref"]
        rows[L.L_REF] = np.floor((ref + 1e-3 * dt) / dt)  # Brian2's timestep(t_ref, dt)
    return rows


def conductance_coefficients(model: ConductanceLIF, dt: float) -> np.ndarray:
    """Coefficient rows (N_CONDUCTANCE, n or 1): Brian2's exponential-Euler scalar code (``_lio_*``) for COBA."""
    p = {name: np.asarray(getattr(model, name), dtype=np.float64) for name in model.parameter_names()}
    shape = np.broadcast_shapes(*(a.shape for a in p.values()))
    rows = np.zeros((L.N_CONDUCTANCE,) + shape, dtype=np.float64)
    k = 1.0 / p["tau_m"]
    rows[L.C_K] = k
    rows[L.C_KE] = p["e_exc"] / p["tau_m"]
    rows[L.C_KI] = p["e_inh"] / p["tau_m"]
    rows[L.C_KL] = p["v_rest"] / p["tau_m"]
    rows[L.C_NK] = 0.0 - k
    rows[L.C_DT] = dt
    rows[L.C_DE] = np.exp((-dt) / p["tau_syn_exc"])
    rows[L.C_DI] = np.exp((-dt) / p["tau_syn_inh"])
    rows[L.C_VTH] = p["v_threshold"]
    rows[L.C_VRESET] = p["v_reset"]
    rows[L.C_REF] = np.floor((p["t_ref"] + 1e-3 * dt) / dt)
    rows[L.C_BIAS] = p["bias"]
    return rows


def izhikevich_coefficients(model: Izhikevich, dt: float) -> np.ndarray:
    p = {name: np.asarray(getattr(model, name), dtype=np.float64) for name in model.parameter_names()}
    shape = np.broadcast_shapes(*(a.shape for a in p.values()))
    rows = np.zeros((L.N_IZHIKEVICH,) + shape, dtype=np.float64)
    rows[L.Z_A] = p["a"]
    rows[L.Z_B] = p["b"]
    rows[L.Z_C] = p["c"]
    rows[L.Z_D] = p["d"]
    rows[L.Z_VPEAK] = p["v_peak"]
    rows[L.Z_DE] = np.exp((-dt) / p["tau_syn_exc"])
    rows[L.Z_DI] = np.exp((-dt) / p["tau_syn_inh"])
    rows[L.Z_BIAS] = p["bias"]
    rows[L.Z_DTMS] = dt / 0.001  # Brian2 computes dt/ms
    rows[L.Z_K2] = 0.04
    rows[L.Z_K1] = 5.0
    rows[L.Z_K0] = 140.0
    return rows


@dataclass
class CompiledNetwork:
    """Kernel-ready arrays of one network at one dtype. Built once per :class:`~snn.engine.Simulator`."""

    dtype: type
    names: list[str]  # population then input names, in global index order
    p_start: np.ndarray
    p_kind: np.ndarray
    p_flags: np.ndarray
    p_coff: np.ndarray
    p_clen: np.ndarray
    p_src: np.ndarray
    coef: np.ndarray
    reset_value: np.ndarray
    n_slots: int  # history length: max delay + 1 steps
    q_pre: np.ndarray  # population index of every projection's source
    q_row0: np.ndarray  # where each projection's indptr starts in ``indptr``
    indptr: np.ndarray  # all projections' CSR row pointers, as absolute positions in the synapse arrays
    indices: np.ndarray  # postsynaptic index (within the target population) of every synapse, int32
    weights: np.ndarray  # (1, synapses) in the run's dtype; plastic runs may use one row per trial
    doff: np.ndarray  # per-synapse delays as row offsets (see ``delay_offsets``), uint16 or int32, end to end
    q_doff0: np.ndarray  # where each projection's block starts in ``doff`` (projections with per-synapse delays)
    q_const_delay: np.ndarray  # >= 0: every synapse has this delay; -1: per-synapse delays (rows sorted by delay)
    q_max_delay: np.ndarray
    q_channel: np.ndarray
    q_pre0: np.ndarray
    q_post0: np.ndarray
    # analog read model per projection (snn.model.AnalogRead): noise std, ADC step, ADC clip (mV); q_read < 0: none,
    # else its row in these arrays
    q_read: np.ndarray
    read_par: np.ndarray  # (read projections, 3) float64
    read_width: int  # largest target population of a read projection: the per-trial scratch it needs
    prob: np.ndarray
    nmean: np.ndarray
    nstd: np.ndarray
    plastic: PlasticTables
    # engine synapse order (rows sorted by delay) of projections whose weights are read back (plastic or
    # monitored); None where the order is the description's or nothing is read back (saves 8 bytes per synapse)
    q_perm: list[np.ndarray | None]
    q_syn0: np.ndarray  # first synapse of each projection in the flat arrays

    def description_order(self, q: int, values: np.ndarray) -> np.ndarray:
        """Per-synapse values of projection q (last axis, engine order) in the description's synapse order."""
        perm = self.q_perm[q]
        if perm is None:
            return values
        out = np.empty_like(values)
        out[..., perm] = values
        return out

    @property
    def n_total(self) -> int:
        return int(self.p_start[-1])

    def index_of(self, name: str) -> int:
        return self.names.index(name)

    def synapse_bytes(self) -> int:
        """Bytes held for connectivity: indptr + indices + weights + per-synapse delays."""
        return int(self.indptr.nbytes + self.indices.nbytes + self.weights.nbytes + self.doff.nbytes)


def compile_network(net: Network, dtype: type) -> CompiledNetwork:
    names = [p.name for p in net.populations] + [s.name for s in net.inputs]
    sizes = net.sizes()
    n_pops = len(names)
    p_start = np.zeros(n_pops + 1, dtype=np.int64)
    for k, name in enumerate(names):
        p_start[k + 1] = p_start[k] + sizes[name]
    n_total = int(p_start[-1])
    p_kind = np.zeros(n_pops, np.int64)
    p_flags = np.zeros(n_pops, np.int64)
    p_coff = np.zeros(n_pops, np.int64)
    p_clen = np.ones(n_pops, np.int64)
    p_src = np.zeros(n_pops, np.int64)
    reset_value = np.zeros(n_total, np.bool_)
    blocks: list[np.ndarray] = []
    offset = 0

    def add_block(rows: np.ndarray, k: int) -> None:
        nonlocal offset
        flat = rows.reshape(rows.shape[0], -1)
        p_coff[k] = offset
        p_clen[k] = flat.shape[1]
        blocks.append(flat.ravel())
        offset += flat.size

    for k, pop in enumerate(net.populations):
        model = pop.model
        g0, g1 = p_start[k], p_start[k + 1]
        if isinstance(model, Izhikevich):
            p_kind[k] = L.KIND_IZHIKEVICH
            add_block(_broadcast_rows(izhikevich_coefficients(model, net.dt), pop.size), k)
            p_flags[k] |= L.F_SPIKING
            reset_value[g0:g1] = True
        elif isinstance(model, ConductanceLIF):
            p_kind[k] = L.KIND_CONDUCTANCE
            add_block(_broadcast_rows(conductance_coefficients(model, net.dt), pop.size), k)
            p_flags[k] |= L.F_SPIKING
            reset_value[g0:g1] = True
        else:
            p_kind[k] = L.KIND_LINEAR
            add_block(_broadcast_rows(linear_coefficients(model, net.dt), pop.size), k)
            if model.spiking:
                p_flags[k] |= L.F_SPIKING
                if model.reset == "subtract":
                    p_flags[k] |= L.F_RESET_SUBTRACT
                else:
                    reset_value[g0:g1] = True
            if isinstance(model, AdaptiveLIF):
                p_flags[k] |= L.F_ADAPT
    probs: list[np.ndarray] = []
    prob_off = 0
    st_count = 0
    for j, src in enumerate(net.inputs):
        k = len(net.populations) + j
        if isinstance(src, PoissonInput):
            p_kind[k] = L.KIND_POISSON
            prob = np.broadcast_to(np.asarray(src.rate, np.float64) * net.dt, (src.size,))
            if np.any(prob > 1.0):
                raise ConfigError(f"inputs.{src.name}.rate", float(np.max(src.rate)),
                                  f"must be <= 1/dt = {1.0 / net.dt:g} Hz (at most one spike per step)")
            if np.all(prob == prob[0]):  # one rate: (p, log(1 - p)) for geometric-gap sampling
                p_flags[k] |= L.F_UNIFORM_RATE
                with np.errstate(divide="ignore"):
                    prob = np.array([prob[0], np.log1p(-prob[0])])
            p_src[k] = prob_off
            probs.append(prob)
            prob_off += prob.size
        elif isinstance(src, (SpikeTimesInput, EventStreamInput)):
            p_kind[k] = L.KIND_SPIKE_TIMES
            p_src[k] = st_count
            st_count += 1
    coef = np.concatenate(blocks).astype(dtype) if blocks else np.zeros(1, dtype)
    prob = np.concatenate(probs) if probs else np.zeros(1, np.float64)

    nmean = np.zeros(n_total, dtype)
    nstd = np.zeros(n_total, dtype)
    for cur in net.currents:
        k = names.index(cur.population)
        g0, g1 = p_start[k], p_start[k + 1]
        nmean[g0:g1] = cur.mean
        nstd[g0:g1] = cur.std
        p_flags[k] |= L.F_NOISE

    n_proj = len(net.projections)
    q_pre = np.zeros(n_proj, np.int64)
    q_const = np.zeros(n_proj, np.int64)
    q_max = np.zeros(n_proj, np.int64)
    q_channel = np.zeros(n_proj, np.int64)
    q_pre0 = np.zeros(n_proj, np.int64)
    q_post0 = np.zeros(n_proj, np.int64)
    q_row0 = np.zeros(n_proj, np.int64)
    q_doff0 = np.zeros(n_proj, np.int64)
    q_read = np.full(n_proj, -1, np.int64)
    read_par: list[tuple[float, float, float]] = []
    read_width = 0
    indptrs, indices_l, weights_l, doff_l = [], [], [], []
    q_perm: list[np.ndarray | None] = []
    read_back = {m.projection for m in net.monitors if isinstance(m, WeightMonitor)}
    q_syn0 = np.zeros(n_proj, np.int64)
    plastic_items: list[PlasticInput] = []
    n_syn = n_rows = n_doff = 0
    for q, proj in enumerate(net.projections):
        pre_k = names.index(proj.pre)
        post_k = names.index(proj.post)
        conn = proj.connectivity
        q_pre[q] = pre_k
        q_channel[q] = L.CHANNELS[proj.target]
        q_pre0[q] = p_start[pre_k]
        q_post0[q] = p_start[post_k]
        q_max[q] = proj.max_delay
        if proj.read is not None:
            q_read[q] = len(read_par)
            read_par.append((proj.read.noise_std, proj.read.adc_step, proj.read.adc_max))
            read_width = max(read_width, int(p_start[post_k + 1] - p_start[post_k]))
        q_row0[q] = n_rows
        indptrs.append(conn.indptr + n_syn)  # absolute synapse positions in the flat arrays
        n_rows += conn.indptr.size
        indices, weights, delays = conn.indices, proj.weights, proj.delays
        perm = None
        if np.ndim(delays) == 0:
            q_const[q] = int(delays)
        else:
            q_const[q] = -1
            perm = _delay_order(conn.indptr, delays)
            if perm is not None:
                indices, weights, delays = indices[perm], weights[perm], delays[perm]
            q_doff0[q] = n_doff
            doff_l.append(delay_offsets(conn.indptr, delays, proj.max_delay))
            n_doff += doff_l[-1].size
        plastic = proj.plasticity is not None or proj.stp is not None
        q_perm.append(perm if plastic or proj.name in read_back else None)
        q_syn0[q] = n_syn
        if plastic:
            plastic_items.append(PlasticInput(
                index=q, projection=proj, syn0=n_syn, indptr=conn.indptr, indices=indices, weights=weights,
                delays=None if np.ndim(delays) == 0 else np.asarray(delays), post_pop=post_k))
        indices_l.append(indices)
        weights_l.append(np.asarray(weights, dtype=dtype))
        n_syn += conn.nnz
    n_slots = int(q_max.max()) + 1 if n_proj else 1
    return CompiledNetwork(
        dtype=dtype, names=names, p_start=p_start, p_kind=p_kind, p_flags=p_flags, p_coff=p_coff, p_clen=p_clen,
        p_src=p_src, coef=coef, reset_value=reset_value, n_slots=n_slots, q_pre=q_pre, q_row0=q_row0,
        indptr=_flat(indptrs, np.int64), indices=_flat(indices_l, np.int32),
        weights=_flat(weights_l, dtype).reshape(1, -1), doff=_flat(doff_l, _offset_dtype(doff_l)), q_doff0=q_doff0,
        q_const_delay=q_const, q_max_delay=q_max, q_channel=q_channel, q_pre0=q_pre0,
        q_post0=q_post0, q_read=q_read, read_par=np.asarray(read_par, np.float64).reshape(-1, 3),
        read_width=read_width, prob=prob, nmean=nmean, nstd=nstd,
        plastic=build_plastic_tables(plastic_items, n_proj, net.dt, dtype), q_perm=q_perm, q_syn0=q_syn0,
    )


def _flat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """All projections' arrays end to end (read-only). A single part is used as is, without a copy.

    One flat array per field keeps the kernels' per-step cost independent of the number of projections
    (numba's typed lists cost ~40 ns per access, which showed up as 30 % of a CUBA run).
    """
    if len(parts) == 1 and parts[0].dtype == dtype:
        out = parts[0].view()
    else:
        out = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
    out.flags.writeable = False
    return out


def delay_offsets(indptr: np.ndarray, delays: np.ndarray, max_delay: int) -> np.ndarray:
    """Row-relative offsets of every delay value, for rows sorted by delay.

    Entry ``i * (max_delay + 2) + d`` is the number of synapses of row i with delay < d, so the synapses of
    row i with delay d are ``indptr[i] + [off[.., d], off[.., d + 1])``: delivering the spikes that are due
    costs two adjacent loads per spike and delay, and no per-synapse delay is read in the step loop.
    (Stored as uint16 when rows are short enough; see ``_offset_dtype``.)
    """
    n_pre = indptr.size - 1
    width = max_delay + 1
    rows = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(indptr))
    counts = np.bincount(rows * width + delays.astype(np.int64), minlength=n_pre * width).reshape(n_pre, width)
    off = np.zeros((n_pre, width + 1), np.int32)
    np.cumsum(counts, axis=1, out=off[:, 1:])
    return off.ravel()


def _offset_dtype(parts: list[np.ndarray]) -> type:
    """uint16 row offsets when every row is shorter than 65,536 synapses (about 1 byte per synapse at ~80
    synapses per neuron and 20 distinct delays), int32 otherwise."""
    return np.uint16 if all(part.size == 0 or part.max() < 2**16 for part in parts) else np.int32


def _delay_order(indptr: np.ndarray, delays: np.ndarray) -> np.ndarray | None:
    """Synapse order with every row sorted by delay (stable), or None if the rows already are."""
    rows = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
    same_row = rows[1:] == rows[:-1]
    if not np.any(same_row & (delays[1:] < delays[:-1])):
        return None
    return np.lexsort((delays, rows))


def _broadcast_rows(rows: np.ndarray, size: int) -> np.ndarray:
    """Homogeneous populations keep one column (scalars); heterogeneous ones get one column per neuron."""
    if rows.ndim == 1:
        return rows.reshape(-1, 1)
    return np.ascontiguousarray(np.broadcast_to(rows, (rows.shape[0], size)))


def event_steps(t_us: np.ndarray, dt: float) -> np.ndarray:
    """Step of each event timestamp (µs): ``floor(t / dt)``, exact in integers when dt is a whole number of µs."""
    dt_us = dt * 1e6
    t = np.asarray(t_us, dtype=np.int64)
    if abs(dt_us - round(dt_us)) < 1e-6:
        return t // int(round(dt_us))
    return np.floor(t / dt_us + 1e-9).astype(np.int64)


def _event_table(src: EventStreamInput, dt: float, n_steps: int) -> tuple[np.ndarray, np.ndarray, int]:
    """One event-stream input's table, all streams at once: ptr (streams, n_steps + 1) int64 into channel ids
    int32, ordered by (stream, step, channel), as the per-group table of :func:`spike_time_tables` (a stable
    sort keeps repeated events of a channel in their stream order). Also the most events of one step."""
    streams = src.events
    lengths = np.array([ev.size for ev in streams], np.int64)
    rows = len(streams)
    n_ch = src.size
    if lengths.sum():
        steps = event_steps(np.concatenate([ev["t"] for ev in streams]), dt)
        ch = np.concatenate([src.channels(ev) for ev in streams]).astype(np.int64)
        row = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    else:
        steps = ch = row = np.zeros(0, np.int64)
    keep = steps < n_steps
    cell = row[keep] * n_steps + steps[keep]  # (stream, step): nearly sorted already, which a stable sort is quick on
    ch = ch[keep]
    order = np.argsort(cell * n_ch + ch, kind="stable")
    counts = np.bincount(cell, minlength=rows * n_steps)
    ptr = np.zeros((rows, n_steps + 1), np.int64)
    ptr[:, 1:] = np.cumsum(counts).reshape(rows, n_steps)
    ptr[1:, 0] = ptr[:-1, -1]
    return ptr, ch[order].astype(np.int32), int(counts.max()) if counts.size else 0


def spike_time_tables(net: Network, trials: int, n_steps: int, empty: bool = False
                      ) -> tuple[typed.List, typed.List, int]:
    """Per spike-times / event-stream input: (ptr (1 or trials, n_steps + 1) int64, channel ids int32).

    Also returns the largest number of spikes any one input emits in one step (sizes scratch buffers).
    ``empty=True`` gives tables of the right types without spikes (compiling the kernels needs no data).
    """
    ptrs, idxs = typed.List(), typed.List()
    worst = 0
    for src in net.inputs:
        if empty and isinstance(src, (SpikeTimesInput, EventStreamInput)):
            ptrs.append(np.zeros((1, n_steps + 1), np.int64))
            idxs.append(np.zeros(0, np.int32))
            continue
        if isinstance(src, SpikeTimesInput):
            # Brian2's SpikeGeneratorGroup bins as int((t + 1e-3 dt) / dt)
            steps = np.floor((src.times + 1e-3 * net.dt) / net.dt).astype(np.int64)
            if src.trials is None:
                groups = [(steps, src.indices)]
            else:
                if src.trials.size and src.trials.max() >= trials:
                    raise ConfigError(f"inputs.{src.name}.trials", int(src.trials.max()),
                                      f"must be < trials = {trials}")
                groups = [(steps[src.trials == b], src.indices[src.trials == b]) for b in range(trials)]
        elif isinstance(src, EventStreamInput):
            if len(src.events) not in (1, trials):
                raise ConfigError(f"inputs.{src.name}.events", f"{len(src.events)} streams",
                                  f"must be 1 stream (shared) or one per trial ({trials})")
            ptr, idx, w = _event_table(src, net.dt, n_steps)
            ptrs.append(ptr)
            idxs.append(idx)
            worst = max(worst, w)
            continue
        else:
            continue
        ptr = np.zeros((len(groups), n_steps + 1), np.int64)
        chunks = []
        base = 0
        for row, (st, ch) in enumerate(groups):
            keep = st < n_steps
            st, ch = st[keep], ch[keep]
            order = np.lexsort((ch, st))  # by step, then channel: Brian2 emits ascending indices
            counts = np.bincount(st, minlength=n_steps)[:n_steps] if st.size else np.zeros(n_steps, np.int64)
            worst = max(worst, int(counts.max()) if counts.size else 0)
            ptr[row, 1:] = base + np.cumsum(counts)
            ptr[row, 0] = base
            chunks.append(ch[order].astype(np.int32))
            base += st.size
        ptrs.append(ptr)
        idxs.append(np.concatenate(chunks) if chunks else np.zeros(0, np.int32))
    if len(ptrs) == 0:
        ptrs.append(np.zeros((1, n_steps + 1), np.int64))
        idxs.append(np.zeros(0, np.int32))
    return ptrs, idxs, worst


def initial_state(net: Network, cn: CompiledNetwork, rngs: list[np.random.Generator]) -> dict[str, np.ndarray]:
    """State arrays (trials, n_total) for v, i_exc, i_inh, aux (u or w) and last-spike steps.

    Defaults: v = v_rest (IF: v_reset; Izhikevich: c), currents 0, Izhikevich u = b·v, adaptation w = 0.
    Distributions are drawn per trial from that trial's generator, in population order.
    """
    trials = len(rngs)
    shape = (trials, cn.n_total)
    state = {name: np.zeros(shape, cn.dtype) for name in ("v", "i_exc", "i_inh", "aux")}
    state["ls"] = np.full(shape, L.NEVER_SPIKED, np.int32)
    for k, pop in enumerate(net.populations):
        g0, g1 = cn.p_start[k], cn.p_start[k + 1]
        model = pop.model
        for b, rng in enumerate(rngs):
            for var in model.state_variables:  # "v" comes first, so u = b·v can use it
                key = _STATE_ARRAY.get(var, var)
                if var in pop.initial:
                    values = _draw(pop.initial[var], pop.size, rng)
                elif var == "v":
                    default = model.c if isinstance(model, Izhikevich) else (
                        model.v_reset if isinstance(model, IF) else model.v_rest)
                    values = np.broadcast_to(np.asarray(default, np.float64), (pop.size,))
                elif var == "u":
                    values = np.asarray(model.b, np.float64) * state["v"][b, g0:g1].astype(np.float64)
                else:
                    continue
                state[key][b, g0:g1] = values
    return state


#: where each model's state variables live in the engine's state arrays
_STATE_ARRAY = {"u": "aux", "w": "aux", "g_exc": "i_exc", "g_inh": "i_inh"}


def _draw(spec: object, size: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(spec, Uniform):
        return rng.uniform(spec.low, spec.high, size)
    if isinstance(spec, Normal):
        return rng.normal(spec.mean, spec.std, size)
    return np.broadcast_to(np.asarray(spec, dtype=np.float64), (size,))
