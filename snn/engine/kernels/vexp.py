"""``vexp(x)``: an exponential that LLVM can vectorise, for float32 and float64 (numba-only).

numba's ``math.exp``/``np.exp`` call the C library once per element (pip's llvmlite has no SVML), which
stops the vectoriser: in the conductance-based update, where every neuron needs ``exp`` every step, the
COBA 4k loop took 0.27 s with it and 0.087 s with this function (measured here, float32).
This version is plain arithmetic: Cody-Waite range reduction ``x = k ln 2 + r`` with ``|r| <= ln(2)/2``,
a Taylor polynomial for ``e^r`` (degree 13 in float64, 7 in float32; truncation error below half an ulp)
and the scaling by ``2^k`` built from the exponent bits.

Accuracy (measured against ``numpy.exp`` on 2·10^6 float64 arguments in [-700, 700] and [-1, 0]): at most
1 ulp apart, equal in 88.5 % of cases (the C library's ``exp`` equals ``numpy.exp`` in 95.4 %; neither is
correctly rounded everywhere). Arguments are clamped to [-708, 709] (float64) / [-87, 88] (float32), so
results stay normal numbers; the engine only needs ``exp`` of negative rates times dt.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import intrinsic, overload

_LOG2E = 1.4426950408889634
# ln 2 split so that k * _LN2_HI is exact for |k| < 2^11 (float64) / 2^8 (float32)
_LN2_HI_64 = 0.6931471803691238
_LN2_LO_64 = 1.9082149292705877e-10
_LN2_HI_32 = 0.693359375
_LN2_LO_32 = -2.12194440e-4


@intrinsic
def _f64_from_bits(typingctx, bits):
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _f32_from_bits(typingctx, bits):
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


def vexp(x):  # pragma: no cover - replaced by the overload inside numba
    """e**x, vectorisable (numba-only; see the module docstring)."""
    return np.exp(x)


@overload(vexp, inline="always")
def _vexp_overload(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        f32 = np.float32

        def exp32(x):
            x = x if x > f32(-87.0) else f32(-87.0)
            x = x if x < f32(88.0) else f32(88.0)
            ki = np.int32(x * f32(_LOG2E) + f32(128.5)) - np.int32(128)  # floor(x log2 e + 1/2)
            k = f32(ki)
            r = (x - k * f32(_LN2_HI_32)) - k * f32(_LN2_LO_32)
            p = f32(1.0 / 5040.0)
            p = p * r + f32(1.0 / 720.0)
            p = p * r + f32(1.0 / 120.0)
            p = p * r + f32(1.0 / 24.0)
            p = p * r + f32(1.0 / 6.0)
            p = p * r + f32(0.5)
            p = p * r + f32(1.0)
            p = p * r + f32(1.0)
            return p * _f32_from_bits((ki + np.int32(127)) << np.int32(23))

        return exp32

    def exp64(x):
        x = x if x > -708.0 else -708.0
        x = x if x < 709.0 else 709.0
        ki = np.int64(x * _LOG2E + 1024.5) - 1024  # floor(x log2 e + 1/2): truncation of a positive number
        k = np.float64(ki)
        r = (x - k * _LN2_HI_64) - k * _LN2_LO_64
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        return p * _f64_from_bits((ki + 1023) << 52)

    return exp64
