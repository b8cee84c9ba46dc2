"""A read-only client for an MLflow tracking server's REST API (2.0 JSON endpoints), for the
commands that only read: `list`, `versions`, `history`, `compare` and `best`.

Why: importing mlflow costs seconds of every command's start-up (docs/performance.md), and these
commands need six GET/POST calls that the standard library makes. The client answers with the
attribute names of MlflowClient's entities (`Registry` reads both) and raises `RestError` with
MLflow's error codes, so `registry.translate` maps both to the same messages. It reads the same
settings MlflowClient does: MLFLOW_TRACKING_USERNAME/PASSWORD (basic auth) or
MLFLOW_TRACKING_TOKEN (bearer), MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH,
MLFLOW_TRACKING_CLIENT_CERT_PATH and MLFLOW_HTTP_REQUEST_TIMEOUT. Anything it does not handle
(an auth plugin: MLFLOW_TRACKING_AUTH) keeps the command on mlflow (`usable`). sqlite and every
write stay on mlflow.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RestClient", "RestError", "usable"]

_API = "/api/2.0/mlflow"
_VIEW_ALL = "ALL"


def usable(uri: str) -> bool:
    """Whether this client can stand in for MlflowClient's reads of `uri`."""
    scheme = urllib.parse.urlparse(uri).scheme
    return scheme in ("http", "https") and not os.environ.get("MLFLOW_TRACKING_AUTH")


class RestError(Exception):
    """An error answer (`error_code` as MLflow names it) or a failed connection ("")."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}" if error_code else message)
        self.error_code = error_code


class Page(list):
    """One page of a search, with the token of the next (MLflow's PagedList)."""

    def __init__(self, items: list[Any], token: str | None) -> None:
        super().__init__(items)
        self.token = token


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    current_stage: str
    run_id: str | None
    status: str | None
    tags: dict[str, str]
    description: str | None
    creation_timestamp: int | None
    source: str | None
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, str]


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    start_time: int | None


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData


@dataclass(frozen=True)
class Experiment:
    experiment_id: str


def _pairs(items: list[dict] | None, key: str = "key", value: str = "value") -> dict[str, Any]:
    return {item[key]: item.get(value) for item in items or []}


def _version(raw: dict) -> ModelVersion:
    return ModelVersion(
        name=raw["name"],
        version=str(raw["version"]),
        current_stage=raw.get("current_stage") or "None",
        run_id=raw.get("run_id") or None,
        status=raw.get("status"),
        tags=_pairs(raw.get("tags")),
        description=raw.get("description"),
        creation_timestamp=_int(raw.get("creation_timestamp")),
        source=raw.get("source"),
        aliases=list(raw.get("aliases") or []),
    )


def _model(raw: dict) -> RegisteredModel:
    return RegisteredModel(
        name=raw["name"],
        description=raw.get("description"),
        tags=_pairs(raw.get("tags")),
        aliases={a["alias"]: str(a["version"]) for a in raw.get("aliases") or []},
    )


