"""Links in reports never carry the tracking URI where others read them (PR comments, summaries)."""

from __future__ import annotations

import pytest

from mlgate.registry import Registry


@pytest.mark.parametrize(
    ("uri", "env", "expected"),
    [
        pytest.param(
            "https://ci:s3cret@mlflow.internal", {}, None, id="credentials-in-the-uri-no-link"
        ),
        pytest.param(
            "https://mlflow.internal", {"GITHUB_ACTIONS": "true"}, None, id="actions-without-ui-url"
        ),
        pytest.param(
            "https://ci:s3cret@mlflow.internal",
            {"GITHUB_ACTIONS": "true", "MLGATE_UI_URL": "https://mlflow.example.com/"},
            "https://mlflow.example.com/#/models/m/versions/3",
            id="actions-with-ui-url",
        ),
        pytest.param(
            "http://127.0.0.1:5000",
            {},
            "http://127.0.0.1:5000/#/models/m/versions/3",
            id="terminal-plain-uri",
        ),
        pytest.param("sqlite:///mlflow.db", {}, None, id="sqlite-no-ui"),
    ],
)
def test_version_links(
    uri: str, env: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GITHUB_ACTIONS", "MLGATE_UI_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Registry(client=None, tracking_uri=uri).version_url("m", "3") == expected
