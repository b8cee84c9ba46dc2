"""Bad input of every kind, through the real CLI: the documented exit code, one line naming the
problem, no traceback, and a registry left exactly as it was.

One table, one row per mistake: broken params, broken data, wrong arguments, and registry states
a team really ends up in (no champion yet, a deleted version, an alias left on a deleted version,
a version registered without a run, a model whose artifact lost its file, a champion trained on
another schema). The registry is built once per module with real trained versions and copied for
every row, so a row may break it freely.

Exit codes (README): 1 the gate failed (it fails closed: evidence it cannot produce is a failed
check, printed with the others), 2 usage, configuration or data error, 3 registry or
infrastructure error. A version whose stored model cannot be loaded is the registry's fault, not
the caller's: `card` exits 3 for it, and the gate fails the `challenger.scored` check (exit 1).

Rows marked `bug:` are behaviour the README rules out; they are strict xfails, so fixing one
turns its row red until the mark is removed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import FAST_MODEL, copy_project_inputs, set_model_params
from ..helpers import client_for, copy_project_registry

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"
MLGATE = Path(sys.executable).with_name("mlgate")
SECOND = {**FAST_MODEL, "random_state": 7}  # v2: the working tree's version
# The template registry: v1 champion (one recorded move), v2 Staging, and v3 trained without
# FAVC and logged by hand, without metrics.
CHAMPION, CHALLENGER, WITHOUT_FAVC = "1", "2", "3"
GITHUB_ENV = ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH")


# --- the registry, built once ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs") / "project"
    root.mkdir()
    copy_project_inputs(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", _uri(root))
        for key in GITHUB_ENV:
            mp.delenv(key, raising=False)
        for model_params in (FAST_MODEL, SECOND):
            set_model_params(root, **model_params)
            result = CliRunner().invoke(main, ["train"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
        assert _register_without_favc(root) == WITHOUT_FAVC
        promoted = CliRunner().invoke(
            main, ["promote", MODEL, CHAMPION, "Production", "--reason", "first", "--actor", "ada"]
        )
        assert promoted.exit_code == 0, promoted.output
    return root


def _register_without_favc(root: Path) -> str:
    """A version whose input schema lacks FAVC, logged like `train`'s (skops, signature) but by
    hand: its run has no metrics, as a model registered outside mlgate may not."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from mlgate import data
    from mlgate.config import load_params
    from mlgate.estimators import REVIEWED_TYPES
    from mlgate.train import pip_requirements

    from ..obesity import pipeline_for

    SKOPS_TRUSTED_TYPES = list(REVIEWED_TYPES)
    params = load_params(root / "params.yaml")
    split = data.holdout(params.data, root / params.data.path).split
    X_train, X_test = split.X_train.drop(columns=["FAVC"]), split.X_test.drop(columns=["FAVC"])
    pipeline = pipeline_for(params, X_train).fit(X_train, split.y_train)
    mlflow.set_tracking_uri(_uri(root))
    mlflow.set_experiment(params.mlflow.experiment_name)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            signature=infer_signature(X_test.head(5), pipeline.predict(X_test.head(5))),
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            pip_requirements=pip_requirements(),
            registered_model_name=MODEL,
        )
    return str(info.registered_model_version)


@pytest.fixture
def root(project: Path, template: Path) -> Path:
    """`project` (the working directory) holding a private copy of the template's registry."""
    return copy_project_registry(template, project, ("model_cards",))


def _uri(root: Path) -> str:
    return f"sqlite:///{root / 'mlflow.db'}"


def snapshot(uri: str) -> dict:
    """All a command could change that matters: every model's versions (number, stage, status),
    aliases and registered-model tags (the alias history lives there)."""
    client = client_for(uri)
    state = {}
    for found in client.search_registered_models():
        model = client.get_registered_model(found.name)
        state[model.name] = {
            "versions": sorted(
                (str(v.version), v.current_stage, v.status)
                for v in client.search_model_versions(f"name = '{model.name}'")
            ),
            "aliases": {a: str(v) for a, v in sorted(model.aliases.items())},
            "tags": dict(model.tags),
        }
    return state


