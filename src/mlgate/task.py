"""The two tasks mlgate gates, each declared once: classification and regression.

Everything that differs between them and is not a computation is a field of `Task`: the metrics
a version logs and the gate compares, which direction is better for each, the gate's default
primary metric, margin and margin kind, the metric that decides `Staging`, whether the split is
stratified, the word for a model of the task, and how a version's task is recognised from the
metrics it logged. The rest of the package asks `task.named(schema.task)` for these and never
compares the task's name itself (tests/unit/test_codebase.py counts the modules that do).

Ground floor: no imports beyond the standard library, so config.py validates params.yaml against
the tasks without loading numpy (stats.py and regression.py compute the metrics named here).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ALL",
    "CLASSIFICATION",
    "DEFAULT",
    "NAMES",
    "REGRESSION",
    "Task",
    "named",
    "recognise",
]


@dataclass(frozen=True)
class Task:
    name: str
    learner: str  # a model of this task, in messages and the card: "classifier" | "regressor"
    metrics: tuple[str, ...]  # what a version logs and the gate compares with an interval
    lower_is_better: frozenset[str]  # of `metrics`; the others are higher-is-better
    primary_metric: str  # gate.primary_metric when params.yaml names none
    ranked_by: str  # what listings show first and `mlgate best` ranks by when not told
    margin_kind: str  # gate.margin_kind when params.yaml names none
    margin_kinds: tuple[str, ...]  # the margin kinds that mean something for this task
    margin: float | None  # gate.margin when params.yaml names none (None: GateConfig's own)
    unit_scores: bool  # scores are shares in [0, 1]: thresholds there, losses in points
    staging_metric: str  # a new version is staged when this reaches mlflow.staging_threshold
    staging_threshold: float  # what `mlgate init` proposes for it
    stratified: bool  # the holdout keeps every class's share
    has_classes: bool  # per-class F1, the confusion matrix, McNemar, ROC AUC; else per-slice
    target_kind: str  # the schema type its target column must have
    # model.estimator's short names for this task -> scikit-learn import paths
    estimator_aliases: tuple[tuple[str, str], ...]

    @property
    def aliases(self) -> dict[str, str]:
        return dict(self.estimator_aliases)

    def direction(self, metric: str) -> str:
        """ "lower" or "higher": which way `metric` improves."""
        return "lower" if metric in self.lower_is_better else "higher"

    def gain(self, metric: str, value: float) -> float:
        """`value` on a scale where more is better (an error's negative), for comparisons and
        cross-validation scores that must all point the same way."""
        return -value if metric in self.lower_is_better else value


CLASSIFICATION = Task(
    name="classification",
    learner="classifier",
    metrics=("accuracy", "f1_macro", "precision_macro", "recall_macro"),
    lower_is_better=frozenset(),
    primary_metric="f1_macro",
    ranked_by="accuracy",
    margin_kind="absolute",
    margin_kinds=("absolute",),
    margin=None,
    unit_scores=True,
    staging_metric="accuracy",
    staging_threshold=0.85,
    stratified=True,
    has_classes=True,
    target_kind="categorical",
    estimator_aliases=(
        ("random_forest", "sklearn.ensemble.RandomForestClassifier"),
        ("extra_trees", "sklearn.ensemble.ExtraTreesClassifier"),
        ("gradient_boosting", "sklearn.ensemble.GradientBoostingClassifier"),
        ("hist_gradient_boosting", "sklearn.ensemble.HistGradientBoostingClassifier"),
        ("decision_tree", "sklearn.tree.DecisionTreeClassifier"),
        ("logistic_regression", "sklearn.linear_model.LogisticRegression"),
    ),
)

REGRESSION = Task(
    name="regression",
    learner="regressor",
    metrics=("rmse", "mae", "r2"),
    lower_is_better=frozenset({"rmse", "mae"}),
    primary_metric="rmse",
    ranked_by="rmse",
    # 10 % of the champion's error: measured on 90 rows (docs/performance.md)
    margin_kind="relative",
    margin_kinds=("absolute", "relative"),
    margin=0.10,
    unit_scores=False,
    staging_metric="r2",
    staging_threshold=0.3,
    stratified=False,
    has_classes=False,
    target_kind="numeric",
    estimator_aliases=(
        ("random_forest", "sklearn.ensemble.RandomForestRegressor"),
        ("extra_trees", "sklearn.ensemble.ExtraTreesRegressor"),
        ("gradient_boosting", "sklearn.ensemble.GradientBoostingRegressor"),
        ("hist_gradient_boosting", "sklearn.ensemble.HistGradientBoostingRegressor"),
        ("decision_tree", "sklearn.tree.DecisionTreeRegressor"),
        ("linear_regression", "sklearn.linear_model.LinearRegression"),
        ("ridge", "sklearn.linear_model.Ridge"),
    ),
)

ALL = (CLASSIFICATION, REGRESSION)
_TASKS = {t.name: t for t in ALL}
NAMES = tuple(_TASKS)
DEFAULT = CLASSIFICATION.name


def named(name: str | None) -> Task:
    """The task params.yaml's `data.task` names (classification when it names none). config.py
    has refused any other name before this is asked."""
    return _TASKS[name or DEFAULT]


def recognise(logged: Iterable[str]) -> Task:
    """The task of a model from the names of the metrics its versions logged (no params.yaml at
    hand: `mlgate versions`, `mlgate best`): a regression when they include its RMSE and none of
    a classifier's scores; a classification otherwise, as for a model logged by another tool."""
    names = set(logged)
    if REGRESSION.ranked_by in names and not names & set(CLASSIFICATION.metrics):
        return REGRESSION
    return CLASSIFICATION
