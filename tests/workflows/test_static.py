"""Static checks of .github/workflows: the security model of docs/github-setup.md, enforced."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"

# Every action the workflows may use, pinned to the commit of its tag (checked upstream).
PINS = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/setup-python": ("v6.3.0", "ece7cb06caefa5fff74198d8649806c4678c61a1"),
    "actions/upload-artifact": ("v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
    "actions/download-artifact": ("v8.0.1", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"),
    "actions/cache": ("v5.0.5", "27d5ce7f107fe9357f9df03efb73ab90386fccae"),
    "astral-sh/setup-uv": ("v10.0.1", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d"),
    "marocchino/sticky-pull-request-comment": (
        "v3.0.5",
        "5770ad5eb8f42dd2c4f34da00c94c5381e49af88",
    ),
    "peter-evans/find-comment": ("v4.0.0", "b30e6a3c0ed37e7c023ccd3f1db5c6c0b0c23aad"),
    "peter-evans/create-or-update-comment": (
        "v5.0.0",
        "e8674b075228eee787fea43ef493e45ece1004c9",
    ),
    "actions/github-script": ("v8.0.0", "ed597411d8f924073f98dfc5c65a23a2325f34cd"),
    # release.yml: the commits of these tags in the actions' own repositories.
    "actions/attest-build-provenance": ("v4.1.0", "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32"),
    "pypa/gh-action-pypi-publish": ("v1.8.14", "81e9d935c883d0b210363ab89cf05f3894778450"),
}

# The one step that may hold a push credential: the card commit of promote.yml's `card` job.
CARD_STEP = ("promote.yml", "card", "Commit the model card")
# The only findings zizmor may report once inline ignores are switched off, each justified where
# it is ignored.
ALLOWED_IGNORES = {
    ("dangerous-triggers", "pr-comment.yml"),
    # `uses: ./` (mlgate's own action, from the checkout) rather than the newer `$/` form.
    ("self-repository", "pr.yml"),
    ("self-repository", "promote.yml"),
}

USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<target>[^\s#]+)(?P<rest>.*)$")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def _without_tokens() -> dict[str, str]:
    # A token in the environment silently switches zizmor to online audits.
    return {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}


def test_zizmor_offline_reports_no_findings(tool):
    zizmor = tool("zizmor")
    result = subprocess.run(
        [zizmor, "--offline", str(WORKFLOWS_DIR.relative_to(REPO))],
        cwd=REPO,
        env=_without_tokens(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"zizmor findings:\n{result.stdout}\n{result.stderr}"


def _zizmor_findings(tool, *flags: str) -> set[tuple[str, str]]:
    """(finding, workflow file) pairs zizmor reports with these flags, offline."""
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            *flags,
            "--format",
            "json",
            str(WORKFLOWS_DIR.relative_to(REPO)),
        ],
        cwd=REPO,
        env=_without_tokens(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), f"zizmor printed no JSON:\n{result.stderr}"
    seen = set()
    for finding in json.loads(result.stdout):
        where = json.dumps(finding.get("locations", []))
        seen |= {(finding["ident"], w.name) for w in WORKFLOWS_DIR.glob("*.yml") if w.name in where}
    return seen


def test_zizmor_inline_ignores_are_only_the_justified_ones(tool):
    seen = _zizmor_findings(tool, "--no-ignores")
    assert seen <= ALLOWED_IGNORES, (
        f"unexpected (ignored) zizmor findings: {seen - ALLOWED_IGNORES}"
    )


# What the `auditor` persona adds, each explained in docs/github-setup.md, section 8.
AUDITOR_EXPLAINED = {("secrets-outside-env", "pr.yml")}


def test_the_auditor_persona_finds_only_what_the_setup_guide_explains(tool):
    seen = _zizmor_findings(tool, "--persona=auditor")
    assert seen <= AUDITOR_EXPLAINED, f"explain or fix: {seen - AUDITOR_EXPLAINED}"
    guide = (REPO / "docs" / "github-setup.md").read_text()
    assert all(f"`{ident}`" in guide for ident, _ in AUDITOR_EXPLAINED)


def test_workflows_match_the_github_workflow_schema(tool, workflows):
    check = tool("check-jsonschema")
    result = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *(str(w.path) for w in workflows)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


def test_every_action_is_pinned_to_the_reviewed_commit(workflows):
    for wf in workflows:
        pinned_lines = 0
        for number, line in enumerate(wf.text.splitlines(), start=1):
            match = USES_LINE.match(line)
            if not match:
                continue
            pinned_lines += 1
            where = f"{wf.name}:{number}"
            if match["target"] == "./":  # mlgate's own action, from the commit checked out
                continue
            action, _, ref = match["target"].partition("@")
            assert action in PINS, f"{where}: {action} is not in the reviewed pins"
            tag, sha = PINS[action]
            assert re.fullmatch(r"[0-9a-f]{40}", ref), (
                f"{where}: {action}@{ref} is not a commit SHA"
            )
            assert ref == sha, f"{where}: {action} must be pinned to {sha} ({tag}), got {ref}"
            comment = re.match(r"\s*#\s*(\S+)", match["rest"])
            assert comment and comment[1] == tag, f"{where}: the pin needs the comment '# {tag}'"
        in_yaml = sum(1 for step in wf.steps() if "uses" in step.data)
        in_yaml += sum(1 for job in wf.jobs.values() if "uses" in job)
        assert pinned_lines == in_yaml, f"{wf.name}: write each `uses:` on its own line"


def test_top_level_permissions_are_empty(workflows):
    for wf in workflows:
        assert "permissions" in wf.data, f"{wf.name}: set top-level `permissions: {{}}`"
        assert wf.data["permissions"] == {}, f"{wf.name}: top-level permissions must be {{}}"


def test_every_job_has_a_timeout_and_its_own_permissions(workflows):
    for wf in workflows:
        for job_id, job in wf.jobs.items():
            timeout = job.get("timeout-minutes")
            assert isinstance(timeout, int) and timeout > 0, f"{wf.name}:{job_id}: timeout-minutes"
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{wf.name}:{job_id}: grant permissions per job"
            assert "write-all" not in str(permissions), f"{wf.name}:{job_id}: write-all"


def test_no_expression_inside_run_scripts(workflows):
    # Untrusted values (PR number, SHAs, branch names, inputs, step outputs) reach scripts only
    # through `env:`; forbidding every expression keeps that auditable at a glance.
    offenders = []
    for wf in workflows:
        for step in wf.steps():
            script = step.data.get("run") or (step.data.get("with") or {}).get("script") or ""
            offenders += [f"{step.id}: {expr}" for expr in EXPRESSION.findall(script)]
    assert not offenders, "pass these through `env:` instead:\n" + "\n".join(offenders)


def test_untrusted_contexts_reach_steps_only_through_env(workflows):
    untrusted = re.compile(r"github\.event\.|github\.head_ref|\binputs\.|steps\.[\w-]+\.outputs")
    for wf in workflows:
        for step in wf.steps():
            for key, value in step.data.items():
                if key in ("env", "with", "if") or not isinstance(value, str):
                    continue
                assert not untrusted.search(value), f"{step.id}: untrusted expression in `{key}`"


def test_no_checkout_keeps_credentials(workflows):
    checkouts = 0
    for wf in workflows:
        for step in wf.steps():
            if not str(step.data.get("uses", "")).startswith("actions/checkout@"):
                continue
            checkouts += 1
            inputs = step.data.get("with") or {}
            assert inputs.get("persist-credentials") is False, f"{step.id}: persist-credentials"
            assert "ssh-key" not in inputs and "token" not in inputs, f"{step.id}: a credential"
    assert checkouts, "no checkout step found: is the workflow parsing broken?"


def test_the_push_credential_reaches_the_card_step_alone(workflow):
    """The write token and the deploy key are not in the environment while dependencies install
    or models load: only the step that pushes the card receives them."""
    wf = workflow("promote.yml")
    holders = []
    for step in wf.steps():
        text = repr(step.data)
        if "MODEL_CARD_DEPLOY_KEY" in text or "github.token" in text:
            holders.append((wf.name, step.job, step.data.get("name")))
    assert holders == [CARD_STEP]


def test_ci_never_cancels_main_and_runs_in_the_merge_queue(workflow):
    wf = workflow("ci.yml")
    assert "merge_group" in wf.triggers
    assert wf.data["concurrency"]["cancel-in-progress"] == "${{ github.ref != 'refs/heads/main' }}"


def test_a_comment_run_cancels_no_other_run(workflow):
    """One group per triggering run: another PR from the same branch, or a closed PR's run,
    cannot replace a pending comment."""
    concurrency = workflow("pr-comment.yml").data["concurrency"]
    assert concurrency == {
        "group": "pr-comment-${{ github.event.workflow_run.id }}",
        "cancel-in-progress": False,
    }


def test_promote_job_is_serialised_in_the_production_environment(workflow):
    wf = workflow("promote.yml")
    job = wf.jobs["promote"]
    environment = job.get("environment")
    name = environment.get("name") if isinstance(environment, dict) else environment
    assert name == "production"
    concurrency = job.get("concurrency") or wf.data.get("concurrency")
    assert isinstance(concurrency, dict), "promote needs a concurrency group"
    assert concurrency.get("group") == "promote-obesity_classifier"
    assert concurrency.get("cancel-in-progress") is False
    # The job that holds the registry secrets reads only; the `card` job alone may push.
    assert job["permissions"] == {"contents": "read"}
    assert wf.jobs["card"]["permissions"] == {"contents": "write"}
    # No job decides that a push is "not main's tip" and skips its release.
    assert set(wf.jobs) == {"promote", "card"} and "needs" not in job


def test_promote_uses_no_cache(workflow):
    wf = workflow("promote.yml")
    for step in wf.steps():
        uses = str(step.data.get("uses", ""))
        assert not uses.startswith("actions/cache@"), f"{step.id}: no cache in production"
        assert "cache" not in (step.data.get("with") or {}), f"{step.id}: no cache in production"


def test_pr_workflow_has_read_only_jobs(workflow):
    wf = workflow("pr.yml")
    assert set(wf.triggers) == {"pull_request", "merge_group"}
    assert wf.triggers["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    for job_id, job in wf.jobs.items():
        assert job["permissions"] == {"contents": "read"}, f"pr.yml:{job_id}"
    assert wf.data["concurrency"]["cancel-in-progress"] is True


def test_comment_workflow_never_runs_pr_code(workflow):
    wf = workflow("pr-comment.yml")
    assert set(wf.triggers) == {"workflow_run"}
    assert wf.triggers["workflow_run"]["workflows"] == [workflow("pr.yml").data["name"]]
    job = wf.jobs["comment"]
    assert job["permissions"] == {"actions": "read", "checks": "read", "pull-requests": "write"}
    assert "pull_request" in job["if"]
    # workflow_run matches by name, which any PR's workflow can take: the file is checked.
    assert "github.event.workflow_run.path == '.github/workflows/pr.yml'" in job["if"]
    script = next(s for s in wf.steps() if s.data.get("name") == "Validate the report").data
    assert "workflow_run.conclusion" not in repr(script["env"]), "the verdict comes from the API"
    assert "/commits/$RUN_HEAD_SHA/check-runs?check_name=gate" in script["run"]
    uses = [str(step.data.get("uses", "")) for step in wf.steps()]
    assert not any(u.startswith("actions/checkout@") for u in uses)
    sticky = next(s for s in wf.steps() if "sticky-pull-request-comment" in str(s.data.get("uses")))
    assert sticky.data["with"]["header"] == "mlgate-gate"
    assert re.fullmatch(
        r"\$\{\{ steps\.[\w-]+\.outputs\.number \}\}", sticky.data["with"]["number"]
    )


@pytest.mark.parametrize("name", ["ci.yml", "pr.yml", "pr-comment.yml", "promote.yml"])
def test_expected_workflow_exists(workflow, name):
    assert workflow(name).jobs


# `--python` with a path: uv then installs into that interpreter (setup-python's, not a venv);
# given a bare name it would skip interpreters outside a virtual environment.
PYTHON = '--python "$(command -v python)"'
INSTALL_LINES = {
    "python -m pip install --require-hashes -r requirements-uv.lock",
    f"uv pip install {PYTHON} --require-hashes -r requirements.lock",
    f"uv pip install {PYTHON} --require-hashes -r requirements-test.lock",
    f"uv pip install {PYTHON} --no-deps --no-build-isolation .",
}


def test_every_install_is_the_hash_pinned_lockfile(workflows):
    """The canonical install: uv from its hash-pinned lock via pip, then the lockfile with
    hashes, then mlgate itself without dependencies and with the locked build backend (no build
    isolation, which would fetch setuptools unpinned). Nothing else is installed by name."""
    installs = []
    for step in (s for w in workflows for s in w.steps()):
        lines = [ln.strip() for ln in str(step.data.get("run", "")).splitlines()]
        installs += [(step.id, ln) for ln in lines if "install" in ln and not ln.startswith("#")]
    assert installs, "no install step found"
    assert [i for i in installs if i[1] not in INSTALL_LINES] == []


def test_artifact_stand_ins_accept_every_input_the_workflows_pass(workflows):
    """The act tests map these over the pinned artifact actions: an input they did not declare
    would be silently dropped, and the test would not run what the workflow asks."""
    stand_ins = Path(__file__).parent / "stand_ins"
    for step in (s for w in workflows for s in w.steps()):
        action = str(step.data.get("uses", "")).split("@")[0]
        if action in ("actions/upload-artifact", "actions/download-artifact"):
            spec = yaml.safe_load((stand_ins / action.split("/")[1] / "action.yml").read_text())
            assert set(step.data.get("with") or {}) <= set(spec["inputs"]), step.id
