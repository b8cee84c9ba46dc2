import subprocess
from pathlib import Path

import pytest
import yaml

from mlgate import scaffold, schema
from mlgate.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _steps(workflow: dict) -> dict[tuple[str, str], dict]:
    return {
        (job, step.get("name") or step.get("uses", "")): step
        for job, body in workflow["jobs"].items()
        for step in body.get("steps", [])
    }


def test_workflows_suit_a_users_repository_not_mlgates():
    from mlgate import __version__

    for name in scaffold.WORKFLOWS:
        text = scaffold.workflow(name)
        for own in (
            "src/mlgate",
            "src/**",
            ".ci/",
            "requirements-test.lock",
            "--no-deps .",
            "obesity",
            "scripts/**",
            "pyproject.toml",
            "@@",
        ):
            assert own not in text, f"{name} names {own!r}, a part of mlgate's own repository"
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}
        if name == "pr-comment.yml":  # runs no project code and installs nothing
            continue
        assert workflow["env"]["MLGATE_VERSION"] == __version__
        install = [s for s in _steps(workflow).values() if s.get("name") == "Install mlgate"]
        assert install and all(
            '"mlgate==$MLGATE_VERSION"' in s["run"]
            and "if [ -f requirements.lock ]; then" in s["run"]
            and "--require-hashes -r requirements.lock" in s["run"]
            for s in install
        ), name
        assert "MODEL_NAME: " not in str(workflow.get("env")), "the name comes from params.yaml"
    assert scaffold.workflow("pr.yml", "9.9.9").count('MLGATE_VERSION: "9.9.9"') == 1
    promote = yaml.safe_load(scaffold.workflow("promote.yml"))
    assert "paths" not in promote[True]["push"]  # a user's training inputs can be anywhere
    assert promote[True]["push"]["paths-ignore"] == ["model_cards/**", "**/*.md"]


def test_workflows_keep_the_security_shape_of_mlgates_own():
    """Every job's permissions, triggers, environment and `uses:` pins are those of the workflows
    mlgate runs for itself; only the install and the model's name differ."""
    for name in scaffold.WORKFLOWS:
        ours = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
        theirs = yaml.safe_load(scaffold.workflow(name))
        if name == "ci.yml":  # mlgate's own tests and lint are not the project's
            assert set(theirs["jobs"]) == {"data"}
            assert theirs["jobs"]["data"]["permissions"] == {"contents": "read"}
            continue
        assert theirs[True] == ours[True] or name == "promote.yml"
        assert set(theirs["jobs"]) == set(ours["jobs"])
        for job, body in ours["jobs"].items():
            for key in ("permissions", "environment", "if", "needs", "concurrency"):
                if key == "concurrency" and name == "promote.yml":
                    continue  # one champion move at a time per repository, not per model name
                assert theirs["jobs"][job].get(key) == body.get(key), (name, job, key)
        used = {s["uses"] for s in _steps(ours).values() if "uses" in s}
        assert {s["uses"] for s in _steps(theirs).values() if "uses" in s} == used


def test_the_model_name_step_reads_params_yaml(tmp_path):
    """The step the workflows run to learn the model's name, run as Actions would (bash, the
    repository as cwd, GITHUB_OUTPUT a file)."""
    import os
    import sys

    step = _steps(yaml.safe_load(scaffold.workflow("promote.yml")))[
        ("promote", "Read the model's name")
    ]
    (tmp_path / "params.yaml").write_text("mlflow: {registered_model_name: churn_model}\n")
    output = tmp_path / "out"
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, text=True, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "name=churn_model\n"

    (tmp_path / "params.yaml").write_text("mlflow: {registered_model_name: 'a; rm -rf x'}\n")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, text=True, capture_output=True
    )
    assert done.returncode == 2 and "must be letters, digits" in done.stdout


def test_the_written_workflows_pass_the_security_audit(tmp_path):
    import os
    import sys

    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name in scaffold.WORKFLOWS:
        (folder / name).write_text(scaffold.workflow(name))
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    zizmor = Path(sys.executable).parent / "zizmor"
    done = subprocess.run(
        [str(zizmor), "--offline", str(folder)], env=env, text=True, capture_output=True
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
    planned = scaffold.plan(repo, data=repo / "data" / "diabetes.csv", target="progression")
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
        assert (repo / ".github" / "workflows" / name).read_text() == scaffold.workflow(name)
    gitignore = (repo / ".gitignore").read_text()
    assert gitignore.startswith("secrets.env\n*.log\n# >>> mlgate\n")
    assert gitignore.endswith("metrics.json\n# <<< mlgate\n")


def test_init_again_changes_nothing_and_never_overwrites(repo):
    scaffold.apply(scaffold.plan(repo))
    again = scaffold.plan(repo)
    assert {f.action for f in again.files} == {"unchanged"}

    (repo / "params.yaml").write_text("# mine\n")
    (repo / ".github" / "workflows" / "pr.yml").unlink()
    changed = scaffold.plan(repo)
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
    planned = scaffold.plan(repo, task="regression")
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
    assert any("docs/github-setup.md, section 1 'Secrets'" in s for s in steps)
    assert any("docs/github-setup.md, section 2" in s for s in steps)
    assert any("docs/github-setup.md, section 3" in s for s in steps)


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
        scaffold.plan(repo, **kwargs)
    assert not (repo / "params.yaml").exists()
