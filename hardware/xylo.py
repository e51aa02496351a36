"""Bit-exact integer emulation of a SynSense Xylo network (XyloAudio 2 core, as ``xylosim.v2`` simulates it).

:class:`XyloConfig` holds a network exactly as the chip's registers take it: int8 weights, global weight bit-shifts,
per-neuron bit-shift decays (``dash``), int16 thresholds and biases, one or two synaptic states per hidden neuron,
one per readout neuron, and optional alias connections. :func:`xylo_evolve` runs it from the all-zero state (or from a
:class:`XyloState`, e.g. the final state of an earlier call) on integer input spike counts and returns every register
the reference records, step by step (kernel: :mod:`hardware.kernels.xylo`, whose docstring writes down the update
equations line by line). :func:`xylo_from_mapped` builds the configuration of a network mapped onto the
``xylo_audio2`` target (:func:`hardware.mapping.map_network`); its docstring gives the unit conversion.

Reference: ``xylosim==0.1.3`` (PyPI; SynSense's C++ simulator, module ``xylosim.v2``: ``XyloLayer.cpp``,
``XyloIAFNeuron.cpp``), whose per-step semantics are written down in /work/shared/reference/xylo-semantics.md;
``tests/test_xylo.py`` compares this emulation with xylosim on random networks array for array. Parameter ranges
(sheet §0): weights int8 (the ``XyloSynapse`` weight type), thresholds and biases int16, input counts uint8
(0..255; more than 15 per channel and step are clipped to 15 by the chip), weight shifts and decays 0..15 (the
chip's 4-bit fields; xylosim shifts ``int`` values, so a shifted weight that needs more than 16 bits wraps around,
e.g. ``100 << 9`` gives ``-14336``). Dense weight arrays are used here; a zero weight means "no synapse" (adding 0
changes nothing). Xylo's size limits (16 inputs, 1000 hidden, 8 readout neurons on XyloAudio 2) live in the target
profile ``configs/targets/xylo_audio2.toml`` and are not enforced here (xylosim does not enforce them either).

Behaviour worth knowing (sheet §3-§8): the decay removes ``max(v >> dash, 1)`` from positive values and ``v >> dash``
(floor) from negative ones, so it is asymmetric; ``dash = 0`` clears the state every step (a synapse with
``dash_syn = 0`` never reaches the membrane). Spikes add into the synaptic state before that step's decay; hidden
spikes reach hidden and readout neurons one step later. The reset subtracts the threshold once per spike; a hidden
neuron emits up to 31 spikes per step, a readout neuron 1, and what is left above threshold carries over.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hardware.int_fields import int_array as _int_array
from hardware.int_fields import spike_raster
from hardware.kernels.xylo import MAX_INPUT_SPIKES, MAX_OUT_SPIKES, MAX_SPIKES, xylo_batch
from snn.errors import ConfigError

__all__ = ["MAX_INPUT_SPIKES", "MAX_OUT_SPIKES", "MAX_SPIKES", "XYLO_AUDIO2_OUTPUTS", "XyloConfig", "XyloResult",
           "XyloState", "xylo_evolve", "xylo_from_mapped"]

INT8 = (-128, 127)
INT16 = (-32768, 32767)
#: the chip's 4-bit fields (weight shifts and bit-shift decays)
SHIFT = (0, 15)
#: uint8 input spike counts, as xylosim's ``evolve`` takes them
COUNT = (0, 255)


def _shaped(path: str, value: object, shape: tuple[int, ...], lo: int, hi: int, what: str,
            dtype: type, scalar_ok: bool = True) -> np.ndarray:
    arr = _int_array(path, value, lo, hi, what)
    if arr.ndim == 0 and scalar_ok:
        arr = np.broadcast_to(arr, shape)
    if arr.shape != shape:
        raise ConfigError(path, value, f"must have shape {shape}{' (or be one number)' if scalar_ok else ''}")
    out = np.array(arr, dtype=dtype)
    out.setflags(write=False)
    return out


def _shift(path: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not SHIFT[0] <= value <= SHIFT[1]:
        raise ConfigError(path, value, f"must be an integer in [{SHIFT[0]}, {SHIFT[1]}] (bits, 4-bit field)")
    return int(value)


@dataclass(frozen=True, eq=False)
class XyloConfig:
    """One Xylo network as the chip holds it. Validated on construction (one-line :class:`ConfigError`).

    Sizes: ``Nin`` input channels, ``N`` hidden neurons, ``S`` synaptic states per hidden neuron (1 or 2; XyloAudio 2
    has 2), ``O`` readout neurons (one synaptic state each).

    - ``w_in`` (Nin, N, S), ``w_rec`` (N, N, S) [pre, post, synapse], ``w_out`` (N, O) [pre, post]: int8 weights
      (0: no synapse);
    - ``threshold`` (N,), ``threshold_out`` (O,): int16 (the reset subtracts it once per spike; values <= 0 are
      accepted as xylosim accepts them, and then every step fills the spike limit);
    - ``dash_mem`` (N,), ``dash_syn`` (N, S), ``dash_mem_out`` (O,), ``dash_syn_out`` (O,): bit-shift decays in
      [0, 15]; per step a state loses ``v >> dash`` (at least 1 when positive), i.e. ``tau ≈ 2**dash`` steps;
    - ``bias`` (N,), ``bias_out`` (O,): int16, added to the membrane every step (``None``: zeros);
    - ``weight_shift_in``, ``weight_shift_rec``, ``weight_shift_out``: global left shifts in [0, 15] applied to the
      input, recurrent and readout weights (``w << shift``, wrapped to int16);
    - ``aliases``: ``None`` or N sequences of hidden indices: the spikes of neuron n are copied at once into the
      spike buffers of ``aliases[n]`` (capped at 31);
    - ``has_bias``: the chip-wide bias enable (``False``: the biases are ignored); ``None`` means "if any bias is
      nonzero" (Rockpool's rule). With all biases zero it changes only the hibernation flag's one-step lag.

    Every per-neuron array may also be given as one number for all neurons. Arrays are stored read-only with the
    chip's types (int8 weights, int16 thresholds and biases, uint8 decays).
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    w_out: np.ndarray
    threshold: np.ndarray
    threshold_out: np.ndarray
    dash_mem: np.ndarray
    dash_syn: np.ndarray
    dash_mem_out: np.ndarray
    dash_syn_out: np.ndarray
    bias: np.ndarray | None = None
    bias_out: np.ndarray | None = None
    weight_shift_in: int = 0
    weight_shift_rec: int = 0
    weight_shift_out: int = 0
    aliases: tuple[tuple[int, ...], ...] | None = None
    has_bias: bool | None = None

    def __post_init__(self) -> None:
        p = "xylo"
        w_rec = _int_array(f"{p}.w_rec", self.w_rec, *INT8, "int8 weights")
        if w_rec.ndim != 3 or w_rec.shape[0] != w_rec.shape[1] or w_rec.shape[0] < 1 or w_rec.shape[2] not in (1, 2):
            raise ConfigError(f"{p}.w_rec", self.w_rec, "must have shape (N, N, S) with N >= 1 and S = 1 or 2")
        n, s = w_rec.shape[0], w_rec.shape[2]
        if n > 65536:
            raise ConfigError(f"{p}.w_rec", self.w_rec, "must have N <= 65536 hidden neurons (uint16 neuron ids)")
        w_in = _int_array(f"{p}.w_in", self.w_in, *INT8, "int8 weights")
        if w_in.ndim != 3 or w_in.shape[0] < 1 or w_in.shape[1:] != (n, s):
            raise ConfigError(f"{p}.w_in", self.w_in, f"must have shape (Nin, {n}, {s}) with Nin >= 1")
        w_out = _int_array(f"{p}.w_out", self.w_out, *INT8, "int8 weights")
        if w_out.ndim != 2 or w_out.shape[0] != n or w_out.shape[1] < 1:
            raise ConfigError(f"{p}.w_out", self.w_out, f"must have shape ({n}, O) with O >= 1")
        o = w_out.shape[1]
        for name, arr in (("w_in", w_in), ("w_rec", w_rec), ("w_out", w_out)):
            arr = arr.astype(np.int8)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        fields = (("threshold", (n,), INT16, "int16", np.int16), ("threshold_out", (o,), INT16, "int16", np.int16),
                  ("dash_mem", (n,), SHIFT, "bit-shift decay", np.uint8),
                  ("dash_syn", (n, s), SHIFT, "bit-shift decay", np.uint8),
                  ("dash_mem_out", (o,), SHIFT, "bit-shift decay", np.uint8),
                  ("dash_syn_out", (o,), SHIFT, "bit-shift decay", np.uint8),
                  ("bias", (n,), INT16, "int16", np.int16), ("bias_out", (o,), INT16, "int16", np.int16))
        for name, shape, (lo, hi), what, dtype in fields:
            value = getattr(self, name)
            if value is None and name in ("bias", "bias_out"):
                value = 0
            object.__setattr__(self, name, _shaped(f"{p}.{name}", value, shape, lo, hi, what, dtype))
        for name in ("weight_shift_in", "weight_shift_rec", "weight_shift_out"):
            object.__setattr__(self, name, _shift(f"{p}.{name}", getattr(self, name)))
        if self.aliases is not None:
            object.__setattr__(self, "aliases", _aliases(f"{p}.aliases", self.aliases, n))
        if self.has_bias is not None and not isinstance(self.has_bias, (bool, np.bool_)):
            raise ConfigError(f"{p}.has_bias", self.has_bias, "must be true, false or None (any bias nonzero)")
        if self.has_bias is not None:
            object.__setattr__(self, "has_bias", bool(self.has_bias))

    @property
    def n_inputs(self) -> int:
        return int(self.w_in.shape[0])

    @property
    def n_hidden(self) -> int:
        return int(self.w_rec.shape[0])

    @property
    def n_synapses(self) -> int:
        """Synaptic states per hidden neuron (1 or 2)."""
        return int(self.w_rec.shape[2])

    @property
    def n_out(self) -> int:
        return int(self.w_out.shape[1])

    @property
    def bias_enabled(self) -> bool:
        """The chip-wide bias enable in force: ``has_bias``, or (None) whether any bias is nonzero."""
        if self.has_bias is not None:
            return bool(self.has_bias)
        return bool(np.any(self.bias != 0) or np.any(self.bias_out != 0))

    def effective_weights(self, which: str) -> np.ndarray:
        """``wrap16(w << weight_shift)`` of ``which`` in ("in", "rec", "out") as int64: the value one spike adds."""
        table = {"in": (self.w_in, self.weight_shift_in), "rec": (self.w_rec, self.weight_shift_rec),
                 "out": (self.w_out, self.weight_shift_out)}
        if which not in table:
            raise ConfigError("xylo.effective_weights.which", which, "must be 'in', 'rec' or 'out'")
        w, shift = table[which]
        return ((w.astype(np.int64) << shift) + 32768) % 65536 - 32768

    def _kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """The kernel's parameter arrays (dense input weights and hidden synapse lists, all effective weights;
        int64 per-neuron parameters; alias lists), in :func:`hardware.kernels.xylo.xylo_trial`'s order without
        ``has_bias``. Built once per config (the config is immutable) because for a full-size chip this takes tens
        of milliseconds."""
        cached = self.__dict__.get("_kernel")
        if cached is not None:
            return cached
        n = self.n_hidden
        # input weights dense, (Nin, N * S) [channel, n * S + s]: up to 16 channels with dense rows, delivered
        # with vector instructions; hidden sources as synapse lists (sparse rows, few sources spike per step)
        w_in = np.ascontiguousarray(self.effective_weights("in").reshape(self.n_inputs, -1), dtype=np.int32)
        syn_rec = _csr(self.effective_weights("rec"), self.w_rec)
        out_ptr, out_post, out_w = _csr(self.effective_weights("out")[:, :, None], self.w_out[:, :, None])
        aliases = self.aliases if self.aliases is not None else ((),) * n
        alias_ptr = np.zeros(n + 1, np.int64)
        np.cumsum([len(a) for a in aliases], out=alias_ptr[1:])
        alias_idx = np.array([a for row in aliases for a in row], dtype=np.int64)
        params = tuple(getattr(self, name).astype(np.int64) for name in (
            "threshold", "bias", "dash_mem", "dash_syn", "threshold_out", "bias_out", "dash_mem_out", "dash_syn_out"))
        arrays = (w_in, *syn_rec, out_ptr, out_post, out_w, *params, alias_ptr, alias_idx)
        object.__setattr__(self, "_kernel", arrays)  # a cache, not a field: dataclasses.replace rebuilds it
        return arrays


