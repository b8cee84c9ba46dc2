from pathlib import Path

import pytest

from mlgate.config import load_params, parse_params, resolve_tracking_uri
from mlgate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_repo_params_load():
    params = load_params(REPO / "params.yaml")
    assert params.mlflow.registered_model_name == "obesity_classifier"
    assert params.mlflow.staging_threshold == 0.85
    assert params.model.estimator == "random_forest"
    assert params.gate.thresholds["accuracy"] == 0.85
    assert params.data.schema.task == "classification"
    assert params.data.schema.classes[0] == "Insufficient_Weight"  # ordered by BMI band
    assert params.data.schema.slice_by == "Gender"


def test_params_are_frozen():
    params = parse_params("model: {type: random_forest}")  # the key's old name still reads
    assert params.model.estimator == "random_forest"
    with pytest.raises(AttributeError):
        params.model.estimator = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        params.model.params["n_estimators"] = 3  # type: ignore[index]


def test_empty_file_gives_defaults():
    params = parse_params("")
    assert params.data.declared is None  # no schema yet: commands that need data say so
    with pytest.raises(
        ConfigError, match=r"data\.schema is missing; run 'mlgate data infer-schema"
    ):
        params.data.target  # noqa: B018
    assert params.gate.mode == "enabled"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("modle: {}", "modle is not a known key (did you mean model?)"),
        ("gate: {margn: 0.1}", "gate.margn is not a known key (did you mean gate.margin?)"),
        ("gate: {margin: 5}", "gate.margin must be between 0 and 1, got 5.0 (did you mean 0.05?)"),
        ("data: {test_size: 'a lot'}", "data.test_size must be a number, got 'a lot'"),
        ("data: {random_state: 1.5}", "data.random_state must be an integer, got 1.5"),
        ("promotion: {use_stages: 'yes'}", "promotion.use_stages must be true or false, got 'yes'"),
        (
            "promotion: {build: relase}",
            "promotion.build must be one of pr, release, got 'relase' (did you mean release?)",
        ),
        ("model: {estimator: 7}", "model.estimator must be an alias or an import path, got 7"),
        ("model: {numeric: scaled}", "model.numeric must be one of auto, passthrough, standard"),
        ("model: {params: [1, 2]}", "model.params must be a mapping, got a list"),
        ("model: {params: {n_estimators: [1]}}", "model.params.n_estimators must be a scalar"),
        ("gate: {mode: strict}", "gate.mode must be one of enabled, dry_run, disabled"),
        (
            "gate: {primary_metric: auc}",
            "gate.primary_metric must be one of accuracy, f1_macro, precision_macro,"
            " recall_macro, got 'auc'",
        ),
        (
            "gate: {primary_metric: f1_Normal_Weight}",
            "got 'f1_Normal_Weight' (per-class F1 has no paired interval: gate it with"
            " gate.max_class_drop or gate.thresholds.f1_Normal_Weight)",
        ),
        (
            "gate: {primary_metric: f1_macor}",
            "gate.primary_metric must be one of accuracy, f1_macro, precision_macro,"
            " recall_macro, got 'f1_macor' (did you mean f1_macro?)",
        ),
        (
            "gate: {thresholds: {accuracy: 2}}",
            "gate.thresholds.accuracy must be a number in [0, 1]",
        ),
        ("mlflow: {staging_threshold: -1}", "mlflow.staging_threshold must be between 0 and 1"),
        ("- a\n- b", "(top level) must be a mapping, got a list"),
        ("data: [1", "YAML syntax error at line"),
    ],
    ids=lambda v: v if len(v) < 30 else None,
)
def test_invalid_params_name_file_and_key(text, message):
    with pytest.raises(ConfigError) as excinfo:
        parse_params(text, "p.yaml")
    assert str(excinfo.value).startswith("p.yaml: ")
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"file not found \(pass --params PATH"):
        load_params(tmp_path / "nope.yaml")


def test_tracking_uri_precedence(monkeypatch):
    params = parse_params("mlflow: {tracking_uri: 'sqlite:///a.db'}")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(params) == "sqlite:///a.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert resolve_tracking_uri(params) == "http://127.0.0.1:1"
    assert resolve_tracking_uri(params, "sqlite:///b.db") == "sqlite:///b.db"


def test_training_inputs_exclude_gate_and_promotion():
    a = parse_params("gate: {margin: 0.01}\npromotion: {use_stages: false}")
    b = parse_params("gate: {margin: 0.05}")
    assert a.training_inputs() == b.training_inputs()
    c = parse_params("model: {params: {n_estimators: 10}}")
    assert c.training_inputs() != b.training_inputs()
