"""Seeded sampling of reservoir parameter spaces (any frozen spec dataclass: :class:`~snn.reservoir.LSMSpec`,
:class:`~snn.reservoir.izhikevich.IzhikevichReservoirSpec`, ...).

A *space* maps spec field names to distributions:

- :class:`UniformRange` ``(low, high)``: ``x = low + q (high - low)``;
- :class:`LogUniformRange` ``(low, high)``, ``0 < low <= high``: ``x = exp(log low + q (log high - log low))``;
- :class:`Choice` ``(options)``: ``options[floor(q · len(options))]``;

where ``q`` in [0, 1) is the sample's coordinate for that field. Integer fields (whose value in the base spec is
an ``int``) draw uniformly from the integers ``k`` of [low, high] (``ceil(low) + floor(q · count)``; log-uniform:
``round(x)`` kept in that range), so their ranges must contain an integer. ``method="random"``: every ``q`` is
i.i.d. U(0, 1). ``method="lhs"``: Latin hypercube (McKay, Beckman & Conover 1979, Technometrics 21:239): for each
field independently, ``q_i = (π(i) + U_i) / n`` with a random permutation ``π`` of ``0..n-1``, so each of the n
equal strata of every field holds exactly one sample (a Choice with ``n`` a multiple of its options then takes
every option equally often).

Each sample is ``dataclasses.replace(base, **values)``, so the spec's own validation runs; a sample it rejects
(a combination the spec forbids, e.g. a reset above threshold) raises :class:`ConfigError` naming the sample.
Unknown fields, ranges with ``low > high``, non-finite bounds, log ranges not > 0 and empty choices raise
:class:`ConfigError` before anything is drawn. Same ``seed`` -> same specs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from snn.checks import finite as _finite
from snn.errors import ConfigError

#: sampling designs of :func:`sample_specs`
METHODS = ("lhs", "random")


@dataclass(frozen=True)
class UniformRange:
    """Uniform on [low, high] (a point when low == high)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        lo, hi = _finite("sampler.uniform.low", self.low), _finite("sampler.uniform.high", self.high)
        if hi < lo:
            raise ConfigError("sampler.uniform.high", self.high, f"must be >= low = {self.low}")

    def at(self, q: np.ndarray) -> np.ndarray:
        return self.low + q * (self.high - self.low)


