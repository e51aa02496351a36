"""Numba kernel of the bit-accurate Loihi 2 LIF emulation (:mod:`hardware.loihi`): one trial per call, plus a batch.

Semantics: Lava's ``PyLifModelBitAcc`` (``src/lava/proc/lif/models.py``, ``AbstractPyLifModelFixed.subthr_dynamics``,
``scale_bias``, ``PyLifModelBitAcc.scale_threshold`` / ``spiking_activation``, ``reset_voltage``, ``run_spk``) fed by
two ``PyDenseModelBitAcc`` processes (``src/lava/proc/dense/models.py``, ``AbstractPyDenseModelBitAcc.run_spk``), one
for the input spikes and one for the recurrent spikes, as lava-nc/lava b6822fbc writes them (the equations with
their source lines are in :mod:`hardware.loihi`'s docstring). All values are held in int64; where Lava's numpy
code computes in int32 the sum is wrapped to int32 as numpy does (``wrap32``), which only matters for inputs far
outside the 24-bit state:

.. code-block:: text

    wrap32(x) = ((x + 2**31) mod 2**32) - 2**31
    D(x, k)   = sign(x · (4096 - k)) · (|x · (4096 - k)| >> 12)        (sign-magnitude shift: rounds towards 0)
    shift(a, e) = a << e  if e > 0  else  a >> -e                      (arithmetic: floors negative sums)

    state: u, v (N,) and the Dense buffers a_in, a_rec (N,) (activations computed in the previous step)

    one step t:
        a      = a_in + a_rec                                   (LIF a_in.recv() sums both Dense outputs)
        x      = wrap32(D(u, du + 1) + (a << 6))                (ds_offset = 1; act_shift = 6)
        u      = x - 2**24  if x > 2**23  else  x + 2**24  if x <= -2**23  else  x      (one wrap, as Lava)
        v      = clip(wrap32(D(v, dv) + u + bias_eff), -(2**23 - 1), 2**23 - 1)        (dm_offset = 0)
        s      = v > vth_eff;  v[s] = 0                         (strict; reset to 0, u untouched)
        a_in   = shift(Σ_{p: x_in[t, p]} w_in[p, :], e_in)      (Dense: a_buff sent at the next step)
        a_rec  = shift(Σ_{m: s[m]} w_rec[m, :], e_rec)
        record s, u, v

Loops run in a fixed order and integer arithmetic is exact, so results do not depend on the number of numba
threads; trials are independent and run in parallel (``prange``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: u and v are 24-bit: ``max_uv_val = 2 ** (uv_bitwidth - 1)`` (AbstractPyLifModelFixed.__init__)
MAX_UV = 2**23
#: ``decay_shift = 12``, ``decay_unity = 2 ** 12``
DECAY_SHIFT = 12
DECAY_UNITY = 4096
#: ``act_shift = 6`` (synaptic input) and ``vth_shift = 6`` (threshold)
ACT_SHIFT = 6
VTH_SHIFT = 6


@njit(cache=True, inline="always")
def _wrap32(x: int) -> int:
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@njit(cache=True, inline="always")
def _decay(x: int, k: int) -> int:
    """``sign(p) * (|p| >> 12)`` with ``p = x * (4096 - k)``: the decayed value, rounded towards zero."""
    p = x * (DECAY_UNITY - k)
    if p >= 0:
        return p >> DECAY_SHIFT
    return -((-p) >> DECAY_SHIFT)


@njit(cache=True, inline="always")
def _shift(a: int, e: int) -> int:
    if e > 0:
        return a << e
    return a >> (-e)


@njit(cache=True)
def loihi_trial(x: np.ndarray, w_in: np.ndarray, w_rec: np.ndarray, e_in: int, e_rec: int,
                du: np.ndarray, dv: np.ndarray, bias_eff: np.ndarray, vth_eff: np.ndarray,
                u: np.ndarray, v: np.ndarray, a_in: np.ndarray, a_rec: np.ndarray,
                spikes: np.ndarray, u_out: np.ndarray, v_out: np.ndarray) -> None:
    """One trial. ``x`` (T, Nin) input spikes (0/1); ``w_in`` (Nin, N), ``w_rec`` (N, N) effective int64 weights
    (already clipped and truncated as Dense does); ``e_in``, ``e_rec`` weight exponents; ``du``, ``dv`` (N,)
    12-bit decays; ``bias_eff`` (N,) ``bias_mant << bias_exp``; ``vth_eff`` (N,) ``vth << 6``. State (int64,
    updated in place): ``u``, ``v``, ``a_in``, ``a_rec`` (N,). Outputs: ``spikes`` (T, N) bool, ``u_out``,
    ``v_out`` (T, N) int64."""
    n_steps, n_in = x.shape
    n = u.shape[0]
    fired = np.zeros(n, np.bool_)
    acc = np.zeros(n, np.int64)
    for t in range(n_steps):
        for k in range(n):
            a = a_in[k] + a_rec[k]
            c = _wrap32(_decay(u[k], du[k] + 1) + (a << ACT_SHIFT))
            if c > MAX_UV:
                c -= 2 * MAX_UV
            elif c <= -MAX_UV:
                c += 2 * MAX_UV
            u[k] = c
            vk = _wrap32(_decay(v[k], dv[k]) + c + bias_eff[k])
            if vk > MAX_UV - 1:
                vk = MAX_UV - 1
            elif vk < -MAX_UV + 1:
                vk = -MAX_UV + 1
            s = vk > vth_eff[k]
            if s:
                vk = 0
            v[k] = vk
            fired[k] = s
            spikes[t, k] = s
            u_out[t, k] = c
            v_out[t, k] = vk
        # Dense (input): this step's input spikes, delivered at the next step
        acc[:] = 0
        for p in range(n_in):
            if x[t, p] != 0:
                for k in range(n):
                    acc[k] += w_in[p, k]
        for k in range(n):
            a_in[k] = _shift(acc[k], e_in)
        # Dense (recurrent): this step's LIF spikes, delivered at the next step
        acc[:] = 0
        for m in range(n):
            if fired[m]:
                for k in range(n):
                    acc[k] += w_rec[m, k]
        for k in range(n):
            a_rec[k] = _shift(acc[k], e_rec)


@njit(cache=True, parallel=True)
def loihi_batch(x: np.ndarray, w_in: np.ndarray, w_rec: np.ndarray, e_in: int, e_rec: int,
                du: np.ndarray, dv: np.ndarray, bias_eff: np.ndarray, vth_eff: np.ndarray,
                u: np.ndarray, v: np.ndarray, a_in: np.ndarray, a_rec: np.ndarray,
                spikes: np.ndarray, u_out: np.ndarray, v_out: np.ndarray) -> None:
    """All trials of ``x`` (B, T, Nin) in parallel, each an independent :func:`loihi_trial` from its own state;
    state and output arrays have the leading trial axis B."""
    for b in prange(x.shape[0]):
        loihi_trial(x[b], w_in, w_rec, e_in, e_rec, du, dv, bias_eff, vth_eff, u[b], v[b], a_in[b], a_rec[b],
                    spikes[b], u_out[b], v_out[b])
