"""Bit-exact integer emulation of a SynSense Xylo network (XyloAudio 2 core, as ``xylosim.v2`` simulates it).

:class:`XyloConfig` holds a network exactly as the chip's registers take it: int8 weights, global weight bit-shifts,
per-neuron bit-shift decays (``dash``), int16 thresholds and biases, one or two synaptic states per hidden neuron,
one per readout neuron, and optional alias connections. :func:`xylo_evolve` runs it from the all-zero state (or from a
:class:`XyloState`, e.g. the final state of an earlier call) on integer input spike counts and returns every register
the reference records, step by step (kernel: :mod:`hardware.kernels.xylo`, whose docstring writes down the update
equations line by line).

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

import numpy as np

from hardware.kernels.xylo import MAX_INPUT_SPIKES, MAX_OUT_SPIKES, MAX_SPIKES, xylo_batch
from snn.errors import ConfigError

__all__ = ["MAX_INPUT_SPIKES", "MAX_OUT_SPIKES", "MAX_SPIKES", "XyloConfig", "XyloResult", "XyloState", "xylo_evolve"]

INT8 = (-128, 127)
INT16 = (-32768, 32767)
#: the chip's 4-bit fields (weight shifts and bit-shift decays)
SHIFT = (0, 15)
#: uint8 input spike counts, as xylosim's ``evolve`` takes them
COUNT = (0, 255)


def _int_array(path: str, value: object, lo: int, hi: int, what: str) -> np.ndarray:
    """``value`` as an int64 array of whole numbers in [lo, hi] (one-line :class:`ConfigError` otherwise)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ConfigError(path, value, f"must be an array of {what}") from None
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ConfigError(path, value, f"must be an array of {what}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ConfigError(path, value, f"must hold whole numbers ({what})")
    out = arr.astype(np.int64)
    if out.size and (out.min() < lo or out.max() > hi):
        bad = out[(out < lo) | (out > hi)].flat[0]
        raise ConfigError(path, int(bad), f"must be in [{lo}, {hi}] ({what})")
    return out


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
        """The kernel's parameter arrays (synapse lists with effective weights, int64 per-neuron parameters, alias
        lists), in :func:`hardware.kernels.xylo.xylo_trial`'s order without ``has_bias``. Built once per config
        (the config is immutable) because for a full-size chip this takes tens of milliseconds."""
        cached = self.__dict__.get("_kernel")
        if cached is not None:
            return cached
        n = self.n_hidden
        syn_in = _csr(self.effective_weights("in"), self.w_in)
        syn_rec = _csr(self.effective_weights("rec"), self.w_rec)
        out_ptr, out_post, _, out_w = _csr(self.effective_weights("out")[:, :, None], self.w_out[:, :, None])
        aliases = self.aliases if self.aliases is not None else ((),) * n
        alias_ptr = np.zeros(n + 1, np.int64)
        np.cumsum([len(a) for a in aliases], out=alias_ptr[1:])
        alias_idx = np.array([a for row in aliases for a in row], dtype=np.int64)
        params = tuple(getattr(self, name).astype(np.int64) for name in (
            "threshold", "bias", "dash_mem", "dash_syn", "threshold_out", "bias_out", "dash_mem_out", "dash_syn_out"))
        arrays = (*syn_in, *syn_rec, out_ptr, out_post, out_w, *params, alias_ptr, alias_idx)
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
        out.append(np.array(arr, dtype=np.int64))
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


def _csr(w_eff: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-source synapse lists of a (P, N, S) weight array: ``ptr`` (P+1), ``post``, ``syn``, ``w`` (effective),
    in Rockpool's order (synapse 0 targets ascending, then synapse 1). Zero raw weights are no synapse."""
    src, syn, post = np.nonzero(np.transpose(raw, (0, 2, 1)))
    ptr = np.zeros(raw.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=raw.shape[0]), out=ptr[1:])
    return ptr, post.astype(np.int64), syn.astype(np.int64), w_eff[src, post, syn].astype(np.int64)


def _raster(config: XyloConfig, value: object) -> np.ndarray:
    x = _int_array("xylo.input", value, *COUNT, "uint8 spike counts per channel and step")
    if x.ndim not in (2, 3) or x.shape[-1] != config.n_inputs:
        raise ConfigError("xylo.input", value, f"must have shape (T, {config.n_inputs}) or (B, T, {config.n_inputs})")
    return x.astype(np.uint8)


def xylo_evolve(config: XyloConfig, input_raster: np.ndarray | Sequence[Sequence[int]],
                state: XyloState | None = None) -> XyloResult:
    """Run ``config`` on ``input_raster``: (T, Nin) input spike counts per step (0..255; the chip uses at most
    15 per channel and step), or (B, T, Nin) for B independent trials (run in parallel). ``state``: where to start
    (None: the all-zero state of a fresh chip; for a batch, one state for every trial or a state with a leading B
    axis). Every trial gives the same arrays as xylosim's ``XyloLayer.evolve`` on a layer in that state; see
    :class:`XyloResult` for what is returned."""
    if not isinstance(config, XyloConfig):
        raise ConfigError("xylo.config", config, "must be a XyloConfig")
    x = _raster(config, input_raster)
    single = x.ndim == 2
    xb = x[None] if single else x
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
