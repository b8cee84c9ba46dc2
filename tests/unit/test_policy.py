"""policy.binding: the base's rules judge; the tree's changes are listed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlgate.config import GateConfig, load_params
from mlgate.errors import UsageError
from mlgate.policy import binding

from ..conftest import REPO


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "t")
    _git(root, "config", "user.email", "t@example.org")
    _git(root, "config", "commit.gpgsign", "false")
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "src" / "mlgate").mkdir(parents=True)
    (root / "src" / "mlgate" / "gate.py").write_text("# the gate\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def _edit(root: Path, section: str, **values: object) -> None:
    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw[section].update(values)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def test_the_base_rules_judge_and_the_changes_are_listed(repo: Path) -> None:
    _edit(repo, "gate", margin=1.0, thresholds={"accuracy": 0.1})
    _edit(repo, "promotion", champion_alias="prod")
    (repo / "src" / "mlgate" / "gate.py").write_text("# always pass\n")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "pr.yml").write_text("name: pr\n")
    tree = load_params(repo / "params.yaml")

    judged, change = binding(tree, "HEAD", repo, str(repo / "params.yaml"))

    base = load_params(REPO / "params.yaml")
    assert judged.gate == base.gate and judged.promotion == base.promotion
    assert judged.model == tree.model and judged.data == tree.data
    assert change.settings == (
        ("gate.margin", 0.03, 1.0),
        ("gate.thresholds", {"accuracy": 0.85, "f1_macro": 0.85}, {"accuracy": 0.1}),
        ("promotion.champion_alias", "champion", "prod"),
    )
    assert change.files == (".github/workflows/pr.yml", "src/mlgate/gate.py")
    assert change.changed and change.gate_settings_changed and change.new_gate == tree.gate
    assert change.describe().startswith(
        "this change modifies the rules that judge it: policy gate.margin 0.03 → 1,"
        " gate.thresholds {accuracy: 0.85, f1_macro: 0.85} → {accuracy: 0.1},"
        " promotion.champion_alias champion → prod; gate code or workflows"
        " (.github/workflows/pr.yml, src/mlgate/gate.py)."
    )


def test_an_unchanged_policy_is_not_flagged(repo: Path) -> None:
    _edit(repo, "model", estimator="extra_trees")  # a training input, not a rule
    judged, change = binding(load_params(repo / "params.yaml"), "HEAD", repo)
    assert not change.changed and judged.model.estimator == "extra_trees"


def test_a_base_without_params_yaml_judges_with_the_defaults(repo: Path) -> None:
    _git(repo, "checkout", "-q", "--orphan", "empty")
    _git(repo, "rm", "-q", "-r", "--cached", ".")
    (repo / "README.md").write_text("x\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "empty")
    judged, change = binding(load_params(repo / "params.yaml"), "empty", repo)
    assert judged.gate == GateConfig()
    assert change.source == "mlgate's defaults: params.yaml does not exist there"


def test_an_unknown_revision_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match=r"--policy-from 'nope': no such commit in .*; fetch it"):
        binding(load_params(repo / "params.yaml"), "nope", repo)


def test_a_change_cannot_trust_a_type_for_its_own_model(repo: Path) -> None:
    """Stored models are loaded with the base's model.trusted_types (challenge.binding_trust);
    the change's own addition is listed as a policy change."""
    from mlgate.challenge import binding_trust

    _edit(repo, "model", trusted_types=["models.mine.Mine"])
    tree = load_params(repo / "params.yaml")

    judged, change = binding(tree, "HEAD", repo, str(repo / "params.yaml"))

    assert judged.model.trusted_types == ("models.mine.Mine",)  # training still uses the tree's
    assert binding_trust(judged, change) == ()
    assert binding_trust(judged, None) == ("models.mine.Mine",)
    assert ("model.trusted_types", [], ["models.mine.Mine"]) in change.settings
    assert "policy model.trusted_types [] → ['models.mine.Mine']" in change.describe()
