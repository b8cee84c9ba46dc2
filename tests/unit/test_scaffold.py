import subprocess
from pathlib import Path

import pytest
import yaml

from mlgate import scaffold, schema
from mlgate.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def test_shipped_workflows_are_the_repositorys_own():
    shipped = REPO / "src" / "mlgate" / "templates" / "workflows"
    assert sorted(p.name for p in shipped.iterdir()) == sorted(scaffold.WORKFLOWS)
    assert sorted(p.name for p in (REPO / ".github" / "workflows").glob("*.yml")) == sorted(
        scaffold.WORKFLOWS
    )
    for name in scaffold.WORKFLOWS:
        ours = (REPO / ".github" / "workflows" / name).read_bytes()
        assert scaffold.template(f"workflows/{name}").encode() == ours, (
            f"src/mlgate/templates/workflows/{name} differs from .github/workflows/{name}: copy it"
        )


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
    # The workflows are mlgate's own, with the project's model name.
    for name in scaffold.WORKFLOWS:
        ours = (REPO / ".github" / "workflows" / name).read_text()
        theirs = (repo / ".github" / "workflows" / name).read_text()
        model = yaml.safe_load(ours).get("env", {}).get("MODEL_NAME")
        assert theirs == (ours.replace(model, "churn_model") if model else ours)
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