def _aliases(path: str, value: object, n: int) -> tuple[tuple[int, ...], ...]:
    try:
        rows = [tuple(row) for row in value]  # type: ignore[union-attr]
    except TypeError:
        raise ConfigError(path, value, f"must be {n} sequences of hidden-neuron indices (one per neuron)") from None
    if len(rows) != n:
        raise ConfigError(path, value, f"must have one entry per hidden neuron ({n}), got {len(rows)}")
    out = []
    for i, row in enumerate(rows):
        for a in row:
            if isinstance(a, (bool, np.bool_)) or not isinstance(a, numbers.Integral) or not 0 <= a < n:
                raise ConfigError(f"{path}[{i}]", row, f"must hold hidden-neuron indices in [0, {n - 1}]")
        out.append(tuple(int(a) for a in row))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class XyloState:
    """The registers that carry over from one step to the next (leading trial axis B for a batch):
    ``isyn`` (N, S), ``vmem`` (N,), ``isyn_out`` (O,), ``vmem_out`` (O,) int16, and ``spikes`` (N,) uint8, the
    hidden spike counts of the last step, which the next step delivers. A fresh chip is all zero
    (:meth:`zeros`). Passing a result's ``final_state`` to the next :func:`xylo_evolve` call continues the run
    as xylosim does across ``evolve`` calls (its hibernation flag restarts at false in every call)."""

    isyn: np.ndarray
    vmem: np.ndarray
    isyn_out: np.ndarray
    vmem_out: np.ndarray
    spikes: np.ndarray

    @staticmethod
    def zeros(config: XyloConfig, trials: int | None = None) -> XyloState:
        """The all-zero state of ``config`` (a fresh chip); with ``trials``, a leading axis of that length."""
        lead = () if trials is None else (int(trials),)
        n, s, o = config.n_hidden, config.n_synapses, config.n_out
        return XyloState(np.zeros(lead + (n, s), np.int16), np.zeros(lead + (n,), np.int16),
                         np.zeros(lead + (o,), np.int16), np.zeros(lead + (o,), np.int16),
                         np.zeros(lead + (n,), np.uint8))


