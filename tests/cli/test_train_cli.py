"""`mlgate train` through the CLI, on a real sqlite registry in tmp_path."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import set_model_params

pytestmark = pytest.mark.slow


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _registry_state(root: Path) -> list[tuple[str, str, str]]:
    """(name, version, stage) of every version; empty when the registry was never created."""
    if not (root / "mlflow.db").exists():
        return []
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    return sorted((v.name, v.version, v.current_stage) for v in client.search_model_versions(""))


def test_train_registers_validated_version_then_reuses_it(fast_project):
    result = _run("train")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Registered obesity_classifier v1 (stage: Staging)\n")
    assert "accuracy 0." in result.output

    import mlflow.pyfunc
    import pandas as pd
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    version = client.get_model_version("obesity_classifier", "1")
    assert version.current_stage == "Staging"
    tags = version.tags
    assert tags["validation_status"] == "passed"
    assert tags["model_type"] == "random_forest"
    assert tags["n_features"] == "16"
    assert tags["dataset_size"] == "2087"
    assert len(tags["mlgate.fingerprint"]) == 64
    assert len(tags["mlgate.data_sha256"]) == 64
    assert {"training_date", "project", "team", "environment"} <= set(tags)

    model = mlflow.pyfunc.load_model("models:/obesity_classifier/1")
    frame = pd.read_csv(fast_project / "data" / "obesity.csv").head(5)
    predictions = model.predict(frame.drop(columns=["NObeyesdad"]))
    assert len(predictions) == 5
    with pytest.raises(Exception, match=r"(?i)FAVC"):
        model.predict(frame.drop(columns=["NObeyesdad", "FAVC"]))
    assert (fast_project / "metrics.json").exists()
    assert (fast_project / "reports" / "confusion_matrix.png").stat().st_size > 1000

    again = _run("train")
    assert again.exit_code == 0
    assert again.output.startswith("Reused obesity_classifier v1 (stage: Staging)\n")
    assert "training inputs unchanged: reusing obesity_classifier v1" in again.output

    set_model_params(fast_project, n_estimators=20, max_depth=12, random_state=42)
    third = _run("train")
    assert third.output.startswith("Registered obesity_classifier v2 (stage: Staging)\n")
    assert [str(v) for _, v, _ in _registry_state(fast_project)] == ["1", "2"]


def test_train_json_is_the_result(fast_project):
    import json

    result = _run("train", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (payload["version"], payload["stage"], payload["reused"]) == ("1", "Staging", False)
    assert set(payload) == {
        "version",
        "stage",
        "reused",
        "run_id",
        "metrics",
        "fingerprint",
        "model_uri",
        "run_url",
        "messages",
        "warnings",
    }
    assert payload["warnings"] == [
        "not in a git repository: no commit is recorded for this version"
    ]
    assert payload["model_uri"] == "models:/obesity_classifier/1"
    assert 0 < payload["metrics"]["accuracy"] <= 1


def test_below_threshold_is_left_for_review(fast_project):
    text = (fast_project / "params.yaml").read_text()
    (fast_project / "params.yaml").write_text(
        text.replace("staging_threshold: 0.85", "staging_threshold: 0.999")
    )
    result = _run("train")
    assert result.exit_code == 0
    assert result.output.startswith("Registered obesity_classifier v1 (stage: None)\n")
    assert "validation_status=needs_review" in result.output


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


BAD_INPUTS = {
    "missing-params": (lambda r: (r / "params.yaml").unlink(), 2, "params.yaml: file not found"),
    "yaml-syntax": (
        lambda r: _edit(r / "params.yaml", "data:\n", "data: [\n"),
        2,
        "YAML syntax error",
    ),
    "unknown-key": (
        lambda r: _edit(r / "params.yaml", "  test_size:", "  tset_size:"),
        2,
        "data.tset_size is not a known key (did you mean data.test_size?)",
    ),
    "wrong-type": (
        lambda r: _edit(r / "params.yaml", "test_size: 0.2", "test_size: big"),
        2,
        "data.test_size must be a number, got 'big'",
    ),
    "unknown-model": (
        lambda r: _edit(r / "params.yaml", "estimator: random_forest", "estimator: xgboost"),
        2,
        "model.estimator 'xgboost' is neither an alias nor an import path",
    ),
    "bad-hyperparameter": (
        lambda r: _edit(r / "params.yaml", "max_depth: 12", "max_dept: 12"),
        2,
        "model.params is not valid for RandomForestClassifier",
    ),
    "missing-data": (lambda r: (r / "data" / "obesity.csv").unlink(), 2, "data file not found"),
    "missing-column": (lambda r: _drop_column(r, "CAEC"), 2, "missing column(s) CAEC"),
    "unknown-category": (
        lambda r: _edit(r / "data" / "obesity.csv", ",Walking,", ",Teleport,"),
        2,
        "unknown category 'Teleport'",
    ),
    "nan-target": (
        lambda r: _blank_first_target(r),
        2,
        "column NObeyesdad has 1 missing value(s) (CSV line 2)",
    ),
    "rare-class": (
        lambda r: _keep_one(r, "Obesity_Type_II"),
        2,
        "class Obesity_Type_II (1) has fewer than 2 rows",
    ),
}


def _drop_column(root: Path, column: str) -> None:
    import pandas as pd

    path = root / "data" / "obesity.csv"
    pd.read_csv(path).drop(columns=[column]).to_csv(path, index=False)


def _blank_first_target(root: Path) -> None:
    path = root / "data" / "obesity.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ","
    path.write_text("\n".join(lines) + "\n")


def _keep_one(root: Path, label: str) -> None:
    path = root / "data" / "obesity.csv"
    lines = path.read_text().splitlines()
    rows = [ln for ln in lines[1:] if not ln.endswith("," + label)]
    keep = next(ln for ln in lines[1:] if ln.endswith("," + label))
    path.write_text("\n".join([lines[0], *rows, keep]) + "\n")


@pytest.mark.parametrize(("breaks", "code", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_exits_with_one_line_and_registers_nothing(fast_project, breaks, code, message):
    breaks(fast_project)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlgate: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert _registry_state(fast_project) == []


def test_unreachable_tracking_server_exits_3_naming_it(fast_project, monkeypatch):
    from ..conftest import free_port

    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"mlgate: error: tracking server {uri} is unreachable (ConnectionError);"
        " start it or fix --tracking-uri, MLFLOW_TRACKING_URI or params.yaml mlflow.tracking_uri"
    )
    assert not (fast_project / "mlruns").exists()


def test_scripts_train_wrapper_runs_the_cli(fast_project):
    script = Path(__file__).resolve().parents[2] / "scripts" / "train.py"
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "Train the model from params.yaml" in result.stdout


def _pin(root: Path, package: str, version: str) -> str:
    """Pin `package` to `version` in the project's lock; returns the installed version."""
    import re
    from importlib import metadata

    lock = root / "requirements.lock"
    text, count = re.subn(rf"(?m)^{package}==[^\s;]+", f"{package}=={version}", lock.read_text())
    assert count
    lock.write_text(text)
    return metadata.version(package)