@dataclass(frozen=True)
class LogUniformRange:
    """Log-uniform on [low, high], ``0 < low <= high``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        lo, hi = _finite("sampler.log_uniform.low", self.low), _finite("sampler.log_uniform.high", self.high)
        if lo <= 0:
            raise ConfigError("sampler.log_uniform.low", self.low, "must be > 0")
        if hi < lo:
            raise ConfigError("sampler.log_uniform.high", self.high, f"must be >= low = {self.low}")

    def at(self, q: np.ndarray) -> np.ndarray:
        return np.exp(math.log(self.low) + q * (math.log(self.high) - math.log(self.low)))


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (any values the field accepts), each with probability 1 / len(options)."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)):
            raise ConfigError("sampler.choice.options", self.options, "must be a non-empty list of values")
        try:
            opts = tuple(self.options)
        except TypeError:
            raise ConfigError("sampler.choice.options", self.options, "must be a non-empty list of values") from None
        if not opts:
            raise ConfigError("sampler.choice.options", self.options, "must be a non-empty list of values")
        object.__setattr__(self, "options", opts)

    def at(self, q: np.ndarray) -> list[Any]:
        k = np.minimum((q * len(self.options)).astype(np.int64), len(self.options) - 1)
        return [self.options[int(i)] for i in k]


Distribution = UniformRange | LogUniformRange | Choice


def _parse(field: str, value: object) -> Distribution:
    """A distribution, or its short form: ``("uniform", lo, hi)``, ``("log_uniform", lo, hi)``, ``("choice",
    [options])`` (also dicts ``{"uniform": [lo, hi]}``, ``{"log_uniform": [lo, hi]}``, ``{"choice": [...]}``)."""
    if isinstance(value, (UniformRange, LogUniformRange, Choice)):
        return value
    path = f"sampler.space.{field}"
    kinds = {"uniform": UniformRange, "log_uniform": LogUniformRange}
    try:
        if isinstance(value, Mapping) and len(value) == 1:
            (kind, args), = value.items()
            args = tuple(args) if kind in kinds else (args,)
        elif isinstance(value, (tuple, list)) and value and isinstance(value[0], str):
            kind, args = value[0], tuple(value[1:])
        else:
            raise TypeError
        if kind == "choice" and len(args) == 1:
            return Choice(tuple(args[0]))
        if kind in kinds and len(args) == 2:
            return kinds[kind](*args)
    except ConfigError as exc:
        raise ConfigError(f"{path}.{exc.path.rsplit('.', 1)[-1]}", exc.value, exc.constraint) from None
    except (TypeError, ValueError):
        pass
    raise ConfigError(path, value, "must be UniformRange, LogUniformRange, Choice, ('uniform', lo, hi), "
                                   "('log_uniform', lo, hi) or ('choice', [options])")


def _check_integer_range(field: str, dist: Distribution) -> None:
    if isinstance(dist, (UniformRange, LogUniformRange)) and math.floor(dist.high) < math.ceil(dist.low):
        raise ConfigError(f"sampler.space.{field}", (dist.low, dist.high), "must contain an integer (integer field)")


def _integers(dist: Distribution, q: np.ndarray) -> list[int]:
    """Integer field: uniform over the integers of [low, high]; log-uniform rounded and kept in [low, high]."""
    lo, hi = math.ceil(dist.low), math.floor(dist.high)  # type: ignore[union-attr]
    if isinstance(dist, UniformRange):
        k = lo + np.minimum(np.floor(q * (hi - lo + 1)), hi - lo)
    else:
        k = np.clip(np.rint(dist.at(q)), lo, hi)
    return [int(v) for v in k]


def unit_design(n: int, d: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """(n, d) coordinates in [0, 1): i.i.d. uniform (``"random"``) or a Latin hypercube (``"lhs"``)."""
    u = rng.uniform(0.0, 1.0, (n, d))
    if method == "random":
        return u
    strata = np.stack([rng.permutation(n) for _ in range(d)], axis=1) if d else np.zeros((n, 0))
    return (strata + u) / n


def sample_specs(base: Any, space: Mapping[str, object], n: int, seed: int, method: str = "lhs") -> list[Any]:
    """``n`` specs: ``base`` with the fields of ``space`` drawn from their distributions (see the module
    docstring). ``base`` is a spec dataclass instance; ``seed`` an integer >= 0; ``method`` "lhs" or "random".
    Fields are drawn in the order of ``space``."""
    if not dataclasses.is_dataclass(base) or isinstance(base, type):
        raise ConfigError("sampler.base", base, "must be a spec dataclass instance (LSMSpec, ...)")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError("sampler.n", n, "must be an integer >= 1")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("sampler.seed", seed, "must be an integer >= 0")
    if method not in METHODS:
        raise ConfigError("sampler.method", method, f"must be one of {list(METHODS)}")
    if not isinstance(space, Mapping):
        raise ConfigError("sampler.space", space, "must map spec field names to distributions")
    known = {f.name for f in dataclasses.fields(base) if f.init}
    dists: dict[str, Distribution] = {}
    for field, value in space.items():
        if field not in known:
            raise ConfigError(f"sampler.space.{field}", value,
                              f"unknown field of {type(base).__name__}; known: {sorted(known)}")
        dists[field] = _parse(field, value)
        if _is_integer(getattr(base, field)):
            _check_integer_range(field, dists[field])
    q = unit_design(int(n), len(dists), method, np.random.default_rng(int(seed)))
    columns = {}
    for j, (field, dist) in enumerate(dists.items()):
        if isinstance(dist, Choice):
            columns[field] = dist.at(q[:, j])
        elif _is_integer(getattr(base, field)):
            columns[field] = _integers(dist, q[:, j])
        else:
            columns[field] = [float(v) for v in dist.at(q[:, j])]
    out = []
    for i in range(int(n)):
        values = {field: columns[field][i] for field in dists}
        try:
            out.append(dataclasses.replace(base, **values))
        except ConfigError as exc:
            raise ConfigError(f"sampler.sample[{i}].{exc.path}", exc.value,
                              f"{exc.constraint} (narrow the ranges so every sample is a valid spec)") from None
    return out


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
