"""pr.yml's `cleanup` job in act against a registry with access control: a real `mlflow server
--app-name basic-auth` on 127.0.0.1 (docs/deployment.md's setup) is the MLFLOW_TRACKING_URI
secret, and the PR credential is a user of it.

Deleting an alias needs MANAGE on the model; a PR credential with EDIT (enough to register
versions and set `pr-<N>`) is refused, and the job warns instead of going red on every closed
PR. A credential that cannot even read the model still fails the job. Git hosting and the GitHub
API are the stand-ins of tests/workflows/github_api.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FAST_MODEL, MlflowServer
from tests.workflows.engine import Act, RunResult
from tests.workflows.events import Project

pytestmark = [pytest.mark.slow, pytest.mark.server]

MODEL = "obesity_classifier"
ADMIN = "admin-password-for-tests"
PR_USER, PR_PASSWORD = "ci-pr", "pr-password-for-tests"
STEP = "Remove the PR's alias"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("auth-server"), auth=ADMIN)
    try:
        server.start(timeout=300)
        yield server
    finally:
        server.stop()


@pytest.fixture
def admin(server: MlflowServer, monkeypatch: pytest.MonkeyPatch):
    """The registry's admin (this process only: act's jobs do not inherit MLFLOW_*): a model
    with version 1 under `pr-7`, and the PR user with EDIT on it, as docs/deployment.md grants."""
    from mlflow.server import get_app_client

    from tests.helpers import client_for

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN)
    client = client_for(server.uri)
    auth = get_app_client("basic-auth", tracking_uri=server.uri)
    if not client.search_registered_models(f"name = '{MODEL}'"):  # the module's first test
        client.create_registered_model(MODEL)
        run = client.create_run("0")
        client.create_model_version(
            MODEL, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
        auth.create_user(PR_USER, PR_PASSWORD)
    else:
        auth.revoke_user_permission(PR_USER, "registered_model", MODEL)
    auth.grant_user_permission(PR_USER, "registered_model", MODEL, "EDIT")
    client.set_registered_model_alias(MODEL, "pr-7", "1")
    return client, auth


def _closed(actions: Act, tmp_path: Path, server: MlflowServer, password: str) -> RunResult:
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.branch("tune", "More trees", model={"params": {**FAST_MODEL, "n_estimators": 41}})
    project.pull_request("opened", 7, head="tune")
    secrets = {
        "MLFLOW_TRACKING_URI": server.uri,
        "MLFLOW_TRACKING_USERNAME": PR_USER,
        "MLFLOW_TRACKING_PASSWORD": password,
    }
    return actions.run_workflow(
        project.pull_request("closed", 7), "pr.yml", "cleanup", secrets=secrets
    )


def _aliases(client) -> dict[str, str]:
    return {a: str(v) for a, v in client.get_registered_model(MODEL).aliases.items()}


def test_an_edit_only_credential_warns_and_leaves_the_alias_and_manage_removes_it(
    actions: Act, tmp_path: Path, server: MlflowServer, admin
):
    client, auth = admin

    edit_only = _closed(actions, tmp_path / "edit", server, PR_PASSWORD)

    assert edit_only.ok, edit_only.tail(60)
    assert edit_only.steps[STEP] == "success"
    assert edit_only.annotations == [
        (
            "warning",
            "pr-7 stays on obesity_classifier: the registry refused to delete it (deleting an"
            " alias needs MANAGE on the model; docs/deployment.md).",
        )
    ], edit_only.tail(60)
    assert "403" in edit_only.log  # the server's answer, in the log for whoever investigates
    assert _aliases(client) == {"pr-7": "1"}

    auth.revoke_user_permission(PR_USER, "registered_model", MODEL)
    auth.grant_user_permission(PR_USER, "registered_model", MODEL, "MANAGE")
    manage = _closed(actions, tmp_path / "manage", server, PR_PASSWORD)

    assert manage.ok, manage.tail(60)
    assert manage.annotations == [], manage.tail(60)
    assert _aliases(client) == {}


def test_a_credential_the_registry_rejects_fails_the_job(
    actions: Act, tmp_path: Path, server: MlflowServer, admin
):
    client, _ = admin

    run = _closed(actions, tmp_path, server, "wrong-password")

    assert run.job_result == "failure", run.tail(60)
    assert run.steps[STEP] == "failure"
    assert "exit status 3" in run.log
    assert not any(kind == "warning" for kind, _ in run.annotations), run.annotations
    assert _aliases(client) == {"pr-7": "1"}
