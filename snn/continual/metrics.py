"""Continual-learning metrics from the accuracy matrix.

Notation (0-based): ``R[i, j]`` = accuracy on the test set of task ``j`` after training tasks ``0..i``
(``T x T``, every entry filled: the whole stream is evaluated after each task); ``b[j]`` = accuracy on task ``j``
before any training (random initialisation). Accuracies are fractions or percentages, the metrics come back in
the same unit. ``R`` may also be the first ``i + 1`` rows of a running study (``(i + 1) x T``): the metrics are
then those "after task ``i``", i.e. of the square block ``R[:i + 1, :i + 1]`` (``b[:i + 1]``), which is what
Avalanche reports at that point of the stream.

Definitions implemented (``T`` tasks, last row ``T - 1``):

- ``accuracy`` (ACC, Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory", eq. 2 "ACC"):
  ``ACC = (1/T) Σ_j R[T-1, j]``.
- ``backward_transfer`` (BWT, ibid.): ``BWT = 1/(T-1) Σ_{j<T-1} (R[T-1, j] - R[j, j])``; negative = forgetting.
- ``forward_transfer`` (FWT, ibid.): ``FWT = 1/(T-1) Σ_{j≥1} (R[j-1, j] - b[j])``.
- ``forgetting`` (F_T, Chaudhry et al. 2018, "Riemannian Walk", eq. 3-4): ``f_j^k = max_{l<k} R[l, j] - R[k, j]``
  for ``j < k``, ``F_k = 1/(k) Σ_{j<k} f_j^k`` (0-based ``k``; the paper's ``1/(k-1) Σ_{j=1}^{k-1}``), reported
  at ``k = T - 1``. The max runs over every earlier row ``l < k``, as in the paper (rows before task ``j`` was
  trained included).
- ``learning_accuracy`` (LA, Riemer et al. 2019, "Meta-Experience Replay"): ``LA = (1/T) Σ_j R[j, j]``.
- ``average_incremental_accuracy`` (AIA, Rebuffi et al. 2017, iCaRL): ``AIA = (1/T) Σ_i A_i``,
  ``A_i = 1/(i+1) Σ_{j≤i} R[i, j]``.
- ``intransigence`` (Chaudhry et al. 2018, eq. 5): ``I_k = a*_k - R[k, k]`` with ``a*`` the accuracy of a
  reference model trained jointly on all data up to task ``k``; reported as the mean over ``k``.

Avalanche 0.6 (``avalanche.evaluation.metrics.forgetting_bwt``), where it differs:

- ``ExperienceForgetting`` of task ``j`` = first − last = ``R[j, j] - R[T-1, j]`` (value right after training on
  ``j`` minus the current one, *not* max − last: :func:`avalanche_experience_forgetting`);
  ``StreamForgetting`` = its unweighted mean over the experiences trained before the current one
  (``j < T-1``; the one just trained has no "last" value yet): :func:`avalanche_stream_forgetting`
  ``= -BWT`` exactly.
- ``StreamBWT`` = −``StreamForgetting`` = Lopez-Paz's BWT.
- ``StreamForwardTransfer`` = mean over ``j ≥ 1`` of (accuracy just before training ``j``) − (accuracy at
  initialisation) = ``R[j-1, j] - b[j]``, Lopez-Paz's FWT (needs an evaluation before training; Avalanche
  discussion #1590).

Where the two forgetting measures differ: ``f_j^k`` (max − last) is >= Avalanche's first − last whenever the
accuracy on ``j`` rose after it was trained (positive backward transfer, then a drop), and counts a drop from a
pre-training peak (domain-incremental streams) that first − last ignores.

Seeds: :func:`aggregate` gives mean ± standard deviation (``ddof`` 1 by default, the sample standard deviation;
``ddof=0`` for the population one, as numpy's ``std``) of each metric over the seeds' :func:`summarise` dicts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from snn.errors import ConfigError

__all__ = ["accuracy", "aggregate", "average_incremental_accuracy", "avalanche_experience_forgetting",
           "avalanche_keys", "avalanche_stream_bwt", "avalanche_stream_forgetting",
           "avalanche_stream_forward_transfer", "backward_transfer", "forgetting", "forgetting_per_task",
           "forward_transfer", "intransigence", "learning_accuracy", "summarise"]


def _matrix(R: Any) -> np.ndarray:
    """``R`` as a square float64 matrix (a partial ``(i+1) x T`` matrix is cut to its ``(i+1) x (i+1)`` block)."""
    try:
        arr = np.asarray(R, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("R", R, "must be a 2-D array of accuracies (tasks trained, tasks)") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[0] > arr.shape[1]:
        raise ConfigError("R", R, "must be 2-D with 1 <= rows <= columns (R[i, j]: task j after training 0..i)")
    arr = arr[:, :arr.shape[0]]
    if not np.all(np.isfinite(arr)):
        raise ConfigError("R", R, "must be finite (every task evaluated after every trained task)")
    return arr


def _vector(b: Any, T: int, path: str = "b") -> np.ndarray:
    try:
        arr = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(path, b, "must be a 1-D array of accuracies, one per task") from None
    if arr.ndim != 1 or arr.shape[0] < T or not np.all(np.isfinite(arr[:T])):
        raise ConfigError(path, b, f"must be a finite 1-D array with at least {T} entries (one per task)")
    return arr[:T]


def accuracy(R: Any) -> float:
    """ACC = (1/T) Σ_j R[T-1, j] (Lopez-Paz & Ranzato 2017): mean accuracy over all tasks after the last one."""
    M = _matrix(R)
    return float(M[-1].mean())


def backward_transfer(R: Any) -> float:
    """BWT = 1/(T-1) Σ_{j<T-1} (R[T-1, j] - R[j, j]) (Lopez-Paz & Ranzato 2017); NaN for T = 1."""
    M = _matrix(R)
    T = M.shape[0]
    if T < 2:
        return math.nan
    return float(np.mean(M[-1, :-1] - np.diag(M)[:-1]))


def forward_transfer(R: Any, b: Any) -> float:
    """FWT = 1/(T-1) Σ_{j≥1} (R[j-1, j] - b[j]) (Lopez-Paz & Ranzato 2017); NaN for T = 1."""
    M = _matrix(R)
    T = M.shape[0]
    bb = _vector(b, T)
    if T < 2:
        return math.nan
    return float(np.mean(np.diag(M, 1) - bb[1:]))


def forgetting_per_task(R: Any) -> np.ndarray:
    """``f_j = max_{l<T-1} R[l, j] - R[T-1, j]`` for ``j < T-1`` (Chaudhry et al. 2018), shape ``(T-1,)``."""
    M = _matrix(R)
    if M.shape[0] < 2:
        return np.zeros(0)
    return M[:-1, :-1].max(axis=0) - M[-1, :-1]


def forgetting(R: Any) -> float:
    """F_T = mean_j f_j (Chaudhry et al. 2018, max − last; see :func:`forgetting_per_task`); NaN for T = 1."""
    f = forgetting_per_task(R)
    return float(f.mean()) if f.size else math.nan


def learning_accuracy(R: Any) -> float:
    """LA = (1/T) Σ_j R[j, j] (Riemer et al. 2019): accuracy on each task right after training it."""
    return float(np.mean(np.diag(_matrix(R))))


def average_incremental_accuracy(R: Any) -> float:
    """AIA = (1/T) Σ_i 1/(i+1) Σ_{j≤i} R[i, j] (Rebuffi et al. 2017): mean of the seen-task accuracies over time."""
    M = _matrix(R)
    return float(np.mean([M[i, :i + 1].mean() for i in range(M.shape[0])]))


def intransigence(R: Any, joint: Any) -> float:
    """Mean over k of I_k = joint[k] - R[k, k] (Chaudhry et al. 2018), ``joint[k]`` = accuracy on task ``k`` of a
    model trained jointly on tasks ``0..k`` (the reference the paper calls ``a*_k``)."""
    M = _matrix(R)
    return float(np.mean(_vector(joint, M.shape[0], "joint") - np.diag(M)))


def avalanche_experience_forgetting(R: Any) -> np.ndarray:
    """Avalanche's ``ExperienceForgetting`` after the last task: first − last = ``R[j, j] - R[T-1, j]``,
    ``j < T-1`` (not Chaudhry's max − last), shape ``(T-1,)``."""
    M = _matrix(R)
    if M.shape[0] < 2:
        return np.zeros(0)
    return np.diag(M)[:-1] - M[-1, :-1]


def avalanche_stream_forgetting(R: Any) -> float:
    """Avalanche's ``StreamForgetting``: unweighted mean of :func:`avalanche_experience_forgetting` (= −BWT);
    NaN for T = 1 (Avalanche reports an empty mean, 0)."""
    f = avalanche_experience_forgetting(R)
    return float(f.mean()) if f.size else math.nan


def avalanche_stream_bwt(R: Any) -> float:
    """Avalanche's ``StreamBWT`` = −``StreamForgetting`` (= Lopez-Paz's BWT)."""
    return -avalanche_stream_forgetting(R)


def avalanche_stream_forward_transfer(R: Any, b: Any) -> float:
    """Avalanche's ``StreamForwardTransfer``: mean over j ≥ 1 of R[j-1, j] − b[j] (= Lopez-Paz's FWT)."""
    return forward_transfer(R, b)


def summarise(R: Any, b: Any | None = None) -> dict[str, float]:
    """Every metric of this module for one run (keys below; FWT keys only with ``b``). Undefined ones (T = 1) NaN.

    ``acc``, ``bwt``, ``fwt`` (Lopez-Paz & Ranzato), ``forgetting`` (Chaudhry, max − last),
    ``learning_accuracy``, ``aia`` (Rebuffi), ``avalanche_stream_forgetting`` (first − last),
    ``avalanche_stream_bwt``, ``avalanche_stream_forward_transfer``, ``n_tasks``.
    """
    M = _matrix(R)
    out = {
        "n_tasks": float(M.shape[0]),
        "acc": accuracy(M),
        "bwt": backward_transfer(M),
        "forgetting": forgetting(M),
        "learning_accuracy": learning_accuracy(M),
        "aia": average_incremental_accuracy(M),
        "avalanche_stream_forgetting": avalanche_stream_forgetting(M),
        "avalanche_stream_bwt": avalanche_stream_bwt(M),
    }
    if b is not None:
        out["fwt"] = forward_transfer(M, b)
        out["avalanche_stream_forward_transfer"] = avalanche_stream_forward_transfer(M, b)
    return out


def avalanche_keys(R: Any, b: Any | None = None, task_labels: Sequence[int] | None = None) -> dict[str, float]:
    """The final values under Avalanche's metric names (``<Metric>/eval_phase/test_stream[/TaskNNN][/ExpNNN]``):
    ``Top1_Acc_Exp/.../TaskTTT/ExpJJJ`` (R[T-1, j]), ``Top1_Acc_Stream/.../TaskTTT`` (the mean over experiences of
    that task label, unweighted here: Avalanche weights by samples), ``ExperienceForgetting/.../TaskTTT/ExpJJJ``,
    ``StreamForgetting/eval_phase/test_stream``, ``StreamBWT/...`` and, with ``b``, ``StreamForwardTransfer/...``.
    ``task_labels``: the task label of each experience (default 0 for all: Avalanche's ``return_task_id=False``).
    """
    M = _matrix(R)
    T = M.shape[0]
    labels = [0] * T if task_labels is None else [int(t) for t in task_labels]
    if len(labels) < T:
        raise ConfigError("task_labels", task_labels, f"must have {T} entries (one per experience)")
    out: dict[str, float] = {}
    for j in range(T):
        out[f"Top1_Acc_Exp/eval_phase/test_stream/Task{labels[j]:03d}/Exp{j:03d}"] = float(M[-1, j])
    for lab in sorted(set(labels[:T])):
        js = [j for j in range(T) if labels[j] == lab]
        out[f"Top1_Acc_Stream/eval_phase/test_stream/Task{lab:03d}"] = float(M[-1, js].mean())
    for j, f in enumerate(avalanche_experience_forgetting(M)):
        out[f"ExperienceForgetting/eval_phase/test_stream/Task{labels[j]:03d}/Exp{j:03d}"] = float(f)
    if T > 1:
        out["StreamForgetting/eval_phase/test_stream"] = avalanche_stream_forgetting(M)
        out["StreamBWT/eval_phase/test_stream"] = avalanche_stream_bwt(M)
        if b is not None:
            out["StreamForwardTransfer/eval_phase/test_stream"] = avalanche_stream_forward_transfer(M, b)
    return out


def aggregate(runs: Sequence[Mapping[str, float]], ddof: int = 1) -> dict[str, dict[str, float]]:
    """Mean ± standard deviation of each metric over runs (seeds): ``{key: {"mean", "std", "n"}}``.

    Keys present in every run are aggregated; NaN values are left out of that key's statistics (``n`` counts the
    rest). ``ddof``: 1 (default, sample standard deviation) or 0 (population); ``std`` is NaN when ``n <= ddof``.
    """
    if not isinstance(runs, Sequence) or not runs or not all(isinstance(r, Mapping) for r in runs):
        raise ConfigError("runs", runs, "must be a non-empty list of metric dicts (one per seed)")
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Integral) or ddof not in (0, 1):
        raise ConfigError("ddof", ddof, "must be 0 or 1")
    keys = [k for k in runs[0] if all(k in r for r in runs[1:])]
    out: dict[str, dict[str, float]] = {}
    for k in keys:
        vals = np.asarray([float(r[k]) for r in runs])
        vals = vals[np.isfinite(vals)]
        n = vals.size
        mean = float(vals.mean()) if n else math.nan
        std = float(vals.std(ddof=ddof)) if n > ddof else math.nan
        out[k] = {"mean": mean, "std": std, "n": float(n)}
    return out