def _state(config: XyloConfig, state: object, trials: int, batched: bool) -> tuple[np.ndarray, ...]:
    """The kernel's int64 state arrays (trials, ...) from ``state`` (None: zeros), validated."""
    n, s, o = config.n_hidden, config.n_synapses, config.n_out
    if state is None:
        state = XyloState.zeros(config)
    if not isinstance(state, XyloState):
        raise ConfigError("xylo.state", state, "must be a XyloState or None")
    out = []
    for name, shape, (lo, hi), what in (("isyn", (n, s), INT16, "int16"), ("vmem", (n,), INT16, "int16"),
                                        ("isyn_out", (o,), INT16, "int16"), ("vmem_out", (o,), INT16, "int16"),
                                        ("spikes", (n,), (0, MAX_SPIKES), "spike counts")):
        value = getattr(state, name)
        arr = _int_array(f"xylo.state.{name}", value, lo, hi, what)
        if arr.shape == shape:
            arr = np.broadcast_to(arr, (trials,) + shape)
        elif not (batched and arr.shape == (trials,) + shape):
            allowed = f"{shape} or {(trials,) + shape}" if batched else f"{shape}"
            raise ConfigError(f"xylo.state.{name}", value, f"must have shape {allowed}")
        out.append(np.array(arr, dtype=np.int64, order="C"))  # "K" would keep the broadcast's trial-minor strides
    return tuple(out)


