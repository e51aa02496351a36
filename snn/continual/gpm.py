"""Gradient Projection Memory (GPM; Saha, Garg, Roy, "Gradient Projection Memory for Continual Learning",
ICLR 2021, arXiv:2103.09762), the baseline of HLOP, as in sahagobinda/GPM @ 1a238ec, ``main_pmnist.py``
(``get_representation_matrix``, ``update_GPM``, ``train_projected``).

Per protected layer a memory M (n × r, orthonormal columns) spans the input activity of earlier tasks. The
representation matrix of a task is R = Xᵀ (n × S): the presynaptic traces of S random training samples as
columns (PMNIST: S = 300). With σ the singular values of R (``np.linalg.svd``) and ε the threshold:

- first task: r = #{i : Σ_{j<=i} σ_j² / Σ σ² < ε} (the code's ``np.sum(np.cumsum(sval_ratio) < threshold)``; the
  "+1" of the paper's Eq. 5, "smallest r with energy >= ε", is commented out there, so the reference keeps one
  direction fewer than the paper's rule whenever that rule needs r >= 1); M = U[:, :r].
  ``rank_rule="paper"`` uses the paper's smallest r with Σ_{j<=r} σ_j² >= ε Σ σ² instead.
- later tasks (every call after the first, even if the first kept r = 0; both rules; the code's and the
  paper's Eq. 8–9): R̂ = R − M Mᵀ R, SVD R̂ = Û Σ̂ V̂ᵀ; starting from the captured energy
  a = (‖R‖² − ‖R̂‖²) / ‖R‖² (Frobenius), add columns i = 1, 2, ... while a < ε, each adding σ̂_i² / ‖R‖²;
  M ← [M, Û[:, :r_new]], truncated to n columns.
- training (``train_projected``): G ← G − (G M) Mᵀ for a weight gradient G (m × n); biases / BN not handled here.

Thresholds: PMNIST (0.95, 0.99, 0.99); CIFAR-100 0.97 + 0.003 (t − 1) for task t (``threshold_step``).
Units: none (traces are whatever the learner feeds in).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from snn.errors import ConfigError

#: accepted ``rank_rule`` values
RANK_RULES = ("reference", "paper")


def _threshold(path: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not (0 < value <= 1):
        raise ConfigError(path, value, "must be a number in (0, 1]")
    return float(value)


@dataclass(frozen=True)
class GPMConfig:
    """GPM settings. ``thresholds``: ε per layer (PMNIST (0.95, 0.99, 0.99)). ``threshold_step``: ε of task t is
    ``min(ε + threshold_step·(t − 1), 1)`` (CIFAR-100: 0.003; PMNIST: 0). ``samples``: traces per task in the
    representation matrix (300). ``rank_rule``: "reference" or "paper" (first-task rank; module docstring)."""

    thresholds: tuple[float, ...] = (0.95, 0.99, 0.99)
    threshold_step: float = 0.0
    samples: int = 300
    rank_rule: str = "reference"

    def __post_init__(self) -> None:
        p = "gpm"
        th = self.thresholds
        if isinstance(th, (str, bytes)) or not isinstance(th, Sequence) or len(th) == 0:
            raise ConfigError(f"{p}.thresholds", th, "must be a non-empty list of numbers in (0, 1]")
        object.__setattr__(self, "thresholds", tuple(_threshold(f"{p}.thresholds[{i}]", v) for i, v in enumerate(th)))
        step = self.threshold_step
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Real) or not (0 <= step < 1):
            raise ConfigError(f"{p}.threshold_step", step, "must be a number in [0, 1)")
        if isinstance(self.samples, (bool, np.bool_)) or not isinstance(self.samples, (int, np.integer)) \
                or self.samples < 1:
            raise ConfigError(f"{p}.samples", self.samples, "must be an integer >= 1")
        if self.rank_rule not in RANK_RULES:
            raise ConfigError(f"{p}.rank_rule", self.rank_rule, f"must be one of {list(RANK_RULES)}")

    def threshold(self, layer: int, task: int) -> float:
        """ε of ``layer`` (0-based) for ``task`` (1-based)."""
        return min(self.thresholds[layer] + self.threshold_step * (task - 1), 1.0)

    def make_bases(self, n_inputs: Sequence[int], names: Sequence[str] | None = None) -> list[GPMBasis]:
        """One empty :class:`GPMBasis` per layer (``len(n_inputs)`` must equal ``len(thresholds)``)."""
        if isinstance(n_inputs, (str, bytes)) or not isinstance(n_inputs, Sequence) \
                or len(n_inputs) != len(self.thresholds):
            raise ConfigError("gpm.n_inputs", n_inputs, f"must be a list of {len(self.thresholds)} integers >= 1")
        names = [f"layer{i}" for i in range(len(n_inputs))] if names is None else list(names)
        if len(names) != len(n_inputs):
            raise ConfigError("gpm.names", names, f"must be {len(n_inputs)} names")
        return [GPMBasis(n, rank_rule=self.rank_rule, name=names[i]) for i, n in enumerate(n_inputs)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "gpm") -> GPMConfig:
        """Build from a TOML table (keys = field names). Unknown keys raise ConfigError with paths under ``path``."""
        if not isinstance(data, Mapping):
            raise ConfigError(path, data, "must be a table of GPM settings")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"{path}.{key}", data[key], f"unknown key; expected one of {sorted(known)}")
        try:
            return cls(**dict(data))
        except ConfigError as err:
            if path == "gpm":
                raise
            raise ConfigError(path + err.path[len("gpm"):], err.value, err.constraint) from None


def first_task_rank(s: np.ndarray, threshold: float, rank_rule: str = "reference") -> int:
    """Rank kept after the first task from singular values ``s`` (descending): module docstring."""
    energy = s * s
    total = energy.sum()
    if total == 0.0:
        return 0
    cum = np.cumsum(energy) / total
    if rank_rule == "reference":
        return int(np.sum(cum < threshold))
    return min(int(np.sum(cum < threshold)) + 1, s.size)


def residual_rank(s_hat: np.ndarray, total: float, captured: float, threshold: float) -> int:
    """Columns to add in a later task: ``s_hat`` residual singular values, ``total`` = ‖R‖², ``captured`` =
    (‖R‖² − ‖R̂‖²)/‖R‖² (the reference loop of ``update_GPM``)."""
    r = 0
    acc = captured
    for v in s_hat:
        if acc >= threshold:
            break
        acc += v * v / total
        r += 1
    return r


class GPMBasis:
    """GPM memory of one layer with ``n_inputs`` presynaptic inputs. Attributes: ``M`` (n, r), ``n_tasks``."""

    def __init__(self, n_inputs: int, rank_rule: str = "reference", name: str = "layer") -> None:
        self.name = str(name)
        if isinstance(n_inputs, (bool, np.bool_)) or not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
            raise ConfigError(f"gpm.{self.name}.n_inputs", n_inputs, "must be an integer >= 1")
        if rank_rule not in RANK_RULES:
            raise ConfigError(f"gpm.{self.name}.rank_rule", rank_rule, f"must be one of {list(RANK_RULES)}")
        self.n_inputs = int(n_inputs)
        self.rank_rule = rank_rule
        self.M = np.zeros((self.n_inputs, 0))
        self.n_tasks = 0

    @property
    def rank(self) -> int:
        """Number of protected directions r."""
        return self.M.shape[1]

    def update(self, traces: np.ndarray, threshold: float) -> int:
        """Add the directions of one finished task from ``traces`` (S, n): R = tracesᵀ; returns the number of
        columns added. ``threshold``: ε in (0, 1]. Equations: module docstring."""
        p = f"gpm.{self.name}"
        try:
            X = np.asarray(traces, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"{p}.traces", traces, f"must be a finite 2-D array (samples, {self.n_inputs})") from None
        if X.ndim != 2 or X.shape[1] != self.n_inputs or X.shape[0] < 1 or not np.all(np.isfinite(X)):
            raise ConfigError(f"{p}.traces", traces, f"must be a finite 2-D array (samples >= 1, {self.n_inputs})")
        eps = _threshold(f"{p}.threshold", threshold)
        R = X.T
        first = self.n_tasks == 0  # the code's "if not feature_list" branch: the first update, whatever r it kept
        self.n_tasks += 1
        if first:
            U, s, _ = np.linalg.svd(R, full_matrices=False)
            r = first_task_rank(s, eps, self.rank_rule)
            self.M = np.ascontiguousarray(U[:, :r])
            return r
        total = float(np.sum(R * R))
        if total == 0.0:
            return 0
        R_hat = R - self.M @ (self.M.T @ R)
        U, s, _ = np.linalg.svd(R_hat, full_matrices=False)
        captured = (total - float(np.sum(R_hat * R_hat))) / total
        r = residual_rank(s, total, captured, eps)
        r = min(r, self.n_inputs - self.rank)  # the code truncates [M, Û] to n columns
        if r > 0:
            self.M = np.ascontiguousarray(np.hstack([self.M, U[:, :r]]))
        return r

    def project_out(self, G: np.ndarray) -> np.ndarray:
        """``G − (G M) Mᵀ`` for a weight gradient G (m, n) (or one row (n,)); returns a new array."""
        arr = np.asarray(G, dtype=np.float64)
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.n_inputs or not np.all(np.isfinite(arr)):
            n = self.n_inputs
            raise ConfigError(f"gpm.{self.name}.G", G, f"must be a finite array (m, {n}) or ({n},)")
        return arr - (arr @ self.M) @ self.M.T

    def state(self) -> dict[str, np.ndarray]:
        """Checkpoint as a dict of arrays: ``M``, ``n_tasks`` (copies)."""
        return {"M": self.M.copy(), "n_tasks": np.array(self.n_tasks, dtype=np.int64)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore a :meth:`state` dict."""
        p = f"gpm.{self.name}.state"
        for key in ("M", "n_tasks"):
            if key not in state:
                raise ConfigError(f"{p}.{key}", None, "is missing")
        M = np.array(state["M"], dtype=np.float64)
        if M.ndim != 2 or M.shape[0] != self.n_inputs or M.shape[1] > self.n_inputs or not np.all(np.isfinite(M)):
            raise ConfigError(f"{p}.M", M, f"must be a finite ({self.n_inputs}, r <= {self.n_inputs}) array")
        self.M = np.ascontiguousarray(M)
        self.n_tasks = int(np.asarray(state["n_tasks"]))


