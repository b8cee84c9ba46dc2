"""task.py: each task declared once, and the modules that compute its metrics agree with it."""

import numpy as np
import pytest

from mlgate import regression, stats, task


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        pytest.param({"rmse", "mae", "r2", "fit_seconds"}, task.REGRESSION, id="regression"),
        pytest.param({"accuracy", "f1_macro", "f1_Obese"}, task.CLASSIFICATION, id="classifier"),
        pytest.param({"rmse", "accuracy"}, task.CLASSIFICATION, id="a-score-wins"),
        pytest.param({"custom_score"}, task.CLASSIFICATION, id="another-tool"),
        pytest.param(set(), task.CLASSIFICATION, id="nothing-logged"),
    ],
)
def test_a_model_s_task_is_recognised_from_its_logged_metrics(logged, expected):
    assert task.recognise(logged) is expected


def test_the_declared_metrics_are_what_the_computing_modules_compute():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert set(task.REGRESSION.metrics) <= set(regression.regression_metrics(y, y + 0.5))
    labels = np.array(["a", "b", "a", "b"])
    assert set(task.CLASSIFICATION.metrics) <= set(stats.classification_metrics(labels, labels))
    assert {m: regression.DIRECTIONS[m] for m in task.REGRESSION.metrics} == {
        "rmse": "lower",
        "mae": "lower",
        "r2": "higher",
    }


@pytest.mark.parametrize("declared", task.ALL, ids=lambda t: t.name)
def test_each_declaration_is_consistent(declared):
    assert declared.primary_metric in declared.metrics
    assert declared.ranked_by in declared.metrics
    assert declared.margin_kind in declared.margin_kinds
    assert declared.lower_is_better <= set(declared.metrics)
    assert declared.stratified == declared.has_classes  # only classes can be stratified on
    assert task.named(declared.name) is declared


def test_gain_points_every_metric_upwards():
    assert task.REGRESSION.gain("rmse", 2.0) == -2.0
    assert task.REGRESSION.gain("r2", 0.5) == 0.5
    assert task.CLASSIFICATION.gain("accuracy", 0.9) == 0.9
    assert task.named(None) is task.CLASSIFICATION
