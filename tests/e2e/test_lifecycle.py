"""The whole lifecycle on a real git repository and a real registry, driven by the `mlgate` script.

main's first push releases v1; a PR trains and gates v2 and its merge releases it; reverting the
merge restores v1 without retraining; a docs-only commit and every re-run change nothing; manual
rollbacks step through the history. After each release the served model (`@champion` and the
`Production` stage) is the released version and predicts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..conftest import FAST_MODEL
from .gitrepo import NULL_SHA, Clone, make_origin

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"
CARD = Path("model_cards") / f"{MODEL}.md"


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def registry_state(uri: str) -> dict:
    """Everything a release may change: stages, version tags and descriptions, aliases and
    model tags."""
    client = _client(uri)
    model = client.get_registered_model(MODEL)
    versions = {
        str(v.version): (v.current_stage, dict(v.tags), v.description)
        for v in client.search_model_versions(f"name = '{MODEL}'")
    }
    aliases = {a: str(v) for a, v in model.aliases.items()}
    return {"versions": versions, "aliases": aliases, "tags": dict(model.tags)}


def stages(uri: str) -> dict[str, str]:
    return {v: s for v, (s, _, _) in registry_state(uri)["versions"].items()}


def champion_moves(uri: str) -> list[dict]:
    import json

    tags = registry_state(uri)["tags"]
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith("mlgate.history.")]


def assert_serves(uri: str, version: str, frame) -> None:
    """`models:/<name>@champion` and `models:/<name>/Production` load `version` and predict."""
    import mlflow
    import mlflow.pyfunc

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    run_id = _client(uri).get_model_version(MODEL, version).run_id
    for uri_ in (f"models:/{MODEL}@champion", f"models:/{MODEL}/Production"):
        model = mlflow.pyfunc.load_model(uri_)
        assert model.metadata.run_id == run_id, uri_
        assert len(model.predict(frame)) == len(frame)


def outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's `key<<delimiter` blocks as a dict (the last value of a key wins)."""
    found = re.findall(r"^(\w+)<<(\S+)\n(.*?)\n\2$", path.read_text(), flags=re.M | re.S)
    return {key: value for key, _, value in found}


