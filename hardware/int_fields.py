"""Validators of the integer fields of the bit-exact emulations' configurations (:mod:`hardware.xylo`,
:mod:`hardware.loihi`, :mod:`hardware.fpga`): whole numbers within a register's range, or one clear line."""

from __future__ import annotations

import numbers

import numpy as np

from snn.errors import ConfigError


def int_array(path: str, value: object, lo: int, hi: int, what: str) -> np.ndarray:
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


def per_neuron(path: str, value: object, n: int, lo: int, hi: int, what: str) -> np.ndarray:
    arr = int_array(path, value, lo, hi, what)
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, (n,))
    if arr.shape != (n,):
        raise ConfigError(path, value, f"must have shape ({n},) (or be one number)")
    out = np.array(arr, dtype=np.int64)
    out.setflags(write=False)
    return out


def int_field(path: str, value: object, lo: int, hi: int, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise ConfigError(path, value, f"must be an integer in [{lo}, {hi}] ({what})")
    return int(value)


def spike_raster(path: str, value: object, n_inputs: int, max_count: int = 1) -> tuple[np.ndarray, bool]:
    """An input raster of spike counts in [0, max_count] (default: binary spikes), (T, n_inputs) or (B, T,
    n_inputs), as a contiguous uint8 (B, T, n_inputs) batch, and whether it was a single trial (no B axis).
    One-line :class:`ConfigError` otherwise."""
    what = "binary spikes" if max_count == 1 else f"spike counts 0..{max_count}"
    x = int_array(path, value, 0, max_count, f"{what} per channel and step")
    if x.ndim not in (2, 3) or x.shape[-1] != n_inputs:
        raise ConfigError(path, value, f"must have shape (T, {n_inputs}) or (B, T, {n_inputs})")
    single = x.ndim == 2
    return np.ascontiguousarray((x[None] if single else x).astype(np.uint8)), single
