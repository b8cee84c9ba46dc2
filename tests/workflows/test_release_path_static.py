"""Static checks of the release path: one list of training inputs, a card job that holds no
registry secret and runs no checkout code, hash-pinned installers and build backend, and a merge
queue that gates without the PR credential. The act tests (test_lifecycle.py) run the same
workflows; these catch a drift that no run would show."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml

from mlgate import scaffold
from mlgate.config import load_params, parse_params
from mlgate.fingerprint import input_paths

REPO = Path(__file__).resolve().parents[2]


def github_glob(pattern: str) -> re.Pattern[str]:
    """A `paths:` / `paths-ignore:` pattern as GitHub matches it: `**` crosses directories,
    `*` and `?` do not."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def starts_a_run(push: dict, path: str) -> bool:
    """Whether a push that changes only `path` starts the workflow with this `push:` trigger."""
    if "paths" in push:
        return any(github_glob(p).match(path) for p in push["paths"])
    return not any(github_glob(p).match(path) for p in push.get("paths-ignore") or [])


def push_trigger(text: str) -> dict:
    data = yaml.safe_load(text)
    return data.get(True, data.get("on"))["push"]


def test_github_glob_follows_githubs_rules():
    assert github_glob("src/**").match("src/mlgate/train.py")
    assert not github_glob("src/*").match("src/mlgate/train.py")
    assert github_glob("**/*.md").match("README.md") and github_glob("**/*.md").match("a/b.md")
    assert not github_glob("params.yaml").match("examples/params.yaml")


def test_promote_starts_on_exactly_the_files_the_fingerprint_reads():
    """One list: `fingerprint.input_paths` is what the fingerprint hashes and what `mlgate pr`
    diffs; promote.yml's `paths:` must name exactly those files, requirements.lock included (a
    lock bump and its revert reach Production)."""
    paths = push_trigger((REPO / ".github/workflows/promote.yml").read_text())["paths"]
    inputs = input_paths(load_params(REPO / "params.yaml"))
    assert sorted(paths) == sorted(inputs), "promote.yml's paths: and the training inputs differ"
    assert "requirements.lock" in paths


def test_the_readme_names_the_same_training_inputs():
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- training-inputs -->\n(.*?)<!-- /training-inputs -->", readme, re.S)
    assert block, "README: the list of training inputs between its markers is missing"
    named = re.findall(r"^- `([^`]+)`", block.group(1), re.M)
    assert sorted(named) == sorted(input_paths(load_params(REPO / "params.yaml")))


