"""Kernel tables for plastic projections (STDP rules and/or short-term plasticity). Reads the description only.

A projection is *plastic* here if it has a learning rule or STP. Its weights live in a separate array
(one row per trial when trials learn independently), its presynaptic state in trace *groups* (one per
presynaptic neuron, or per neuron and delay; see :mod:`snn.engine.kernels.plasticity`), and a
postsynaptic-neuron-to-synapse index (CSC) serves the postsynaptic updates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.engine.kernels import layout as L
from snn.model.network import Projection
from snn.model.plasticity import STDP, TripletSTDP


@dataclass
class PlasticTables:
    q_plastic: np.ndarray  # (projections,) row in pl_int / pl_par, or -1 for static projections
    pl_int: np.ndarray  # (plastic, N_PI) int64
    pl_par: np.ndarray  # (plastic, N_PP) float64
    pl_tab: np.ndarray  # (plastic, N_T, table length) float64: exp(-k dt / tau), see decay_tables
    weights: np.ndarray  # (1, plastic synapses) initial plastic weights, run dtype, engine synapse order
    csc_ptr: np.ndarray  # int64, per target neuron of each projection: where its synapses start in csc_*
    csc_syn: np.ndarray  # index into the plastic weights, grouped by target neuron (int32 when it fits)
    csc_grp: np.ndarray  # trace group of that synapse (int32 when it fits)
    n_groups: int
    n_post: int
    spans: dict[int, tuple[int, int]]  # projection index -> [start, stop) in the plastic weights

    @property
    def any(self) -> bool:
        return self.pl_int.shape[0] > 0

    @property
    def learning(self) -> bool:
        return bool(np.any(self.pl_int[:, L.PI_RULE] != L.RULE_NONE)) if self.any else False


@dataclass
class PlasticInput:
    """What the compiler knows about one projection, in engine synapse order (rows sorted by delay)."""

    index: int
    projection: Projection
    syn0: int  # first synapse in the flat arrays
    indptr: np.ndarray  # the projection's own (relative) row pointers
    indices: np.ndarray
    weights: np.ndarray
    delays: np.ndarray | None  # per synapse (engine order), or None for one delay
    post_pop: int


def build_plastic_tables(items: list[PlasticInput], n_proj: int, dt: float, dtype: type) -> PlasticTables:
    q_plastic = np.full(n_proj, -1, np.int64)
    pl_int = np.zeros((len(items), L.N_PI), np.int64)
    pl_par = np.zeros((len(items), L.N_PP), np.float64)
    weights, ptrs, syns, grps = [], [], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    spans = {}
    n_w = n_groups = n_post = n_csc_rows = n_csc = 0
    for r, it in enumerate(items):
        proj = it.projection
        q_plastic[it.index] = r
        nnz = it.indices.size
        n_pre = it.indptr.size - 1
        n_target = proj.connectivity.n_post
        stride = 1 if it.delays is None else proj.max_delay + 2
        rows = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(it.indptr))
        group = n_groups + rows * stride + (0 if it.delays is None else it.delays.astype(np.int64))
        pl_int[r] = _int_row(proj, n_groups, stride, n_post, n_csc_rows, n_w - it.syn0, it.post_pop)
        pl_par[r] = _par_row(proj, dt)
        # synapses onto each target neuron (stable: engine order within a target)
        order = np.argsort(it.indices, kind="stable")
        counts = np.bincount(it.indices, minlength=n_target)
        ptr = np.zeros(n_target + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        ptrs.append(ptr[:-1] + n_csc)  # row c0 + j starts target j's synapses; the next row ends them
        syns.append(n_w + order.astype(np.int64))
        grps.append(group[order])
        weights.append(np.asarray(it.weights, dtype))
        spans[it.index] = (n_w, n_w + nnz)
        n_w += nnz
        n_groups += n_pre * stride
        n_post += n_target
        n_csc_rows += n_target
        n_csc += nnz
    csc_ptr = np.concatenate(ptrs + [np.array([n_csc], np.int64)])
    return PlasticTables(
        q_plastic=q_plastic, pl_int=pl_int, pl_par=pl_par, pl_tab=decay_tables(pl_par),
        weights=(np.concatenate(weights) if weights else np.zeros(0, dtype)).reshape(1, -1),
        csc_ptr=csc_ptr, csc_syn=_compact(np.concatenate(syns)), csc_grp=_compact(np.concatenate(grps)),
        n_groups=n_groups, n_post=n_post, spans=spans,
    )


def _compact(index: np.ndarray) -> np.ndarray:
    """int32 when every value fits (8 instead of 16 bytes per plastic synapse for the two CSC arrays)."""
    return index.astype(np.int32) if index.size == 0 or index.max() < 2**31 - 1 else index


#: decay tables cover this many time constants (beyond, the kernels call exp; traces are ~1e-13 there)
_TABLE_TAUS = 30
_TABLE_MAX = 8192


def decay_tables(pl_par: np.ndarray) -> np.ndarray:
    """``tab[r, c, k] = exp(-k * rate)`` for each decay rate (dt / tau) of plastic projection r.

    A lazy trace update needs ``exp(-(steps since the last update) * dt / tau)`` at every synaptic event;
    a table lookup replaces that ``exp`` call (measured: learning cost 2x less on the 10k STDP network).
    """
    cols = [L.PP_RATE_X1, L.PP_RATE_X2, L.PP_RATE_Y1, L.PP_RATE_Y2, L.PP_RATE_REC, L.PP_RATE_FACIL]
    rates = pl_par[:, cols] if pl_par.size else np.zeros((0, len(cols)))
    positive = rates[rates > 0]
    length = int(min(_TABLE_MAX, np.ceil(_TABLE_TAUS / positive.min()))) if positive.size else 1
    k = np.arange(length, dtype=np.float64)
    return np.exp(-k[None, None, :] * rates[:, :, None])


def _int_row(proj: Projection, g0: int, stride: int, p0: int, c0: int, wshift: int, post_pop: int) -> np.ndarray:
    row = np.zeros(L.N_PI, np.int64)
    rule, flags = L.RULE_NONE, 0
    if isinstance(proj.plasticity, STDP):
        rule = L.RULE_PAIR
        flags |= L.PF_MULT if proj.plasticity.bounds == "multiplicative" else 0
    elif isinstance(proj.plasticity, TripletSTDP):
        rule = L.RULE_TRIPLET
    if proj.plasticity is not None and proj.plasticity.pairing == "nearest":
        flags |= L.PF_NEAREST
    if proj.stp is not None:
        flags |= L.PF_STP | (L.PF_FACIL if proj.stp.tau_facil > 0 else 0)
    row[L.PI_RULE] = rule
    row[L.PI_FLAGS] = flags
    row[L.PI_G0] = g0
    row[L.PI_STRIDE] = stride
    row[L.PI_P0] = p0
    row[L.PI_C0] = c0
    row[L.PI_WSHIFT] = wshift
    row[L.PI_POSTPOP] = post_pop
    return row


def _par_row(proj: Projection, dt: float) -> np.ndarray:
    """Rates are dt/tau, so a trace ``n`` steps old has decayed by ``exp(-n * rate)``."""
    row = np.zeros(L.N_PP, np.float64)
    rule = proj.plasticity
    if isinstance(rule, STDP):
        row[L.PP_RATE_X1] = dt / rule.tau_pre
        row[L.PP_RATE_Y1] = dt / rule.tau_post
        row[L.PP_A2P] = rule.a_plus
        row[L.PP_A2M] = rule.a_minus
    elif isinstance(rule, TripletSTDP):
        row[L.PP_RATE_X1] = dt / rule.tau_plus
        row[L.PP_RATE_X2] = dt / rule.tau_x
        row[L.PP_RATE_Y1] = dt / rule.tau_minus
        row[L.PP_RATE_Y2] = dt / rule.tau_y
        row[L.PP_A2P] = rule.a2_plus
        row[L.PP_A3P] = rule.a3_plus
        row[L.PP_A2M] = rule.a2_minus
        row[L.PP_A3M] = rule.a3_minus
    if rule is not None:
        row[L.PP_WMIN] = rule.w_min
        row[L.PP_WMAX] = rule.w_max
    else:
        row[L.PP_WMIN] = -np.inf
        row[L.PP_WMAX] = np.inf
    if proj.stp is not None:
        row[L.PP_U] = proj.stp.U
        row[L.PP_RATE_REC] = dt / proj.stp.tau_rec
        row[L.PP_RATE_FACIL] = dt / proj.stp.tau_facil if proj.stp.tau_facil > 0 else 0.0
    return row
