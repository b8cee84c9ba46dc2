"""The session's real `mlflow server` answers the registry calls mlgate makes, on its backend
(sqlite, or PostgreSQL when MLGATE_TEST_POSTGRES_URI is set)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import Spec, populate

pytestmark = pytest.mark.server


def test_fixture_uses_the_configured_backend(mlflow_server) -> None:
    expected = os.environ.get("MLGATE_TEST_POSTGRES_URI")
    if expected:
        # The configured server; under pytest-xdist a database of this worker's own on it.
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        assert mlflow_server.backend == (f"{expected}_{worker}" if worker else expected)
    else:
        assert mlflow_server.backend.startswith("sqlite:///")


def test_version_registered_over_http_reads_back(mlflow_server, model_name: str) -> None:
    from mlgate.registry import connect

    tags = {"mlgate.fingerprint": "f" * 64, "validation_status": "passed"}
    spec = Spec(metrics={"accuracy": 0.91}, stage="Staging", aliases=("champion",), tags=tags)
    (version,) = populate(mlflow_server.uri, model_name, [spec])

    registry = connect(mlflow_server.uri)
    found = registry.get_version(model_name, version)
    assert (found.version, found.current_stage) == ("1", "Staging")
    assert found.tags == tags
    assert registry.aliases(model_name) == {"champion": "1"}
    assert registry.find_by_fingerprint(model_name, "f" * 64).version == "1"
    assert registry.run_metrics([found.run_id]) == {found.run_id: {"accuracy": 0.91}}
    # Artifacts travel through the server's proxy (--artifacts-destination), not the filesystem.
    registry.log_run_dict(found.run_id, {"verdict": "pass"}, "mlgate/smoke.json")
    assert registry.load_run_dict(found.run_id, "mlgate/smoke.json") == {"verdict": "pass"}