def test_lock_mismatch_is_one_warning_line_outside_ci(fast_project, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    installed = _pin(fast_project, "scikit-learn", "9.9.9")
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: scikit-learn {installed} installed, requirements.lock pins 9.9.9: the"
        " fingerprint claims the locked versions; install the lock: uv pip install"
        " --require-hashes -r requirements.lock",
        "warning: not in a git repository: no commit is recorded for this version",
    ]
    assert result.stdout.startswith("Registered obesity_classifier v1 (stage: Staging)\n")


def test_lock_mismatch_in_ci_is_exit_2_and_registers_nothing(fast_project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    installed = _pin(fast_project, "scikit-learn", "9.9.9")
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"mlgate: error: scikit-learn {installed} installed, requirements.lock pins 9.9.9: the"
        " fingerprint claims the locked versions; install the lock: uv pip install"
        " --require-hashes -r requirements.lock"
    ]
    assert _registry_state(fast_project) == []
    assert not (fast_project / "metrics.json").exists()


def test_versions_and_the_model_carry_descriptions(fast_project):
    assert _run("train", "--pr-number", "7").exit_code == 0
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    model = client.get_registered_model("obesity_classifier")
    title, _, details = model.description.partition("\n\n")
    assert title == "RandomForest obesity classifier"
    assert details.startswith("Predicts NObeyesdad (7 classes: Insufficient_Weight, ")
    assert "from 16 features (Gender, Age, Height, Weight, " in details
    line = client.get_model_version("obesity_classifier", "1").description
    assert line.startswith("RandomForest n_estimators=30 max_depth=12 random_state=42 · 2087 rows")
    assert line.endswith(" · PR #7") and "\n" not in line

    # A description someone wrote stays; every new version still gets its line.
    client.update_registered_model("obesity_classifier", description="Ours")
    set_model_params(fast_project, n_estimators=20, max_depth=12, random_state=42)
    assert _run("train").exit_code == 0
    assert client.get_registered_model("obesity_classifier").description == "Ours"
    line = client.get_model_version("obesity_classifier", "2").description
    assert line.startswith("RandomForest n_estimators=20 max_depth=12 random_state=42 · 2087 rows")
    listing = _run("list")
    assert "| obesity_classifier | Ours " in listing.output


