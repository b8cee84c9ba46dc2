import re
import subprocess
from pathlib import Path

import pytest
import yaml

from mlgate import scaffold, schema
from mlgate.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PIN_REF = "acme/mlgate@0123456789abcdef0123456789abcdef01234567"


def _steps(workflow: dict) -> dict[tuple[str, str], dict]:
    return {
        (job, step.get("name") or step.get("uses", "")): step
        for job, body in workflow["jobs"].items()
        for step in body.get("steps", [])
    }


PIN = scaffold.Action("acme/mlgate", "0123456789abcdef0123456789abcdef01234567", "0.1.0")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(#.*)?$", re.MULTILINE)


def test_workflows_call_the_action_pinned_by_commit_with_its_version():
    """Every `uses:` is a full commit SHA with its tag in a comment (Dependabot's format), every
    job's mlgate step is the action given, and nothing of mlgate's own repository is named."""
    for name in scaffold.WORKFLOWS:
        text = scaffold.workflow(name, PIN)
        for own in ("src/mlgate", ".ci/", "requirements-test.lock", "obesity", "pyproject", "@@"):
            assert own not in text, f"{name} names {own!r}, a part of mlgate's own repository"
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}
        pins = USES.findall(text)
        assert pins, name
        for uses, comment in pins:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), (name, uses)
            assert re.fullmatch(r"# v\d+\.\d+\.\d+", comment or ""), (name, uses, comment)
        assert f"uses: acme/mlgate@{PIN.commit} # v0.1.0\n" in text
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        assert all("run" not in s for s in steps), f"{name}: the steps belong in the action"
    promote = yaml.safe_load(scaffold.workflow("promote.yml", PIN))
    assert "paths" not in promote[True]["push"]  # a user's training inputs can be anywhere
    assert promote[True]["push"]["paths-ignore"] == ["model_cards/**", "**/*.md"]


def test_all_the_yaml_a_user_commits_is_short(repo):
    """What a team reviews and keeps: the workflows and params.yaml (inferred from a CSV with
    eleven columns), at most 200 lines that are neither blank nor comments."""
    planned = scaffold.plan(
        repo, data=repo / "data" / "diabetes.csv", target="progression", action=PIN_REF
    )
    lines = [
        line
        for f in planned.files
        if f.path.suffix == ".yml" or f.path.name == "params.yaml"
        for line in f.content.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert 50 < len(lines) <= 200, len(lines)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("acme/mlgate@v0.1.0", "pin the action to a full commit SHA"),
        ("acme/mlgate", "pin the action to a full commit SHA"),
        (f"acme@{'a' * 40}", "pin the action to a full commit SHA"),
        (None, "this mlgate build records no repository and commit"),
    ],
)
def test_the_action_is_pinned_by_full_commit_only(repo, monkeypatch, given, message):
    from mlgate import provenance

    monkeypatch.setattr(provenance, "built_from", lambda: None)
    with pytest.raises(UsageError, match=message):
        scaffold.plan(repo, action=given)
    assert not (repo / "params.yaml").exists()


def test_the_default_pin_is_the_commit_this_mlgate_was_built_from(repo, monkeypatch):
    from mlgate import __version__, provenance

    monkeypatch.setattr(provenance, "built_from", lambda: PIN_REF)
    planned = scaffold.plan(repo)
    assert planned.action == scaffold.Action("acme/mlgate", PIN.commit, __version__)


