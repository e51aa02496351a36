"""Bit-accurate integer emulation of Loihi 2's CUBA LIF neurons, as Lava's ``PyLifModelBitAcc`` computes them.

:class:`LoihiConfig` holds one LIF layer as Lava's bit-accurate process models take it: 8-bit (+ sign) Dense weights
``[pre, post]`` for the input and the recurrent projection, each with a weight exponent and a weight precision, and
the neurons' 12-bit decays ``du``, ``dv``, 13-bit bias mantissa with 3-bit exponent, and 17-bit threshold ``vth``.
:func:`loihi_evolve` runs it on binary input spikes from the all-zero state (or a :class:`LoihiState`), for one
trial or a batch (trials in parallel), and returns the spikes and the integer ``u``, ``v`` of every step (kernel:
:mod:`hardware.kernels.loihi`). :func:`loihi_from_mapped` builds a config from a network mapped on the ``loihi2``
preset (:func:`hardware.mapping.map_network`).

Reference: lava-nc/lava at b6822fbc (2025-07-28); lava-nc does not install on Python 3.11, so the equations are
implemented from its source and checked on integer traces worked by hand (``tests/test_loihi.py``).

``src/lava/proc/lif/models.py``, class ``AbstractPyLifModelFixed`` (parent of ``PyLifModelBitAcc``):

- ``__init__`` (lines 87-108): ``self.ds_offset = 1``, ``self.dm_offset = 0`` ("1-bit registers ... added to du
  and dv ... to compute effective decay constants"), ``self.uv_bitwidth = 24``,
  ``self.max_uv_val = 2 ** (self.uv_bitwidth - 1)``, ``self.decay_shift = 12``,
  ``self.decay_unity = 2**self.decay_shift``, ``self.vth_shift = 6``, ``self.act_shift = 6``;
- ``scale_bias`` (lines 110-121; called every step by ``run_spk``): ``effective_bias = np.where(self.bias_exp >= 0,
  np.left_shift(bias_mant, self.bias_exp), np.right_shift(bias_mant, -self.bias_exp))``;
- ``subthr_dynamics``, current (lines 145-171)::

      decay_const_u = self.du + self.ds_offset
      decayed_curr = np.int64(self.u) * (self.decay_unity - decay_const_u)
      decayed_curr = np.sign(decayed_curr) * np.right_shift(np.abs(decayed_curr), self.decay_shift)
      decayed_curr = np.int32(decayed_curr)
      activation_in = np.left_shift(activation_in, self.act_shift)
      decayed_curr += activation_in
      wrapped_curr = np.where(decayed_curr > self.max_uv_val, decayed_curr - 2 * self.max_uv_val, decayed_curr)
      wrapped_curr = np.where(wrapped_curr <= -self.max_uv_val, decayed_curr + 2 * self.max_uv_val, wrapped_curr)
      self.u[:] = wrapped_curr

- ``subthr_dynamics``, voltage (lines 174-186)::

      decay_const_v = self.dv + self.dm_offset
      neg_voltage_limit = -np.int32(self.max_uv_val) + 1
      pos_voltage_limit = np.int32(self.max_uv_val) - 1
      decayed_volt = np.int64(self.v) * (self.decay_unity - decay_const_v)
      decayed_volt = np.sign(decayed_volt) * np.right_shift(np.abs(decayed_volt), self.decay_shift)
      decayed_volt = np.int32(decayed_volt)
      updated_volt = decayed_volt + self.u + self.effective_bias
      self.v[:] = np.clip(updated_volt, neg_voltage_limit, pos_voltage_limit)

- ``reset_voltage`` (line 192): ``self.v[spike_vector] = 0``; ``run_spk`` (lines 194-216): receive ``a_in``,
  ``scale_bias``, (once) ``scale_threshold``, ``subthr_dynamics``, ``spiking_activation``, ``reset_voltage``, send
  the spikes.

Class ``PyLifModelBitAcc`` (line 240): ``scale_threshold`` (line 273):
``self.effective_vth = np.left_shift(self.vth, self.vth_shift)``; ``spiking_activation`` (line 278):
``return self.v > self.effective_vth``. Its docstring: no refractory period, no axonal delays; du, dv unsigned
12-bit (0..4095), bias_mant signed 13-bit (-4096..4095), bias_exp unsigned 3-bit (0..7), vth unsigned 17-bit
(0..131071) -- the ranges enforced here.

``src/lava/proc/dense/models.py``, ``AbstractPyDenseModelBitAcc.run_spk`` (lines 77-107; weights there are
``[post, pre]``, here ``[pre, post]``)::

      sign_mode = self.proc_params.get("sign_mode") or determine_sign_mode(self.weights)
      self.weights = clip_weights(self.weights, sign_mode, num_bits=8)
      self.weights = truncate_weights(self.weights, sign_mode, num_weight_bits)     # num_weight_bits default 8
      self.a_out.send(self.a_buff)                 # the activation of the PREVIOUS step: one step of delay
      a_accum = self.weights[:, s_in].sum(axis=1)  # num_message_bits = 0: binary spikes
      self.a_buff = (np.left_shift(a_accum, self.weight_exp) if self.weight_exp > 0
                     else np.right_shift(a_accum, -self.weight_exp))

with ``src/lava/utils/weightutils.py``: ``determine_sign_mode`` (all >= 0: excitatory, all <= 0: inhibitory, else
mixed), ``clip_weights`` (mixed: [-256, 255]; excitatory: [0, 255]; inhibitory: [-255, 0]) and ``truncate_weights``
(``(w >> k) << k`` on the magnitude for inhibitory, ``k = 8 - num_weight_bits + (1 if mixed)``: with the default 8
bits a mixed-sign matrix keeps even weights only). The LIF's ``a_in.recv()`` sums the activations of every
connected Dense (``PyInPortVectorDense.recv``), here the input and the recurrent one.

Arithmetic, as numpy does it there: products and the decay in int64, the sign-magnitude shift rounds towards 0
(``-5 · 4095 >> 12`` gives -4, not -5); ``right_shift`` of a Dense sum is arithmetic (floors: ``-3 >> 1 = -2``);
``u`` wraps once by ``2**24`` into (-2**23, 2**23] (``2**23`` itself is kept, ``-2**23`` becomes ``+2**23``; a value
beyond ``3 · 2**23`` would stay out of range, as in Lava); ``v`` saturates at ±(2**23 - 1). The sums that Lava keeps
in int32 (``decayed_curr += activation_in``, ``decayed_volt + self.u + self.effective_bias``) are wrapped to int32
here too. ``v`` (not ``u``) is reset to 0 after a spike, in the step of the spike. Every value returned is exact.

Mapping (:func:`loihi_from_mapped`) -- how the mapped network's mV values become Loihi units. Per neuron, with the
population's scale ``s`` (mV per weight code, :attr:`MappedNetwork.scales`), the engine's exact coupling ``g`` of
the synaptic current into ``v`` over one step (``snn.engine.linear_step``: ``ce``, times ``r``)
and one global weight exponent ``e``:

- weights: Dense weight ``W = 2 · code`` (code = the mapped int8 code, summed over projections onto the same pair),
  so ``|W| <= 254`` and even: clipping and 8-bit truncation leave it unchanged in every sign mode; one spike adds
  ``(W << e) << 6 = code · 2**(e + 7)`` to ``u`` (for ``e < 0`` the sum of a step is floored, exact for ``e = -1``);
- units: one Loihi ``u``/``v`` unit is ``σ = s · g / 2**(e + 7)`` mV of membrane potential, so a spike's weight
  ``w = code · s`` mV (a jump of the engine's current ``i``) becomes a jump of ``g · w / σ`` units of ``u``, and
  ``u`` drives ``v`` fully each step as ``g · i`` drives the engine's ``v``;
- threshold: ``vth = round((θ - v_rest) / (64 σ))`` (the ``<< 6`` alignment); ``e`` is the largest exponent in
  [-8, 7] with every ``vth <= 131071``, so ``vth`` keeps 16-17 significant bits;
- decays: ``dv = round(4096 (1 - e^(-dt/τm)))`` (IF: 0), ``du = round(4096 (1 - e^(-dt/τs))) - 1`` (Lava adds
  ``ds_offset = 1``), i.e. the mapping's ``mult12`` codes ``d`` (the engine already runs the realised ``τ``);
- bias: the engine's constant drive per step ``r · bias · (1 - e^(-dt/τm))`` mV as ``bias_mant << bias_exp`` in
  units of ``σ``, with the smallest ``bias_exp`` whose mantissa fits 13 bits.

The remaining differences from the float engine are the per-step truncation of ``u`` and ``v`` towards zero and the
rounding of ``vth`` and the bias. The truncation is systematic: in ``tests/test_loihi.py`` (20 recurrent LIFs,
``e = 0``) ``u`` sits about 25 units (0.05 %) below the exact value, ``v`` lags by up to 0.04 % of the threshold
before the first spike, and spikes come 0-3 steps later than the engine's (equal counts per neuron); an IF
population (``dv = 0``) integrates that loss without leak and lags more. All populations share one weight
exponent (the largest every population's threshold allows), so a population whose threshold would allow a larger
one keeps fewer bits of ``u``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hardware.int_fields import int_array as _int_array
from hardware.int_fields import int_field as _int_field
from hardware.int_fields import per_neuron as _per_neuron
from hardware.int_fields import spike_raster
from hardware.kernels.loihi import VTH_SHIFT, loihi_batch
from hardware.layered import layered_codes, population_slices, unsupported
from snn.errors import ConfigError

if TYPE_CHECKING:
    from hardware.mapping import MappedNetwork

__all__ = ["LoihiConfig", "LoihiResult", "LoihiState", "loihi_evolve", "loihi_from_mapped", "loihi_populations"]

#: Dense weights before clipping: 8 bits plus sign (``clip_weights(..., num_bits=8)`` for mixed sign)
WEIGHT = (-256, 255)
#: weight exponent; Lava does not limit it, Loihi 1's ``weightExponent`` field is [-8, 7]
WEIGHT_EXP = (-8, 7)
DECAY = (0, 4095)
BIAS_MANT = (-4096, 4095)
BIAS_EXP = (0, 7)
VTH = (0, 131071)
STATE = (-(2**31), 2**31 - 1)


def _dense_weights(w: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's ``determine_sign_mode``, ``clip_weights(num_bits=8)`` and ``truncate_weights`` on a weight matrix."""
    w = w.astype(np.int64)
    if w.size == 0 or w.min() >= 0:
        mode = "excitatory"
    elif w.max() <= 0:
        mode = "inhibitory"
    else:
        mode = "mixed"
    mixed = int(mode == "mixed")
    if mode == "inhibitory":
        w = -w
    w = np.clip(w, -(2**8) * mixed, 2**8 - 1)
    k = 8 - num_weight_bits + mixed
    w = (w >> k) << k
    return -w if mode == "inhibitory" else w


