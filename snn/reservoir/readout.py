"""Ridge-regression readout: closed form, regularisation chosen by k-fold cross-validation.

:func:`ridge_fit` minimises ``||Y - X W - 1 b||² + alpha ||W||²`` (the bias ``b`` is not penalised, which is
the same as centring X and Y), solved through the SVD of the centred X: ``W = V diag(s / (s² + alpha)) Uᵀ Yc``.
This is scikit-learn's ``Ridge(alpha, fit_intercept=True)``.

:class:`RidgeReadout` standardises the features (mean 0, standard deviation 1 per column, constant columns left
at scale 1, as scikit-learn's ``StandardScaler``), regresses one-hot targets and predicts the class of the
largest output: the predictions of ``StandardScaler`` + ``RidgeClassifier(alpha)`` (whose ±1 targets give the
same arg-max). ``alpha`` is picked from a grid by the mean k-fold validation accuracy (features standardised
with each training fold's statistics); ties go to the larger alpha.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from snn.errors import ConfigError


def _matrix(X: object, path: str = "readout.X") -> np.ndarray:
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(path, X, "must be a 2-D array of numbers (samples, features)") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ConfigError(path, X, "must be a finite 2-D array (samples, features), both >= 1")
    return arr


def _alpha(alpha: object, path: str) -> float:
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not (0 < alpha < math.inf):
        raise ConfigError(path, alpha, "must be a finite number > 0")
    return float(alpha)


def ridge_fit(X: np.ndarray, Y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression with an unpenalised intercept: returns ``(W, b)``, W (features, outputs), b (outputs,).

    ``Y`` is (samples,) or (samples, outputs); a 1-D Y gives W (features, 1). Same solution as scikit-learn's
    ``Ridge(alpha=alpha, fit_intercept=True)`` (``coef_ = W.T``, ``intercept_ = b``).
    """
    X = _matrix(X)
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != X.shape[0] or not np.all(np.isfinite(Y)):
        raise ConfigError("readout.Y", Y, f"must be finite targets, one row per sample ({X.shape[0]})")
    alpha = _alpha(alpha, "readout.alpha")
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    W = _solve(*np.linalg.svd(X - x_mean, full_matrices=False), Y - y_mean, alpha)
    return W, y_mean - x_mean @ W


def _solve(U: np.ndarray, s: np.ndarray, Vt: np.ndarray, Yc: np.ndarray, alpha: float) -> np.ndarray:
    return Vt.T @ ((s / (s * s + alpha))[:, None] * (U.T @ Yc))


def check_grid(grid: object, path: str, shown: object) -> np.ndarray:
    """A non-empty grid of finite numbers > 0 (regularisation candidates), or a one-line ConfigError at ``path``
    showing ``shown`` (the user's value)."""
    try:
        values = [float(a) for a in grid]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ConfigError(path, shown, "must be a non-empty list of numbers > 0") from None
    if not values:
        raise ConfigError(path, shown, "must be a non-empty list of numbers > 0")
    for a in values:
        _alpha(a, path)
    return np.asarray(values)


def check_folds(folds: object, seed: object) -> tuple[int, int]:
    """``(folds, seed)`` checked: k >= 2 folds, a seed >= 0."""
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ConfigError("readout.folds", folds, "must be an integer >= 2")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("readout.seed", seed, "must be an integer >= 0")
    return int(folds), int(seed)


def kfold_indices(n_samples: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index arrays of k folds: a permutation seeded with ``seed`` cut into k near-equal
    parts, each sorted."""
    perm = np.random.default_rng(seed).permutation(n_samples)
    parts = np.array_split(perm, folds)
    return [(np.sort(np.concatenate(parts[:k] + parts[k + 1:])), np.sort(parts[k])) for k in range(folds)]


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0.0] = 1.0
    return mean, scale


class RidgeReadout:
    """Ridge classifier (one-hot targets, bias, standardised features) with alpha chosen by k-fold CV.

    ``alphas``: candidate regularisation strengths (> 0; default a log grid 1e-2 .. 1e4). ``folds``: k >= 2.
    ``seed``: shuffles samples into folds (:meth:`fold_indices`). After :meth:`fit`: ``alpha_``, ``cv_scores_``
    (mean validation accuracy per alpha, in ``alphas_`` order), ``classes_``, ``coef_`` (features, classes),
    ``intercept_`` (classes,), ``mean_`` and ``scale_`` (standardisation).
    """

    def __init__(self, alphas: Sequence[float] | np.ndarray | None = None, folds: int = 5, seed: int = 0) -> None:
        self.alphas_ = check_grid(np.logspace(-2, 4, 13) if alphas is None else alphas, "readout.alphas", alphas)
        self.folds, self.seed = check_folds(folds, seed)

    def fold_indices(self, n_samples: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(train, validation) index arrays of the k folds (:func:`kfold_indices`)."""
        return kfold_indices(n_samples, self.folds, self.seed)

    def fit(self, X: np.ndarray, y: np.ndarray) -> RidgeReadout:
        """Choose alpha by cross-validation, then fit on all of ``X`` (samples, features) and labels ``y``."""
        X = _matrix(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ConfigError("readout.y", y, f"must be one label per sample ({X.shape[0]})")
        if X.shape[0] < self.folds:
            raise ConfigError("readout.X", X, f"must have at least folds = {self.folds} samples")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ConfigError("readout.y", y, "must hold at least 2 classes")
        onehot = np.eye(self.classes_.size)[codes]
        scores = np.zeros((self.folds, self.alphas_.size))
        for f, (tr, va) in enumerate(self.fold_indices(X.shape[0])):
            mean, scale = _standardise(X[tr])
            Xt, Xv = (X[tr] - mean) / scale, (X[va] - mean) / scale
            x_mean, y_mean = Xt.mean(axis=0), onehot[tr].mean(axis=0)
            svd = np.linalg.svd(Xt - x_mean, full_matrices=False)
            for j, a in enumerate(self.alphas_):
                W = _solve(*svd, onehot[tr] - y_mean, a)
                pred = np.argmax((Xv - x_mean) @ W + y_mean, axis=1)
                scores[f, j] = np.mean(pred == codes[va])
        self.cv_scores_ = scores.mean(axis=0)
        best = np.flatnonzero(self.cv_scores_ == self.cv_scores_.max())
        self.alpha_ = float(self.alphas_[best[np.argmax(self.alphas_[best])]])
        self.mean_, self.scale_ = _standardise(X)
        self.coef_, self.intercept_ = ridge_fit((X - self.mean_) / self.scale_, onehot, self.alpha_)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Outputs (samples, classes) for features ``X``."""
        if not hasattr(self, "coef_"):
            raise ConfigError("readout", "unfitted", "call fit(X, y) first")
        X = _matrix(X)
        if X.shape[1] != self.coef_.shape[0]:
            raise ConfigError("readout.X", X, f"must have {self.coef_.shape[0]} features (as in fit)")
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels (samples,)."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy (fraction) on ``X``, ``y``."""
        y = np.asarray(y)
        pred = self.predict(X)
        if y.shape != pred.shape:
            raise ConfigError("readout.y", y, f"must be one label per sample ({pred.shape[0]})")
        return float(np.mean(pred == y))
