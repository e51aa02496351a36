"""Bit-exact fixed-point emulation of a current-based LIF layer as an HLS (hls4ml-style) FPGA design computes it.

:class:`FPGAConfig` holds one layer of N neurons fed by Nin binary input channels and, optionally, by its own
spikes: integer codes of the weights ``[pre, post]`` in ``weight_format``, per-neuron decay and coupling codes in
``coef_format``, bias, threshold and reset codes in ``state_format``, and the formats themselves
(``ap_fixed<W, I, Q, O>``, :class:`hardware.fixed_point.ApFixed`). :func:`fpga_evolve` runs it on binary input
spikes from the all-zero state (or an :class:`FPGAState`), for one trial or a batch (trials in parallel, the same
result at any thread count), and returns the spikes and the state codes of every step (kernel:
:mod:`hardware.kernels.fpga`). :func:`fpga_from_mapped` builds a config from a network mapped on an ``fpga_fixed``
target (:func:`hardware.mapping.map_network`).

Codes and formats
-----------------
A code ``q`` of a format with ``F = W - I`` fraction bits stands for ``q · 2**-F``; every code is an int64 and
every operation below is exact integer arithmetic followed, where a format is assigned, by that format's rounding
(``Q``) and overflow (``O``) rules -- ap_fixed's assignment, as :meth:`ApFixed.quantize_raw` defines it (the kernel
implements it on integers and is checked against ``quantize_raw`` in the tests). Formats:

- ``W`` = ``weight_format``: weights (hls4ml ``weight_t``);
- ``S`` = ``state_format``: membrane ``v``, synaptic current ``i``, bias drive ``b``, threshold ``θ``, reset
  ``v_reset`` (the mapping's voltages relative to rest, divided by the population's scale);
- ``A`` = ``accum_format``: the sum of the weights delivered in one step (hls4ml ``accum_t``);
- ``C`` = ``coef_format``: the constants ``α_v`` (membrane decay), ``α_i`` (current decay) and ``c`` (coupling of
  the current into ``v`` over one step). The target profile names no format for them; the default is
  ``ap_ufixed<max(W_S, F_S) + 1, 1, AP_RND_CONV, AP_SAT>``: at least as many fraction bits as ``S``, so the
  mapping's decays ``α = Q_S(e^(-dt/τ))`` are held exactly, and 1 integer bit, so ``α = 1`` (IF) fits (17 bits
  for ``ap_fixed<16,6>``, within the 18-bit port of a DSP48 multiplier).

``Q_X(y)`` below: the exact value ``y`` (with however many fraction bits it has) assigned to format ``X``, rounded
by X's rounding mode and then overflowed (wrap, saturate, or zero) by X's overflow mode. ``O_X(y)``: ``y`` already
has ``F_X`` fraction bits; only X's overflow applies.

Datapath of one step ``t``
--------------------------
The engine's exact LIF step (:func:`snn.engine.kernels.neurons._integrate_plain`,
``v' = lin + c_e·i + e_m·v``, ``i' = d_e·i``, threshold, reset, then delivery of this step's spikes into ``i``), with
each product assigned to ``S``::

    per neuron k (state v, i in S):
      1. p_v  = Q_S(α_v · v)            α_v in C, v in S: product exact with F_C + F_S fraction bits
      2. p_i  = Q_S(c · i)              the current of the previous step drives v
      3. v    = O_S(p_v + p_i + b)      b: the constant drive per step (bias), in S; the sum is exact
      4. i    = Q_S(α_i · i)
      5. s    = v > θ                   strict, as the engine
      6. if s: v = v_reset                          (reset "value")
               v = O_S(v - θ + v_reset)             (reset "subtract")
    synaptic accumulation, per neuron k (an adder chain in accum_t):
      7. acc  = 0;  for each input channel p with x[t, p] = 1 (index order),
                    then each neuron m with s[m] = 1 (index order):
                    acc = Q_A(acc + w[p or m, k])   exact sum with max(F_A, F_W) fraction bits
      8. i    = Q_S(i + acc)             exact sum with max(F_S, F_A) fraction bits

An input spike of step t and the layer's spike of step t thus reach ``v`` at step t + 1, as in the engine with
delay 0. With a wrapping accumulator the order of step 7 does not matter while ``F_W <= F_A``; with saturation it
does, and it is the one above. The intermediate integers must fit int64: the formats are refused when a product or
an aligned sum would need more than 62 bits.

Mapping (:func:`fpga_from_mapped`)
----------------------------------
Per population ``P`` with scale ``s_P`` (mV per state unit, :attr:`MappedNetwork.scales`) and the engine's
coefficients of the mapped model (``snn.engine.linear_step``, whose time constants the mapping
has already replaced by the realised ones): ``α_v = Q_C(e_m)`` (exact with the default ``C``), ``α_i = Q_C(d)``,
``c = Q_C(c_syn)``, ``b = Q_S((lin - v_rest (1 - e_m)) / s_P)``, ``θ = Q_S((v_th - v_rest) / s_P)`` and
``v_reset`` likewise (both exact: the mapping put them on the grid); weights: the mapping's codes, summed over
projections onto the same (pre, post) pair. Excitatory and inhibitory synapses share the one current register,
so both time constants must be equal when both are used.

The differences from the float engine are the rounding of ``c`` and ``b`` to their formats and the per-step
rounding of steps 1-4 and 8. With 30-bit formats the emulation reproduces the engine's spikes step for step
(``tests/test_fpga_emulation.py``); with hls4ml's ``ap_fixed<16,6>`` (``AP_TRN``: every product floored) ``v``
runs about one LSB per step low, which the leak balances some 0.2-0.3 mV (2-3 % of a 10 mV threshold) below the
exact value, so spikes come later and about 5 % fewer; with ``AP_RND_CONV`` the counts agree per neuron and most
spikes fall within 3 steps. A small bias becomes a drive ``b`` of a few LSB per step, so its rounding is coarse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hardware.fixed_point import OVERFLOW, ROUNDING, ApFixed
from hardware.int_fields import int_array as _int_array
from hardware.int_fields import per_neuron as _per_neuron
from hardware.int_fields import spike_raster
from hardware.kernels.fpga import fpga_batch
from hardware.layered import layered_codes, population_slices, unsupported
from snn.errors import ConfigError

if TYPE_CHECKING:
    from hardware.mapping import MappedNetwork

__all__ = ["FPGAConfig", "FPGAResult", "FPGAState", "default_coef_format", "fpga_evolve", "fpga_from_mapped",
           "fpga_populations"]

#: widest intermediate integer the kernel forms (products and aligned sums), bits
MAX_BITS = 62


def default_coef_format(state_format: ApFixed) -> ApFixed:
    """``ap_ufixed<max(W_S, F_S) + 1, 1, AP_RND_CONV, AP_SAT>``: the default format of the decay and coupling
    constants (see the module docstring)."""
    frac = max(state_format.width, state_format.frac)
    return ApFixed(frac + 1, 1, False, "AP_RND_CONV", "AP_SAT", "fpga.coef_format")


def _format(path: str, value: object) -> ApFixed:
    if isinstance(value, ApFixed):
        return dataclasses.replace(value, path=path)
    if isinstance(value, str):
        return ApFixed.parse(value, path)
    raise ConfigError(path, value, "must be an ApFixed or a string like ap_fixed<16,6>")


def _codes(path: str, value: object, fmt: ApFixed, n: int | None = None) -> np.ndarray:
    what = f"codes of {fmt}"
    if n is None:
        return _int_array(path, value, fmt.raw_min, fmt.raw_max, what)
    return _per_neuron(path, value, n, fmt.raw_min, fmt.raw_max, what)


def _frozen(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=arr.dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class FPGAConfig:
    """One layer of N current-based LIF neurons in fixed point (the datapath is in the module docstring).
    Validated on construction (one-line :class:`ConfigError` naming the field); arrays are stored read-only.

    - ``w_in`` (Nin, N), ``w_rec`` (N, N) or None (no recurrence) [pre, post]: weight codes of ``weight_format``;
    - ``alpha_v``, ``alpha_i``, ``coupling`` (N,): codes of ``coef_format`` (membrane decay, current decay,
      coupling of the current into ``v`` per step);
    - ``threshold``, ``v_reset``, ``bias`` (N,): codes of ``state_format`` (``bias``: drive added every step);
    - ``reset_subtract`` (N,) bool: reset by subtracting ``threshold - v_reset`` instead of setting ``v_reset``;
    - ``weight_format``, ``state_format``, ``accum_format``: ``ApFixed`` or ap_fixed strings (hls4ml's default
      ``ap_fixed<16,6>``); ``coef_format``: None for :func:`default_coef_format` of the state format.

    Every per-neuron array may also be given as one number for all neurons.
    """

    w_in: np.ndarray
    alpha_v: np.ndarray | int
    alpha_i: np.ndarray | int
    coupling: np.ndarray | int
    threshold: np.ndarray | int
    w_rec: np.ndarray | None = None
    v_reset: np.ndarray | int = 0
    bias: np.ndarray | int = 0
    reset_subtract: np.ndarray | bool = False
    weight_format: ApFixed | str = "ap_fixed<16,6>"
    state_format: ApFixed | str = "ap_fixed<16,6>"
    accum_format: ApFixed | str = "ap_fixed<16,6>"
    coef_format: ApFixed | str | None = None

    def __post_init__(self) -> None:
        p = "fpga"
        fw = _format(f"{p}.weight_format", self.weight_format)
        fs = _format(f"{p}.state_format", self.state_format)
        fa = _format(f"{p}.accum_format", self.accum_format)
        fc = default_coef_format(fs) if self.coef_format is None else _format(f"{p}.coef_format", self.coef_format)
        for name, f in (("weight_format", fw), ("state_format", fs), ("accum_format", fa), ("coef_format", fc)):
            object.__setattr__(self, name, f)
        _check_bits(fw, fs, fa, fc)
        w_in = _codes(f"{p}.w_in", self.w_in, fw)
        if w_in.ndim != 2 or w_in.shape[0] < 1 or w_in.shape[1] < 1:
            raise ConfigError(f"{p}.w_in", self.w_in, "must have shape (Nin, N) [pre, post] with Nin, N >= 1")
        n = w_in.shape[1]
        if self.w_rec is None:
            w_rec = np.zeros((n, n), np.int64)
        else:
            w_rec = _codes(f"{p}.w_rec", self.w_rec, fw)
            if w_rec.shape != (n, n):
                raise ConfigError(f"{p}.w_rec", self.w_rec, f"must have shape ({n}, {n}) [pre, post] or be None")
        object.__setattr__(self, "w_in", _frozen(w_in))
        object.__setattr__(self, "w_rec", _frozen(w_rec))
        for name, f in (("alpha_v", fc), ("alpha_i", fc), ("coupling", fc), ("threshold", fs), ("v_reset", fs),
                        ("bias", fs)):
            object.__setattr__(self, name, _codes(f"{p}.{name}", getattr(self, name), f, n))
        sub = np.asarray(self.reset_subtract)
        if sub.dtype != np.bool_:
            raise ConfigError(f"{p}.reset_subtract", self.reset_subtract, "must be true/false (or an array of them)")
        if sub.ndim == 0:
            sub = np.broadcast_to(sub, (n,))
        if sub.shape != (n,):
            raise ConfigError(f"{p}.reset_subtract", self.reset_subtract, f"must have shape ({n},) (or be one bool)")
        object.__setattr__(self, "reset_subtract", _frozen(sub.astype(np.bool_)))

    @property
    def n_inputs(self) -> int:
        return int(self.w_in.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.w_in.shape[1])

    def format_table(self) -> np.ndarray:
        """The kernel's (4, 5) int64 rows ``(width, frac, signed, rounding, overflow)`` of W, S, A, C."""
        rows = [(f.width, f.frac, int(f.signed), ROUNDING.index(f.rounding), OVERFLOW.index(f.overflow))
                for f in (self.weight_format, self.state_format, self.accum_format, self.coef_format)]
        return np.array(rows, dtype=np.int64)


