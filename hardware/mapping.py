"""Mapping: place populations on cores/tiles and quantise weights, thresholds and decays under a target's rules.

:func:`map_network` (also exported as ``map``) runs :func:`hardware.check.check` (``fit=True`` by default) and
raises :class:`~hardware.check.TargetViolation` listing every rule that is still broken; otherwise it returns a
:class:`MappedNetwork`: an ordinary :class:`snn.model.Network` whose parameters are the values the hardware holds
(in the original mV units, ``value = code × scale``), plus the integer codes, the placement and a report.

Per population ``P`` a scale ``s_P`` (mV per hardware unit) is shared by every weight into ``P`` and by its state,
because they add into the same registers. Voltages are stored relative to the rest potential ``v_rest`` (IF:
``v_reset``), which the hardware holds as 0 (a translation; spikes are unchanged).

- **Integer chips** (Xylo, Loihi, DYNAP-SE2, SpiNNaker 2): ``s_P = max|w| / w_max`` with ``w_max = 2**(bits-1) - 1``
  (DYNAP-SE2: 15, four magnitude bits; the sign is the synapse type), or the coarser step the check chose so the
  threshold fits; ``code = round(w / s_P)``; thresholds, resets and biases ``round((x - v_rest) / s_P)``.
- **FPGA**: ``s_P = 2**e`` from the check; weights ``Q_w(w / s_P)`` and voltages ``Q_state((x - v_rest) / s_P)``
  with the formats' own rounding and overflow modes (:mod:`hardware.fixed_point`).
- **RRAM** (differential pairs; aihwkit's ``SinglePairConductanceConverter``): synapses onto ``P`` that add into
  one synaptic current (a *column group*: ``exc`` and ``inh`` share one when their time constants are equal) share
  ``k`` (mV/µS): ``k = max|w| / (g_max - g_min)``, ``Δ = (g_max - g_min) / (n_levels - 1)``, ``q = round(|w| / (k Δ))``;
  ``w >= 0``: ``G⁺ = g_min + q Δ``, ``G⁻ = g_min``; ``w < 0``: the reverse. So ``w_q = k (G⁺ - G⁻)`` and nothing is
  clipped (``|w| <= max|w|``). With few levels (``n_levels < 16``, e.g. formed/pristine cells) that scale rounds
  most weights to 0, so ``rram_scale="auto"`` then picks the ``k`` of least squared error, which saturates the
  largest weights at the top level; their number is reported per projection (``saturated``).
  Rows of a column group are the presynaptic units with at least one synapse in it
  (shared by the group's projections from one source unless two synapses would fall on one cell; then the
  projection gets rows of its own, named ``"<pre>#<projection>"``); columns are the group's neurons, two device
  columns each. A group is cut into tiles of ``tile_rows × tile_cols``; partial sums of row blocks are added
  digitally (aihwkit's tile splitting, ``MappingParameter.max_input_size``). Column groups do not share tiles.

Decays (the engine applies ``exp(-dt/tau)``, so each time constant is replaced by the one whose factor the hardware
realises): bitshift ``alpha = 1 - 2**-k``, ``k = round(log2(tau/dt))`` (Rockpool's Xylo); mult12 ``alpha = 1 - d/4096``,
``d = round(4096 (1 - e^(-dt/tau)))`` (Lava's Loihi LIF); fixed ``alpha = Q_state(e^(-dt/tau))``; then
``tau' = -dt / ln(alpha)``. ``analog`` and ``exact`` decays are kept.

``rounding="stochastic"`` rounds ``x`` up with probability ``x - floor(x)`` from ``seed`` (same seed, same codes).
Not emulated here (a float engine runs the mapped network): per-step rounding and saturation of the state
registers, Loihi's weight exponent, spike limits per step; the bit-exact integer emulations take the mapped network
instead (:func:`hardware.loihi.loihi_from_mapped`, :mod:`hardware.xylo`, :func:`hardware.fpga.fpga_from_mapped`).
See the module docs of :mod:`hardware.rram` for the analog non-idealities.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardware.check import CheckReport, CoreSlice, _chip_limits, check, core_slices, rest_potential, synapse_kinds
from hardware.targets import FPGAFixed, NeuromorphicChip, RRAMCrossbar, TargetProfile
from snn.errors import ConfigError
from snn.model.network import Network, Population, Projection


@dataclass(frozen=True)
class Tile:
    """One RRAM tile: column group ``(post, group)``, row block ``row_block`` and column block ``col_block``.

    ``rows_used`` rows and ``cols_used`` device columns are occupied; ``row_address[r]`` names the presynaptic unit
    of local row ``r`` as ``(source, index)``; ``col_address[c // 2]`` the postsynaptic neuron of pair ``c // 2``.
    """

    index: int
    post: str
    group: str
    row_block: int
    col_block: int
    rows_used: int
    cols_used: int
    row_source: tuple[str, ...] = ()
    row_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    col_neuron: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True)
class QuantizedProjection:
    """Codes of one projection (CSR order) and how they map to mV: ``weights = codes × scale``.

    RRAM: ``codes`` is the signed level ``±q`` and ``g_plus`` / ``g_minus`` the target conductances (µS) with their
    ``tile``, local ``row`` and local ``col`` (the G⁺ column; G⁻ is ``col + 1``); ``k`` is mV per µS.
    """

    name: str
    pre: str
    post: str
    codes: np.ndarray
    scale: float
    fmt: str
    rms_error: float
    max_error: float
    n_zeroed: int
    g_plus: np.ndarray | None = None
    g_minus: np.ndarray | None = None
    tile: np.ndarray | None = None
    row: np.ndarray | None = None
    col: np.ndarray | None = None
    k: float = 0.0


@dataclass(frozen=True, eq=False)
class MappedNetwork:
    """A network as the target holds it: ``network`` runs on the engine; ``projections`` holds the codes."""

    network: Network
    target: TargetProfile
    projections: dict[str, QuantizedProjection]
    placement: tuple[CoreSlice, ...]
    tiles: tuple[Tile, ...]
    scales: dict[str, float]
    check: CheckReport
    report: dict[str, Any]


# --- RRAM layout ----------------------------------------------------------------------------------------------


def _group_of(net: Network, proj: Projection) -> str:
    pop = net.population(proj.post)
    kinds = synapse_kinds(net, pop)
    if proj.target == "delta":
        return "delta"
    return "syn" if "syn" in kinds else proj.target


def _rram_layout(net: Network, t: RRAMCrossbar) -> tuple[list[Tile], dict[str, tuple[np.ndarray, ...]]]:
    """Tiles and, per projection, (tile, row, col) of every synapse (local addresses)."""
    npt = t.neurons_per_tile
    width = 2 if t.differential else 1
    groups: dict[tuple[str, str], list[Projection]] = {}
    for p in net.projections:
        groups.setdefault((p.post, _group_of(net, p)), []).append(p)
    tiles: list[Tile] = []
    where: dict[str, tuple[np.ndarray, ...]] = {}
    for (post, group), projs in groups.items():
        n_post = net.sizes()[post]
        row_src: list[str] = []
        row_idx: list[np.ndarray] = []
        grow: dict[str, np.ndarray] = {}
        rows_of: dict[str, np.ndarray] = {}  # row of each unit of a source (-1: none yet)
        pairs_of: dict[str, np.ndarray] = {}  # (pre, post) cells already holding a synapse, per source
        offset = 0
        for p in projs:
            pre_of_syn = p.connectivity.pre_indices().astype(np.int64)
            cells = pre_of_syn * n_post + p.connectivity.indices
            key = p.pre
            if key in pairs_of and np.isin(cells, pairs_of[key]).any():
                key = f"{p.pre}#{p.name}"  # two synapses on one cell: this projection gets rows of its own
            lookup = rows_of.setdefault(key, np.full(p.connectivity.n_pre, -1, dtype=np.int64))
            pairs_of[key] = np.concatenate([pairs_of.get(key, np.zeros(0, np.int64)), cells])
            new = np.unique(pre_of_syn[lookup[pre_of_syn] < 0])
            lookup[new] = np.arange(new.size) + offset
            grow[p.name] = lookup[pre_of_syn]
            row_src += [key] * new.size
            row_idx.append(new)
            offset += new.size
        all_idx = np.concatenate(row_idx) if row_idx else np.zeros(0, np.int64)
        n_rb = max(1, math.ceil(offset / t.tile_rows))
        n_cb = math.ceil(n_post / npt)
        first = len(tiles)
        for rb in range(n_rb):
            r0, r1 = rb * t.tile_rows, min(offset, (rb + 1) * t.tile_rows)
            for cb in range(n_cb):
                c0, c1 = cb * npt, min(n_post, (cb + 1) * npt)
                tiles.append(Tile(len(tiles), post, group, rb, cb, r1 - r0, (c1 - c0) * width,
                                  tuple(row_src[r0:r1]), all_idx[r0:r1], np.arange(c0, c1, dtype=np.int64)))
        for p in projs:
            r = grow[p.name]
            j = p.connectivity.indices.astype(np.int64)
            tile = first + (r // t.tile_rows) * n_cb + j // npt
            where[p.name] = (tile, r % t.tile_rows, (j % npt) * width)
    return tiles, where


def rram_tiles(net: Network, target: RRAMCrossbar) -> list[Tile]:
    """The tiles a network needs on an RRAM target (used by the ``cores`` rule)."""
    return _rram_layout(net, target)[0]


# --- quantisers ------------------------------------------------------------------------------------------------


def _round(x: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    if rng is None:
        return np.rint(x)
    f = np.floor(x)
    return f + (rng.random(x.shape) < (x - f))


def _tau_realised(target: TargetProfile, tau: Any, dt: float) -> Any:
    arr = np.asarray(tau, dtype=np.float64)
    if target.decay == "bitshift":
        k = np.clip(np.rint(np.log2(arr / dt)), 1, 2**target.decay_bits - 1)
        alpha = 1.0 - 2.0**-k
    elif target.decay == "mult12":
        d = np.clip(np.rint(4096.0 * -np.expm1(-dt / arr)), 1, 4095)
        alpha = 1.0 - d / 4096.0
    elif target.decay == "fixed" and isinstance(target, FPGAFixed):
        alpha = np.clip(target.state_format.quantize(np.exp(-dt / arr)), 2.0**-52, 1.0 - 2.0**-52)
    else:
        return tau
    out = -dt / np.log(alpha)
    return float(out) if out.ndim == 0 else out


def _quantise_voltages(pop: Population, target: TargetProfile, scale: float, dt: float,
                       rng: np.random.Generator | None) -> tuple[Population, dict[str, Any]]:
    m = pop.model
    rest = np.asarray(rest_potential(pop), dtype=np.float64)
    updates: dict[str, Any] = {}
    info: dict[str, Any] = {"scale_mV": scale}

    def q(x: np.ndarray) -> np.ndarray:
        if isinstance(target, FPGAFixed):
            return target.state_format.quantize(x / scale) * scale
        if isinstance(target, NeuromorphicChip) and target.threshold_bits:
            return _round(x / scale, rng) * scale
        return x

    for name in ("v_threshold", "v_reset"):
        if hasattr(m, name) and not (name == "v_reset" and m.kind == "if"):
            val = np.asarray(getattr(m, name), dtype=np.float64)
            new = rest + q(val - rest)
            updates[name] = float(new) if new.ndim == 0 else new
            info[f"{name}_error_mV"] = float(np.max(np.abs(new - val)))
    if hasattr(m, "bias"):
        val = np.asarray(m.bias, dtype=np.float64)
        new = q(val)
        updates["bias"] = float(new) if new.ndim == 0 else new
    for name in ("tau_m", "tau_syn_exc", "tau_syn_inh"):
        if hasattr(m, name) and not (name == "tau_m" and m.kind == "if"):
            before = getattr(m, name)
            after = _tau_realised(target, before, dt)
            updates[name] = after
            if after is not before:
                info[f"{name}_realised_s"] = (float(np.mean(after)))
    model = dataclasses.replace(m, **updates)
    return Population(pop.name, pop.size, model, dict(pop.initial)), info


def _chip_codes(w: np.ndarray, scale: float, wmax: int, rng: np.random.Generator | None) -> np.ndarray:
    codes = _round(w / scale, rng)
    if codes.size and np.abs(codes).max() > wmax:  # only float error can get here (check bounds max|w|/scale)
        codes = np.clip(codes, -wmax, wmax)
    return codes.astype(np.int64)


def _rram_k(mag: np.ndarray, span: float, n_levels: int, how: str) -> float:
    """mV per µS of a column group. ``max``: ``max|w| / span`` (no weight saturates). ``mse``: the level step
    ``c = k Δ`` minimising ``Σ (|w| - c · min(round(|w|/c), L-1))²`` over 200 candidates in
    ``[max|w| / (4 (L-1)), max|w| / (L-1)]``; large weights then saturate at the top level (counted in the report)."""
    top = float(mag.max()) if mag.size else 0.0
    if top == 0.0:
        return 1.0
    if how == "max":
        return top / span
    steps = np.linspace(top / (4 * (n_levels - 1)), top / (n_levels - 1), 200)
    err = [float(np.sum((mag - c * np.minimum(np.rint(mag / c), n_levels - 1)) ** 2)) for c in steps]
    return float(steps[int(np.argmin(err))]) * (n_levels - 1) / span


def map_network(network: Network, target: TargetProfile, seed: int = 0, fit: bool = True,
                rounding: str = "nearest", rram_scale: str = "auto") -> MappedNetwork:
    """Map ``network`` onto ``target`` (see the module docstring). Raises
    :class:`~hardware.check.TargetViolation` with every rule still broken, :class:`ConfigError` for bad arguments.
    ``seed`` drives stochastic rounding only (``rounding="stochastic"``); nearest rounding ignores it.
    ``rram_scale``: ``"max"`` (no saturation), ``"mse"`` (least squared error; for few levels), ``"auto"``
    (``mse`` below 16 levels, else ``max``)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("hardware.map.seed", seed, "must be an integer >= 0")
    if rounding not in ("nearest", "stochastic"):
        raise ConfigError("hardware.map.rounding", rounding, "must be 'nearest' or 'stochastic'")
    if rram_scale not in ("auto", "max", "mse"):
        raise ConfigError("hardware.map.rram_scale", rram_scale, "must be 'auto', 'max' or 'mse'")
    report = check(network, target, fit=fit)
    report.raise_if_any()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7])) if rounding == "stochastic" else None
    dt = network.dt
    scales = dict(report.scales)
    qprojs: dict[str, QuantizedProjection] = {}
    new_weights: dict[str, np.ndarray] = {}
    tiles: list[Tile] = []
    info: dict[str, Any] = {"target": target.name, "kind": target.kind, "changes": list(report.changes),
                            "populations": {}, "projections": {}}

    if isinstance(target, RRAMCrossbar):
        tiles, where = _rram_layout(network, target)
        span = target.g_max_us - target.g_min_us
        delta = span / (target.n_levels - 1)
        mags: dict[tuple[str, str], list[np.ndarray]] = {}
        for p in network.projections:
            mags.setdefault((p.post, _group_of(network, p)), []).append(np.abs(np.asarray(p.weights, np.float64)))
        if rram_scale == "auto":
            rram_scale = "mse" if target.n_levels < 16 else "max"
        kof = {key: _rram_k(np.concatenate(m), span, target.n_levels, rram_scale) for key, m in mags.items()}
        info["rram_scale"] = rram_scale
        for p in network.projections:
            k = kof[(p.post, _group_of(network, p))]
            w = np.asarray(p.weights, dtype=np.float64)
            q = _round(np.abs(w) / (k * delta), rng).astype(np.int64)
            saturated = int(np.sum(q > target.n_levels - 1))
            q = np.minimum(q, target.n_levels - 1)  # "mse" scales only: reported as "saturated"
            sign = np.where(w < 0, -1, 1)
            if not target.differential:
                sign = np.ones_like(sign)
            gp = target.g_min_us + np.where(sign > 0, q, 0) * delta
            gm = target.g_min_us + np.where(sign < 0, q, 0) * delta
            wq = k * (gp - gm)
            tile, row, col = where[p.name]
            qp = QuantizedProjection(p.name, p.pre, p.post, sign * q, k * delta, f"rram {target.n_levels} levels",
                                     _rms(wq - w), _maxabs(wq - w), int(np.sum((q == 0) & (w != 0))),
                                     gp, gm, tile, row, col, k)
            qprojs[p.name] = qp
            new_weights[p.name] = wq
            info["projections"].setdefault(p.name, {})["saturated"] = saturated
    else:
        for p in network.projections:
            w = np.asarray(p.weights, dtype=np.float64)
            s = scales.get(p.post, 1.0)
            if isinstance(target, FPGAFixed):
                codes = target.weight_format.quantize_raw(w / s)
                wq = codes * target.weight_format.lsb * s
                step, fmt = target.weight_format.lsb * s, str(target.weight_format)
            elif target.weight_bits:
                wmax, _ = _chip_limits(target)
                codes = _chip_codes(w, s, wmax, rng)
                wq = codes * s
                step, fmt = s, f"int{target.weight_bits}"
            else:
                codes, wq, step, fmt = np.zeros(w.shape, np.int64), w.copy(), 0.0, "float"
            qprojs[p.name] = QuantizedProjection(p.name, p.pre, p.post, codes, step, fmt, _rms(wq - w),
                                                 _maxabs(wq - w), int(np.sum((wq == 0) & (w != 0))))
            new_weights[p.name] = wq

    pops = []
    for pop in network.populations:
        s = scales.get(pop.name, 1.0)
        newpop, pinfo = _quantise_voltages(pop, target, s, dt, rng)
        pops.append(newpop)
        info["populations"][pop.name] = pinfo
    projs = [dataclasses.replace(p, weights=new_weights[p.name]) for p in network.projections]
    for name, qp in qprojs.items():
        info["projections"][name] = {**info["projections"].get(name, {}),
                                     "format": qp.fmt, "step_mV": qp.scale, "rms_error_mV": qp.rms_error,
                                     "max_error_mV": qp.max_error, "zeroed": qp.n_zeroed}

    placement = _place(network, target, tiles)
    info["cores_used"] = len({c.core for c in placement}) if placement else len(tiles)
    info["tiles_used"] = len(tiles)
    mapped = dataclasses.replace(network, populations=pops, projections=projs, name=f"{network.name}@{target.name}",
                                 metadata={**network.metadata, "hardware_target": target.name})
    return MappedNetwork(mapped, target, qprojs, tuple(placement), tuple(tiles), scales, report, info)


def _place(net: Network, t: TargetProfile, tiles: list[Tile]) -> list[CoreSlice]:
    """Populations packed into cores (:func:`hardware.check.core_slices`). RRAM: the neurons of each tile's column
    block (cores are tiles there)."""
    if isinstance(t, RRAMCrossbar):
        return [CoreSlice(tile.index, tile.post, int(tile.col_neuron[0]), int(tile.col_neuron[-1]) + 1)
                for tile in tiles if tile.row_block == 0 and tile.col_neuron.size]
    return core_slices(net, t)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def _maxabs(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0


#: the issue's name for :func:`map_network`
map = map_network  # noqa: A001 - the public name the HAL issue asks for
