"""Ridge readout against scikit-learn: coefficients, predictions and the cross-validated alpha."""

from __future__ import annotations

import numpy as np
import pytest

from snn.errors import ConfigError
from snn.reservoir import RidgeReadout, ridge_fit

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import Ridge, RidgeClassifier  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _data(n: int, p: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = rng.normal(0, 1, (classes, p))
    X = centres[y] * 0.7 + rng.normal(0, 1, (n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-5, 5, p)
    return X, y


@pytest.mark.parametrize(("n", "p"), [(80, 12), (30, 70)])   # over- and under-determined
@pytest.mark.parametrize("alpha", [1e-3, 1.0, 100.0])
def test_ridge_fit_matches_sklearn_ridge(n: int, p: int, alpha: float) -> None:
    X, _ = _data(n, p, 3, 1)
    Y = np.random.default_rng(2).normal(size=(n, 4))
    W, b = ridge_fit(X, Y, alpha)
    ref = Ridge(alpha=alpha, fit_intercept=True, solver="svd").fit(X, Y)
    np.testing.assert_allclose(W, ref.coef_.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, ref.intercept_, rtol=1e-8, atol=1e-10)


def test_readout_matches_standardised_ridge_classifier() -> None:
    X, y = _data(120, 20, 4, 3)
    Xte, _ = _data(60, 20, 4, 4)
    ours = RidgeReadout(alphas=[3.0], folds=3, seed=0).fit(X, y)
    ref = make_pipeline(StandardScaler(), RidgeClassifier(alpha=3.0)).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    # ±1 targets (sklearn) = 2·one-hot - 1: coefficients are exactly twice ours
    np.testing.assert_allclose(2 * ours.coef_, ref[-1].coef_.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(2 * ours.intercept_ - 1, ref[-1].intercept_, rtol=1e-8, atol=1e-10)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))


def test_cross_validated_alpha_matches_grid_search() -> None:
    X, y = _data(90, 40, 3, 5)
    alphas = np.logspace(-2, 4, 13)
    ours = RidgeReadout(alphas=alphas, folds=5, seed=7).fit(X, y)
    grid = GridSearchCV(make_pipeline(StandardScaler(), RidgeClassifier()),
                        {"ridgeclassifier__alpha": alphas[::-1]},   # sklearn breaks ties by order: larger first
                        cv=ours.fold_indices(len(y)), scoring="accuracy").fit(X, y)
    np.testing.assert_allclose(ours.cv_scores_, grid.cv_results_["mean_test_score"][::-1], atol=1e-12)
    assert ours.alpha_ == pytest.approx(grid.best_params_["ridgeclassifier__alpha"])
    np.testing.assert_array_equal(ours.predict(X), grid.predict(X))


def test_folds_partition_the_samples() -> None:
    folds = RidgeReadout(folds=4, seed=1).fold_indices(10)
    val = np.concatenate([v for _, v in folds])
    assert sorted(val.tolist()) == list(range(10))
    for tr, va in folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == 10


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"alphas": [1.0, -1.0]}, r"^readout\.alphas = -1\.0: must be a finite number > 0$"),
    ({"alphas": []}, r"^readout\.alphas = \[\]: must be a non-empty list"),
    ({"folds": 1}, r"^readout\.folds = 1: must be an integer >= 2$"),
    ({"seed": -2}, r"^readout\.seed = -2: must be an integer >= 0$"),
])
def test_readout_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        RidgeReadout(**kwargs)


def test_fit_and_predict_validation() -> None:
    r = RidgeReadout(folds=2)
    with pytest.raises(ConfigError, match=r"^readout = 'unfitted': call fit"):
        r.predict(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"^readout\.y = .*: must be one label per sample \(4\)$"):
        r.fit(np.zeros((4, 3)), [0, 1])
    with pytest.raises(ConfigError, match=r"^readout\.X = .*: must be a finite 2-D array"):
        r.fit(np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1])
    with pytest.raises(ConfigError, match=r"^readout\.y = .*: must hold at least 2 classes$"):
        r.fit(np.ones((4, 3)), [1, 1, 1, 1])
    r.fit(np.arange(12.0).reshape(4, 3), [0, 1, 0, 1])
    with pytest.raises(ConfigError, match=r"^readout\.X = .*: must have 3 features \(as in fit\)$"):
        r.predict(np.zeros((2, 5)))
    with pytest.raises(ConfigError, match=r"^readout\.alpha = 0\.0: must be a finite number > 0$"):
        ridge_fit(np.ones((3, 2)), np.ones(3), 0.0)