def _check_bits(fw: ApFixed, fs: ApFixed, fa: ApFixed, fc: ApFixed) -> None:
    """Refuse formats whose products or aligned sums would not fit int64 in the kernel."""
    fm, fm2 = max(fa.frac, fw.frac), max(fs.frac, fa.frac)
    need = {
        "coef_format": fc.width + fs.width + max(0, -fc.frac) + 1,
        "accum_format": max(fa.width + fm - fa.frac, fw.width + fm - fw.frac) + 1,
        "state_format": max(fs.width + fm2 - fs.frac, fa.width + fm2 - fa.frac) + 2,
    }
    for name, bits in need.items():
        if bits > MAX_BITS:
            raise ConfigError(f"fpga.{name}", str({"coef_format": fc, "accum_format": fa, "state_format": fs}[name]),
                              f"the emulation would need {bits}-bit intermediates (at most {MAX_BITS}); "
                              "narrow the formats or bring their fraction bits closer")


@dataclass(frozen=True, eq=False)
class FPGAState:
    """Membrane ``v`` and synaptic current ``i`` codes (N,) in the state format (leading trial axis B for a
    batch); the spikes of the last step are already in ``i``. All zero (rest) at the start."""

    v: np.ndarray
    i: np.ndarray

    @staticmethod
    def zeros(config: FPGAConfig, trials: int | None = None) -> FPGAState:
        """The all-zero state of ``config``; with ``trials``, a leading axis of that length."""
        shape = ((int(trials),) if trials is not None else ()) + (config.n_neurons,)
        return FPGAState(np.zeros(shape, np.int64), np.zeros(shape, np.int64))