def _shape(value):
    """A trigger block without its words (descriptions, defaults): what GitHub acts on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k not in ("description", "default")}
    return value


def test_workflows_keep_the_security_shape_of_mlgates_own():
    """Every job's permissions, environment, condition and dependencies, and every workflow's
    triggers, are those of the workflows mlgate runs for itself."""
    for name in scaffold.WORKFLOWS:
        ours = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
        theirs = yaml.safe_load(scaffold.workflow(name, PIN))
        if name == "ci.yml":  # mlgate's own tests and lint are not the project's
            assert set(theirs["jobs"]) == {"data"}
            assert theirs["jobs"]["data"]["permissions"] == {"contents": "read"}
            continue
        assert set(theirs["jobs"]) == set(ours["jobs"]), name
        for job, body in ours["jobs"].items():
            for key in ("permissions", "environment", "if", "needs"):
                assert theirs["jobs"][job].get(key) == body.get(key), (name, job, key)
        ours_on, theirs_on = ours[True], theirs[True]
        if name == "promote.yml":  # a user's training inputs can be anywhere
            ours_on = {**ours_on, "push": {"branches": ours_on["push"]["branches"]}}
            theirs_on = {**theirs_on, "push": {"branches": theirs_on["push"]["branches"]}}
        assert _shape(theirs_on) == _shape(ours_on), name
        if name != "pr-comment.yml":  # the comment job checks out nothing, so runs no ./
            own = [s for body in ours["jobs"].values() for s in body["steps"]]
            assert any(s.get("uses") == "./" for s in own), f"mlgate's own {name} uses ./"


def test_the_action_refuses_a_model_name_that_is_not_a_plain_name(tmp_path):
    """The action's run script reads the model's name from params.yaml and checks it before it
    reaches a command line (run as Actions would: bash, GITHUB_OUTPUT a file)."""
    import os
    import sys

    (tmp_path / "params.yaml").write_text("mlflow: {registered_model_name: 'a; rm -rf x'}\n")
    output = tmp_path / "out"
    env = {
        **os.environ,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTION_PATH": str(REPO),
        "COMMAND": "rollback",
        "GITHUB_REF": "refs/heads/main",
        "PARAMS": "params.yaml",
        "REASON": "why",
        "VERSION": "",
        "MLFLOW_TRACKING_URI": "sqlite:///never.db",
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", str(REPO / "action" / "run.sh")],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    assert "registered_model_name in params.yaml must be letters, digits" in done.stdout
    assert output.read_text() == "exit_code=2\n"
    assert not (tmp_path / "never.db").exists()


def test_the_written_workflows_and_the_action_pass_the_security_audit(tmp_path):
    import os
    import sys

    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name in scaffold.WORKFLOWS:
        (folder / name).write_text(scaffold.workflow(name, PIN))
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    zizmor = Path(sys.executable).parent / "zizmor"
    for target in (folder, REPO / "action.yml"):
        done = subprocess.run(
            [str(zizmor), "--offline", "--persona", "pedantic", str(target)],
            env=env,
            text=True,
            capture_output=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "churn"
    (root / "data").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "data" / "diabetes.csv").write_bytes(
        (EXAMPLES / "diabetes" / "data" / "diabetes.csv").read_bytes()
    )
    (root / ".gitignore").write_text("secrets.env\n*.log")  # no trailing newline
    return root


def test_init_writes_params_workflows_cards_and_gitignore(repo):
    planned = scaffold.plan(
        repo, data=repo / "data" / "diabetes.csv", target="progression", action=PIN_REF
    )
    assert planned.model_name == "churn_model"
    written = scaffold.apply(planned)
    assert {(str(f.path), f.action) for f in written} == {
        ("params.yaml", "create"),
        (".github/workflows/ci.yml", "create"),
        (".github/workflows/pr.yml", "create"),
        (".github/workflows/pr-comment.yml", "create"),
        (".github/workflows/promote.yml", "create"),
        ("model_cards/README.md", "create"),
        (".gitignore", "update"),
    }
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["mlflow"]["registered_model_name"] == "churn_model"
    assert params["data"]["path"] == "data/diabetes.csv"
    assert params["gate"]["primary_metric"] == "rmse"
    inferred = schema.parse(params["data"])
    assert inferred.task == "regression"
    assert inferred.column("bmi") == schema.Column("bmi", "numeric", 15, 45)
    for name in scaffold.WORKFLOWS:
        assert (repo / ".github" / "workflows" / name).read_text() == scaffold.workflow(
            name, planned.action
        )
    gitignore = (repo / ".gitignore").read_text()
    assert gitignore.startswith("secrets.env\n*.log\n# >>> mlgate\n")
    assert gitignore.endswith("metrics.json\n# <<< mlgate\n")


def test_init_again_changes_nothing_and_never_overwrites(repo):
    scaffold.apply(scaffold.plan(repo, action=PIN_REF))
    again = scaffold.plan(repo, action=PIN_REF)
    assert {f.action for f in again.files} == {"unchanged"}

    (repo / "params.yaml").write_text("# mine\n")
    (repo / ".github" / "workflows" / "pr.yml").unlink()
    changed = scaffold.plan(repo, action=PIN_REF)
    assert changed.conflicts == [Path("params.yaml")]
    with pytest.raises(UsageError) as excinfo:
        scaffold.apply(changed)
    assert str(excinfo.value) == (
        "params.yaml already exist(s) and would change; pass --force to overwrite"
    )
    assert (repo / "params.yaml").read_text() == "# mine\n"
    assert not (repo / ".github" / "workflows" / "pr.yml").exists()  # nothing was written

    scaffold.apply(changed, force=True)
    assert (repo / "params.yaml").read_text() != "# mine\n"
    assert (repo / ".github" / "workflows" / "pr.yml").exists()
    assert (repo / ".gitignore").read_text().count("# >>> mlgate") == 1


def test_init_without_data_asks_for_the_schema(repo):
    planned = scaffold.plan(repo, task="regression", action=PIN_REF)
    scaffold.apply(planned)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["data"] == {
        "path": "data/train.csv",
        "task": "regression",
        "test_size": 0.2,
        "random_state": 42,
    }
    steps = scaffold.next_steps(planned)
    assert steps[0].startswith("Describe your data: mlgate data infer-schema --data")
    assert len(steps) == 3
    assert "git add data/train.csv params.yaml .github model_cards .gitignore" in steps[1]
    docs = f"https://github.com/acme/mlgate/blob/{PIN.commit}/docs/github-setup.md"
    for anchor in ("#1-secrets-two-credentials", "#2-the-production-environment"):
        assert f"{docs}{anchor}" in steps[2]
    assert f"{docs}#3-branch-protection-on-main" in steps[2]


@pytest.mark.parametrize(
    ("setup", "kwargs", "message"),
    [
        (lambda root: None, {"data": "data/diabetes.csv"}, "give --data and --target together"),
        (
            lambda root: (root.parent / "outside.csv").write_text("a,b\n1,2\n"),
            {"data": "OUTSIDE", "target": "b"},
            "is outside",
        ),
        (
            lambda root: subprocess.run(["rm", "-rf", str(root / ".git")], check=True),
            {},
            "not the top of a git repository; run 'git init' there first",
        ),
        (lambda root: None, {"model_name": "my model"}, "model name 'my model' must be letters"),
    ],
    ids=["data-without-target", "data-outside", "not-git", "bad-model-name"],
)
def test_init_bad_input(repo, setup, kwargs, message):
    setup(repo)
    if kwargs.get("data") == "OUTSIDE":
        kwargs["data"] = repo.parent / "outside.csv"
    with pytest.raises(UsageError, match=message):
        scaffold.plan(repo, **kwargs, action=PIN_REF)
    assert not (repo / "params.yaml").exists()
