"""Static checks of mlgate's GitHub Action (action.yml, action/*.sh), of the release workflow,
and of every place that tells someone how to install mlgate."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tests.workflows.test_static import EXPRESSION, PINS, USES_LINE

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
# Options whose value is a package name, not something to install (`--reinstall-package mlgate`).
NAME_OPTIONS = {"--reinstall-package", "--upgrade-package", "-P", "--no-binary", "--only-binary"}
INSTALLER = re.compile(r"\b(?:pip|pip3|uv pip|pipx|uv tool)\s+install\b")


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def installs_mlgate_by_name(line: str) -> bool:
    """Whether an install command line asks an index for mlgate by its name, without hashes."""
    if not INSTALLER.search(line) or "--require-hashes" in line:
        return False
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    for before, word in zip(["", *words], words, strict=False):
        name = re.split(r"[=<>~!\[; ]", word, maxsplit=1)[0]
        if name.lower() == "mlgate" and before not in NAME_OPTIONS:
            return True
    return False


def test_the_by_name_check_can_fail():
    assert installs_mlgate_by_name('uv pip install --python "$(command -v python)" "mlgate==0.1.0"')
    assert installs_mlgate_by_name("pip install mlgate")
    assert installs_mlgate_by_name("pipx install 'mlgate[test]>=0.1'")
    assert not installs_mlgate_by_name("pip install --require-hashes -r requirements.txt")
    assert not installs_mlgate_by_name('uv pip install --no-deps --reinstall-package mlgate "$a"')
    assert not installs_mlgate_by_name("uv pip install --no-deps -e .")


def test_nothing_installs_mlgate_from_an_index_by_name_without_a_hash():
    """Workflows, init's templates, the action, the docs and the examples."""
    places = [
        *(REPO / ".github" / "workflows").glob("*.yml"),
        *(REPO / "src" / "mlgate" / "templates").rglob("*"),
        ACTION,
        *(REPO / "action").glob("*"),
        REPO / "README.md",
        *(REPO / "docs").rglob("*.md"),
        *(REPO / "examples").rglob("*.md"),
    ]
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in places
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if installs_mlgate_by_name(line)
    ]
    assert found == []


def test_the_action_pins_every_action_it_calls_to_the_reviewed_commit():
    used = 0
    for number, line in enumerate(ACTION.read_text().splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        used += 1
        action, _, ref = match["target"].partition("@")
        assert action in PINS, f"action.yml:{number}: {action} is not in the reviewed pins"
        tag, sha = PINS[action]
        assert ref == sha and match["rest"].strip() == f"# {tag}", f"action.yml:{number}"
    assert used == sum(1 for step in _action()["runs"]["steps"] if "uses" in step)


def test_the_action_splices_no_expression_into_a_script():
    """Inputs and contexts reach its scripts through env: only; each script is a file."""
    for step in _action()["runs"]["steps"]:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), step["name"]
            assert step["shell"] == "bash", step["name"]


def test_the_action_caches_only_for_pull_requests_under_their_own_key():
    steps = [s for s in _action()["runs"]["steps"] if "actions/cache" in str(s.get("uses"))]
    assert len(steps) == 1
    (cache,) = steps
    assert cache["if"] == "inputs.command == 'pr' && github.event_name == 'pull_request'"
    assert cache["with"]["key"].startswith("mlgate-uv-pr-")
    assert "restore-keys" not in cache["with"]  # no fallback to a key another kind of run wrote


def test_the_action_installs_with_hashes_and_compiles_bytecode():
    script = (REPO / "action" / "install.sh").read_text()
    assert "python -m pip install -q --require-hashes --no-deps -r" in script
    for line in script.splitlines():
        if line.lstrip().startswith("uv_pip install"):
            assert "--require-hashes" in line or "--no-deps --no-build-isolation" in line, line
    assert "--compile-bytecode" in script
    for pinned in ("requirements-uv.lock", "action/build.txt"):
        text = (REPO / pinned).read_text()
        requirements = [ln for ln in text.splitlines() if re.match(r"^[a-z]", ln)]
        assert requirements and all("==" in r for r in requirements), pinned
        assert text.count("--hash=sha256:") >= len(requirements), pinned
    # The build backend a user's lock lacks is the one mlgate's own lock pins.
    build = (REPO / "action" / "build.txt").read_text()
    backend = re.search(r"^setuptools==.*?(?=^\S|\Z)", build, re.M | re.S)
    lock = (REPO / "requirements.lock").read_text()
    assert backend and backend.group(0).split("    #")[0] in lock


def test_release_publishes_by_trusted_publishing_from_a_job_that_runs_no_repository_code():
    release = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    assert release[True] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert build["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert any("attest-build-provenance" in str(s.get("uses")) for s in build["steps"])
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [str(s.get("uses", "")) for s in publish["steps"]]
    assert not any("checkout" in u for u in uses) and not any("run" in s for s in publish["steps"])
    assert uses[-1].startswith("pypa/gh-action-pypi-publish@")
    assert "password" not in str(publish["steps"])  # no token: the OIDC identity is the credential
