import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from mlgate import estimators, schema
from mlgate.config import parse_params
from mlgate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

# The obesity example's schema as params.yaml will state it: columns in file order.
OBESITY_BLOCK = {
    "task": "classification",
    "target": "NObeyesdad",
    "schema": {
        "Gender": {"type": "categorical", "values": ["Female", "Male"]},
        "Age": {"type": "numeric", "min": 10, "max": 100},
        "Height": {"type": "numeric", "min": 1.2, "max": 2.2},
        "Weight": {"type": "numeric", "min": 30, "max": 200},
        "family_history_with_overweight": {"type": "categorical", "values": ["yes", "no"]},
        "FAVC": {"type": "categorical", "values": ["yes", "no"]},
        "FCVC": {"type": "numeric", "min": 1, "max": 3},
        "NCP": {"type": "numeric", "min": 1, "max": 4},
        "CAEC": {"type": "categorical", "values": ["no", "Sometimes", "Frequently", "Always"]},
        "SMOKE": {"type": "categorical", "values": ["yes", "no"]},
        "CH2O": {"type": "numeric", "min": 1, "max": 3},
        "SCC": {"type": "categorical", "values": ["yes", "no"]},
        "FAF": {"type": "numeric", "min": 0, "max": 3},
        "TUE": {"type": "numeric", "min": 0, "max": 2},
        "CALC": {"type": "categorical", "values": ["no", "Sometimes", "Frequently", "Always"]},
        "MTRANS": {
            "type": "categorical",
            "values": ["Public_Transportation", "Automobile", "Walking", "Motorbike", "Bike"],
        },
        "NObeyesdad": {
            "type": "categorical",
            "values": [
                "Insufficient_Weight",
                "Normal_Weight",
                "Overweight_Level_I",
                "Overweight_Level_II",
                "Obesity_Type_I",
                "Obesity_Type_II",
                "Obesity_Type_III",
            ],
        },
    },
}


@pytest.fixture
def user_repo(tmp_path, monkeypatch):
    """A project with its own estimator class, importable from the repository root."""
    package = tmp_path / "models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "my_estimator.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from sklearn.base import BaseEstimator, ClassifierMixin


            class MyClassifier(ClassifierMixin, BaseEstimator):
                '''Predicts the most frequent class seen in training.'''

                def __init__(self, smoothing=0.0):
                    self.smoothing = smoothing

                def fit(self, X, y):
                    values, counts = np.unique(np.asarray(y), return_counts=True)
                    self.classes_ = values
                    self.majority_ = values[np.argmax(counts)]
                    return self

                def predict(self, X):
                    return np.full(len(X), self.majority_)


            class NotAModel:
                pass
            """
        )
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "models" or m.startswith("models.")]:
        del sys.modules[name]


@pytest.mark.parametrize(
    ("spec", "task", "expected"),
    [
        ("random_forest", "classification", RandomForestClassifier),
        ("random_forest", "regression", RandomForestRegressor),
        ("logistic_regression", "classification", LogisticRegression),
        ("ridge", "regression", Ridge),
        (
            "sklearn.ensemble.HistGradientBoostingClassifier",
            "classification",
            HistGradientBoostingClassifier,
        ),
    ],
)
def test_aliases_and_import_paths(spec, task, expected):
    assert estimators.resolve(spec, task) is expected


def test_every_alias_is_an_estimator_of_its_task():
    for task, aliases in estimators.ALIASES.items():
        for alias in aliases:
            estimators.build(alias, {}, task)


def test_a_class_from_the_users_repository(user_repo):
    built = estimators.build(
        "models.my_estimator.MyClassifier", {"smoothing": 0.5}, "classification", user_repo
    )
    assert type(built).__name__ == "MyClassifier"
    assert built.smoothing == 0.5


@pytest.mark.parametrize(
    ("spec", "task", "message"),
    [
        (
            "models.nowhere.Model",
            "classification",
            "model.estimator 'models.nowhere.Model' does not import (ModuleNotFoundError: No"
            " module named 'models.nowhere'); give a class importable from the repository root",
        ),
        (
            "models.my_estimator.MyClassifer",
            "classification",
            "module models.my_estimator has no MyClassifer (did you mean"
            " models.my_estimator.MyClassifier?)",
        ),
        (
            "models.my_estimator.NotAModel",
            "classification",
            "'models.my_estimator.NotAModel' is not a scikit-learn estimator (a class with fit,"
            " predict and get_params)",
        ),
        ("collections.OrderedDict", "classification", "is not a scikit-learn estimator"),
        (
            "sklearn.ensemble.RandomForestRegressor",
            "classification",
            "model.estimator 'sklearn.ensemble.RandomForestRegressor' is a regressor, but"
            " data.task is classification; use a classifier (e.g."
            " sklearn.ensemble.RandomForestClassifier) or set data.task: regression",
        ),
        (
            "models.my_estimator.MyClassifier",
            "regression",
            "is a classifier, but data.task is regression",
        ),
        (
            "logistic_regression",
            "regression",
            "'logistic_regression' is a classification alias, but data.task is regression",
        ),
        (
            "random_forrest",
            "classification",
            "is neither an alias nor an import path (did you mean random_forest?)",
        ),
        ("sklearn.preprocessing.StandardScaler", "regression", "is not a scikit-learn estimator"),
        (
            "sklearn.cluster.KMeans",
            "classification",
            "is neither a classifier nor a regressor, but data.task is classification",
        ),
    ],
    ids=[
        "does-not-import",
        "class-typo",
        "not-an-estimator",
        "not-sklearn",
        "regressor-for-classification",
        "classifier-for-regression",
        "alias-of-other-task",
        "alias-typo",
        "transformer",
        "clusterer",
    ],
)
def test_bad_estimators_are_one_line_config_errors(user_repo, spec, task, message):
    with pytest.raises(ConfigError) as excinfo:
        estimators.build(spec, {}, task, user_repo, "p.yaml")
    assert str(excinfo.value).startswith("p.yaml: ")
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_bad_params_name_the_class():
    with pytest.raises(
        ConfigError, match=r"model.params is not valid for RandomForestClassifier \(.*n_trees"
    ):
        estimators.build("random_forest", {"n_trees": 3}, "classification")


def test_obesity_pipeline_predicts_exactly_as_before():
    """The schema-built pipeline is the one mlgate built for the obesity example when its columns
    were code: one-hot categoricals then passthrough numerics, prediction for prediction."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.read_csv(REPO / "data" / "obesity.csv")
    params = parse_params((REPO / "params.yaml").read_text())
    parsed = schema.parse(OBESITY_BLOCK)
    assert parsed == params.data.schema.__class__(**{**vars(params.data.schema), "slice_by": None})
    X, y = frame.drop(columns=["NObeyesdad"]), frame["NObeyesdad"]
    categorical = [c.name for c in parsed.features if c.kind == "categorical"]
    numeric = [c.name for c in parsed.features if c.kind == "numeric"]
    old = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                        ("numeric", "passthrough", numeric),
                    ]
                ),
            ),
            ("model", RandomForestClassifier(**params.model.params)),
        ]
    ).fit(X, y)
    built = estimators.build("random_forest", params.model.params, "classification")
    new = estimators.build_pipeline(parsed, built).fit(X, y)
    assert str(new) == str(old)
    assert (new.predict(X) == old.predict(X)).all()


