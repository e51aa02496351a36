"""Logistic-regression readout (scikit-learn), the inverse regularisation ``C`` chosen by k-fold cross-validation.

Same interface as :class:`snn.reservoir.readout.RidgeReadout`: ``fit(X, y)``, ``predict``, ``decision_function``,
``score``, ``fold_indices``; after ``fit``: ``C_``, ``cv_scores_`` (mean validation accuracy per ``Cs_`` entry),
``classes_``, ``coef_`` (features, classes), ``intercept_`` (classes,), ``mean_`` and ``scale_``.

Features are standardised as in :class:`RidgeReadout` (mean 0, standard deviation 1 per column from the data
being fitted; constant columns keep scale 1, as scikit-learn's ``StandardScaler``), then scikit-learn's
``LogisticRegression(C=C, solver="lbfgs", max_iter=max_iter, tol=tol)`` (multinomial cross-entropy with an L2
penalty ``||W||² / (2 C)``, unpenalised intercept) is fitted. ``C`` is picked from a grid by the mean k-fold
validation accuracy (each training fold standardised with its own statistics; the same seeded folds as
:class:`RidgeReadout`); ties go to the smaller ``C`` (the stronger regularisation), mirroring RidgeReadout's
"larger alpha wins ties".
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from snn.errors import ConfigError
from snn.reservoir.readout import _matrix, _standardise, check_folds, check_grid, kfold_indices


def _positive(value: object, path: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ConfigError(path, value, "must be a finite number > 0")
    return float(value)


def _fit_logistic(X: np.ndarray, codes: np.ndarray, C: float, max_iter: int, tol: float) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """scikit-learn's multinomial LogisticRegression on already standardised ``X``; returns (coef (features,
    classes), intercept (classes,)). Two classes give one logit column ``w`` in scikit-learn; it becomes the
    columns ``[0, w]``, whose softmax is scikit-learn's sigmoid ``predict_proba`` and whose arg-max its
    ``predict``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, solver="lbfgs", max_iter=max_iter, tol=tol)
    with warnings.catch_warnings():
        # a non-converged lbfgs at max_iter is still a usable readout; the CV score says how good it is
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, codes)
    coef, intercept = model.coef_.T, model.intercept_
    if coef.shape[1] == 1:
        coef = np.hstack([np.zeros_like(coef), coef])
        intercept = np.array([0.0, intercept[0]])
    return coef, intercept


class LogisticReadout:
    """Multinomial logistic regression on standardised features, ``C`` chosen by k-fold CV.

    ``Cs``: candidate inverse regularisation strengths (> 0; default a log grid 1e-4 .. 1e1). ``folds``: k >= 2.
    ``seed``: shuffles samples into folds. ``max_iter``, ``tol``: passed to scikit-learn's lbfgs solver.
    """

    def __init__(self, Cs: Sequence[float] | np.ndarray | None = None, folds: int = 5, seed: int = 0,
                 max_iter: int = 500, tol: float = 1e-4) -> None:
        self.Cs_ = check_grid(np.logspace(-4, 1, 6) if Cs is None else Cs, "readout.Cs", Cs)
        self.folds, self.seed = check_folds(folds, seed)
        if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
            raise ConfigError("readout.max_iter", max_iter, "must be an integer >= 1")
        self.max_iter = int(max_iter)
        self.tol = _positive(tol, "readout.tol")

    def fold_indices(self, n_samples: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(train, validation) index arrays of the k folds: those of :class:`RidgeReadout` for the same seed and k
        (:func:`snn.reservoir.readout.kfold_indices`)."""
        return kfold_indices(n_samples, self.folds, self.seed)

    def fit(self, X: np.ndarray, y: np.ndarray) -> LogisticReadout:
        """Choose C by cross-validation (skipped for a single candidate), then fit on all of ``X`` and ``y``."""
        X = _matrix(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ConfigError("readout.y", y, f"must be one label per sample ({X.shape[0]})")
        if X.shape[0] < self.folds:
            raise ConfigError("readout.X", X, f"must have at least folds = {self.folds} samples")
        try:
            self.classes_, codes = np.unique(y, return_inverse=True)
        except TypeError:  # labels that cannot be ordered, e.g. a mix of numbers and strings
            raise ConfigError("readout.y", y, "must be labels of one comparable type (all numbers or all strings)") \
                from None
        if self.classes_.size < 2:
            raise ConfigError("readout.y", y, "must hold at least 2 classes")
        if self.Cs_.size == 1:
            self.cv_scores_ = np.full(1, np.nan)  # nothing to choose: no CV spent
        else:
            scores = np.zeros((self.folds, self.Cs_.size))
            for f, (tr, va) in enumerate(self.fold_indices(X.shape[0])):
                if np.unique(codes[tr]).size < 2:
                    raise ConfigError("readout.y", y, "a training fold holds one class only: use fewer folds")
                mean, scale = _standardise(X[tr])
                Xt, Xv = (X[tr] - mean) / scale, (X[va] - mean) / scale
                for j, c in enumerate(self.Cs_):
                    coef, icpt = _fit_logistic(Xt, codes[tr], float(c), self.max_iter, self.tol)
                    scores[f, j] = np.mean(self._codes_of(Xv @ coef + icpt, np.unique(codes[tr])) == codes[va])
            self.cv_scores_ = scores.mean(axis=0)
        finite = np.where(np.isnan(self.cv_scores_), -np.inf, self.cv_scores_)
        best = np.flatnonzero(finite == finite.max())
        self.C_ = float(self.Cs_[best[np.argmin(self.Cs_[best])]])
        self.mean_, self.scale_ = _standardise(X)
        self.coef_, self.intercept_ = _fit_logistic((X - self.mean_) / self.scale_, codes, self.C_, self.max_iter,
                                                    self.tol)
        return self

    @staticmethod
    def _codes_of(scores: np.ndarray, fold_classes: np.ndarray) -> np.ndarray:
        # a training fold may miss a class; its columns then map to the classes it did see
        return fold_classes[np.argmax(scores, axis=1)]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Class scores (samples, classes): the logits ``standardised(X) @ coef_ + intercept_``."""
        if not hasattr(self, "coef_"):
            raise ConfigError("readout", "unfitted", "call fit(X, y) first")
        X = _matrix(X)
        if X.shape[1] != self.coef_.shape[0]:
            raise ConfigError("readout.X", X, f"must have {self.coef_.shape[0]} features (as in fit)")
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (samples, classes): softmax of :meth:`decision_function`."""
        z = self.decision_function(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels (samples,)."""
        scores = self.decision_function(X)  # first: it refuses an unfitted readout in one line
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy (fraction) on ``X``, ``y``."""
        y = np.asarray(y)
        pred = self.predict(X)
        if y.shape != pred.shape:
            raise ConfigError("readout.y", y, f"must be one label per sample ({pred.shape[0]})")
        return float(np.mean(pred == y))