def test_the_promote_workflow_init_writes_starts_on_every_training_input():
    """A project `mlgate init` set up (its own data file, a model class of its own, a lock):
    a push that changes any one of its training inputs starts promote.yml."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        planned = scaffold.plan(root, model_name="churn", action=f"acme/mlgate@{'0' * 40}")
        params_text = next(f.content for f in planned.files if f.path.name == "params.yaml")
        params = parse_params(params_text.replace("random_forest", "models.forest.Forest"), "p")
        promote = next(f for f in planned.files if f.path.name == "promote.yml")
        push = push_trigger(promote.content)
        inputs = input_paths(params)
        assert "models/forest.py" in inputs and "requirements.lock" in inputs
        missed = [p for p in inputs if not starts_a_run(push, p)]
        assert missed == [], f"a change to {missed} starts no release in the template"


def _promote() -> dict:
    return yaml.safe_load((REPO / ".github/workflows/promote.yml").read_text())


def test_the_card_job_holds_no_registry_secret_and_runs_no_checkout_code():
    """The only job that can push holds the push credential and nothing else: no registry
    secret, no Python set up, nothing installed, no mlgate, no interpreter run in the checkout
    (a `yaml.py` or `mlgate/` there would run with the token). The card comes as an artifact
    from the `promote` job."""
    jobs = _promote()["jobs"]
    card = jobs["card"]
    text = yaml.safe_dump(card)
    assert "MLFLOW" not in text and "secrets." in text  # the deploy key, nothing else
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"MODEL_CARD_DEPLOY_KEY"}
    # Its own environment (the deploy key, main only), never `production`'s registry secrets.
    assert card["needs"] == "promote" and card["environment"] == "model-card"
    uses = [str(s.get("uses", "")).split("@")[0] for s in card["steps"]]
    assert uses == ["actions/checkout", "actions/download-artifact", ""]
    script = "\n".join(str(s.get("run", "")) for s in card["steps"])
    for word in ("mlgate", "python", "pip", "uv ", "make", "npm", "bash ", "./", "source "):
        assert word not in script, f"the card job runs {word!r}"
    # The promote job hands over exactly the card file.
    handover = next(s for s in jobs["promote"]["steps"] if s.get("name") == "Hand the card over")
    assert handover["with"]["name"] == "model-card"
    assert handover["with"]["path"] == "model_cards/${{ env.MODEL_NAME }}.md"
    assert card["steps"][1]["with"]["name"] == "model-card"
    assert jobs["promote"]["outputs"]["card"] == "${{ steps.card.outputs.changed }}"


def test_the_release_never_takes_its_rules_from_head_parent():
    """The release step names no HEAD^1 / HEAD~1 and no --policy-from: `mlgate release` takes
    the rules of the last released commit (or the push's `before`) itself."""
    jobs = _promote()["jobs"]
    step = next(s for s in jobs["promote"]["steps"] if s.get("id") == "release")
    assert step["run"].strip() == 'mlgate release --before "$BEFORE_SHA"'
    assert step["env"]["BEFORE_SHA"] == "${{ github.event.before }}"
    text = (REPO / ".github/workflows/promote.yml").read_text()
    assert not re.search(r"HEAD[~^]1?|--policy-from", re.sub(r"#.*", "", text))


def test_merge_queue_runs_gate_without_the_registry_credential():
    """A merge_group run gates queued code in a job-local registry: each registry secret
    reaches the gate step only for a pull_request event."""
    pr = yaml.safe_load((REPO / ".github/workflows/pr.yml").read_text())
    step = next(s for s in pr["jobs"]["gate"]["steps"] if s.get("id") == "gate")
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        assert step["env"][name] == (
            f"${{{{ github.event_name == 'pull_request' && secrets.{name} || '' }}}}"
        )
    text = yaml.safe_dump(pr["jobs"]["gate"])
    assert text.count("secrets.") == 3


def _hashed_pins(path: Path) -> dict[str, int]:
    """name==version -> number of hashes, for each requirement of a hash-pinned file."""
    pins: dict[str, int] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+==\S+)", line):
            current = match.group(1)
            pins[current] = 0
        elif "--hash=sha256:" in line and current:
            pins[current] += 1
    return pins


def test_uv_the_postgres_driver_and_the_build_backend_are_pinned_with_hashes():
    uv = _hashed_pins(REPO / "requirements-uv.lock")
    assert list(uv) == ["uv==0.13.9"] and uv["uv==0.13.9"] > 1
    driver = _hashed_pins(REPO / ".ci" / "requirements-postgres.lock")
    assert [p.split("==")[0] for p in driver] == ["psycopg2-binary"] and all(driver.values())
    run = (REPO / ".ci" / "run").read_text()
    assert "pip install -q --require-hashes -r .ci/requirements-postgres.lock" in run
    assert "psycopg2-binary;" not in run and "install -q psycopg2" not in run
    # The build backend pyproject.toml asks for is in both locks, so `--no-build-isolation`
    # builds mlgate with the locked one.
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert (
        pyproject["build-system"]["requires"]
        == pyproject["project"]["optional-dependencies"]["build"]
    )
    for lock in ("requirements.lock", "requirements-test.lock"):
        setuptools = [p for p in _hashed_pins(REPO / lock) if p.startswith("setuptools==")]
        assert len(setuptools) == 1, f"{lock}: setuptools (the build backend) is not locked"
        assert int(setuptools[0].split("==")[1].split(".")[0]) >= 77


def test_threat_table_names_tests_that_exist():
    """docs/github-setup.md, section 9: every row names a defence and the tests that hold it;
    each named test must exist here, so a renamed or deleted check shows up as a stale row."""
    guide = (REPO / "docs" / "github-setup.md").read_text()
    table = re.search(r"<!-- threats -->\n(.*?)<!-- /threats -->", guide, re.S)
    assert table, "docs/github-setup.md: the threat table between its markers is missing"
    rows = [r for r in table.group(1).splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert len(rows) >= 8
    defined = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.M))
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5 and all(cells[2:4]), f"incomplete row: {row}"
        named = re.findall(r"`(test_\w+)`", cells[4])
        assert named, f"no test named for: {cells[0]}"
        assert set(named) <= defined, f"{cells[0]}: no such test {set(named) - defined}"
