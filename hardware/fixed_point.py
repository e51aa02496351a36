"""Arbitrary-precision fixed point as Vivado/Vitis HLS ``ap_fixed<W, I, Q, O>`` (and hls4ml's precision strings).

A format has ``W`` bits in all, ``I`` of them (sign included) left of the binary point, so ``F = W - I``
fractional bits and a step (LSB) of ``2**-F``. A value ``x`` is stored as the integer ``q`` with
``x ≈ q · 2**-F``; signed: ``q ∈ [-2**(W-1), 2**(W-1) - 1]``, unsigned (``ap_ufixed``): ``q ∈ [0, 2**W - 1]``.

Quantisation (``s = x · 2**F`` — exact in float64, a power-of-two scaling —, ``f = floor(s)``, ``r = s - f``,
also exact; the modes, their names and their tie rules are those of AMD UG1399 "Quantization Modes"):

- ``AP_TRN``: ``q = f`` (truncation towards minus infinity; the default of ``ap_fixed``);
- ``AP_TRN_ZERO``: ``q = trunc(s)`` (towards zero);
- ``AP_RND``: nearest, ties towards plus infinity: ``q = f + (r >= 1/2)``;
- ``AP_RND_ZERO``: nearest, ties towards zero;
- ``AP_RND_MIN_INF``: nearest, ties towards minus infinity: ``q = f + (r > 1/2)``;
- ``AP_RND_INF``: nearest, ties away from zero;
- ``AP_RND_CONV``: nearest, ties to even (convergent).

Overflow (applied to ``q`` after quantisation, as ap_fixed does; UG1399 "Overflow Modes"):

- ``AP_WRAP``: keep the low ``W`` bits (two's complement for signed; the default of ``ap_fixed``);
- ``AP_SAT``: clip to ``[q_min, q_max]``;
- ``AP_SAT_ZERO``: any out-of-range value becomes 0.

Worked values from UG1399 (used in the tests): ``ap_fixed<3,2,AP_RND,AP_SAT>(1.25) = 1.5`` and ``(-1.25) = -1.0``;
``ap_fixed<4,4,AP_RND,AP_SAT>(19) = 7``, ``(-19) = -8``; ``ap_fixed<18,6,AP_RND>(-1.5)`` is stored as ``0x3e800``.

hls4ml's default precision is ``ap_fixed<16,6>`` (``AP_TRN``, ``AP_WRAP``); hls4ml 1.3.0 ``hls4ml/model/types.py``.
Widths up to 52 bits are supported, so every stored integer is exact in float64 and int64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from snn.errors import ConfigError

ROUNDING = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV")
OVERFLOW = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO")

#: widest supported word: raw integers stay exact in float64 (53-bit mantissa) and int64
MAX_WIDTH = 52

_PATTERN = re.compile(r"^\s*(ap_fixed|ap_ufixed)\s*<\s*(-?\d+)\s*,\s*(-?\d+)\s*(?:,\s*(\w+)\s*)?(?:,\s*(\w+)\s*)?>\s*$")


@dataclass(frozen=True)
class ApFixed:
    """The format ``ap_fixed<width, integer, rounding, overflow>`` (``signed=False``: ``ap_ufixed``).

    ``width`` W (bits, 1..52), ``integer`` I (bits left of the binary point including the sign; may be negative
    or larger than W, as in ap_fixed), ``rounding`` one of :data:`ROUNDING`, ``overflow`` one of :data:`OVERFLOW`.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "AP_TRN"
    overflow: str = "AP_WRAP"
    path: str = "fixed"

    def __post_init__(self) -> None:
        p = self.path
        for name in ("width", "integer"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ConfigError(f"{p}.{name}", v, "must be an integer (bits)")
            object.__setattr__(self, name, int(v))
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(f"{p}.width", self.width, f"must be in [1, {MAX_WIDTH}] bits")
        if not -MAX_WIDTH <= self.integer <= 2 * MAX_WIDTH:
            raise ConfigError(f"{p}.integer", self.integer, f"must be in [-{MAX_WIDTH}, {2 * MAX_WIDTH}] bits")
        if not isinstance(self.signed, bool):
            raise ConfigError(f"{p}.signed", self.signed, "must be true or false")
        if self.rounding not in ROUNDING:
            raise ConfigError(f"{p}.rounding", self.rounding, f"must be one of {list(ROUNDING)}")
        if self.overflow not in OVERFLOW:
            raise ConfigError(f"{p}.overflow", self.overflow, f"must be one of {list(OVERFLOW)}")

    @classmethod
    def parse(cls, text: str, path: str = "fixed") -> ApFixed:
        """``"ap_fixed<16,6>"``, ``"ap_fixed<8,3,AP_RND,AP_SAT>"`` or ``"ap_ufixed<8,0>"`` (hls4ml's strings)."""
        m = _PATTERN.match(text) if isinstance(text, str) else None
        if m is None:
            raise ConfigError(path, text, "must look like ap_fixed<W,I> or ap_fixed<W,I,AP_RND,AP_SAT>")
        kind, w, i, q, o = m.groups()
        return cls(int(w), int(i), kind == "ap_fixed", q or "AP_TRN", o or "AP_WRAP", path)

    def __str__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{kind}<{self.width},{self.integer},{self.rounding},{self.overflow}>"

    @property
    def frac(self) -> int:
        """Fractional bits F = W - I."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        """Value of one step, 2**-F."""
        return 2.0 ** (-self.frac)

    @property
    def raw_min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min(self) -> float:
        return self.raw_min * self.lsb

    @property
    def max(self) -> float:
        return self.raw_max * self.lsb

    def quantize_raw(self, x: float | np.ndarray) -> np.ndarray:
        """The stored integers (int64) of ``x`` after this format's quantisation and overflow modes."""
        a = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise ConfigError(f"{self.path}.value", x, "must be finite")
        s = np.ldexp(a, self.frac)  # exact: scaling by a power of two
        if np.any(np.abs(s) >= 2.0**62):
            raise ConfigError(f"{self.path}.value", x, f"must be < 2**62 steps of {self}")
        f = np.floor(s)
        r = s - f  # exact: f and s share the exponent range, Sterbenz
        half = r == 0.5
        mode = self.rounding
        if mode == "AP_TRN":
            q = f
        elif mode == "AP_TRN_ZERO":
            q = np.trunc(s)
        elif mode == "AP_RND":
            q = f + (r >= 0.5)
        elif mode == "AP_RND_ZERO":
            q = f + ((r > 0.5) | (half & (s < 0)))
        elif mode == "AP_RND_MIN_INF":
            q = f + (r > 0.5)
        elif mode == "AP_RND_INF":
            q = f + ((r > 0.5) | (half & (s > 0)))
        else:  # AP_RND_CONV
            q = f + ((r > 0.5) | (half & (np.mod(f, 2.0) == 1.0)))
        q = q.astype(np.int64)
        lo, hi = self.raw_min, self.raw_max
        if self.overflow == "AP_SAT":
            q = np.clip(q, lo, hi)
        elif self.overflow == "AP_SAT_ZERO":
            q = np.where((q < lo) | (q > hi), 0, q)
        else:  # AP_WRAP: keep the low W bits
            span = 1 << self.width
            q = np.mod(q, span)
            if self.signed:
                q = np.where(q > hi, q - span, q)
        return q.astype(np.int64)

    def quantize(self, x: float | np.ndarray) -> np.ndarray:
        """``x`` rounded into this format, as float64 values (``raw · 2**-F``)."""
        return np.ldexp(self.quantize_raw(x).astype(np.float64), -self.frac)

    def overflows(self, x: float | np.ndarray) -> np.ndarray:
        """Boolean mask: ``x`` lies outside the representable range after rounding (before overflow handling)."""
        wide = ApFixed(MAX_WIDTH, MAX_WIDTH - self.frac, True, self.rounding, "AP_SAT", self.path)
        q = wide.quantize_raw(x)
        return (q < self.raw_min) | (q > self.raw_max)

    def hex_words(self, raw: np.ndarray) -> list[str]:
        """Stored integers as W-bit two's-complement hex words (``ceil(W/4)`` digits), as ``$readmemh`` reads them."""
        digits = (self.width + 3) // 4
        mask = (1 << self.width) - 1
        return [format(int(v) & mask, f"0{digits}x") for v in np.asarray(raw, dtype=np.int64).ravel()]


def from_hex_words(words: list[str], fmt: ApFixed) -> np.ndarray:
    """Inverse of :meth:`ApFixed.hex_words`: stored integers (int64) from hex words."""
    out = np.empty(len(words), dtype=np.int64)
    for k, w in enumerate(words):
        v = int(w, 16)
        if fmt.signed and v >= 1 << (fmt.width - 1):
            v -= 1 << fmt.width
        out[k] = v
    return out
