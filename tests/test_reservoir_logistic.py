"""Logistic readout against scikit-learn: a StandardScaler + LogisticRegression pipeline and its grid search."""

from __future__ import annotations

import numpy as np
import pytest

from snn.errors import ConfigError
from snn.reservoir import LogisticReadout

sklearn = pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _data(n: int, p: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = rng.normal(0, 1, (classes, p))
    X = centres[y] * 0.8 + rng.normal(0, 1, (n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-5, 5, p)
    return X, y


@pytest.mark.parametrize("classes", [2, 4])
def test_fixed_C_matches_sklearn_pipeline(classes: int) -> None:
    # expected: scikit-learn's StandardScaler + LogisticRegression(C, lbfgs) with the same C, fitted independently
    X, y = _data(150, 12, classes, 1)
    Xte, _ = _data(80, 12, classes, 2)
    ours = LogisticReadout(Cs=[0.3], folds=3, tol=1e-8, max_iter=2000).fit(X, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, tol=1e-8, max_iter=2000)).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-5)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))
    assert np.isnan(ours.cv_scores_).all()      # one candidate: no cross-validation spent


def test_cross_validated_C_matches_grid_search() -> None:
    # expected: GridSearchCV over the same folds and grid; ties go to the smaller C, so the grid is listed
    # smallest first (scikit-learn keeps the first of equal scores)
    X, y = _data(120, 30, 3, 5)
    Cs = np.logspace(-3, 1, 5)
    ours = LogisticReadout(Cs=Cs, folds=4, seed=3, tol=1e-8, max_iter=2000).fit(X, y)
    grid = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(tol=1e-8, max_iter=2000)),
                        {"logisticregression__C": Cs}, cv=ours.fold_indices(len(y)), scoring="accuracy").fit(X, y)
    np.testing.assert_allclose(ours.cv_scores_, grid.cv_results_["mean_test_score"], atol=1e-12)
    assert ours.C_ == pytest.approx(grid.best_params_["logisticregression__C"])
    np.testing.assert_array_equal(ours.predict(X), grid.predict(X))


def test_labels_keep_their_values() -> None:
    X, y = _data(60, 5, 3, 7)
    labels = np.array(["cat", "dog", "eel"])[y]
    r = LogisticReadout(Cs=[1.0]).fit(X, labels)
    assert set(r.predict(X)) <= {"cat", "dog", "eel"}
    assert r.coef_.shape == (5, 3) and r.intercept_.shape == (3,)


@pytest.mark.parametrize(("kwargs", "path"), [
    ({"Cs": [1.0, 0.0]}, "readout.Cs"),
    ({"Cs": []}, "readout.Cs"),
    ({"folds": 1}, "readout.folds"),
    ({"seed": -1}, "readout.seed"),
    ({"max_iter": 0}, "readout.max_iter"),
    ({"tol": float("inf")}, "readout.tol"),
])
def test_validation_is_one_line(kwargs: dict, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        LogisticReadout(**kwargs)
    assert info.value.path == path and "\n" not in str(info.value)


def test_fit_and_predict_validation() -> None:
    r = LogisticReadout(folds=2, Cs=[1.0])
    with pytest.raises(ConfigError, match=r"^readout = 'unfitted': call fit"):
        r.predict(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"^readout\.y = .*: must hold at least 2 classes$"):
        r.fit(np.ones((4, 3)), [1, 1, 1, 1])
    r.fit(np.arange(12.0).reshape(4, 3), [0, 1, 0, 1])
    with pytest.raises(ConfigError, match=r"^readout\.X = .*: must have 3 features \(as in fit\)$"):
        r.predict(np.zeros((2, 5)))


def test_unorderable_labels_are_one_line() -> None:
    # expected: np.unique cannot sort a mix of ints and strings (TypeError); fit must say so in one line instead
    y = np.array([1, "a"] * 4, dtype=object)
    with pytest.raises(ConfigError) as info:
        LogisticReadout(folds=2).fit(np.random.default_rng(0).random((8, 2)), y)
    assert info.value.path == "readout.y" and "\n" not in str(info.value)
