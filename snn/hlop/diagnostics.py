"""Convergence checks of the HLOP subspace neurons (and of any basis given as rows).

For H (k × n) and traces X (S × n) of old tasks (one sample per row):

- ``orthonormality_error(H) = max_ij |(H Hᵀ − I)_ij|``: 0 at the Oja fixed point (H Hᵀ = I); the projection
  ``Hᵀ H`` is an orthogonal projector only then.
- ``residual_energy(H, X) = Σ_s ‖x_s − HᵀH x_s‖² / Σ_s ‖x_s‖²``: the fraction of old-task energy the projection
  leaves in the gradients' input space (ratio of sums, as GPM's energy criterion; can exceed 1 if H is far from
  orthonormal).
- ``principal_angles(H, X, k)``: the principal angles (degrees, ascending) between the row space of H and the
  top-k right singular subspace of X (= top-k eigenvectors of the uncentred covariance XᵀX, the Oja rule's
  target), from :func:`scipy.linalg.subspace_angles` (which orthonormalises both bases).
- :func:`warn_if_unconverged` warns (``UserWarning``) when ``orthonormality_error > tol``, default
  ``tol = 0.25``: in the pilot of the reference sheet (/work/shared/reference/hlop.md §4) HLOP protected well with
  max|HHᵀ − I| = 0.16 and failed (BWT −31 %, worse than no protection) with 0.57; 0.25 sits between them and is
  *ours*. Optional second check: residual energy of given old-task traces above ``max_residual``.

The pilot recommends logging ``orthonormality_error`` and the old-task ``residual_energy`` per layer after
every task (:func:`layer_report`).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import subspace_angles

from snn.errors import ConfigError
from snn.hlop.subspace import Subspace

#: default bound on max|HHᵀ − I| for :func:`warn_if_unconverged` (see the module docstring)
ORTHONORMALITY_TOL = 0.25


def _basis(H: object) -> np.ndarray:
    arr = H.H if isinstance(H, Subspace) else H
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2 or not np.all(np.isfinite(arr)):
        raise ConfigError("hlop.diagnostics.H", H, "must be a Subspace or a finite 2-D array (k, n)")
    return arr


def _traces(X: object, n: int) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
        raise ConfigError("hlop.diagnostics.X", X, f"must be a finite 2-D array (samples >= 1, {n})")
    return arr


def orthonormality_error(H: Subspace | np.ndarray) -> float:
    """``max |H Hᵀ − I|`` over all entries (0.0 for an empty H). A Subspace is checked on all its rows."""
    H = _basis(H)
    if H.shape[0] == 0:
        return 0.0
    return float(np.max(np.abs(H @ H.T - np.eye(H.shape[0]))))


def residual_energy(H: Subspace | np.ndarray, X: np.ndarray) -> float:
    """``Σ‖x − HᵀHx‖² / Σ‖x‖²`` over the rows x of X (S, n); 0.0 if X is all zeros."""
    H = _basis(H)
    X = _traces(X, H.shape[1])
    total = float(np.sum(X * X))
    if total == 0.0:
        return 0.0
    R = X - (X @ H.T) @ H
    return float(np.sum(R * R)) / total


def principal_angles(H: Subspace | np.ndarray, X: np.ndarray, k: int | None = None) -> np.ndarray:
    """Principal angles in degrees (ascending) between rowspace(H) and the top-``k`` (default: rows of H) right
    singular vectors of X (S, n)."""
    H = _basis(H)
    X = _traces(X, H.shape[1])
    k = H.shape[0] if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(X.shape):
        raise ConfigError("hlop.diagnostics.k", k, f"must be an integer in [1, {min(X.shape)}]")
    if H.shape[0] == 0:
        raise ConfigError("hlop.diagnostics.H", H, "must have at least one row")
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return np.sort(np.degrees(subspace_angles(H.T, vt[:k].T)))


def layer_report(H: Subspace | np.ndarray, X: np.ndarray | None = None) -> dict[str, float]:
    """Figures of one layer: ``k``, ``orthonormality_error``; with old-task traces X also ``residual_energy``,
    ``max_angle_deg`` and ``mean_angle_deg`` (against the top-k subspace of X, k = rows of H, capped by X)."""
    B = _basis(H)
    out: dict[str, float] = {"k": float(B.shape[0]), "orthonormality_error": orthonormality_error(B)}
    if X is not None:
        out["residual_energy"] = residual_energy(B, X)
        if B.shape[0] > 0:
            Xa = _traces(X, B.shape[1])
            ang = principal_angles(B, Xa, min(B.shape[0], *Xa.shape))
            out["max_angle_deg"] = float(ang.max())
            out["mean_angle_deg"] = float(ang.mean())
    return out


def warn_if_unconverged(H: Subspace | np.ndarray, name: str | None = None, tol: float = ORTHONORMALITY_TOL,
                        X: np.ndarray | None = None, max_residual: float | None = None) -> bool:
    """Emit a ``UserWarning`` naming the layer and the figure if ``max|HHᵀ − I| > tol``, or (when X and
    ``max_residual`` are given) if the residual energy of the old-task traces X exceeds ``max_residual``.
    Returns True when a warning was emitted. ``name`` defaults to the Subspace's name."""
    if name is None:
        name = H.name if isinstance(H, Subspace) else "layer"
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ConfigError("hlop.diagnostics.tol", tol, "must be a number > 0")
    warned = False
    err = orthonormality_error(H)
    if err > tol:
        warnings.warn(f"HLOP layer {name}: max|HHᵀ − I| = {err:.3g} > {tol:g}; subspace neurons have not converged "
                      "(raise the Hebbian lr or iterations, or lower k)", UserWarning, stacklevel=2)
        warned = True
    if X is not None and max_residual is not None:
        res = residual_energy(H, X)
        if res > max_residual:
            warnings.warn(f"HLOP layer {name}: old-task residual energy = {res:.3g} > {max_residual:g}",
                          UserWarning, stacklevel=2)
            warned = True
    return warned
