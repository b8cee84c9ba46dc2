"""The gate scores both models only on rows neither trained on, through `mlgate train` and
`mlgate gate` on a real sqlite registry.

A stratified shuffle split of a different row set (another `random_state`, rows appended to the
data file) sends rows the champion trained on into the new holdout; scored on them, the
champion looks better than it is and an equal challenger fails. These tests change the split or
the data the way a user would and check the verdict through the CLI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import FAST_MODEL, copy_project_inputs, set_model_params
from ..helpers import copy_project_registry

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"
DEGRADED = {"n_estimators": 3, "max_depth": 3, "random_state": 42}


def _set(root: Path, section: str, **values: object) -> None:
    path = root / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section].update(values)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _train(root: Path) -> str:
    result = CliRunner().invoke(main, ["train", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["version"])


def _gate(root: Path) -> tuple[int, dict]:
    out = root / "gate.json"
    result = CliRunner().invoke(main, ["gate", "--json", str(out)])
    assert out.exists(), result.output
    return result.exit_code, json.loads(out.read_text())


def _make_champion(version: str) -> None:
    from mlflow.tracking import MlflowClient

    uri = os.environ["MLFLOW_TRACKING_URI"]
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        MODEL, "champion", version
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1, the champion: FAST_MODEL on the data file's stratified split, random_state 42."""
    root = tmp_path_factory.mktemp("clean-rows") / "project"
    root.mkdir()
    copy_project_inputs(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
            mp.delenv(key, raising=False)
        set_model_params(root, **FAST_MODEL)
        # The tests' policy, written out so they do not depend on the repository's defaults.
        _set(
            root,
            "gate",
            mode="enabled",
            margin=0.03,
            evidence="cv",
            on_inconclusive="fail",
            max_latency_ratio=1000,
        )
        _make_champion(_train(root))
    return root


@pytest.fixture
def champion(project: Path, template: Path) -> Path:
    return copy_project_registry(template, project)


def test_same_model_on_a_reshuffled_split_is_not_failed(champion: Path) -> None:
    _set(champion, "data", random_state=7)
    _train(champion)
    code, verdict = _gate(champion)
    assert (code, verdict["verdict"]) == (0, "pass"), verdict["checks"]
    holdout = verdict["holdout"]
    # About 80 % of the new holdout trained the champion; only the rest is compared.
    assert holdout["n_clean"] < 0.4 * holdout["n_rows"]
    assert "were in the champion's training rows" in holdout["why_fewer"]
    # Too few clean rows to vouch for the margin: the two recipes (identical here) were
    # cross-validated over the whole file, and that settled it.
    decision = verdict["decision"]
    assert (decision["holdout"]["verdict"], decision["decided_by"]) == ("inconclusive", "cv")
    assert decision["cv"]["n_rows"] > 4 * holdout["n_rows"]  # every row of the file


def test_rows_appended_to_the_data_file_are_not_failed(champion: Path) -> None:
    """v1 trained on 85 % of the rows; v2, the same model, on the whole file (the rows appended
    are a random 15 %: the file itself is ordered by class, so its tail is not a refresh but a
    class the champion never saw). Cross-validation compares v1's recipe, on its own rows, with
    v2's: the refresh passes on evidence, not because both were retrained on one file."""
    path = champion / "data" / "obesity.csv"
    full = pd.read_csv(path).sample(frac=1.0, random_state=0)
    full.iloc[: int(0.85 * len(full))].to_csv(path, index=False)
    _make_champion(_train(champion))
    full.to_csv(path, index=False)
    _train(champion)
    code, verdict = _gate(champion)
    assert (code, verdict["verdict"]) == (0, "pass"), verdict["checks"]
    assert verdict["holdout"]["n_clean"] < verdict["holdout"]["n_rows"]
    cv = verdict["decision"]["cv"]
    if cv is not None:  # scored on the rows both files have: the champion's, not the new ones
        assert cv["n_rows"] < 0.9 * len(full.drop_duplicates())


def test_a_clearly_worse_model_on_a_reshuffled_split_still_fails(champion: Path) -> None:
    _set(champion, "data", random_state=7)
    set_model_params(champion, **DEGRADED)
    _train(champion)
    code, verdict = _gate(champion)
    assert (code, verdict["verdict"]) == (1, "fail")
    assert verdict["decision"]["verdict"] == "fail"


def _aliases() -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    uri = os.environ["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return {a: str(v) for a, v in client.get_registered_model(MODEL).aliases.items()}


@pytest.mark.parametrize(
    ("policy", "code", "aliases"),
    [("fail", 1, {"champion"}), ("warn", 0, {"champion"}), ("pass", 0, {"champion", "challenger"})],
)
def test_what_an_inconclusive_holdout_does_follows_the_policy(
    champion: Path, policy: str, code: int, aliases: set[str]
) -> None:
    """Holdout evidence only: ~85 clean rows cannot vouch for a 3-point margin."""
    _set(champion, "data", random_state=7)
    _set(champion, "gate", evidence="holdout", on_inconclusive=policy)
    _train(champion)
    exit_code, verdict = _gate(champion)
    assert (exit_code, verdict["verdict"]) == (code, "inconclusive"), verdict["checks"]
    assert "clean holdout rows" in verdict["decision"]["settle"]
    assert set(_aliases()) == aliases
    report = CliRunner().invoke(main, ["gate", "--report", "gate.md"])
    assert report.exit_code == code
    text = (champion / "gate.md").read_text()
    assert f"the gate is inconclusive for challenger v2 (`gate.on_inconclusive: {policy}`" in text
    assert "What would settle it: about" in text


def test_a_change_that_relabels_the_champion_s_training_rows_is_blocked(champion: Path) -> None:
    """20 % of the rows the champion trained on moved to a neighbouring class, nothing else
    changed. Cross-validation trains each recipe on its own labels (not both on the PR's file,
    where the data-only change would compare exactly equal) and scores only rows both files
    agree on; the report's headline says the change relabels rows."""
    import numpy as np

    from mlgate import data as data_mod
    from mlgate.config import load_params
    from mlgate.rows import row_hashes

    params = load_params(str(champion / "params.yaml"))
    path = champion / "data" / "obesity.csv"
    split = data_mod.holdout(params.data, str(path)).split
    frame = pd.read_csv(path)
    target = params.data.target
    features = [c for c in frame.columns if c != target]
    trained = np.isin(row_hashes(frame, features), row_hashes(split.X_train, features))
    classes = list(params.data.schema.column(target).values)
    rng = np.random.default_rng(0)
    chosen = rng.choice(np.flatnonzero(trained), size=int(0.2 * trained.sum()), replace=False)
    frame.loc[chosen, target] = [
        classes[(classes.index(v) + 1) % len(classes)] for v in frame.loc[chosen, target]
    ]
    frame.to_csv(path, index=False)
    _train(champion)
    code, verdict = _gate(champion)
    assert code == 1 and verdict["verdict"] in ("fail", "inconclusive"), verdict["checks"]
    result = CliRunner().invoke(main, ["gate", "--report", "gate.md"])
    assert result.exit_code == 1
    text = (champion / "gate.md").read_text()
    headline = next(line for line in text.splitlines() if line.startswith("## "))
    assert f"this change relabels {len(chosen)} rows of the champion's data" in headline
    assert f"{len(chosen)} rows relabelled (disputed" in text
    decision = verdict["decision"]
    if decision["cv"] is not None:  # scored only on rows both files agree on
        assert decision["cv"]["n_rows"] == len(frame) - len(chosen)
        assert decision["verdict"] != "pass"
