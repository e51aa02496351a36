"""Shared one-line checks of scalar arguments: each returns the value converted, or raises
:class:`~snn.errors.ConfigError` naming the key path, the value and the constraint. Booleans (numpy's too) are
refused where numbers are expected, so ``True`` never passes as 1."""

from __future__ import annotations

import math
import numbers

import numpy as np

from snn.errors import ConfigError


def finite(path: str, value: object) -> float:
    """A finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(path, value, "must be a finite number")
    return float(value)


def integer(path: str, value: object, minimum: int = 1) -> int:
    """An integer (Python or numpy) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(path, value, f"must be an integer >= {minimum}")
    return int(value)
