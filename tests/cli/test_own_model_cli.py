"""Your own data and estimator through the CLI: `mlgate data infer-schema`, `mlgate init`, and
`mlgate train` on a project that is not the obesity example, with its bad inputs.

Every bad input is one line on stderr naming the problem and the fix, exit 2, and nothing
written or registered.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import REPO

pytestmark = pytest.mark.slow

MLGATE = Path(sys.executable).with_name("mlgate")
DIABETES = REPO / "examples" / "diabetes"
OWN_MODEL = textwrap.dedent(
    """
    from sklearn.linear_model import Ridge


    class ShrunkRidge(Ridge):
        '''The project's own regressor: a ridge with a stronger default penalty.'''

        def __init__(self, alpha=10.0):
            super().__init__(alpha=alpha)
    """
)


@pytest.fixture
def diabetes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The diabetes example in a git repository, as the working directory, with its registry."""
    root = tmp_path / "diabetes"
    shutil.copytree(DIABETES, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(key, raising=False)
    return root


def _mlgate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, as a workflow runs it (its own process, the repository as cwd)."""
    return subprocess.run(
        [str(MLGATE), *args], cwd=root, capture_output=True, text=True, check=False, timeout=600
    )


def _registered(root: Path) -> list[str]:
    from mlflow.tracking import MlflowClient

    if not (root / "mlflow.db").exists():
        return []
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return [m.name for m in client.search_registered_models()]


def _model(estimator: str, **extra: object) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        raw = yaml.safe_load((root / "params.yaml").read_text())
        raw["model"] = {**raw["model"], "estimator": estimator, "params": {}, **extra}
        (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))

    return edit


def _cell(column: str, value: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / "data" / "diabetes.csv"
        lines = path.read_text().splitlines()
        index = lines[0].split(",").index(column)
        cells = lines[1].split(",")
        cells[index] = value
        path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")

    return edit


def _column(column: str, value: str | None) -> Callable[[Path], None]:
    """Set every row's `column` to `value`, or drop the column (None)."""

    def edit(root: Path) -> None:
        path = next((root / "data").glob("*.csv"))
        rows = [line.split(",") for line in path.read_text().splitlines()]
        index = rows[0].index(column)
        for row in rows:
            if value is None:
                del row[index]
            elif row is not rows[0]:
                row[index] = value
        path.write_text("\n".join(",".join(row) for row in rows) + "\n")

    return edit


def _own_module(root: Path) -> None:
    (root / "models").mkdir()
    (root / "models" / "__init__.py").write_text("")
    (root / "models" / "ridge.py").write_text(OWN_MODEL)


def _untrusted_own_model(root: Path) -> None:
    _own_module(root)
    _model("models.ridge.ShrunkRidge")(root)


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (
            _cell("bmi", "heavy"),
            "data/diabetes.csv: column bmi must be numeric, got 'heavy' on CSV line 2; fix the"
            " value, or declare data.schema.bmi categorical",
        ),
        (
            _cell("progression", "worse"),
            "data/diabetes.csv: column progression must be numeric, got 'worse' on CSV line 2; a"
            " regression target must be a number (set data.task: classification for labels)",
        ),
        (
            _model("models.nowhere.Forest"),
            "params.yaml: model.estimator 'models.nowhere.Forest' does not import"
            " (ModuleNotFoundError: No module named 'models'); give a class importable from the"
            " repository root",
        ),
        (
            _model("collections.OrderedDict"),
            "params.yaml: model.estimator 'collections.OrderedDict' is not a scikit-learn"
            " estimator (a class with fit, predict and get_params); name an estimator class",
        ),
        (
            _model("sklearn.ensemble.RandomForestClassifier"),
            "is a classifier, but data.task is regression; use a regressor",
        ),
        (
            _untrusted_own_model,
            "params.yaml: the fitted model contains type models.ridge.ShrunkRidge, which skops"
            " does not load unless trusted; review it, then add it to model.trusted_types",
        ),
        (
            lambda root: (root / "data" / "diabetes.csv").write_text(""),
            "data/diabetes.csv: not a readable CSV (the file is empty)",
        ),
        (
            _column("progression", None),
            "data/diabetes.csv: missing column(s) progression; data.schema in params.yaml needs",
        ),
    ],
    ids=[
        "text-in-numeric",
        "text-regression-target",
        "estimator-does-not-import",
        "not-an-estimator",
        "wrong-task",
        "untrusted-own-class",
        "empty-file",
        "missing-target",
    ],
)
def test_train_bad_input_registers_nothing(diabetes: Path, breaks, message: str) -> None:
    breaks(diabetes)
    done = _mlgate(diabetes, "train")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("mlgate: error: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert _registered(diabetes) == []
    if "trusted" not in message:  # found before any model is fitted: not even a registry file
        assert not (diabetes / "mlflow.db").exists()
    assert not (diabetes / "metrics.json").exists()


def test_train_a_target_with_one_class_registers_nothing(tmp_path: Path) -> None:
    root = tmp_path / "breast_cancer"
    shutil.copytree(REPO / "examples" / "breast_cancer", root)
    _column("diagnosis", "benign")(root)
    done = _mlgate(root, "train", "--tracking-uri", f"sqlite:///{root / 'mlflow.db'}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        "mlgate: error: data/breast_cancer.csv: diagnosis has fewer than 2 classes (only"
        " 'benign'); nothing to classify: add rows of another class\n"
    )
    assert not (root / "mlflow.db").exists()


def test_own_estimator_class_trains_when_trusted(diabetes: Path) -> None:
    _own_module(diabetes)
    _model("models.ridge.ShrunkRidge", trusted_types=["models.ridge.ShrunkRidge"])(diabetes)
    done = _mlgate(diabetes, "train")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Registered diabetes_model v1 (stage: ")
    assert "rmse " in done.stdout and "r2 " in done.stdout
    gated = _mlgate(diabetes, "gate")  # loads it back through skops, the class from the repo
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert "PASS (no champion)" in gated.stdout


# --- infer-schema and init ----------------------------------------------------------------------


def test_infer_schema_prints_and_writes_keeping_comments(diabetes: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(
        main, ["data", "infer-schema", "--data", "data/diabetes.csv", "--target", "progression"]
    )
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("data:\n  path: data/diabetes.csv\n  task: regression")
    assert "    bmi: {type: numeric, min: 15, max: 45}\n" in shown.output
    before = (diabetes / "params.yaml").read_text()
    written = runner.invoke(
        main,
        [
            *("data", "infer-schema", "--data", "data/diabetes.csv"),
            *("--target", "progression", "--write", "params.yaml"),
        ],
    )
    assert written.exit_code == 0, written.output
    after = (diabetes / "params.yaml").read_text()
    comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    assert all(c in after for c in comments)
    data = yaml.safe_load(after)["data"]
    assert data["schema"]["sex"] == {"type": "numeric", "min": 0, "max": 3}  # as inferred
    assert "slice_by" not in data  # sex is numeric again: no slice column to name


# A CSV and the arguments that make `infer-schema` and `init` refuse it, with the message.
_BAD_CSVS = [
    ("a,b\n1,x\n2,y\n", ["--target", "c"], "d.csv: no target column 'c'"),
    ("", ["--target", "b"], "d.csv: not a readable CSV (the file is empty)"),
    ("a,b\n1,x\n2,x\n3,x\n", ["--target", "b"], "target b has a single class ('x')"),
    (
        "a,b\n1,x\n2,y\n",
        ["--target", "b", "--task", "regression"],
        "regression target b must be numeric, got 'x' on CSV line 2",
    ),
]
_BAD_CSV_IDS = ["missing-target", "empty-file", "one-class", "text-regression-target"]


@pytest.mark.parametrize(
    ("csv", "args", "message"),
    [*_BAD_CSVS, ("a,b\n1,2.5\nabc,3.5\n", ["--target", "b", "--task", "bogus"], "Invalid value")],
    ids=[*_BAD_CSV_IDS, "bad-task"],
)
def test_infer_schema_bad_input(tmp_path: Path, monkeypatch, csv, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(csv)
    (tmp_path / "params.yaml").write_text("# mine\n")
    done = CliRunner().invoke(
        main, ["data", "infer-schema", "--data", "d.csv", *args, "--write", "params.yaml"]
    )
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert done.output.count("\n") == 1
    assert (tmp_path / "params.yaml").read_text() == "# mine\n"


@pytest.mark.parametrize(("csv", "args", "message"), _BAD_CSVS, ids=_BAD_CSV_IDS)
def test_init_bad_input_writes_nothing(tmp_path: Path, csv, args, message) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "d.csv").write_text(csv)
    done = _mlgate(root, "init", "--data", "d.csv", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert sorted(p.name for p in root.iterdir()) == [".git", "d.csv"]


def test_a_numeric_column_with_text_is_inferred_as_text_then_checked(
    diabetes: Path,
) -> None:
    """infer-schema reads a column with text as text (here an id: nothing to reject); the schema
    it wrote before holds every later CSV to it: text in a column declared numeric is exit 2."""
    done = CliRunner().invoke(main, ["data", "check"])
    assert done.exit_code == 0, done.output
    _cell("bmi", "heavy")(diabetes)
    shown = CliRunner().invoke(
        main, ["data", "infer-schema", "--data", "data/diabetes.csv", "--target", "progression"]
    )
    # Text among ~160 distinct values reads as an id: not a feature, nothing to reject.
    assert shown.exit_code == 0 and "    bmi: {type: ignore}" in shown.output
    checked = CliRunner().invoke(main, ["data", "check"])
    assert checked.exit_code == 2
    assert "column bmi must be numeric, got 'heavy' on CSV line 2" in checked.output


def test_init_through_the_cli(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    shutil.copy(DIABETES / "data" / "diabetes.csv", root / "data" / "diabetes.csv")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    pin = ["--action", f"acme/mlgate@{'a' * 40}"]
    args = ["init", "repo", "--data", "repo/data/diabetes.csv", "--target", "progression", *pin]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    assert "   create  params.yaml\n" in done.output
    assert f"The workflows call acme/mlgate@{'a' * 40} # v" in done.output
    assert "  2. Commit the data file with what init wrote" in done.output
    assert "git add data/diabetes.csv params.yaml" in done.output
    # What use_stages: false means, said where a newcomer reads it: the next steps and params.
    assert (
        "git commit -m 'Gate the model with mlgate'. Merged, its model becomes @champion"
        " (recorded in 'mlgate history'); with promotion.use_stages: false, as written, no"
        " version changes stage (nothing goes to Staging or Production): deploy"
        " models:/repo_model@champion, or set it true to move Production/Archived stages too\n"
    ) in done.output
    written = (root / "params.yaml").read_text()
    assert "# false: mlgate moves aliases only. A merge to main points @champion" in written
    assert "# With promotion.use_stages: true, a trained version with R² at or above it" in written
    # An absolute floor for the first release: R² of the staging threshold, above the mean's 0.
    assert "  thresholds:\n    r2: 0.3\n" in written
    again = runner.invoke(main, ["init", "repo", *pin])  # a different params.yaml (no --data)
    assert again.exit_code == 2
    assert again.output == (
        "mlgate: error: params.yaml already exist(s) and would change; pass --force to overwrite\n"
    )
    missing = runner.invoke(main, ["init", "repo", "--data", "repo/data/diabetes.csv"])
    assert missing.exit_code == 2
    assert "give --data and --target together" in missing.output
    wrong = runner.invoke(
        main, ["init", "repo", "--data", "repo/data/diabetes.csv", "--target", "progresion"]
    )
    assert wrong.exit_code == 2
    assert "no target column 'progresion' (did you mean progression?)" in wrong.output


def test_regression_gate_compares_clean_rows_only_and_reports_slices(diabetes: Path) -> None:
    """Another split of the same rows: the champion trained on most of the new holdout, so the
    regression gate scores both models only on the rows neither trained on, as classification
    does, and its JSON verdict says so, with the task and the per-slice errors of those rows."""
    import json

    assert _mlgate(diabetes, "train").returncode == 0
    promoted = _mlgate(diabetes, "promote", "diabetes_model", "1", "production", "--reason", "1st")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    raw = yaml.safe_load((diabetes / "params.yaml").read_text())
    raw["data"]["random_state"] = 7
    (diabetes / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert _mlgate(diabetes, "train").returncode == 0
    done = _mlgate(diabetes, "gate", "--json", "gate.json")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    verdict = json.loads((diabetes / "gate.json").read_text())
    assert verdict["task"] == "regression" and verdict["per_class"] == []
    holdout = verdict["holdout"]
    assert 0 < holdout["n_clean"] < holdout["n_rows"] == 89
    assert "were in the champion's training rows" in holdout["why_fewer"]
    assert "clean rows: " in done.stdout
    assert verdict["decision"]["holdout"]["n_rows"] == holdout["n_clean"]
    slices = verdict["per_slice"]
    assert slices["column"] == "sex" and slices["metric"] == "rmse"
    assert sum(row["rows"] for row in slices["rows"]) == holdout["n_clean"]
    names = [c["name"] for c in verdict["checks"]]
    assert names[0] == "threshold.r2"  # the floor `mlgate init` writes
    assert names[1:3] == ["non_inferiority.rmse", "per_slice.sex"]
