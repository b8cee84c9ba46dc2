"""The example projects, each put into a fresh git repository with `mlgate init` and driven through
the whole lifecycle by the `mlgate` script, on a real sqlite registry: nothing under src/ knows
about them.

init → release of the first model → a clearly worse challenger fails its gate → a retrain with
another seed passes → merge and release (the retrain becomes champion) → `git revert` of the merge
and release (the first model is champion again, without retraining).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from .gitrepo import NULL_SHA, Clone, _run, clone_of
from .test_lifecycle import _client, commit_card, outputs, release

pytestmark = pytest.mark.slow

EXAMPLES = REPO / "examples"
CASES = {
    # project: (CSV, target, a clearly worse estimator)
    "diabetes": ("diabetes.csv", "progression", "sklearn.dummy.DummyRegressor"),
    "breast_cancer": ("breast_cancer.csv", "diagnosis", "sklearn.dummy.DummyClassifier"),
}


def _registry(uri: str, model: str) -> tuple[dict[str, str], int]:
    """The model's aliases and its number of versions."""
    client = _client(uri)
    aliases = {a: str(v) for a, v in client.get_registered_model(model).aliases.items()}
    return aliases, len(client.search_model_versions(f"name = '{model}'"))


def _set_model(clone: Clone, estimator: str | None = None, **params: object) -> None:
    path = clone.path / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    if estimator is not None:
        raw["model"]["estimator"] = estimator
    raw["model"]["params"] = dict(params)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.mark.parametrize("project", CASES)
def test_example_lifecycle(tmp_path: Path, project: str) -> None:
    csv, target, worse = CASES[project]
    model = f"{project}_model"
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    origin = tmp_path / "origin.git"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    main = clone_of(origin, tmp_path / "work", uri)
    main.git("symbolic-ref", "HEAD", "refs/heads/main")
    shutil.copytree(EXAMPLES / project / "data", main.path / "data")

    # init writes the project; the example's params.yaml is what it wrote (plus, for diabetes,
    # the documented edit: sex declared categorical and the per-slice column).
    pin = f"acme/mlgate@{'0' * 40}"
    done = main.mlgate(
        "init", "--data", f"data/{csv}", "--target", target, "--model-name", model, "--action", pin
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Next steps:" in done.stdout and "docs/github-setup.md" in done.stdout
    written = (main.path / "params.yaml").read_text()
    example = (EXAMPLES / project / "params.yaml").read_text()
    if project == "breast_cancer":
        assert written == example
    else:
        (main.path / "params.yaml").write_text(example)
    main.commit_all("mlgate init")
    main.git("push", "-q", "origin", "main")

    # 1. The first push to main trains, gates (thresholds only) and releases v1.
    text, out = release(main, tmp_path, "--before", NULL_SHA)
    assert out == {"changed": "true", "champion_version": "1", "action": "promoted"}, text
    card = (main.path / "model_cards" / f"{model}.md").read_text()
    assert f"# Model card: {model} v1" in card
    card_commit = commit_card(main, "1")

    # 2. A pull request with a clearly worse model: its gate fails (exit 1), naming the check.
    main.git("checkout", "-q", "-b", "worse")
    _set_model(main, worse)
    main.commit_all("A baseline that predicts a constant")
    assert main.mlgate("train", "--pr-number", "1").returncode == 0
    gated = main.mlgate("gate", "--pr-number", "1")
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "mlgate gate: FAIL" in gated.stdout
    primary = "rmse" if project == "diabetes" else "f1_macro"
    assert f"FAIL non_inferiority.{primary}" in gated.stdout
    assert _registry(uri, model)[0] == {"champion": "1"}

    # 3. A retrain with another seed is as good: its gate passes.
    main.git("checkout", "-q", "main")
    main.git("checkout", "-q", "-b", "reseed")
    _set_model(main, None, random_state=7)
    main.commit_all("Another seed")
    assert main.mlgate("train", "--pr-number", "2").returncode == 0
    gated = main.mlgate("gate", "--pr-number", "2")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert f"PASS non_inferiority.{primary}" in gated.stdout
    if project == "diabetes":
        assert "PASS per_slice.sex" in gated.stdout

    # 4. Merge and release: the retrain (v3) is champion.
    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "reseed", "-m", "Merge pull request #2 from reseed")
    merge = main.head()
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "true", "champion_version": "3", "action": "promoted"}, text
    card_commit = commit_card(main, "3")

    # 5. Revert the merge: v1 is champion again, restored without training.
    main.git("revert", "--no-edit", "-m", "1", merge)
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "true", "champion_version": "1", "action": "rolled_back"}, text
    assert _registry(uri, model) == ({"champion": "1"}, 3)  # nothing was retrained

    # The registry commands follow the task: a regression's errors, lower is better.
    listing = main.mlgate("versions", model).stdout
    best = main.mlgate("best", model).stdout
    if project == "diabetes":
        assert "|    RMSE |" in listing
        assert best.startswith(f"Best {model} version by rmse (lower is better): v")
    else:
        assert "Accuracy" in listing and "by accuracy (higher is better)" in best
    compared = main.mlgate("compare", model, "1", "2")
    assert (compared.returncode == 0 and "rmse" in compared.stdout) or project != "diabetes"


def test_init_floor_fails_a_first_model_no_better_than_the_mean(tmp_path: Path) -> None:
    """Without a champion only the absolute thresholds apply: the floor `init` writes (R² 0.3)
    keeps a model that predicts the training mean (R² about 0) from becoming the first champion."""
    model = "diabetes_model"
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    origin = tmp_path / "origin.git"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    main = clone_of(origin, tmp_path / "work", uri)
    main.git("symbolic-ref", "HEAD", "refs/heads/main")
    shutil.copytree(EXAMPLES / "diabetes" / "data", main.path / "data")
    done = main.mlgate(
        *("init", "--data", "data/diabetes.csv", "--target", "progression"),
        *("--model-name", model, "--action", f"acme/mlgate@{'0' * 40}"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _set_model(main, "sklearn.dummy.DummyRegressor")
    main.commit_all("mlgate init with a constant model")

    out = tmp_path / "github_output"
    out.write_text("")
    released = main.mlgate("release", "--before", NULL_SHA, GITHUB_OUTPUT=str(out))
    assert released.returncode == 1, released.stdout + released.stderr
    # It says what it trained and registered, as `train` does, then why it is not released.
    assert released.stdout.startswith(f"Registered {model} v1 (stage: None)\n"), released.stdout
    assert "FAIL threshold.r2" in released.stdout
    assert outputs(out) == {"changed": "false", "champion_version": "", "action": "rejected"}
    client = _client(uri)
    assert client.get_registered_model(model).aliases == {}
