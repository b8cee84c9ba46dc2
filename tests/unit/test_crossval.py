"""Paired cross-validation with real scikit-learn learners and the corrected resampled t."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.dummy import DummyClassifier
from sklearn.tree import DecisionTreeClassifier

from mlgate import crossval
from mlgate import noninferiority as ni
from mlgate.stats import classification_metrics

from ..obesity import generator


def _data() -> tuple[np.ndarray, np.ndarray]:
    frame = generator().generate(600, seed=5)
    X = frame[["Height", "Weight", "Age"]].to_numpy()
    return X, frame[generator().TARGET].to_numpy()


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    return classification_metrics(y, pred)["f1_macro"]


def _fit_predict(X: np.ndarray, y: np.ndarray, models: dict) -> crossval.FitPredict:
    def fit_predict(role: str, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return models[role]().fit(X[train], y[train]).predict(X[test])

    return fit_predict


def test_folds_partition_every_row_once_per_repeat_stratified() -> None:
    _, y = _data()
    folds = crossval.fold_indices(y, 5, 2, seed=0)
    assert len(folds) == 10
    for r in range(2):
        tests = np.concatenate([test for _, test in folds[5 * r : 5 * r + 5]])
        assert np.sort(tests).tolist() == list(range(y.size))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        share = {c: np.mean(y[test] == c) for c in set(y)}
        assert all(abs(share[c] - np.mean(y == c)) < 0.02 for c in share)
    with pytest.raises(ValueError, match="fewer than k"):
        crossval.fold_indices(np.array(["a"] * 10 + ["b"] * 3), 5, 1, seed=0)


def test_identical_configurations_differ_by_nothing_and_pass() -> None:
    X, y = _data()
    tree = lambda: DecisionTreeClassifier(max_depth=6, random_state=0)  # noqa: E731
    result = crossval.paired_cv(
        y, _fit_predict(X, y, {"champion": tree, "challenger": tree}), _f1, k=5, repeats=2
    )
    assert result.deltas.tolist() == [0.0] * 10
    assert result.interval.point == 0.0
    assert result.interval.se == pytest.approx(1 / y.size)  # the floor, never zero
    assert ni.verdict(result.interval, 0.03) == ni.PASS


def test_a_useless_challenger_fails() -> None:
    X, y = _data()
    models = {
        "champion": lambda: DecisionTreeClassifier(max_depth=6, random_state=0),
        "challenger": lambda: DummyClassifier(strategy="most_frequent"),
    }
    result = crossval.paired_cv(y, _fit_predict(X, y, models), _f1, k=5, repeats=1)
    assert result.interval.hi < 0
    assert ni.verdict(result.interval, 0.03) == ni.FAIL


def test_corrected_variance_is_nadeau_bengio() -> None:
    X, y = _data()
    models = {
        "champion": lambda: DecisionTreeClassifier(max_depth=6, random_state=0),
        "challenger": lambda: DecisionTreeClassifier(max_depth=4, random_state=0),
    }
    result = crossval.paired_cv(y, _fit_predict(X, y, models), _f1, k=5, repeats=2)
    d = result.deltas
    expected_se = math.sqrt((1 / 10 + 120 / 480) * d.var(ddof=1))
    assert result.interval.se == pytest.approx(expected_se)
    naive = d.std(ddof=1) / math.sqrt(d.size)
    assert result.interval.se > 1.8 * naive  # overlapping training sets, honestly inflated
    q = sps.t.ppf(0.975, 9)
    assert result.interval.lo == pytest.approx(d.mean() - q * expected_se)
    assert result.interval.hi == pytest.approx(d.mean() + q * expected_se)