@dataclass(frozen=True, eq=False)
class LoihiConfig:
    """One layer of N Lava ``LIF`` neurons (``PyLifModelBitAcc``) fed by two ``Dense`` processes
    (``PyDenseModelBitAcc``): Nin input channels and the layer's own spikes. Validated on construction (one-line
    :class:`ConfigError`); arrays are stored read-only as int64.

    - ``w_in`` (Nin, N), ``w_rec`` (N, N) [pre, post]: Dense weights in [-256, 255] (Lava clips them per sign mode
      and truncates them to ``num_weight_bits``; :meth:`effective_weights`); 0: no synapse;
    - ``weight_exp_in``, ``weight_exp_rec``: the Dense ``weight_exp`` in [-8, 7] (a step's summed activation is
      shifted left, or arithmetically right when negative);
    - ``num_weight_bits_in``, ``num_weight_bits_rec``: the Dense ``num_weight_bits`` in [1, 8] (default 8);
    - ``du``, ``dv`` (N,): 12-bit decays in [0, 4095]; per step ``u`` keeps ``(4096 - du - 1) / 4096`` and ``v``
      keeps ``(4096 - dv) / 4096`` (Lava's ``ds_offset = 1``, ``dm_offset = 0``);
    - ``vth`` (N,): threshold in [0, 131071]; a neuron spikes when ``v > vth << 6``;
    - ``bias_mant`` (N,) in [-4096, 4095] and ``bias_exp`` (N,) in [0, 7]: ``bias_mant << bias_exp`` is added to
      ``v`` every step.

    Every per-neuron array may also be given as one number for all neurons.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    du: np.ndarray | int
    dv: np.ndarray | int
    vth: np.ndarray | int
    bias_mant: np.ndarray | int = 0
    bias_exp: np.ndarray | int = 0
    weight_exp_in: int = 0
    weight_exp_rec: int = 0
    num_weight_bits_in: int = 8
    num_weight_bits_rec: int = 8

    def __post_init__(self) -> None:
        p = "loihi"
        w_rec = _int_array(f"{p}.w_rec", self.w_rec, *WEIGHT, "Dense weights, 8 bits + sign")
        if w_rec.ndim != 2 or w_rec.shape[0] != w_rec.shape[1] or w_rec.shape[0] < 1:
            raise ConfigError(f"{p}.w_rec", self.w_rec, "must have shape (N, N) [pre, post] with N >= 1")
        n = w_rec.shape[0]
        w_in = _int_array(f"{p}.w_in", self.w_in, *WEIGHT, "Dense weights, 8 bits + sign")
        if w_in.ndim != 2 or w_in.shape[0] < 1 or w_in.shape[1] != n:
            raise ConfigError(f"{p}.w_in", self.w_in, f"must have shape (Nin, {n}) [pre, post] with Nin >= 1")
        for name, arr in (("w_in", w_in), ("w_rec", w_rec)):
            arr = np.array(arr, dtype=np.int64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name, (lo, hi), what in (("du", DECAY, "12-bit decay"), ("dv", DECAY, "12-bit decay"),
                                     ("vth", VTH, "unsigned 17-bit threshold"),
                                     ("bias_mant", BIAS_MANT, "signed 13-bit bias mantissa"),
                                     ("bias_exp", BIAS_EXP, "unsigned 3-bit bias exponent")):
            object.__setattr__(self, name, _per_neuron(f"{p}.{name}", getattr(self, name), n, lo, hi, what))
        for name in ("weight_exp_in", "weight_exp_rec"):
            object.__setattr__(self, name, _int_field(f"{p}.{name}", getattr(self, name), *WEIGHT_EXP,
                                                      "Dense weight exponent"))
        for name in ("num_weight_bits_in", "num_weight_bits_rec"):
            object.__setattr__(self, name, _int_field(f"{p}.{name}", getattr(self, name), 1, 8,
                                                      "Dense weight precision, bits"))

    @property
    def n_inputs(self) -> int:
        return int(self.w_in.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.w_rec.shape[0])

    def effective_weights(self, which: str) -> np.ndarray:
        """The weights Dense adds per spike (before ``weight_exp``), ``which`` in ("in", "rec"): Lava's sign mode
        of the whole matrix, ``clip_weights(num_bits=8)``, then ``truncate_weights(num_weight_bits)``."""
        if which == "in":
            return _dense_weights(self.w_in, self.num_weight_bits_in)
        if which == "rec":
            return _dense_weights(self.w_rec, self.num_weight_bits_rec)
        raise ConfigError("loihi.effective_weights.which", which, "must be 'in' or 'rec'")

    @property
    def effective_bias(self) -> np.ndarray:
        """``bias_mant << bias_exp`` (N,), added to ``v`` every step."""
        return self.bias_mant << self.bias_exp

    @property
    def effective_vth(self) -> np.ndarray:
        """``vth << 6`` (N,): the neuron spikes when ``v`` exceeds it."""
        return self.vth << VTH_SHIFT


@dataclass(frozen=True, eq=False)
class LoihiState:
    """What carries over between steps (leading trial axis B for a batch): ``u``, ``v`` (N,) and the two Dense
    buffers ``a_in``, ``a_rec`` (N,): the activations computed from the last step's input and layer spikes, which
    the next step receives (Lava's ``a_buff``). All zero at the start (:meth:`zeros`)."""

    u: np.ndarray
    v: np.ndarray
    a_in: np.ndarray
    a_rec: np.ndarray

    @staticmethod
    def zeros(config: LoihiConfig, trials: int | None = None) -> LoihiState:
        """The all-zero state of ``config``; with ``trials``, a leading axis of that length."""
        shape = ((int(trials),) if trials is not None else ()) + (config.n_neurons,)
        return LoihiState(*(np.zeros(shape, np.int64) for _ in range(4)))


@dataclass(frozen=True, eq=False)
class LoihiResult:
    """What :func:`loihi_evolve` records per step (leading trial axis B when the input had one): ``spikes``
    (T, N) bool; ``u``, ``v`` (T, N) int64, the values after the step (``v`` after the reset); ``final_state``:
    the state after the last step, to continue the run with another call."""

    spikes: np.ndarray
    u: np.ndarray
    v: np.ndarray
    final_state: LoihiState


def _state(config: LoihiConfig, state: object, trials: int, batched: bool) -> tuple[np.ndarray, ...]:
    n = config.n_neurons
    if state is None:
        state = LoihiState.zeros(config)
    if not isinstance(state, LoihiState):
        raise ConfigError("loihi.state", state, "must be a LoihiState or None")
    out = []
    for name in ("u", "v", "a_in", "a_rec"):
        value = getattr(state, name)
        arr = _int_array(f"loihi.state.{name}", value, *STATE, "int32 state")
        if arr.shape == (n,):
            arr = np.broadcast_to(arr, (trials, n))
        elif not (batched and arr.shape == (trials, n)):
            allowed = f"({n},) or ({trials}, {n})" if batched else f"({n},)"
            raise ConfigError(f"loihi.state.{name}", value, f"must have shape {allowed}")
        out.append(np.array(arr, dtype=np.int64))
    return tuple(out)


def loihi_evolve(config: LoihiConfig, input_raster: np.ndarray | Sequence[Sequence[int]],
                 state: LoihiState | None = None) -> LoihiResult:
    """Run ``config`` on ``input_raster``: (T, Nin) binary input spikes per step, or (B, T, Nin) for B independent
    trials (run in parallel; the same result at any thread count). An input spike of step t reaches ``u`` at step
    t + 1 (Dense's buffer), as do the layer's own spikes. ``state``: where to start (None: all zero; for a batch,
    one state for every trial or one with a leading B axis). See :class:`LoihiResult`."""
    if not isinstance(config, LoihiConfig):
        raise ConfigError("loihi.config", config, "must be a LoihiConfig")
    xb, single = spike_raster("loihi.input", input_raster, config.n_inputs)
    b, t, n = xb.shape[0], xb.shape[1], config.n_neurons
    u, v, a_in, a_rec = _state(config, state, b, not single)
    spikes = np.zeros((b, t, n), np.bool_)
    u_out = np.zeros((b, t, n), np.int64)
    v_out = np.zeros((b, t, n), np.int64)
    loihi_batch(xb, config.effective_weights("in"), config.effective_weights("rec"), config.weight_exp_in,
                config.weight_exp_rec, config.du, config.dv, np.ascontiguousarray(config.effective_bias),
                np.ascontiguousarray(config.effective_vth), u, v, a_in, a_rec, spikes, u_out, v_out)
    if single:
        return LoihiResult(spikes[0], u_out[0], v_out[0], LoihiState(u[0], v[0], a_in[0], a_rec[0]))
    return LoihiResult(spikes, u_out, v_out, LoihiState(u, v, a_in, a_rec))


# --- from a mapped network ------------------------------------------------------------------------------------


def _unsupported(path: str, value: object, what: str) -> ConfigError:
    return unsupported("loihi", path, value, what)


def loihi_populations(mapped: MappedNetwork) -> dict[str, slice]:
    """Where each population of ``mapped`` sits in :func:`loihi_from_mapped`'s neuron axis (network order)."""
    return population_slices(mapped, "loihi")


def loihi_from_mapped(mapped: MappedNetwork) -> LoihiConfig:
    """A :class:`LoihiConfig` for a network mapped on the ``loihi2`` preset (see the module docstring, "Mapping").

    Supported: one input (any spike source; its spikes are the raster given to :func:`loihi_evolve`, one channel
    per source unit) feeding LIF or IF populations, feed-forward and recurrent, with zero delays (Dense's own one
    step), reset to rest, no refractory period, one synaptic time constant per population, static weights.
    Populations are concatenated in network order (:func:`loihi_populations`). Anything else raises one
    :class:`ConfigError` naming what is unsupported (:func:`hardware.layered.layered_codes`)."""
    from hardware.check import reset_mode, rest_potential
    from hardware.mapping import MappedNetwork
    from snn.engine import linear_step

    if not isinstance(mapped, MappedNetwork):
        raise ConfigError("loihi.mapped", mapped, "must be a hardware.mapping.MappedNetwork")
    t = mapped.target
    if getattr(t, "decay", None) != "mult12" or getattr(t, "weight_bits", None) != 8:
        raise _unsupported("loihi.mapped.target", t.name, "map on the loihi2 preset (mult12 decays, 8-bit weights)")
    layout = layered_codes(mapped, "loihi", refractory="refractory periods (PyLifModelBitAcc has none)",
                           one_current="Loihi's LIF has one current u",
                           delays="synaptic delays (Dense's one-step buffer only)")
    net = mapped.network
    where, n = layout.where, layout.n
    dt = net.dt
    du = np.zeros(n, np.int64)
    dv = np.zeros(n, np.int64)
    theta = np.zeros(n)  # threshold relative to rest, mV
    drive = np.zeros(n)  # constant drive per step, mV
    ratio = np.zeros(n)  # s · g: mV of v per weight code per step
    for pop in net.populations:
        path = f"loihi.mapped.populations.{pop.name}"
        m = pop.model
        if reset_mode(pop) != "zero":
            raise _unsupported(f"{path}.reset", getattr(m, "reset", "value"),
                               "only reset to rest (v_reset == v_rest, reset='value')")
        c = linear_step(m, dt, pop.size)
        inh = layout.inhibitory_only[pop.name]
        g = c["ci"] if inh else c["ce"]
        dec = c["di"] if inh else c["de"]
        rest = np.broadcast_to(np.asarray(rest_potential(pop), np.float64), (pop.size,))
        em = c["em"]
        sl = where[pop.name]
        s = float(mapped.scales.get(pop.name, 1.0))
        du[sl] = np.rint(4096.0 * (1.0 - dec)).astype(np.int64) - 1
        dv[sl] = np.rint(4096.0 * (1.0 - em)).astype(np.int64)
        theta[sl] = np.broadcast_to(np.asarray(m.v_threshold, np.float64), (pop.size,)) - rest
        drive[sl] = c["lin"] - rest * (1.0 - em)
        ratio[sl] = s * g
        if np.any(du[sl] < DECAY[0]) or np.any(du[sl] > DECAY[1]):
            raise _unsupported(f"{path}.tau_syn_exc", m.tau_syn_exc, "du = round(4096 (1 - e^(-dt/tau))) - 1 "
                               "must be in [0, 4095]")
        if np.any(theta[sl] < 0):
            raise _unsupported(f"{path}.v_threshold", m.v_threshold, "a threshold below rest (vth is unsigned)")
    if np.any(ratio <= 0) or not np.all(np.isfinite(ratio)):
        raise _unsupported("loihi.mapped.populations", "r", "a gain r <= 0")
    # weights: codes summed per (pre, post) pair, Dense weight 2 · code
    codes_in, codes_rec = layout.codes_in, layout.codes_rec
    for name, codes in (("input", codes_in), ("recurrent", codes_rec)):
        if codes.size and np.abs(codes).max() > 127:
            raise _unsupported(f"loihi.mapped.projections.{name}", int(np.abs(codes).max()),
                               "summed weight codes of one (pre, post) pair beyond int8 (|code| <= 127)")
    # weight exponent: the largest e with every vth = round(theta 2^(e+1) / (s g)) <= 131071
    e = None
    for cand in range(WEIGHT_EXP[1], WEIGHT_EXP[0] - 1, -1):
        vth = np.rint(theta * 2.0 ** (cand + 1) / ratio)
        if vth.max(initial=0.0) <= VTH[1]:
            e = cand
            break
    if e is None:
        worst = float(np.max(theta / ratio))
        raise _unsupported("loihi.mapped.v_threshold", round(worst, 3),
                           f"threshold in weight codes per step must be <= {VTH[1] * 2**7} (vth 17 bits, e >= -8)")
    vth = np.rint(theta * 2.0 ** (e + 1) / ratio).astype(np.int64)
    # bias: drive / sigma units per step, sigma = s g / 2^(e+7)
    bias_units = drive * 2.0 ** (e + 7) / ratio
    bias_exp = np.zeros(n, np.int64)
    mant = np.rint(bias_units).astype(np.int64)
    for _ in range(BIAS_EXP[1]):
        big = (mant < BIAS_MANT[0]) | (mant > BIAS_MANT[1])
        if not big.any():
            break
        bias_exp[big] += 1
        mant[big] = np.rint(bias_units[big] / 2.0 ** bias_exp[big]).astype(np.int64)
    if np.any((mant < BIAS_MANT[0]) | (mant > BIAS_MANT[1])):
        raise _unsupported("loihi.mapped.bias", float(np.max(np.abs(bias_units))),
                           f"bias beyond {BIAS_MANT[1]} << {BIAS_EXP[1]} Loihi units")
    return LoihiConfig(w_in=2 * codes_in, w_rec=2 * codes_rec, du=du, dv=dv, vth=vth, bias_mant=mant,
                       bias_exp=bias_exp, weight_exp_in=e, weight_exp_rec=e)
