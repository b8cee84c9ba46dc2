"""The example projects: data from scikit-learn's bundled datasets and a params.yaml for it."""

import importlib.util
from pathlib import Path

import pytest
import yaml
from sklearn.model_selection import train_test_split

from mlgate import data, estimators, regression, schema

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROJECTS = {"diabetes": "regression", "breast_cancer": "classification"}


def _make_data():
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_csvs_are_the_scripts_output():
    make_data = _make_data()
    for relative, build in make_data.FILES.items():
        committed = (EXAMPLES / relative).read_text()
        assert build().to_csv(index=False) == committed, (
            f"run python examples/make_data.py ({relative})"
        )


@pytest.mark.parametrize("project", PROJECTS)
def test_example_is_only_params_and_data(project):
    files = sorted(
        p.relative_to(EXAMPLES / project).as_posix()
        for p in (EXAMPLES / project).rglob("*")
        if p.is_file()
    )
    assert files == ["data/" + project + ".csv", "params.yaml"]


@pytest.mark.parametrize("project", PROJECTS)
def test_example_data_matches_its_schema_and_learns(project):
    root = EXAMPLES / project
    params = yaml.safe_load((root / "params.yaml").read_text())
    parsed = schema.parse(params["data"], str(root / "params.yaml"))
    assert parsed.task == PROJECTS[project]
    frame = data.read_csv(root / params["data"]["path"], parsed)
    data.validate(frame, parsed, params["data"]["path"])
    model = params["model"]
    estimator = estimators.build(model["estimator"], model["params"], parsed.task, root)
    pipeline = estimators.build_pipeline(parsed, estimator, model["numeric"])
    X, y = frame.drop(columns=[parsed.target]), frame[parsed.target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    pipeline.fit(X_train, y_train)
    estimators.checked_trusted_types(pipeline, model["trusted_types"])
    predicted = pipeline.predict(X_test)
    if parsed.task == "regression":
        metrics = regression.regression_metrics(y_test, predicted)
        assert metrics["rmse"] < y_test.std()  # better than predicting the mean
        assert metrics["r2"] > 0.3
    else:
        assert (predicted == y_test).mean() > 0.9