def release(clone: Clone, tmp_path: Path, *args: str) -> tuple[str, dict[str, str]]:
    out = tmp_path / "github_output"
    out.write_text("")
    result = clone.mlgate("release", *args, GITHUB_OUTPUT=str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, outputs(out)


def commit_card(clone: Clone, version: str) -> str:
    """What promote.yml does after a release: commit the card back to main."""
    clone.git("add", "--", "model_cards")
    clone.git("commit", "-q", "-m", f"model card: {MODEL} v{version}")
    clone.git("push", "-q", "origin", "HEAD:main")
    return clone.head()


def test_merge_revert_rollback_lifecycle(tmp_path: Path) -> None:
    import pandas as pd

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    frame = pd.read_csv(main.path / "data" / "obesity.csv").head(5).drop(columns=["NObeyesdad"])

    # 1. First push to main (GitHub's `before` is all zeros): train, gate, v1 champion.
    text, out = release(main, tmp_path, "--before", NULL_SHA)
    assert out == {"changed": "true", "champion_version": "1", "action": "promoted"}
    assert f"{MODEL}: v1 is champion (was no champion): promoted" in text
    assert stages(uri) == {"1": "Production"}
    assert registry_state(uri)["aliases"] == {"champion": "1"}
    card = (main.path / CARD).read_text()
    assert card.startswith(f"---\nmodel_name: {MODEL}\nversion: '1'\nstage: Production\n")
    assert "## Comparison with the previous champion\n\nNone: this is the first champion." in card
    assert _client(uri).get_model_version(MODEL, "1").description.startswith("---\nmodel_name:")
    assert_serves(uri, "1", frame)
    card_commit = commit_card(main, "1")

    # 2. A PR changes the model's params: the PR job trains and gates v2 (aliases pr-7, challenger).
    main.git("checkout", "-q", "-b", "tune-forest")
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 60})
    main.commit_all("Tune the forest: 60 trees")
    assert main.mlgate("train", "--pr-number", "7").returncode == 0
    gated = main.mlgate("gate", "--pr-number", "7")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert registry_state(uri)["aliases"] == {"champion": "1", "challenger": "2", "pr-7": "2"}
    main.git("checkout", "-q", "main")
    main.git(
        "merge", "-q", "--no-ff", "tune-forest", "-m", "Merge pull request #7 from tune-forest"
    )
    merge = main.head()
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "true", "champion_version": "2", "action": "promoted"}
    # Gated again here: the PR job's verdict tags are not trusted by the production job.
    assert "mlgate gate: PASS" in text
    assert stages(uri) == {"1": "Archived", "2": "Production"}
    assert registry_state(uri)["aliases"] == {"champion": "2"}
    card = (main.path / CARD).read_text()
    assert "\nversion: '2'\n" in card and "# Model card: obesity_classifier v2" in card
    assert "## Comparison with v1 (previous champion)" in card
    assert "Last verdict: **pass** against v1" in card
    assert_serves(uri, "2", frame)
    card_commit = commit_card(main, "2")

    # 3. Revert the merge: v1 comes back as a rollback, without training or a gate.
    main.git("revert", "--no-edit", "-m", "1", merge)
    revert = main.head()
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "true", "champion_version": "1", "action": "rolled_back"}
    assert stages(uri) == {"1": "Production", "2": "Archived"}
    assert registry_state(uri)["aliases"] == {"champion": "1"}
    last = champion_moves(uri)[-1]
    assert (last["kind"], last["from_version"], last["to_version"]) == ("rollback", "2", "1")
    assert last["commit"] == revert and last["actor"] == "Ada Lovelace"
    card = (main.path / CARD).read_text()
    assert "## Comparison with v2 (previous champion)" in card
    assert "Restored by a rollback, without a new gate" in card
    assert_serves(uri, "1", frame)
    card_commit = commit_card(main, "1")

    # 4. A docs-only commit changes nothing; re-running a release changes nothing either.
    before = registry_state(uri)
    card = (main.path / CARD).read_text()
    (main.path / "README.md").write_text("# obesity classifier\n\nSee the model card.\n")
    docs = main.commit_all("Docs: point at the model card")
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "false", "champion_version": "1", "action": "nothing"}
    assert "training inputs unchanged since" in text
    # `--before` is a fallback: the last released commit (the revert) is what counts.
    text, out = release(main, tmp_path, "--before", merge)
    assert out == {"changed": "false", "champion_version": "1", "action": "nothing"}
    assert f"training inputs unchanged since {revert[:12]}" in text
    assert registry_state(uri) == before
    assert (main.path / CARD).read_text() == card
    assert main.git("status", "--porcelain") == ""

    # 5. Manual rollbacks step through the history; `history` shows every move.
    listing = main.mlgate("history", MODEL)
    assert listing.returncode == 0
    rows = listing.stdout.splitlines()[2:]
    assert len(rows) == 3
    assert "@champion v2 → v1" in rows[2] and "rollback" in rows[2] and revert[:12] in rows[2]
    again = main.mlgate("rollback", MODEL, "--to", "2", "--reason", "re-apply the tuning")
    assert again.returncode == 0, again.stderr
    assert registry_state(uri)["aliases"] == {"champion": "2"}
    state = registry_state(uri)
    assert main.mlgate("rollback", MODEL, "--to", "2", "--reason", "re-apply").returncode == 0
    assert registry_state(uri) == state  # already champion: nothing written
    back = main.mlgate("rollback", MODEL, "--reason", "tuning regressed in production")
    assert back.returncode == 0, back.stderr
    assert f"{MODEL}: v1 is champion (was v2)" in back.stdout
    assert stages(uri) == {"1": "Production", "2": "Archived"}
    state = registry_state(uri)
    first = main.mlgate("rollback", MODEL, "--reason", "further back")
    assert first.returncode == 2
    assert "v1 is the earliest champion in the history: nothing to roll back to" in first.stderr
    assert registry_state(uri) == state
    assert [(m["kind"], m["from_version"], m["to_version"]) for m in champion_moves(uri)] == [
        ("release", None, "1"),
        ("release", "1", "2"),
        ("rollback", "2", "1"),
        ("rollback", "1", "2"),
        ("rollback", "2", "1"),
    ]
    assert_serves(uri, "1", frame)
    assert main.head() == docs and len(registry_state(uri)["versions"]) == 2


def test_lock_bump_merged_then_reverted_restores_the_old_champion(tmp_path: Path) -> None:
    """A lock change to a package that shapes the model is a training-input change: its PR
    trains and gates a new version, its merge releases it, and its revert brings the previous
    champion back without training. The bumped line is one whose marker does not apply to this
    interpreter (numpy for the other side of Python 3.14), so the installed packages still match
    the lock and nothing warns: what changed is only what the fingerprint reads."""
    import sys

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    _, out = release(main, tmp_path, "--before", NULL_SHA)
    assert out["champion_version"] == "1"
    start = commit_card(main, "1")

    other_side = "< '3.14'" if sys.version_info >= (3, 14) else ">= '3.14'"
    lock = main.path / "requirements.lock"
    text = lock.read_text()
    bumped = re.sub(
        rf"(?m)^numpy==([^\s;]+)( ; python_full_version {re.escape(other_side)})",
        r"numpy==\1.post1\2",
        text,
    )
    assert bumped != text
    main.git("checkout", "-q", "-b", "bump-numpy")
    lock.write_text(bumped)
    main.commit_all("Bump numpy for Python 3.14")
    trained = main.mlgate("train", "--pr-number", "9")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert trained.stdout.startswith(f"Registered {MODEL} v2 ")  # new inputs: a new version
    assert trained.stderr == ""
    gated = main.mlgate("gate", "--pr-number", "9")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "bump-numpy", "-m", "Merge pull request #9 from bump-numpy")
    merge = main.head()
    _, out = release(main, tmp_path, "--before", start)
    assert out == {"changed": "true", "champion_version": "2", "action": "promoted"}
    card_commit = commit_card(main, "2")

    main.git("revert", "--no-edit", "-m", "1", merge)
    text, out = release(main, tmp_path, "--before", card_commit)
    assert out == {"changed": "true", "champion_version": "1", "action": "rolled_back"}
    assert "mlgate gate:" not in text
    assert sorted(registry_state(uri)["versions"]) == ["1", "2"]  # nothing retrained
    assert stages(uri) == {"1": "Production", "2": "Archived"}