def _run(raw: dict) -> Run:
    info, data = raw.get("info", {}), raw.get("data", {})
    return Run(
        RunInfo(info["run_id"], str(info.get("experiment_id")), _int(info.get("start_time"))),
        RunData(
            {m["key"]: float(m["value"]) for m in data.get("metrics") or []},
            _pairs(data.get("params")),
            _pairs(data.get("tags")),
        ),
    )


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class RestClient:
    """The reads `Registry` makes, as MlflowClient's methods of the same names."""

    def __init__(self, uri: str) -> None:
        parts = urllib.parse.urlsplit(uri)
        host = parts.netloc.rsplit("@", 1)[-1]  # credentials go in a header, not the URL
        self._base = urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        self._headers = {"Content-Type": "application/json", "User-Agent": "mlgate"}
        user = os.environ.get("MLFLOW_TRACKING_USERNAME") or urllib.parse.unquote(
            parts.username or ""
        )
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD") or urllib.parse.unquote(
            parts.password or ""
        )
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if user and password:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {basic}"
        elif token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = float(os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "30"))
        self._tls = self._tls_context() if parts.scheme == "https" else None

    @staticmethod
    def _tls_context() -> ssl.SSLContext:
        if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
            return ssl._create_unverified_context()  # the user asked for it, as in MLflow
        context = ssl.create_default_context(
            cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None
        )
        client_cert = os.environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH")
        if client_cert:
            context.load_cert_chain(client_cert)
        return context

    def open(
        self,
        path: str,
        body: bytes | None = None,
        method: str = "GET",
        timeout: float | None = None,
    ) -> Any:
        """The server's answer to `path` (below the tracking URI), with the credentials set;
        urllib's HTTPError for an error status."""
        request = urllib.request.Request(
            self._base + path, data=body, headers=self._headers, method=method
        )
        return urllib.request.urlopen(request, timeout=timeout or self._timeout, context=self._tls)

    def _call(self, method: str, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        payload = {k: v for k, v in payload.items() if v is not None}
        path = f"{_API}/{endpoint}"
        body = None
        if method == "GET":
            path += "?" + urllib.parse.urlencode(payload, doseq=True)
        else:
            body = json.dumps(payload).encode()
        url = self._base + path
        try:
            with self.open(path, body, method) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            try:
                error = json.loads(text)
            except ValueError:
                error = {}
            if not isinstance(error, dict):
                error = {}
            code = error.get("error_code") or {
                401: "UNAUTHENTICATED",
                403: "PERMISSION_DENIED",
            }.get(exc.code, "INTERNAL_ERROR")
            message = error.get("message") or f"HTTP {exc.code}: {text[:200]}"
            if exc.code in (401, 403):  # the fix is the caller's credentials
                message = (
                    f"HTTP {exc.code}; set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
                    f" (or MLFLOW_TRACKING_TOKEN) to a user allowed to read it ({message[:120]})"
                )
            raise RestError(code, message) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RestError(
                "", f"API request to {url} failed: Connection error ({reason})"
            ) from None

    # --- the registry ----------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _model(
            self._call("GET", "registered-models/get", {"name": name})["registered_model"]
        )

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page:
        found = self._call(
            "GET",
            "registered-models/search",
            {"filter": filter_string or None, "max_results": max_results, "page_token": page_token},
        )
        return Page(
            [_model(m) for m in found.get("registered_models", [])], found.get("next_page_token")
        )

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        found = self._call("GET", "model-versions/get", {"name": name, "version": str(version)})
        return _version(found["model_version"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        page_token: str | None = None,
    ) -> Page:
        found = self._call(
            "GET",
            "model-versions/search",
            {"filter": filter_string or None, "max_results": max_results, "page_token": page_token},
        )
        return Page(
            [_version(v) for v in found.get("model_versions", [])], found.get("next_page_token")
        )

    # --- runs --------------------------------------------------------------------------------

    def search_experiments(self, view_type: Any = None, max_results: int = 1000) -> Page:
        out: list[Experiment] = []
        token = None
        while True:  # the server caps a page: read them all, as the caller asked for every one
            found = self._call(
                "POST",
                "experiments/search",
                {
                    "view_type": _VIEW_ALL,
                    "max_results": min(max_results, 1000),
                    "page_token": token,
                },
            )
            out += [Experiment(str(e["experiment_id"])) for e in found.get("experiments", [])]
            token = found.get("next_page_token")
            if not token or len(out) >= max_results:
                return Page(out, None)

    def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        run_view_type: Any = None,
        max_results: int = 1000,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page:
        found = self._call(
            "POST",
            "runs/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string,
                "run_view_type": _VIEW_ALL,
                "max_results": max_results,
                "order_by": order_by,
                "page_token": page_token,
            },
        )
        return Page([_run(r) for r in found.get("runs", [])], found.get("next_page_token"))

    def get_run(self, run_id: str) -> Run:
        return _run(self._call("GET", "runs/get", {"run_id": run_id})["run"])