@dataclass(frozen=True, eq=False)
class FPGAResult:
    """What :func:`fpga_evolve` records per step (leading trial axis B when the input had one): ``spikes``
    (T, N) bool; ``v`` (T, N) int64 state codes after the step (after the reset); ``i`` (T, N) after this step's
    spikes were added; ``final_state`` to continue the run with another call."""

    spikes: np.ndarray
    v: np.ndarray
    i: np.ndarray
    final_state: FPGAState


def _state(config: FPGAConfig, state: object, trials: int, batched: bool) -> tuple[np.ndarray, np.ndarray]:
    n = config.n_neurons
    if state is None:
        state = FPGAState.zeros(config)
    if not isinstance(state, FPGAState):
        raise ConfigError("fpga.state", state, "must be an FPGAState or None")
    out = []
    fs = config.state_format
    for name in ("v", "i"):
        value = getattr(state, name)
        arr = _int_array(f"fpga.state.{name}", value, fs.raw_min, fs.raw_max, f"codes of {fs}")
        if arr.shape == (n,):
            arr = np.broadcast_to(arr, (trials, n))
        elif not (batched and arr.shape == (trials, n)):
            allowed = f"({n},) or ({trials}, {n})" if batched else f"({n},)"
            raise ConfigError(f"fpga.state.{name}", value, f"must have shape {allowed}")
        out.append(np.array(arr, dtype=np.int64))
    return out[0], out[1]