# --- what each row breaks -------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _params(old: str, new: str) -> Callable[[Path], None]:
    return lambda root: _edit(root / "params.yaml", old, new)


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _gate_params(**gate: object) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        raw = yaml.safe_load((root / "params.yaml").read_text())
        raw["gate"].update(gate)
        (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))

    return edit


def _csv(change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    """Rewrite data/obesity.csv line by line (header first)."""

    def edit(root: Path) -> None:
        path = root / "data" / "obesity.csv"
        path.write_text("\n".join(change(path.read_text().splitlines())) + "\n")

    return edit


def _drop_column(name: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        index = lines[0].split(",").index(name)
        return [",".join(c for i, c in enumerate(ln.split(",")) if i != index) for ln in lines]

    return change


def _set_cell(column: str, value: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        index = lines[0].split(",").index(column)
        cells = lines[1].split(",")
        cells[index] = value
        return [lines[0], ",".join(cells), *lines[2:]]

    return change


def _keep_one(label: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        of_label = [ln for ln in lines[1:] if ln.endswith("," + label)]
        return [lines[0], *(ln for ln in lines[1:] if not ln.endswith("," + label)), of_label[0]]

    return change


def _client(root: Path):
    return client_for(_uri(root))


def _no_champion(root: Path) -> None:
    """A model nobody released yet: no @champion, no recorded move."""
    client = _client(root)
    client.delete_registered_model_alias(MODEL, "champion")
    for key in client.get_registered_model(MODEL).tags:
        if key.startswith("mlgate.history."):
            client.delete_registered_model_tag(MODEL, key)


def _delete_version(version: str) -> Callable[[Path], None]:
    return lambda root: _client(root).delete_model_version(MODEL, version)


def _alias_on_deleted_version(root: Path) -> None:
    """v2 deleted, but an alias row still names it: MLflow's SQL store drops a deleted version's
    aliases itself, other stores and hand edits of the database do not."""
    _client(root).delete_model_version(MODEL, CHALLENGER)
    with sqlite3.connect(root / "mlflow.db") as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(registered_model_aliases)")]
        row = {"alias": "ghost", "version": int(CHALLENGER), "name": MODEL, "workspace": "default"}
        row = {k: v for k, v in row.items() if k in columns}
        db.execute(
            f"INSERT INTO registered_model_aliases ({', '.join(row)})"
            f" VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )


def _version_without_run(root: Path) -> None:
    """v4: registered by hand from a path that holds no model, with no run behind it."""
    _client(root).create_model_version(MODEL, source=str(root / "nowhere" / "model"))


def _corrupt(version: str) -> Callable[[Path], None]:
    """Delete the skops file of `version`'s stored model (a half-deleted artifact store)."""

    def corrupt(root: Path) -> None:
        location = Path(
            _client(root).get_model_version_download_uri(MODEL, version).removeprefix("file://")
        )
        assert root in location.parents  # this row's copy, not the template
        (location / "model.skops").unlink()

    return corrupt


def _without_metric_tags(root: Path) -> None:
    """Versions registered before `train` copied metrics into tags, or by another tool."""
    client = _client(root)
    for version in (CHAMPION, CHALLENGER):
        for key in client.get_model_version(MODEL, version).tags:
            if key.startswith("mlgate.metric."):
                client.delete_model_version_tag(MODEL, version, key)


def _git_repo(root: Path) -> None:
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "Initial commit"]):
        subprocess.run(
            ["git", "-c", "user.name=ada", "-c", "user.email=ada@example.org", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )


# --- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    # exit 2/3: a fragment of the one `mlgate: error:` line; exit 1: of the gate's FAIL line
    message: str
    setup: Callable[[Path], None] | None = None
    subprocess: bool = False  # run the installed console script instead of CliRunner
    bug: str | None = None  # strict xfail: what the CLI does instead


GATE_V2 = ("gate", "--challenger", CHALLENGER)
INFER_SCHEMA_WRITE = (
    *("data", "infer-schema", "--data", "data/obesity.csv", "--target", "NObeyesdad"),
    *("--write", "params.yaml"),
)

CASES = [
    # params.yaml
    Case("params-missing-file", ("train", "--params", "nope.yaml"), 2, "nope.yaml: file not found"),
    Case(
        "params-yaml-syntax",
        ("train",),
        2,
        "params.yaml: YAML syntax error",
        _params("data:\n", "data: [\n"),
        subprocess=True,
    ),
    Case(
        "params-unknown-key",
        ("train",),
        2,
        "data.tset_size is not a known key (did you mean data.test_size?)",
        _params("  test_size:", "  tset_size:"),
    ),
    Case(
        "params-target-typo",
        ("train",),
        2,
        "params.yaml: data.target 'NObeyesdat' is not a column of data.schema"
        " (did you mean NObeyesdad?)",
        _params("  target: NObeyesdad", "  target: NObeyesdat"),
    ),
    Case(
        "params-primary-metric-typo",
        GATE_V2,
        2,
        "gate.primary_metric must be one of accuracy, f1_macro, precision_macro, recall_macro,"
        " got 'f1_macor' (did you mean f1_macro?)",
        _params("primary_metric: f1_macro", "primary_metric: f1_macor"),
    ),
    Case(
        "params-wrong-type",
        ("train",),
        2,
        "data.test_size must be a number, got 'big'",
        _params("test_size: 0.2", "test_size: big"),
    ),
    Case(
        "params-margin-out-of-range",
        GATE_V2,
        2,
        "params.yaml: gate.margin must be between 0 and 1, got 5.0 (did you mean 0.05?)",
        _gate_params(margin=5),
    ),
    Case(
        "params-unknown-model-type",
        ("train",),
        2,
        "model.estimator 'xgboost' is neither an alias nor an import path",
        _params("estimator: random_forest", "estimator: xgboost"),
    ),
    Case(
        "params-invalid-hyperparameter",
        ("train",),
        2,
        "model.params is not valid for RandomForestClassifier",
        lambda root: set_model_params(root, **{**SECOND, "max_dept": 3}),
    ),
    Case(
        "params-invalid-hyperparameter-value",
        ("train",),
        2,
        "params.yaml: model.params: The 'max_depth' parameter of RandomForestClassifier must be"
        " an int in the range [1, inf) or None. Got 'thirty' instead; fix the value",
        lambda root: set_model_params(root, **{**SECOND, "max_depth": "thirty"}),
    ),
    Case(
        "params-duplicate-section",
        ("train",),
        2,
        "params.yaml: key `gate` appears twice (lines ",
        lambda root: _append(root / "params.yaml", "gate:\n  margin: 0.05\n"),
        subprocess=True,
    ),
    Case(
        "params-duplicate-nested-key",
        ("train",),
        2,
        "params.yaml: key `data.test_size` appears twice (lines ",
        _params("  test_size: 0.2\n", "  test_size: 0.2\n  test_size: 0.3\n"),
    ),
    Case(
        "infer-schema-write-duplicate-key",
        INFER_SCHEMA_WRITE,
        2,
        "params.yaml: key `gate` appears twice (lines ",
        lambda root: _append(root / "params.yaml", "gate:\n  margin: 0.05\n"),
    ),
    Case(
        "params-threshold-on-unknown-metric",
        GATE_V2,
        2,
        "gate.thresholds.acuracy",
        _gate_params(thresholds={"acuracy": 0.85}),
    ),
    # data
    Case(
        "data-missing-file",
        ("train", "--data", "nope.csv"),
        2,
        "nope.csv: data file not found (check data.path in params.yaml or pass --data)",
    ),
    Case(
        "data-missing-column", ("train",), 2, "missing column(s) CAEC", _csv(_drop_column("CAEC"))
    ),
    Case(
        "data-unknown-category",
        ("train",),
        2,
        "unknown category 'Teleport'",
        _csv(_set_cell("MTRANS", "Teleport")),
    ),
    Case(
        "data-nan-target",
        ("train",),
        2,
        "column NObeyesdad has 1 missing value(s) (CSV line 2)",
        _csv(_set_cell("NObeyesdad", "")),
    ),
    Case(
        "data-rare-class",
        ("train",),
        2,
        "class Obesity_Type_II (1) has fewer than 2 rows",
        _csv(_keep_one("Obesity_Type_II")),
    ),
    Case(
        "data-non-numeric",
        ("train",),
        2,
        "column Age must be numeric, got 'old' on CSV line 2",
        _csv(_set_cell("Age", "old")),
    ),
    Case(
        "gate-data-missing-column", GATE_V2, 2, "missing column(s) FAVC", _csv(_drop_column("FAVC"))
    ),
    # command-line arguments
    Case(
        "unknown-model-suggests",
        ("versions", "obesity_classifer"),
        2,
        "model 'obesity_classifer' is not registered (did you mean obesity_classifier?)",
        subprocess=True,
    ),
    Case(
        "unknown-version",
        ("promote", MODEL, "99", "Staging"),
        2,
        "obesity_classifier has no version 99; see 'mlgate versions obesity_classifier'",
    ),
    Case(
        "unknown-alias",
        ("card", MODEL, "--version", "@nope"),
        2,
        "obesity_classifier has no alias @nope (aliases: @champion)",
    ),
    Case(
        "not-a-version",
        ("compare", MODEL, "1", "latest-one"),
        2,
        "version 'latest-one' is not a number, an @alias or a stage",
    ),
    Case(
        "compare-unknown-version",
        ("compare", MODEL, "1", "99"),
        2,
        "obesity_classifier has no version 99",
    ),
    Case(
        "invalid-stage",
        ("promote", MODEL, CHALLENGER, "Prod"),
        2,
        "stage 'Prod' is not one of None, Staging, Production, Archived (did you mean Production?)",
    ),
    Case("reserved-alias", ("alias", MODEL, "v3", "1"), 2, "alias 'v3' is reserved by MLflow"),
    Case(
        "invalid-alias",
        ("alias", MODEL, "bad alias!", "1"),
        2,
        "alias 'bad alias!' is not valid: use 1-255 letters, digits, '_' or '-'",
    ),
    Case(
        "alias-version-and-delete",
        ("alias", MODEL, "champion", "2", "--delete"),
        2,
        "give either a VERSION to point the alias at or --delete, not both or neither",
    ),
    Case(
        "alias-deletes-champion",
        ("alias", MODEL, "champion", "--delete"),
        2,
        "@champion of obesity_classifier moves only with a recorded reason and is never deleted",
        subprocess=True,
    ),
    Case(
        "promote-champion-out-of-production",
        ("promote", MODEL, "@champion", "archived"),
        2,
        "obesity_classifier v1 holds @champion: it can't move to Archived; promote another"
        " version to Production ('mlgate promote obesity_classifier VERSION Production"
        " --reason ...') or roll back first ('mlgate rollback obesity_classifier --reason ...')",
    ),
    Case(
        "gate-pr-number-not-a-number",
        ("gate", "--challenger", CHALLENGER, "--pr-number", "abc"),
        2,
        "'abc' is not a pull request number; pass a positive integer such as 12",
        subprocess=True,
    ),
    Case(
        "pr-pr-number-zero",
        ("pr", "--pr-number", "0"),
        2,
        "'0' is not a pull request number; pass a positive integer such as 12",
    ),
    Case(
        "versions-unknown-metric",
        ("versions", MODEL, "--metric", "nope"),
        2,
        "metric 'nope' is not logged by any version of obesity_classifier",
    ),
    Case(
        "best-unknown-metric",
        ("best", MODEL, "--metric", "acuracy"),
        2,
        "metric 'acuracy' is not logged by any version of obesity_classifier"
        " (did you mean accuracy?)",
    ),
    Case(
        "best-unknown-metric-untagged-versions",
        ("best", MODEL, "--metric", "acuracy"),
        2,
        "metric 'acuracy' is not logged by any version of obesity_classifier"
        " (did you mean accuracy?)",
        _without_metric_tags,
    ),
    Case("rollback-without-reason", ("rollback", MODEL), 2, "Missing option '--reason'"),
    Case(
        "rollback-blank-reason",
        ("rollback", MODEL, "--reason", "  "),
        2,
        "a reason is required for every champion move (pass --reason TEXT)",
    ),
    Case(
        "rollback-to-never-champion",
        ("rollback", MODEL, "--to", CHALLENGER, "--reason", "x"),
        2,
        "obesity_classifier v2 was never champion",
    ),
    Case(
        "release-unknown-revision",
        ("release", "--before", "no-such-commit"),
        2,
        "git revision 'no-such-commit' not found",
        _git_repo,
    ),
    Case(
        "gate-untrained-tree",
        ("gate",),
        2,
        "no version of obesity_classifier was trained from the working tree's inputs",
        lambda root: set_model_params(root, **{**SECOND, "n_estimators": 31}),
    ),
    Case(
        "gate-explicit-unknown-champion",
        ("gate", "--challenger", CHALLENGER, "--champion", "@nope"),
        2,
        "obesity_classifier has no alias @nope",
    ),
    Case(
        "unknown-uri-scheme",
        ("list", "--tracking-uri", "foo://x"),
        2,
        "tracking URI 'foo://x' has an unknown scheme",
    ),
    Case(
        "sqlite-folder-missing",
        ("list", "--tracking-uri", "sqlite:////no/such/folder/mlflow.db"),
        3,
        "registry sqlite:////no/such/folder/mlflow.db: folder /no/such/folder does not exist;"
        " create it or fix --tracking-uri, MLFLOW_TRACKING_URI or params.yaml mlflow.tracking_uri",
    ),
    Case(
        "sqlite-uri-two-slashes",
        ("list", "--tracking-uri", "sqlite://mlflow.db"),
        2,
        "tracking URI 'sqlite://mlflow.db' is not a valid sqlite URI; use sqlite:///mlflow.db"
        " (three slashes) or http(s)://host:port, in --tracking-uri, MLFLOW_TRACKING_URI or"
        " params.yaml mlflow.tracking_uri",
    ),
    Case(
        "tracking-uri-bare-path",
        ("versions", MODEL, "--tracking-uri", "./mlruns"),
        2,
        "tracking URI './mlruns' is a path, and MLflow's file store is not supported; use"
        " sqlite:///mlflow.db (three slashes)",
    ),
    # registry states
    Case(
        "no-champion-rollback",
        ("rollback", MODEL, "--reason", "x"),
        2,
        "obesity_classifier has no recorded @champion moves: nothing to roll back to",
        _no_champion,
    ),
    Case(
        "no-champion-card",
        ("card", MODEL),
        2,
        "obesity_classifier has no alias @champion",
        _no_champion,
    ),
    Case(
        "deleted-version-gate",
        GATE_V2,
        2,
        "obesity_classifier has no version 2",
        _delete_version(CHALLENGER),
    ),
    Case(
        "deleted-version-promote",
        ("promote", MODEL, CHALLENGER, "Production", "--reason", "x"),
        2,
        "obesity_classifier has no version 2",
        _delete_version(CHALLENGER),
    ),
    Case(
        "deleted-champion-rollback",
        ("rollback", MODEL, "--reason", "x"),
        2,
        "@champion",
        _delete_version(CHAMPION),
    ),
    Case(
        "alias-on-deleted-version",
        ("gate", "--challenger", "@ghost"),
        2,
        "obesity_classifier has no version 2",
        _alias_on_deleted_version,
    ),
    Case(
        "version-without-run-gate",
        ("gate", "--challenger", "4"),
        1,
        "FAIL challenger.scored: challenger v4 could not score the holdout",
        _version_without_run,
    ),
    Case(
        "version-without-run-card",
        ("card", MODEL, "--version", "4"),
        3,
        "obesity_classifier v4",
        _version_without_run,
    ),
    Case(
        "corrupted-artifact-gate",
        GATE_V2,
        1,
        "FAIL challenger.scored: challenger v2 could not score the holdout",
        _corrupt(CHALLENGER),
    ),
    Case(
        "corrupted-artifact-card",
        ("card", MODEL, "--version", CHALLENGER),
        3,
        "cannot load obesity_classifier v2 (models:/obesity_classifier/2)",
        _corrupt(CHALLENGER),
        subprocess=True,
    ),
    Case(
        "corrupted-artifact-promote",
        ("promote", MODEL, CHALLENGER, "Production", "--reason", "x"),
        3,
        "cannot load obesity_classifier v2 (models:/obesity_classifier/2)",
        _corrupt(CHALLENGER),
    ),
    Case(
        "champion-on-another-schema",
        ("gate", "--challenger", CHALLENGER, "--champion", WITHOUT_FAVC),
        1,
        "FAIL signature",
    ),
]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=f"bug: {case.bug}")] if case.bug else []
    return pytest.param(case, id=case.id, marks=marks)


def _run(root: Path, case: Case) -> tuple[int, str, str]:
    if not case.subprocess:
        result = CliRunner().invoke(main, list(case.argv))
        return result.exit_code, result.stdout, result.stderr
    env = {k: v for k, v in os.environ.items() if k not in GITHUB_ENV}
    done = subprocess.run(
        [str(MLGATE), *case.argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_table_has_a_row_per_mistake() -> None:
    assert len(CASES) >= 25 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_fails_with_one_line_and_changes_nothing(root: Path, case: Case) -> None:
    if case.setup:
        case.setup(root)
    before = snapshot(_uri(root))
    params_before = (root / "params.yaml").read_bytes()
    code, out, err = _run(root, case)

    assert "Traceback" not in out + err
    assert code == case.code, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    if case.code == 1:
        # A gate that fails closed: its evidence on stdout, the failed check by name, no error.
        assert err == ""
        assert out.startswith("mlgate gate: FAIL\n")
        assert any(line.startswith(f"  {case.message}") for line in out.splitlines()), out
    else:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("mlgate: error: ")
        assert case.message in lines[0]
        assert "vNone" not in lines[0]
    assert snapshot(_uri(root)) == before
    assert (root / "params.yaml").read_bytes() == params_before


def test_an_absent_champion_named_explicitly_is_no_champion(root: Path) -> None:
    """`--champion @champion` is what the default means: before the first release there is no
    champion, and the gate applies the absolute thresholds only (exit 0, as without the option).
    Any other alias that does not exist is a typo (exit 2, see the table)."""
    _no_champion(root)
    result = CliRunner().invoke(
        main, ["gate", "--challenger", CHALLENGER, "--champion", "@champion"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mlgate gate: PASS (no champion)\n")


# --- a project without a registry yet: a bad input must not create one ---------------------------

BAD_URIS = ("sqlite://mlflow.db", "sqlite:mlflow.db", "sqlite:/mlflow.db", "mlflow.db", "./mlruns")


@pytest.mark.parametrize("source", ["option", "environment", "params.yaml"])
@pytest.mark.parametrize("uri", BAD_URIS)
def test_a_malformed_local_tracking_uri_is_a_usage_error_from_every_source(
    project: Path, monkeypatch: pytest.MonkeyPatch, uri: str, source: str
) -> None:
    argv = ["versions", MODEL]
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    if source == "option":
        argv += ["--tracking-uri", uri]
    elif source == "environment":
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    else:
        _edit(project / "params.yaml", "tracking_uri: sqlite:///mlflow.db", f"tracking_uri: {uri}")
    before = sorted(p.name for p in project.iterdir())

    result = CliRunner().invoke(main, argv)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mlgate: error: tracking URI {uri!r} ")
    assert lines[0].endswith(
        "use sqlite:///mlflow.db (three slashes) or http(s)://host:port, in --tracking-uri,"
        " MLFLOW_TRACKING_URI or params.yaml mlflow.tracking_uri"
    )
    assert sorted(p.name for p in project.iterdir()) == before  # no mlflow.db, no mlruns/


def test_an_invalid_hyperparameter_value_creates_no_registry(project: Path) -> None:
    set_model_params(project, **{**FAST_MODEL, "max_depth": "thirty"})

    result = CliRunner().invoke(main, ["train"])

    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "mlgate: error: params.yaml: model.params: The 'max_depth' parameter of"
        " RandomForestClassifier must be an int in the range [1, inf) or None. Got 'thirty'"
        " instead; fix the value (see the RandomForestClassifier documentation)\n"
    )
    assert not (project / "mlflow.db").exists()
    assert not (project / "mlruns").exists()