def test_the_library_trains_without_context_tags(fast_project):
    # `mlgate train` passes the commit and PR it runs for; a caller of the library may not.
    from mlgate import data
    from mlgate.config import load_params
    from mlgate.registry import connect
    from mlgate.train import train

    params = load_params(fast_project / "params.yaml")
    registry = connect(f"sqlite:///{fast_project / 'mlflow.db'}")
    result = train(params, registry, data.holdout(params.data), root=fast_project)
    described = registry.get_version(params.mlflow.registered_model_name, result.version)
    assert described.description.endswith(" rows")


# --- provenance: the commit a version names, and whether its inputs matched it -----------------


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _committed(root: Path) -> None:
    """The project as a git repository with everything committed (the registry ignored)."""
    (root / ".gitignore").write_text("mlflow.db\nmlruns/\nmlartifacts/\nreports/\nmetrics.json\n")
    _git(root, "init", "-q")
    _git(root, "-c", "user.name=Ada", "-c", "user.email=ada@example.org", "add", "-A")
    _git(root, "-c", "user.name=Ada", "-c", "user.email=ada@example.org", "commit", "-qm", "x")


def _version_tags(root: Path, version: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return client.get_model_version("obesity_classifier", version).tags


def test_a_version_records_whether_its_inputs_matched_its_commit(fast_project, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    _committed(fast_project)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert _version_tags(fast_project, "1")["mlgate.git_dirty"] == "false"

    # An uncommitted edit of params.yaml: the version names HEAD's commit, and says it differs.
    set_model_params(fast_project, n_estimators=20, max_depth=12, random_state=42)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    tags = _version_tags(fast_project, "2")
    assert tags["mlgate.git_dirty"] == "true" and len(tags["git_sha"]) == 40


def test_ci_and_release_refuse_a_dirty_build_and_register_nothing(fast_project, monkeypatch):
    _committed(fast_project)
    set_model_params(fast_project, n_estimators=20, max_depth=12, random_state=42)
    monkeypatch.setenv("CI", "true")
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "mlgate: error: the training inputs params.yaml differ from the commit: a CI run"
        " (CI=true) trains only committed inputs; commit them (or restore them) and re-run"
    ]
    assert _registry_state(fast_project) == []

    monkeypatch.delenv("CI")
    result = CliRunner().invoke(main, ["release", "--before", "0" * 40])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "mlgate: error: the training inputs params.yaml differ from the commit: a release"
        " trains only committed inputs; commit them (or restore them) and re-run"
    ]
    assert _registry_state(fast_project) == []


def test_outside_git_one_warning_says_no_commit_is_recorded(fast_project, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: not in a git repository: no commit is recorded for this version"
    ]
    assert "git_sha" not in _version_tags(fast_project, "1")
    assert "mlgate.git_dirty" not in _version_tags(fast_project, "1")