def fpga_evolve(config: FPGAConfig, input_raster: np.ndarray | Sequence[Sequence[int]],
                state: FPGAState | None = None) -> FPGAResult:
    """Run ``config`` on ``input_raster``: (T, Nin) binary input spikes per step, or (B, T, Nin) for B independent
    trials (in parallel; the same result at any thread count). ``state``: where to start (None: all zero; for a
    batch, one state for every trial or one with a leading B axis). See :class:`FPGAResult` and the datapath in
    the module docstring."""
    if not isinstance(config, FPGAConfig):
        raise ConfigError("fpga.config", config, "must be an FPGAConfig")
    xb, single = spike_raster("fpga.input", input_raster, config.n_inputs)
    b, t, n = xb.shape[0], xb.shape[1], config.n_neurons
    v, i = _state(config, state, b, not single)
    spikes = np.zeros((b, t, n), np.bool_)
    v_out = np.zeros((b, t, n), np.int64)
    i_out = np.zeros((b, t, n), np.int64)
    fpga_batch(xb, config.w_in, config.w_rec, config.alpha_v, config.alpha_i, config.coupling, config.bias,
               config.threshold, config.v_reset, config.reset_subtract, config.format_table(), v, i, spikes, v_out,
               i_out)
    if single:
        return FPGAResult(spikes[0], v_out[0], i_out[0], FPGAState(v[0], i[0]))
    return FPGAResult(spikes, v_out, i_out, FPGAState(v, i))


# --- from a mapped network ------------------------------------------------------------------------------------


def _unsupported(path: str, value: object, what: str) -> ConfigError:
    return unsupported("fpga", path, value, what)