def test_preprocessing_follows_schema_and_params():
    parsed = schema.parse(
        {
            "task": "regression",
            "target": "y",
            "schema": {
                "id": "ignore",
                "c": {"type": "categorical", "values": ["a", "b"], "required": False},
                "x": {"type": "numeric", "required": False},
                "z": "numeric",
                "y": "numeric",
            },
        }
    )
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(40)],
            "c": rng.choice(["a", "b", None], 40),
            "x": np.where(rng.random(40) < 0.2, np.nan, rng.random(40)),
            "z": rng.random(40),
        }
    )
    y = rng.random(40)
    ridge = estimators.build_pipeline(parsed, Ridge())  # auto: linear models see scaled inputs
    forest = estimators.build_pipeline(parsed, RandomForestRegressor(n_estimators=3), "auto")
    plain = estimators.build_pipeline(parsed, Ridge(), "passthrough")
    for pipeline in (ridge, forest, plain):
        pipeline.fit(X, y)  # empty cells of optional columns are imputed
        assert pipeline.predict(X).shape == (40,)
    prep = ridge.named_steps["prep"]
    assert [name for name, _, _ in prep.transformers] == ["categorical", "numeric"]
    assert prep.transformers[1][2] == ["x", "z"]  # the id column is not an input
    assert isinstance(prep.transformers[1][1].named_steps["transform"], StandardScaler)
    assert "StandardScaler" not in str(forest) and "StandardScaler" not in str(plain)
    assert estimators.scales_numeric(RandomForestRegressor(), "standard")


def test_trusted_types_are_reviewed_or_declared(user_repo, tmp_path):
    parsed = schema.parse(OBESITY_BLOCK)
    frame = pd.read_csv(REPO / "data" / "obesity.csv").head(200)
    X, y = frame.drop(columns=["NObeyesdad"]), frame["NObeyesdad"]
    forest = estimators.build_pipeline(parsed, RandomForestClassifier(n_estimators=2)).fit(X, y)
    assert estimators.checked_trusted_types(forest) == ["sklearn.tree._tree.Tree"]
    linear = estimators.build_pipeline(parsed, LogisticRegression(max_iter=50)).fit(X, y)
    assert estimators.checked_trusted_types(linear) == []

    own = estimators.build("models.my_estimator.MyClassifier", {}, "classification", user_repo)
    mine = estimators.build_pipeline(parsed, own).fit(X, y)
    with pytest.raises(ConfigError) as excinfo:
        estimators.checked_trusted_types(mine, (), "p.yaml")
    assert str(excinfo.value) == (
        "p.yaml: the fitted model contains type models.my_estimator.MyClassifier, which skops "
        "does not load unless trusted; review it, then add it to model.trusted_types (mlgate "
        "never saves a model with pickle)"
    )
    declared = estimators.checked_trusted_types(mine, ["models.my_estimator.MyClassifier"])
    assert declared == ["models.my_estimator.MyClassifier"]


def test_the_repositorys_model_type_is_an_alias():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    model = params["model"]
    alias = model.get("estimator", model.get("type"))
    assert alias in estimators.ALIASES["classification"]
