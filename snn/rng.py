"""Counter-free, per-stream random numbers usable inside numba kernels.

Each trial (or each block of rows in a connectivity builder) owns one 64-bit SplitMix64 state, so results
do not depend on how work is split over threads: the same seed gives the same numbers at any thread count.
SplitMix64 (Steele, Lea & Flood 2014) passes BigCrush and needs one uint64 of state.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def next_u64(state: np.ndarray, k: int) -> np.uint64:
    """Advance ``state[k]`` and return the next 64-bit output."""
    s = state[k] + _GOLDEN
    state[k] = s
    z = s
    z = (z ^ (z >> uint64(30))) * _M1
    z = (z ^ (z >> uint64(27))) * _M2
    return z ^ (z >> uint64(31))


@njit(cache=True, inline="always")
def uniform(state: np.ndarray, k: int) -> float:
    """A double in [0, 1) with 53 random bits."""
    return float(next_u64(state, k) >> uint64(11)) * _INV_2_53


@njit(cache=True, inline="always")
def normal(state: np.ndarray, k: int) -> float:
    """A standard normal deviate (Box-Muller, one output per call; simple and stream-local)."""
    u1 = 1.0 - uniform(state, k)  # (0, 1]: log is finite
    u2 = uniform(state, k)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def stream_states(seed: int, n: int, salt: int = 0) -> np.ndarray:
    """``n`` independent uint64 stream states derived from ``seed`` with numpy's SeedSequence.

    ``salt`` separates uses of the same seed (network building, initial state, run-time noise).
    """
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, int(salt)])
    return ss.generate_state(max(n, 1), dtype=np.uint64)[:n].copy()
