"""Hyper-parameters of HLOP (Xiao, Meng, Zhang, He, Lin, ICLR 2024, arXiv:2402.11984) as a frozen dataclass.

Defaults and their sources (pkuxmq/HLOP-SNN @ 530b89a, ``modules/hlop_module.py`` and ``spiking_train_pmnist.py``):
momentum 0.9 (``self.m``), clamp 10 (``torch.clamp(delta_weight, -10, 10)``), 5 iterations per mini-batch
(``-hlop_iteration``), spiking lateral neurons off (``-hlop_spiking``; range ``-hlop_spiking_scale`` 20), seed 0
(the code uses 2022). The learning rate η has no global default: the code uses 0.001 for the 784-d PMNIST input
layer and 0.01 for every hidden layer; :meth:`HLOPConfig.pmnist` gives that network's full schedule.

Schedule of subspace neurons (data, not a callable): ``k_first[l]`` rows for layer l in task 1; in task t >= 2,
``k_added[t − 2][l]`` rows are appended, and the last row of ``k_added`` repeats for all later tasks (an empty
``k_added`` adds nothing).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.hlop.subspace import Subspace


def _is_int(value: object) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def _is_real(value: object) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)


def _counts(path: str, value: object, size: int | None) -> tuple[int, ...]:
    what = "a list of integers >= 0 (one per layer)" if size is None else f"a list of {size} integers >= 0"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or np.ndim(value) != 1:
        raise ConfigError(path, value, f"must be {what}")
    if len(value) == 0 or (size is not None and len(value) != size):
        raise ConfigError(path, value, f"must be {what}")
    for i, v in enumerate(value):
        if not _is_int(v) or v < 0:
            raise ConfigError(f"{path}[{i}]", v, "must be an integer >= 0")
    return tuple(int(v) for v in value)


@dataclass(frozen=True)
class HLOPConfig:
    """HLOP settings for a network of ``len(k_first)`` protected layers.

    ``k_first``: subspace neurons per layer in task 1. ``k_added``: one row per later task (task 2, 3, ...) of
    neurons added per layer; the last row repeats. ``lr``: Hebbian learning rate η per layer (a single number
    applies to all layers). ``momentum``: m in ``M ← m M + (1 − m) Δ`` (in [0, 1)). ``clamp``: bound on each
    element of Δ (> 0; ``inf`` disables). ``iterations``: Hebbian steps per mini-batch (>= 1).
    ``lateral_steps``: None for non-spiking lateral neurons, else T_h >= 1 time steps of spiking neurons whose
    output is quantised to multiples of ``spiking_scale / T_h`` in ±``spiking_scale``. ``seed``: seeds the
    random orthonormal initial rows (:meth:`rng`).
    """

    k_first: tuple[int, ...]
    lr: tuple[float, ...] | float
    k_added: tuple[tuple[int, ...], ...] = ()
    momentum: float = 0.9
    clamp: float = 10.0
    iterations: int = 5
    lateral_steps: int | None = None
    spiking_scale: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        p = "hlop"
        k_first = _counts(f"{p}.k_first", self.k_first, None)
        n = len(k_first)
        object.__setattr__(self, "k_first", k_first)
        if isinstance(self.k_added, (str, bytes)) or not isinstance(self.k_added, (Sequence, np.ndarray)):
            raise ConfigError(f"{p}.k_added", self.k_added, f"must be a list of rows of {n} integers >= 0")
        object.__setattr__(self, "k_added",
                           tuple(_counts(f"{p}.k_added[{t}]", row, n) for t, row in enumerate(self.k_added)))
        lr = self.lr
        if _is_real(lr):
            lr = (lr,) * n
        if isinstance(lr, (str, bytes)) or not isinstance(lr, (Sequence, np.ndarray)) or len(lr) != n:
            raise ConfigError(f"{p}.lr", self.lr, f"must be a number > 0 or a list of {n} numbers > 0")
        for i, v in enumerate(lr):
            if not _is_real(v) or not (0 < v < math.inf):
                raise ConfigError(f"{p}.lr[{i}]", v, "must be a finite number > 0")
        object.__setattr__(self, "lr", tuple(float(v) for v in lr))
        if not _is_real(self.momentum) or not (0 <= self.momentum < 1):
            raise ConfigError(f"{p}.momentum", self.momentum, "must be a number in [0, 1)")
        if not _is_real(self.clamp) or math.isnan(self.clamp) or self.clamp <= 0:
            raise ConfigError(f"{p}.clamp", self.clamp, "must be a number > 0 (inf disables the clamp)")
        if not _is_int(self.iterations) or self.iterations < 1:
            raise ConfigError(f"{p}.iterations", self.iterations, "must be an integer >= 1")
        if self.lateral_steps is not None and (not _is_int(self.lateral_steps) or self.lateral_steps < 1):
            raise ConfigError(f"{p}.lateral_steps", self.lateral_steps, "must be none or an integer >= 1")
        if not _is_real(self.spiking_scale) or not (0 < self.spiking_scale < math.inf):
            raise ConfigError(f"{p}.spiking_scale", self.spiking_scale, "must be a finite number > 0")
        if not _is_int(self.seed) or self.seed < 0:
            raise ConfigError(f"{p}.seed", self.seed, "must be an integer >= 0")

    @property
    def n_layers(self) -> int:
        """Number of protected layers."""
        return len(self.k_first)

    def k_for_task(self, task: int) -> tuple[int, ...]:
        """Rows to add per layer at the start of ``task`` (1-based: task 1 is the first task)."""
        if not _is_int(task) or task < 1:
            raise ConfigError("hlop.task", task, "must be an integer >= 1 (1-based task number)")
        if task == 1:
            return self.k_first
        if not self.k_added:
            return (0,) * self.n_layers
        return self.k_added[min(task - 2, len(self.k_added) - 1)]

    def total_k(self, task: int) -> tuple[int, ...]:
        """Rows per layer during ``task`` (1-based): the sum of :meth:`k_for_task` over tasks 1..task."""
        rows = np.zeros(self.n_layers, dtype=np.int64)
        for t in range(1, task + 1):
            rows += self.k_for_task(t)
        return tuple(int(v) for v in rows)

    def rng(self) -> np.random.Generator:
        """A fresh generator seeded with ``seed`` (for :meth:`Subspace.begin_task`)."""
        return np.random.default_rng(self.seed)

    def make_subspaces(self, n_inputs: Sequence[int], names: Sequence[str] | None = None) -> list[Subspace]:
        """One empty :class:`Subspace` per layer with this config's η, momentum, clamp, iterations and lateral
        neurons; ``n_inputs[l]`` is the presynaptic dimension of layer l. Call ``begin_task`` before use."""
        if isinstance(n_inputs, (str, bytes)) or not isinstance(n_inputs, Sequence) or len(n_inputs) != self.n_layers:
            raise ConfigError("hlop.n_inputs", n_inputs, f"must be a list of {self.n_layers} integers >= 1")
        names = [f"layer{i}" for i in range(self.n_layers)] if names is None else list(names)
        if len(names) != self.n_layers:
            raise ConfigError("hlop.names", names, f"must be {self.n_layers} names")
        return [Subspace(n, lr=self.lr[i], momentum=self.momentum, clamp=self.clamp, iterations=self.iterations,
                         lateral_steps=self.lateral_steps, spiking_scale=self.spiking_scale, name=names[i])
                for i, n in enumerate(n_inputs)]

    @classmethod
    def pmnist(cls, **overrides: Any) -> HLOPConfig:
        """The PMNIST MLP 784-800-800-10 schedule of ``spiking_train_pmnist.py``: k (80, 200, 100) in task 1,
        +70 in tasks 2–3, +50 in 4–6, +30 in 7–9, +10 from task 10 on; η (0.001, 0.01, 0.01)."""
        rows = [(70,) * 3] * 2 + [(50,) * 3] * 3 + [(30,) * 3] * 3 + [(10,) * 3]
        values: dict[str, Any] = {"k_first": (80, 200, 100), "k_added": tuple(rows), "lr": (0.001, 0.01, 0.01)}
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "hlop") -> HLOPConfig:
        """Build from a TOML table (keys = field names; lists for tuples; ``lateral_steps = "none"`` or absent
        for non-spiking). Unknown or missing keys raise ConfigError with paths under ``path``."""
        if not isinstance(data, Mapping):
            raise ConfigError(path, data, "must be a table of HLOP settings")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"{path}.{key}", data[key], f"unknown key; expected one of {sorted(known)}")
        for key in ("k_first", "lr"):
            if key not in data:
                raise ConfigError(f"{path}.{key}", None, "is required")
        values = dict(data)
        if values.get("lateral_steps") in ("none", "None"):  # TOML has no null
            values["lateral_steps"] = None
        try:
            return cls(**values)
        except ConfigError as err:  # __post_init__ names fields under "hlop."; re-root them at ``path``
            if path == "hlop":
                raise
            raise ConfigError(path + err.path[len("hlop"):], err.value, err.constraint) from None