@dataclass(frozen=True, eq=False)
class XyloResult:
    """What :func:`xylo_evolve` records, per step (leading trial axis B when the input had one).

    ``spikes`` (T, N) uint8: hidden spike counts 0..31 of each step (own spikes plus alias spikes), as delivered at
    the next step; ``spikes_out`` (T, O) uint8: readout spikes 0/1; ``vmem`` (T, N), ``isyn`` (T, N, S),
    ``vmem_out`` (T, O), ``isyn_out`` (T, O): int16 states after the step's input, decay, integration and reset
    (``isyn[..., 0]`` and ``isyn[..., 1]`` are xylosim's ``i_syn`` and ``i_syn2``); ``hibernation`` (T,) bool: the
    simulator's hibernation-mode flag (a power model; no effect on the dynamics); ``final_state``: the state after
    the last step (:class:`XyloState`), to continue the run with another call.
    """

    spikes: np.ndarray
    spikes_out: np.ndarray
    vmem: np.ndarray
    isyn: np.ndarray
    vmem_out: np.ndarray
    isyn_out: np.ndarray
    hibernation: np.ndarray
    final_state: XyloState


def _csr(w_eff: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-source synapse lists of a (P, N, S) weight array: ``ptr`` (P+1), ``tgt`` = post · S + syn (the flat
    index of the target state), ``w`` (effective), in Rockpool's order (synapse 0 targets ascending, then synapse
    1). Zero raw weights are no synapse."""
    src, syn, post = np.nonzero(np.transpose(raw, (0, 2, 1)))
    ptr = np.zeros(raw.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=raw.shape[0]), out=ptr[1:])
    tgt = post.astype(np.int64) * raw.shape[2] + syn
    return ptr, tgt.astype(np.int32), w_eff[src, post, syn].astype(np.int32)


def xylo_evolve(config: XyloConfig, input_raster: np.ndarray | Sequence[Sequence[int]],
                state: XyloState | None = None) -> XyloResult:
    """Run ``config`` on ``input_raster``: (T, Nin) input spike counts per step (0..255; the chip uses at most
    15 per channel and step), or (B, T, Nin) for B independent trials (run in parallel). ``state``: where to start
    (None: the all-zero state of a fresh chip; for a batch, one state for every trial or a state with a leading B
    axis). Every trial gives the same arrays as xylosim's ``XyloLayer.evolve`` on a layer in that state; see
    :class:`XyloResult` for what is returned."""
    if not isinstance(config, XyloConfig):
        raise ConfigError("xylo.config", config, "must be a XyloConfig")
    xb, single = spike_raster("xylo.input", input_raster, config.n_inputs, max_count=COUNT[1])
    b, t = xb.shape[0], xb.shape[1]
    cur, v, cur_o, v_o, buf = _state(config, state, b, not single)
    n, s, o = config.n_hidden, config.n_synapses, config.n_out
    k = config._kernel_arrays()
    spikes = np.zeros((b, t, n), np.uint8)
    spikes_out = np.zeros((b, t, o), np.uint8)
    vmem = np.zeros((b, t, n), np.int16)
    isyn = np.zeros((b, t, n, s), np.int16)
    vmem_out = np.zeros((b, t, o), np.int16)
    isyn_out = np.zeros((b, t, o), np.int16)
    hib = np.zeros((b, t), np.bool_)
    xylo_batch(np.ascontiguousarray(xb), *k[:-2], config.bias_enabled, *k[-2:],
               cur, v, cur_o, v_o, buf, spikes, spikes_out, vmem, isyn, vmem_out, isyn_out, hib)
    final = XyloState(cur.astype(np.int16), v.astype(np.int16), cur_o.astype(np.int16), v_o.astype(np.int16),
                      buf.astype(np.uint8))
    arrays = (spikes, spikes_out, vmem, isyn, vmem_out, isyn_out, hib)
    if single:
        arrays = tuple(a[0] for a in arrays)
        final = XyloState(*(a[0] for a in (final.isyn, final.vmem, final.isyn_out, final.vmem_out, final.spikes)))
    return XyloResult(*arrays, final)


# --- from a mapped network -------------------------------------------------------------------------------------

#: readout neurons of XyloAudio 2 (the target profile models the hidden layer only; Rockpool: 8 outputs)
XYLO_AUDIO2_OUTPUTS = 8
#: synaptic state of each synapse kind on a hidden neuron (XyloAudio 2 has two per neuron)
_STATE = {"exc": 0, "inh": 1}


def _dash(path: str, decay: np.ndarray) -> np.ndarray:
    """``k`` with ``decay = 1 - 2**-k`` (the mapping's bitshift decays), per neuron; ConfigError off that grid."""
    k = -np.log2(-np.expm1(np.log(np.asarray(decay, dtype=np.float64))))
    kr = np.rint(k)
    if np.any(np.abs(k - kr) > 1e-6) or np.any(kr < 1) or np.any(kr > SHIFT[1]):
        raise ConfigError(path, float(np.asarray(decay).flat[0]), "is not a bit-shift decay 1 - 2**-k with k in "
                          "[1, 15]: map the network onto the xylo_audio2 target first")
    return kr.astype(np.int64)


def _codes(path: str, x: np.ndarray) -> np.ndarray:
    r = np.rint(x)
    if np.any(np.abs(x - r) > 1e-6 * np.maximum(1.0, np.abs(x))):
        raise ConfigError(path, float(x.flat[np.argmax(np.abs(x - r))]), "is not on the mapped integer grid: "
                          "map the network onto the xylo_audio2 target first")
    return r.astype(np.int64)


def _xylo_layer(mapped: Any, pop: Any, kinds: list[str], n_states: int, path: str) -> dict[str, Any]:
    """Per-neuron Xylo parameters of one mapped LIF population: dashes per synaptic state, the weight factor
    ``g[c][n]`` (a weight code on state ``c`` becomes ``code · g``; 1 on the reference state), the threshold
    in the population's Xylo units before the weight shift, and the checks (see :func:`xylo_from_mapped`)."""
    from hardware.check import rest_potential
    from snn.engine import linear_step

    net = mapped.network
    m = pop.model
    if m.kind != "lif":
        raise ConfigError(f"{path}.model", m.kind, "is not supported on Xylo (LIF neurons only)")
    n = pop.size
    rest = np.broadcast_to(np.asarray(rest_potential(pop), np.float64), (n,))
    if m.reset != "subtract" or np.any(np.abs(np.asarray(m.v_reset, np.float64) - rest) > 1e-9):
        raise ConfigError(f"{path}.reset", m.reset, "is not supported on Xylo: it needs reset='subtract' with "
                          "v_reset == v_rest (the chip subtracts the threshold)")
    if np.any(np.asarray(m.t_ref) > 0):
        raise ConfigError(f"{path}.t_ref", m.t_ref, "is not supported on Xylo (no refractory period)")
    if np.any(np.asarray(m.bias) != 0):
        raise ConfigError(f"{path}.bias", m.bias, "is not supported on Xylo (no bias on the chip's profile)")
    c = linear_step(m, net.dt, n)
    dash_mem = _dash(f"{path}.model.tau_m", c["em"])
    dash_by_kind = {"exc": _dash(f"{path}.model.tau_syn_exc", c["de"]),
                    "inh": _dash(f"{path}.model.tau_syn_inh", c["di"])}
    # kappa = ce / de: voltage (in mV per mV of weight) that one unit of the decayed Xylo current adds per step
    kappa = {"exc": c["ce"] / c["de"], "inh": c["ci"] / c["di"]}
    used = [k for k in ("exc", "inh") if k in kinds] or ["exc"]
    if n_states == 1 and len(used) == 2 and not np.array_equal(dash_by_kind["exc"], dash_by_kind["inh"]):
        raise ConfigError(f"{path}.model.tau_syn_inh", m.tau_syn_inh, "is not supported: Xylo's readout neurons "
                          "have one synaptic state, so tau_syn_exc and tau_syn_inh must map to the same decay")
    ref = np.max(np.stack([kappa[k] for k in used]), axis=0)
    gain = {k: kappa[k] / ref for k in ("exc", "inh")}
    scale = mapped.scales.get(pop.name, 1.0)
    theta = _codes(f"{path}.model.v_threshold",
                   (np.broadcast_to(np.asarray(m.v_threshold, np.float64), (n,)) - rest) / scale)
    if np.any(theta <= 0):
        raise ConfigError(f"{path}.model.v_threshold", m.v_threshold, "must lie above v_rest on Xylo")
    dash_syn = np.stack([dash_by_kind["exc"], dash_by_kind["inh"]], axis=1)[:, :n_states]
    return {"dash_mem": dash_mem, "dash_syn": dash_syn, "gain": gain, "theta": theta / ref, "used": used}


def _shift_for(path: str, theta: np.ndarray) -> int:
    """The largest weight shift in [0, 8] (wider would wrap int8 codes) whose thresholds stay <= 2**14 (half the
    int16 range: headroom for residuals above threshold), or 0 when they fit int16 only without a shift."""
    top = float(theta.max()) if theta.size else 0.0
    for sh in range(8, -1, -1):
        if np.floor(top * 2**sh) + 1 <= 2**14:
            return sh
    if np.floor(top) + 1 <= INT16[1]:
        return 0
    raise ConfigError(path, round(top), f"Xylo threshold units at weight_shift 0 exceed int16 ({INT16[1]}): the "
                      "threshold is too many weight steps for the membrane's per-step current coupling (ce / de); "
                      "raise the largest weights, lower the threshold or use a longer dt")


def xylo_from_mapped(mapped: Any) -> XyloConfig:
    """A :class:`XyloConfig` from a :class:`hardware.mapping.MappedNetwork` mapped onto ``xylo_audio2``
    (:func:`hardware.load_target`), to run bit-exactly with :func:`xylo_evolve`.

    Supported: one input source (any kind; at most 16 channels) projecting onto one hidden LIF population (at most
    1000 neurons) with an optional recurrent projection, and an optional readout LIF population (at most 8)
    fed by the hidden one; projections with ``target`` ``"exc"`` / ``"inh"`` (hidden neurons: synaptic states 0 /
    1; readout neurons: their one state, so their ``tau_syn_exc`` and ``tau_syn_inh`` must map to the same
    decay), delay 0 (the engine's delay 0 is Xylo's timing, see below), ``reset="subtract"`` with ``v_reset ==
    v_rest``, ``t_ref = 0``, ``bias = 0``, no plasticity, short-term plasticity, analog reads or noise currents.
    Anything else raises a one-line :class:`ConfigError` naming it. Without a readout population the config gets
    one silent readout neuron (Xylo needs one; zero weights). Several projections onto one (pre, post, state)
    add their codes (which must stay int8).

    Unit conversion. The mapping holds a population's weights as int8 codes ``w = code · s`` (``s`` mV per step,
    ``mapped.scales``), thresholds as ``θ - v_rest = θ_code · s`` and decays as bit shifts ``α = 1 - 2**-k``
    (``dash = k``, read back from the mapped time constants). The engine's exact LIF step is ``v[t] - v_rest =
    e_m (v[t-1] - v_rest) + c_e i_e[t-1] + c_i i_i[t-1]``, ``i[t] = d · i[t-1] + Σ w`` (coefficients of
    :func:`snn.engine.linear_step`: ``e_m = α_mem``, ``d = α_syn``, ``c`` the current's
    coupling, ~ ``dt / tau_m``), while Xylo adds the whole decayed current: ``V[t] = V[t-1] - D(V[t-1]) + I[t]``,
    ``I[t] = I[t-1] + w_x - D(...)``. With ``I[t] = κ i[t-1] / u`` (``κ = c / d``) and ``V = (v - v_rest) / u``
    the two agree up to Xylo's integer rounding (and its saturation at ±32767) when ``u = s κ_ref / 2**shift``
    per neuron (``κ_ref``: the larger ``κ`` of the states in use). Then the weights are the mapped codes,
    ``w_x = code`` with ``weight_shift = shift`` (a state whose ``κ`` is smaller gets ``round(code · κ /
    κ_ref)``), and the threshold is
    ``θ_x = floor(θ_code · 2**shift / κ_ref) + 1`` (so ``V >= θ_x`` is the engine's strict ``v > θ``; the
    subtractive resets agree). ``shift`` is the largest in [0, 8] keeping every ``θ_x <= 2**14`` (else 0 if
    ``θ_x`` fits int16, else a ConfigError); input and recurrent weights share the hidden shift, the readout has
    its own. One step is the engine's ``dt``.

    Timing: Xylo delivers input spikes in the step they arrive and hidden spikes one step later; the engine
    delivers every spike at the end of its step (delay 0). So engine input spikes of step ``t`` are Xylo input
    row ``t + 1`` (row 0 empty), and Xylo's hidden and readout spikes of step ``t`` compare with the engine's of
    step ``t``. What does not carry over: Xylo's floor decays (``D``), integer currents and up to 31 hidden spikes
    per step (the engine emits at most one), so the spike trains agree closely, not exactly (``tests/test_xylo.py``
    measures it on a 16 -> 60 (exc + inh recurrence) -> 4 network over 400 steps: spike counts within 0.5 %,
    membranes within 0.5-2.2 % of threshold until the first differing spike, 39-47 % of the hidden spikes at the
    same step and neuron; the recurrence amplifies one-step slips).
    """
    from hardware.mapping import MappedNetwork

    p = "xylo_from_mapped"
    if not isinstance(mapped, MappedNetwork):
        raise ConfigError(p, mapped, "must be a hardware.mapping.MappedNetwork (hardware.map_network(...))")
    t = mapped.target
    if t.decay != "bitshift" or t.weight_bits != 8:
        raise ConfigError(f"{p}.target", t.name, "is not supported: map onto a Xylo target (xylo_audio2: bitshift "
                          "decay, int8 weights)")
    net = mapped.network
    if len(net.inputs) != 1:
        raise ConfigError(f"{p}.inputs", [s.name for s in net.inputs], "must be exactly one input source on Xylo")
    if net.currents:
        raise ConfigError(f"{p}.currents", len(net.currents), "noise currents are not supported on Xylo")
    src = net.inputs[0]
    max_in = t.max_inputs or 16
    if src.size > max_in:
        raise ConfigError(f"{p}.inputs.{src.name}.size", src.size, f"must be <= {max_in} Xylo input channels")
    pops = {q.name: q for q in net.populations}
    for proj in net.projections:
        where = f"{p}.projections.{proj.name}"
        for what in ("plasticity", "stp", "read"):
            if getattr(proj, what) is not None:
                raise ConfigError(f"{where}.{what}", type(getattr(proj, what)).__name__, "is not supported on Xylo")
        if np.any(np.asarray(proj.delays) != 0):
            raise ConfigError(f"{where}.delays", int(np.max(proj.delays)), "are not supported on Xylo (delay 0 only)")
        if proj.target not in _STATE:
            raise ConfigError(f"{where}.target", proj.target, "is not supported on Xylo ('exc' or 'inh' only)")
    hidden_names = {q.post for q in net.projections if q.pre == src.name}
    if len(hidden_names) != 1:
        raise ConfigError(f"{p}.projections", sorted(hidden_names), f"the input '{src.name}' must project onto "
                          "exactly one (hidden) population on Xylo")
    hidden = pops[hidden_names.pop()]
    others = [q for q in net.populations if q.name != hidden.name]
    if len(others) > 1:
        raise ConfigError(f"{p}.populations", [q.name for q in net.populations], "more than two populations are "
                          "not supported on Xylo (one hidden and one readout)")
    readout = others[0] if others else None
    allowed = {(src.name, hidden.name), (hidden.name, hidden.name)}
    if readout is not None:
        allowed.add((hidden.name, readout.name))
    for proj in net.projections:
        if (proj.pre, proj.post) not in allowed:
            raise ConfigError(f"{p}.projections.{proj.name}", f"{proj.pre} -> {proj.post}", "is not supported on "
                              f"Xylo (input -> {hidden.name}, {hidden.name} -> {hidden.name}"
                              f"{f', {hidden.name} -> {readout.name}' if readout else ''} only)")
    n = hidden.size
    max_hidden = t.max_neurons_total or t.neurons_per_core or 1000
    if n > max_hidden:
        raise ConfigError(f"{p}.populations.{hidden.name}.size", n, f"must be <= {max_hidden} hidden neurons")
    if readout is not None and readout.size > XYLO_AUDIO2_OUTPUTS:
        raise ConfigError(f"{p}.populations.{readout.name}.size", readout.size,
                          f"must be <= {XYLO_AUDIO2_OUTPUTS} Xylo readout neurons")
    s_hid = 2
    kinds_of = {name: sorted({q.target for q in net.projections if q.post == name}) for name in pops}
    hid = _xylo_layer(mapped, hidden, kinds_of[hidden.name], s_hid, f"{p}.populations.{hidden.name}")
    o = readout.size if readout is not None else 1
    out = (_xylo_layer(mapped, readout, kinds_of[readout.name], 1, f"{p}.populations.{readout.name}")
           if readout is not None else None)

    def dense(kind_pre: str, n_pre: int, n_post: int, n_states: int, layer: dict[str, Any],
              post: str) -> np.ndarray:
        acc = np.zeros((n_pre, n_post, n_states), np.float64)
        for proj in net.projections:
            if proj.post != post or (proj.pre == src.name) != (kind_pre == "in"):
                continue
            codes = np.asarray(mapped.projections[proj.name].codes, np.float64)
            pre = proj.connectivity.pre_indices().astype(np.int64)
            post_i = np.asarray(proj.connectivity.indices, np.int64)
            state = _STATE[proj.target] if n_states == 2 else 0
            np.add.at(acc, (pre, post_i, state), codes * layer["gain"][proj.target][post_i])
        return np.rint(acc)

    w_in = dense("in", src.size, n, s_hid, hid, hidden.name)
    w_rec = dense("rec", n, n, s_hid, hid, hidden.name)
    sh = _shift_for(f"{p}.populations.{hidden.name}.model.v_threshold", hid["theta"])
    if out is not None:
        w_out = dense("rec", n, o, 1, out, readout.name)[:, :, 0]
        sh_out = _shift_for(f"{p}.populations.{readout.name}.model.v_threshold", out["theta"])
        th_out = np.floor(out["theta"] * 2**sh_out) + 1
        dm_out, ds_out = out["dash_mem"], out["dash_syn"][:, 0]
    else:
        w_out, sh_out, th_out, dm_out, ds_out = np.zeros((n, 1)), 0, np.full(1, INT16[1]), 1, 1
    for name, w in (("input", w_in), ("recurrent", w_rec), ("readout", w_out)):
        if w.size and np.abs(w).max() > INT8[1]:
            raise ConfigError(f"{p}.projections", name, "summed codes on one Xylo synapse reach "
                              f"{int(np.abs(w).max())} > {INT8[1]} (int8)")
    return XyloConfig(w_in=w_in, w_rec=w_rec, w_out=w_out, threshold=np.floor(hid["theta"] * 2**sh) + 1,
                      threshold_out=th_out, dash_mem=hid["dash_mem"], dash_syn=hid["dash_syn"],
                      dash_mem_out=dm_out, dash_syn_out=ds_out, weight_shift_in=sh, weight_shift_rec=sh,
                      weight_shift_out=sh_out, has_bias=False)