def fpga_populations(mapped: MappedNetwork) -> dict[str, slice]:
    """Where each population of ``mapped`` sits in :func:`fpga_from_mapped`'s neuron axis (network order)."""
    return population_slices(mapped, "fpga")


def fpga_from_mapped(mapped: MappedNetwork, coef_format: ApFixed | str | None = None) -> FPGAConfig:
    """An :class:`FPGAConfig` for a network mapped on an ``fpga_fixed`` target with ``decay = "fixed"`` (see the
    module docstring, "Mapping"); ``coef_format``: None for :func:`default_coef_format`.

    Supported: one input (any spike source; its spikes are the raster given to :func:`fpga_evolve`, one channel per
    source unit) feeding LIF or IF populations, feed-forward and recurrent, with zero delays, reset to a value or by
    subtraction, no refractory period, one synaptic time constant per population (exc and inh equal when both
    are used), static weights. Populations are concatenated in network order (:func:`fpga_populations`). Anything
    else raises one :class:`ConfigError` naming what is unsupported."""
    from hardware.check import reset_mode, rest_potential
    from hardware.mapping import MappedNetwork
    from hardware.targets import FPGAFixed
    from snn.engine import linear_step

    if not isinstance(mapped, MappedNetwork):
        raise ConfigError("fpga.mapped", mapped, "must be a hardware.mapping.MappedNetwork")
    t = mapped.target
    if not isinstance(t, FPGAFixed) or t.decay != "fixed":
        raise _unsupported("fpga.mapped.target", t.name, "map on an fpga_fixed target with decay = 'fixed'")
    fs, fw = t.state_format, t.weight_format
    fc = default_coef_format(fs) if coef_format is None else _format("fpga.coef_format", coef_format)
    layout = layered_codes(mapped, "fpga")
    net = mapped.network
    where, n = layout.where, layout.n
    dt = net.dt
    em, dec, cpl, drive, theta, reset = (np.zeros(n) for _ in range(6))
    subtract = np.zeros(n, np.bool_)
    for pop in net.populations:
        m = pop.model
        c = linear_step(m, dt, pop.size)
        inh = layout.inhibitory_only[pop.name]
        sl = where[pop.name]
        s = float(mapped.scales.get(pop.name, 1.0))
        rest = np.broadcast_to(np.asarray(rest_potential(pop), np.float64), (pop.size,))
        em[sl] = c["em"]
        dec[sl] = c["di"] if inh else c["de"]
        cpl[sl] = c["ci"] if inh else c["ce"]
        drive[sl] = (c["lin"] - rest * (1.0 - c["em"])) / s
        theta[sl] = (np.broadcast_to(np.asarray(m.v_threshold, np.float64), (pop.size,)) - rest) / s
        reset[sl] = (np.broadcast_to(np.asarray(m.v_reset, np.float64), (pop.size,)) - rest) / s
        subtract[sl] = reset_mode(pop) == "subtract"
    for name, arr in (("alpha_v", em), ("alpha_i", dec), ("coupling", cpl)):
        if np.any(arr < 0) or np.any(arr > fc.max):
            raise _unsupported(f"fpga.mapped.{name}", float(arr.max()), f"a constant outside {fc}")
    for name, arr in (("bias", drive), ("v_threshold", theta), ("v_reset", reset)):
        if np.any(fs.overflows(arr)):
            raise _unsupported(f"fpga.mapped.{name}", float(np.abs(arr).max()), f"a value outside {fs}")
    # weights: codes summed per (pre, post) pair
    w_in, w_rec = layout.codes_in, layout.codes_rec
    for name, codes in (("input", w_in), ("recurrent", w_rec)):
        if codes.size and (codes.min() < fw.raw_min or codes.max() > fw.raw_max):
            raise _unsupported(f"fpga.mapped.projections.{name}", int(np.abs(codes).max()),
                               f"summed weight codes of one (pre, post) pair outside {fw}")
    return FPGAConfig(w_in=w_in, w_rec=w_rec, alpha_v=fc.quantize_raw(em), alpha_i=fc.quantize_raw(dec),
                      coupling=fc.quantize_raw(cpl), threshold=fs.quantize_raw(theta), v_reset=fs.quantize_raw(reset),
                      bias=fs.quantize_raw(drive), reset_subtract=subtract, weight_format=fw, state_format=fs,
                      accum_format=t.accum_format, coef_format=fc)
