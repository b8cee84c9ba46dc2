"""The only module that talks to MLflow's tracking server and model registry.

Queries are batched: listing N versions with their metrics costs O(N/100) round trips
(`search_model_versions` pages + `search_runs` over chunks of run ids), never one per version.
Every MLflow failure is translated into NotFoundError (exit 2) or RegistryError (exit 3).

Why one module: it is the boundary to MLflow; keeping every MLflow call (and `translate`) in
one file is what lets the rest of the package stay free of MLflow's API and exceptions.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import io
import os
import re
import sys
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .errors import ArtifactError, NotFoundError, RegistryError, UsageError, first_line

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

__all__ = [
    "ALIAS_RE",
    "BUILT_BY_TAG",
    "METRIC_TAG_PREFIX",
    "RESERVED_ALIAS_RE",
    "STAGES",
    "STAGE_NAMES",
    "UI_URL_VARIABLE",
    "LoadedModel",
    "LoggedVersion",
    "Registry",
    "UntrustedModelError",
    "Version",
    "connect",
    "load_model",
    "parse_stage",
    "translate",
    "validate_alias",
    "verify_model",
]

# `train` copies the metrics it logs into version tags under this prefix, so listing versions
# needs one search_model_versions page instead of also fetching every run.
METRIC_TAG_PREFIX = "mlgate.metric."
# Set on a version `mlgate release` trained in its own job (the model card says so).
BUILT_BY_TAG = "mlgate.built_by"
# The MLflow UI's address for links (non-secret; the tracking URI may carry credentials).
UI_URL_VARIABLE = "MLGATE_UI_URL"
STAGES = ("None", "Staging", "Production", "Archived")
STAGE_NAMES = {s.lower(): s for s in STAGES}
# MLflow's own rule for alias names, plus: "v<digits>" and "latest" are reserved by MLflow.
ALIAS_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# MLflow resolves models:/name@v3 and models:/name@latest itself: such aliases can't be set.
RESERVED_ALIAS_RE = re.compile(r"^(?:v\d+|latest)$", re.IGNORECASE)
_PAGE = 1000  # search_model_versions page size (server maximum)
_VIEW_ALL = 3  # mlflow.entities._VIEW_ALL: active and deleted, without importing mlflow
_RUN_CHUNK = 100  # run ids per search_runs filter: keeps the filter string well under limits

# Fail fast instead of MLflow's default of 7 retries with exponential back-off (minutes).
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


@dataclass(frozen=True)
class Version:
    """A model version with the attribute names of MLflow's ModelVersion, `version` always a str
    (MLflow returns int or str depending on the call and the backend)."""

    name: str
    version: str
    current_stage: str
    run_id: str | None
    status: str | None
    tags: dict[str, str]
    description: str | None
    creation_timestamp: int | None
    source: str | None

    @classmethod
    def of(cls, mv: Any) -> Version:
        return cls(
            name=mv.name,
            version=str(mv.version),
            current_stage=mv.current_stage or "None",
            run_id=mv.run_id,
            status=mv.status,
            tags=dict(mv.tags or {}),
            description=mv.description,
            creation_timestamp=mv.creation_timestamp,
            source=mv.source,
        )


@dataclass(frozen=True)
class LoggedVersion:
    version: str
    run_id: str


def connect(tracking_uri: str, check: bool = True, read_only: bool = False) -> Registry:
    """A Registry bound to `tracking_uri`; with `check`, fail now (exit 3) if it is unreachable.

    `read_only` (the commands that only list and compare): a tracking server is read through
    rest.py's client instead of mlflow's, whose import costs seconds; sqlite needs mlflow's
    store either way."""
    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if check:
        _check_reachable(tracking_uri)
    if read_only:
        from . import rest

        if rest.usable(tracking_uri):
            return Registry(rest.RestClient(tracking_uri), tracking_uri)
    with _collector_paused(first_time=_owns_process and "mlflow" not in sys.modules):
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return Registry(client, tracking_uri)


_owns_process = False


def own_process() -> None:
    """Called by the `mlgate` console script, whose process runs one command: its first
    connection may then pause Python's collector (`_collector_paused`). A test or a notebook
    that calls `main` keeps the collector as it is."""
    global _owns_process
    _owns_process = True


@contextlib.contextmanager
def _collector_paused(first_time: bool) -> Iterator[None]:
    """The first connection of a command's process imports mlflow and builds its store (for
    sqlite: the SQLAlchemy models and the schema check): ~2,000 modules and the objects they
    define, alive until the process ends. Python's cyclic collector would walk them again and
    again while they are created (~0.4 s of a champion move's ~3 s, docs/performance.md): it is
    paused until they exist, then every object of the process so far is moved out of its sight
    (`gc.freeze`: the command's few objects of its own with them, which is why only the console
    script asks for this)."""
    if not first_time or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.freeze()


_WHERE_URI = "--tracking-uri, MLFLOW_TRACKING_URI or params.yaml mlflow.tracking_uri"
_URI_FORMS = "use sqlite:///mlflow.db (three slashes) or http(s)://host:port"


def _check_reachable(uri: str) -> None:
    """A one-line error for a URI that cannot work, before MLflow turns it into a traceback.

    The URI may come from any of three places (config.resolve_tracking_uri), so every fix names
    all three.
    """
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        status = _health(uri)
        if status in (401, 403):
            raise RegistryError(
                f"tracking server {uri} refused the request (HTTP {status});"
                " set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
            )
        if status >= 500:
            raise RegistryError(
                f"tracking server {uri} answered HTTP {status}; check the server's log"
            )
    elif parsed.scheme == "sqlite":
        # SQLAlchemy's forms: sqlite:///relative.db, sqlite:////absolute.db, sqlite:// (memory).
        # sqlite://mlflow.db reads mlflow.db as a host, sqlite:mlflow.db does not parse at all.
        if uri != "sqlite://" and not uri.startswith("sqlite:///"):
            raise UsageError(
                f"tracking URI {uri!r} is not a valid sqlite URI; {_URI_FORMS}, in {_WHERE_URI}"
            )
        path = uri[len("sqlite:///") :]
        parent = Path(path).parent if path and path != ":memory:" else None
        if parent is not None and not parent.is_dir():
            raise RegistryError(
                f"registry {uri}: folder {parent} does not exist; create it or fix {_WHERE_URI}"
            )
    elif parsed.scheme in ("", "file"):
        # MLflow's file store (a folder such as ./mlruns) is read-only legacy: it refuses to
        # start rather than serve a registry.
        raise UsageError(
            f"tracking URI {uri!r} is a path, and MLflow's file store is not supported;"
            f" {_URI_FORMS}, in {_WHERE_URI}"
        )
    elif parsed.scheme not in ("databricks", "postgresql", "mysql", "mssql"):
        raise UsageError(f"tracking URI {uri!r} has an unknown scheme; use sqlite:///, http(s)://")


def _health(uri: str) -> int:
    """The HTTP status of the server's /health (the standard library's client: requests costs
    a read-only command's start-up time)."""
    import urllib.error
    import urllib.request

    from .rest import RestClient

    try:
        with RestClient(uri).open("/health", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        cause = getattr(exc, "reason", exc)
        # Named as MLflow's client names it, so every command words one outage the same way.
        reason = "ConnectionError" if isinstance(cause, ConnectionError) else type(cause).__name__
        raise RegistryError(
            f"tracking server {uri} is unreachable ({reason}); start it or fix {_WHERE_URI}"
        ) from None


def _api_errors() -> tuple[type[BaseException], ...]:
    """The exception types of a registry answer: rest.py's, and MLflow's once it is imported
    (a command that never imported mlflow can't have raised its exceptions)."""
    from .rest import RestError

    mlflow_exceptions = sys.modules.get("mlflow.exceptions")
    if mlflow_exceptions is None:
        return (RestError,)
    return (RestError, mlflow_exceptions.MlflowException)


@contextlib.contextmanager
def translate(uri: str, what: str = "") -> Iterator[None]:
    """Turn MLflow's and the HTTP stack's exceptions into mlgate's typed errors."""
    try:
        yield
    except _api_errors() as exc:
        code = getattr(exc, "error_code", "")
        message = first_line(exc)
        if code == "RESOURCE_DOES_NOT_EXIST":
            raise NotFoundError(f"{what or 'registry'}: {message}") from None
        if code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
            raise RegistryError(f"{uri} refused {what or 'the request'}: {message}") from None
        if "Max retries exceeded" in message or "Connection" in message or "API request" in message:
            raise RegistryError(
                f"tracking server {uri} failed during {what or 'a request'}; check that it is up"
                f" and re-run ({message[:160]})"
            ) from None
        raise RegistryError(
            f"registry {uri}: {what or 'request'} failed: {message[:200]}"
        ) from None
    except OSError as exc:
        raise RegistryError(f"registry {uri}: {what or 'request'} failed: {exc}") from None


class Registry:
    """MLflow registry access with batched queries. Takes a client so tests inject a real one."""

    def __init__(self, client: MlflowClient, tracking_uri: str) -> None:
        self.client = client
        self.uri = tracking_uri

    # --- versions -------------------------------------------------------------------------

    def search_versions(self, name_like: str | None = None) -> list[Version]:
        """Versions of every model whose name matches a SQL LIKE pattern (None: all models)."""
        return self._search_versions(f"name LIKE '{_quote(name_like)}'" if name_like else "")

    def _search_versions(self, filter_string: str) -> list[Version]:
        with translate(self.uri, "searching model versions"):
            return [
                Version.of(mv)
                for mv in _paged(
                    lambda token: self.client.search_model_versions(
                        filter_string, max_results=_PAGE, page_token=token
                    )
                )
            ]

    def versions(self, name: str) -> list[Version]:
        """Every version of `name`, newest first."""
        found = self._search_versions(f"name = '{_quote(name)}'")
        return sorted(found, key=lambda v: int(v.version), reverse=True)

    def get_model(self, name: str) -> Any:
        with translate(self.uri, f"reading model {name!r}"):
            try:
                return self.client.get_registered_model(name)
            except _api_errors() as exc:
                if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                    raise NotFoundError(self._unknown_model_message(name)) from None
                raise

    def _unknown_model_message(self, name: str) -> str:
        names = [m.name for m in self.search_models()]
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        known = f"; registered models: {', '.join(names)}" if names and not close else ""
        return f"model {name!r} is not registered{hint}{known}"

    def search_models(self, name_like: str | None = None) -> list[Any]:
        """Registered models whose name matches a SQL LIKE pattern (None: all), sorted by name."""
        where = f"name LIKE '{_quote(name_like)}'" if name_like else None
        with translate(self.uri, "searching registered models"):
            found = list(
                _paged(
                    lambda token: self.client.search_registered_models(
                        where, max_results=_PAGE, page_token=token
                    )
                )
            )
        return sorted(found, key=lambda m: m.name)

    def aliases(self, name: str) -> dict[str, str]:
        """alias -> version, read from the registered model (on sqlite, version searches omit
        aliases)."""
        return {alias: str(version) for alias, version in self.get_model(name).aliases.items()}

    def get_version(self, name: str, version: str) -> Version:
        with translate(self.uri, f"reading {name} v{version}"):
            try:
                return Version.of(self.client.get_model_version(name, str(version)))
            except _api_errors() as exc:
                if getattr(exc, "error_code", "") in (
                    "RESOURCE_DOES_NOT_EXIST",
                    "INVALID_PARAMETER_VALUE",
                ):
                    self.get_model(name)  # a missing model gets the friendlier message
                    raise NotFoundError(
                        f"{name} has no version {version}; see 'mlgate versions {name}'"
                    ) from None
                raise

    def resolve(self, name: str, ref: str) -> Version:
        """A version named by number, '@alias' or stage name ('Production', case-insensitive)."""
        ref = str(ref).strip()
        if ref.isdigit():
            return self.get_version(name, ref)
        if ref.startswith("@"):
            alias = ref[1:]
            aliases = self.aliases(name)
            if alias not in aliases:
                known = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
                raise NotFoundError(f"{name} has no alias @{alias} (aliases: {known})")
            return self.get_version(name, aliases[alias])
        stage = STAGE_NAMES.get(ref.lower())
        if stage:
            in_stage = [v for v in self.versions(name) if v.current_stage == stage]
            if not in_stage:
                raise NotFoundError(f"{name} has no version in stage {stage}")
            return in_stage[0]
        raise UsageError(
            f"version {ref!r} is not a number, an @alias or a stage"
            " (None/Staging/Production/Archived)"
        )

    def find_by_fingerprint(self, name: str, fingerprint: str) -> Version | None:
        """The newest live version trained from these exact inputs, if any."""
        found = self.versions_by_fingerprint(name, fingerprint)
        return found[0] if found else None

    def versions_by_fingerprint(self, name: str, fingerprint: str) -> list[Version]:
        """The versions tagged with these inputs' fingerprint, newest first; only live ones
        when any is (a tag anyone with write access could set: callers verify the model)."""
        found = self._search_versions(
            f"name = '{_quote(name)}' and tags.`mlgate.fingerprint` = '{_quote(fingerprint)}'"
        )
        found = [v for v in found if v.status in ("READY", None, "")] or found
        return sorted(found, key=lambda v: int(v.version), reverse=True)

    # --- runs (batched) ---------------------------------------------------------------------

    def runs(self, run_ids: list[str]) -> dict[str, Any]:
        """run_id -> Run, in ceil(N/100) search_runs calls across all experiments."""
        ids = sorted({r for r in run_ids if r})
        if not ids:
            return {}
        out: dict[str, Any] = {}
        with translate(self.uri, "reading runs"):
            experiments = [
                e.experiment_id
                for e in self.client.search_experiments(view_type=_VIEW_ALL, max_results=50_000)
            ]
            for start in range(0, len(ids), _RUN_CHUNK):
                chunk = ids[start : start + _RUN_CHUNK]
                quoted = ", ".join(f"'{r}'" for r in chunk)
                where = f"attributes.run_id IN ({quoted})"
                for run in _paged(
                    lambda token, where=where: self.client.search_runs(
                        experiments,
                        filter_string=where,
                        run_view_type=_VIEW_ALL,
                        max_results=_PAGE,
                        page_token=token,
                    )
                ):
                    out[run.info.run_id] = run
        return out

    def run_metrics(self, run_ids: list[str]) -> dict[str, dict[str, float]]:
        return {rid: dict(run.data.metrics) for rid, run in self.runs(run_ids).items()}

    def best_runs(self, run_ids: list[str], metric: str, lower_is_better: bool) -> list[Any]:
        """The best run by `metric` of each chunk of 100 run ids, ranked by the server.

        MLflow orders NaN and missing values last and ties by the latest start, so the overall best
        is among these ceil(N/100) runs: each call returns one run instead of a hundred.
        """
        ids = sorted({r for r in run_ids if r})
        if not ids:
            return []
        order = [
            f"metrics.`{metric}` {'ASC' if lower_is_better else 'DESC'}",
            "attributes.start_time DESC",
        ]
        out: list[Any] = []
        with translate(self.uri, f"ranking runs by {metric}"):
            experiments = [
                e.experiment_id
                for e in self.client.search_experiments(view_type=_VIEW_ALL, max_results=50_000)
            ]
            for start in range(0, len(ids), _RUN_CHUNK):
                quoted = ", ".join(f"'{r}'" for r in ids[start : start + _RUN_CHUNK])
                out.extend(
                    self.client.search_runs(
                        experiments,
                        filter_string=f"attributes.run_id IN ({quoted})",
                        run_view_type=_VIEW_ALL,
                        max_results=1,
                        order_by=order,
                    )
                )
        return out

    def ui_base(self) -> str | None:
        """Where people open the MLflow UI: `MLGATE_UI_URL`, a non-secret setting.

        Links go into PR comments and step summaries, which anyone who can read the repository
        sees; the tracking URI may hold credentials or an internal host, so in GitHub Actions it
        is never used for a link. Elsewhere (a terminal) an http(s) tracking URI without
        credentials is the UI.
        """
        configured = os.environ.get(UI_URL_VARIABLE, "").strip()
        if configured:
            return configured.rstrip("/")
        parts = urlparse(self.uri)
        if (
            os.environ.get("GITHUB_ACTIONS") == "true"
            or parts.scheme not in ("http", "https")
            or parts.username
            or parts.password
            or parts.query
        ):
            return None
        return self.uri.rstrip("/")

    def run_url(self, run_id: str, experiment_id: str | None = None) -> str | None:
        base = self.ui_base()
        if base is None:
            return None
        if experiment_id is None:
            with translate(self.uri, "reading a run"):
                experiment_id = self.client.get_run(run_id).info.experiment_id
        return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"

    def version_url(self, name: str, version: str) -> str | None:
        base = self.ui_base()
        return None if base is None else f"{base}/#/models/{name}/versions/{version}"

    # --- writes -------------------------------------------------------------------------------

    def ensure_experiment(self, name: str, artifact_location: str) -> None:
        """Create experiment `name` storing its artifacts at `artifact_location`, if missing.

        A job-local registry keeps its artifacts beside its database, not in the checkout.
        """
        with translate(self.uri, f"creating experiment {name}"):
            if self.client.get_experiment_by_name(name) is None:
                self.client.create_experiment(name, artifact_location=artifact_location)

    def log_and_register(
        self,
        *,
        name: str,
        experiment: str,
        pipeline: Any,
        input_example: Any,
        params: dict[str, Any],
        metrics: dict[str, float],
        artifacts: dict[str, Any],
        tags: dict[str, str],
        skops_trusted_types: list[str],
        pip_requirements: list[str],
        model_dir: Path | None = None,
        model_description: str = "",
        version_description: str = "",
    ) -> LoggedVersion:
        """One run: params, metrics, artifacts (dicts as JSON at their key, paths as files) and
        the model; then one new version, described by `version_description`. The registered
        model gets `model_description` when it has none yet: a description someone wrote in the
        UI stays."""
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature

        signature = infer_signature(input_example, pipeline.predict(input_example))
        model_kwargs = dict(
            signature=signature,
            input_example=input_example,
            serialization_format="skops",
            skops_trusted_types=skops_trusted_types,
            pip_requirements=pip_requirements,
        )
        with translate(self.uri, f"logging and registering {name}"):
            mlflow.set_experiment(experiment)
            with mlflow.start_run(tags=tags) as run:
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)
                for artifact_file, payload in artifacts.items():
                    if isinstance(payload, dict):  # JSON, logged under its key's path
                        mlflow.log_dict(payload, artifact_file)
                    else:  # a file, logged under its own name
                        mlflow.log_artifact(str(payload))
                info = mlflow.sklearn.log_model(pipeline, name="model", **model_kwargs)
                if model_dir is not None:
                    mlflow.sklearn.save_model(pipeline, str(model_dir), **model_kwargs)
                # register_model prints progress to stderr; the CLI prints its own summary
                with contextlib.redirect_stderr(io.StringIO()):
                    version = mlflow.register_model(info.model_uri, name, tags=tags)
            if version_description:
                self.client.update_model_version(
                    name, str(version.version), description=version_description
                )
            if model_description and not self.client.get_registered_model(name).description:
                self.client.update_registered_model(name, description=model_description)
        return LoggedVersion(version=str(version.version), run_id=run.info.run_id)

    def transition(
        self, name: str, version: str, stage: str, archive_existing: bool = False
    ) -> Any:
        with translate(self.uri, f"moving {name} v{version} to {stage}"):
            return self.client.transition_model_version_stage(
                name, str(version), stage, archive_existing_versions=archive_existing
            )

    def transition_exclusive(self, name: str, version: str, stage: str) -> list[str]:
        """Move a version to `stage`; into Production, every other Production version is archived
        in the same server-side transaction. Returns the archived versions, oldest first."""
        version = str(version)
        archived: list[str] = []
        if stage == "Production":
            archived = sorted(
                (str(v.version) for v in self.versions(name) if v.current_stage == "Production"),
                key=int,
            )
            archived = [v for v in archived if v != version]
        self.transition(name, version, stage, archive_existing=stage == "Production")
        return archived

    def set_alias(self, name: str, alias: str, version: str) -> None:
        with translate(self.uri, f"setting @{alias} on {name} v{version}"):
            self.client.set_registered_model_alias(name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        with translate(self.uri, f"deleting @{alias} of {name}"):
            self.client.delete_registered_model_alias(name, alias)

    def log_run_dict(self, run_id: str, payload: dict[str, Any], artifact_file: str) -> None:
        with translate(self.uri, f"logging {artifact_file} to run {run_id}"):
            self.client.log_dict(run_id, payload, artifact_file)

    def load_run_dict(self, run_id: str, artifact_file: str) -> dict[str, Any] | None:
        """A JSON artifact of a run; None when the run never logged it.

        A store that fails to answer is an error (exit 3), not a missing record: the gate would
        otherwise judge without the rows the champion trained on. MLflow reports any failed
        download, a 503 included, as "path does not exist", so after a failure the run's listing
        decides which it was."""
        import json
        import tempfile

        import mlflow.artifacts
        from mlflow.exceptions import MlflowException

        with tempfile.TemporaryDirectory(prefix="mlgate-artifact-") as tmp:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=artifact_file, dst_path=tmp, tracking_uri=self.uri
                )
            except (MlflowException, OSError) as exc:
                failure = exc
            else:
                return json.loads(Path(local).read_text(encoding="utf-8"))
        what = f"reading {artifact_file} of run {run_id}"
        try:
            with translate(self.uri, what):
                folder = artifact_file.rpartition("/")[0] or None
                listed = {item.path for item in self.client.list_artifacts(run_id, folder)}
        except NotFoundError:  # no such run
            return None
        if artifact_file not in listed:
            return None
        raise RegistryError(
            f"registry {self.uri}: {what} failed: the run lists it but the artifact store did not"
            f" return it ({first_line(failure)[:160]}); check the store and re-run"
        )

    def set_model_tag(self, name: str, key: str, value: str, what: str = "") -> None:
        with translate(self.uri, what or f"setting tag {key} on {name}"):
            self.client.set_registered_model_tag(name, key, value)

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        with translate(self.uri, f"tagging {name} v{version}"):
            for key, value in tags.items():
                self.client.set_model_version_tag(name, str(version), key, value)

    def set_version_description(self, name: str, version: str, text: str) -> None:
        with translate(self.uri, f"describing {name} v{version}"):
            self.client.update_model_version(name, str(version), description=text)

    def log_run_text(self, run_id: str, text: str, artifact_file: str) -> None:
        with translate(self.uri, f"logging {artifact_file} to run {run_id}"):
            self.client.log_text(run_id, text, artifact_file)


def parse_stage(text: str) -> str:
    """A stage name, case-insensitive ('production' -> 'Production'), or UsageError."""
    stage = STAGE_NAMES.get(text.strip().lower())
    if stage is None:
        close = difflib.get_close_matches(text.strip().lower(), list(STAGE_NAMES), n=1, cutoff=0.5)
        hint = f" (did you mean {STAGE_NAMES[close[0]]}?)" if close else ""
        raise UsageError(f"stage {text!r} is not one of {', '.join(STAGES)}{hint}")
    return stage


def validate_alias(alias: str) -> str:
    """The alias without a leading '@', or UsageError saying why MLflow would refuse it."""
    bare = alias[1:] if alias.startswith("@") else alias
    if not ALIAS_RE.match(bare):
        raise UsageError(
            f"alias {alias!r} is not valid: use 1-255 letters, digits, '_' or '-' (e.g. pr-12)"
        )
    if RESERVED_ALIAS_RE.match(bare):
        raise UsageError(
            f"alias {bare!r} is reserved by MLflow (@latest and @v<N> name versions);"
            " pick another name, e.g. candidate or pr-12"
        )
    return bare


@dataclass(frozen=True)
class LoadedModel:
    """A version loaded for scoring, with what the gate's budget and schema checks need."""

    model: Any
    size_bytes: int
    input_schema: tuple[tuple[str, str], ...] | None


class UntrustedModelError(ArtifactError):
    """A version whose stored model is not the form mlgate loads; nothing of it was loaded."""


# What a model must be before any byte of it is loaded (README, Architecture). A PR job's
# credential can register versions and write their artifacts, and an MLmodel file chooses the code
# that loads it: MLflow imports its `loader_module` and puts its `code:` folders on sys.path. So
# only MLflow's scikit-learn flavor saved with skops passes, and the skops types it may hold come
# from the caller (the binding policy), never from the MLmodel's own `skops_trusted_types`.
_FLAVORS = frozenset({"python_function", "sklearn"})
_LOADER = "mlflow.sklearn"
_SKOPS_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.skops$")


def _untrusted_reason(meta: Any) -> str | None:
    """Why an MLmodel file (parsed) is not one mlgate loads; None when it is."""
    if not isinstance(meta, dict) or not isinstance(meta.get("flavors"), dict):
        return "its MLmodel file lists no flavors"
    flavors = meta["flavors"]
    other = sorted(str(f) for f in flavors if f not in _FLAVORS)
    if other:
        return f"its MLmodel names flavor {', '.join(other)} (only sklearn is loaded)"
    sklearn = flavors.get("sklearn")
    pyfunc = flavors.get("python_function")
    if not isinstance(sklearn, dict):
        return "its MLmodel has no sklearn flavor"
    if pyfunc is not None:
        loader = pyfunc.get("loader_module") if isinstance(pyfunc, dict) else None
        if loader != _LOADER:
            return f"its MLmodel names loader_module {loader!r} (only {_LOADER} is loaded)"
    for flavor, conf in (("sklearn", sklearn), ("python_function", pyfunc)):
        if isinstance(conf, dict) and conf.get("code"):
            return f"its MLmodel's {flavor} flavor ships code ({conf['code']!r})"
    if sklearn.get("serialization_format") != "skops":
        fmt = sklearn.get("serialization_format")
        return f"it is serialized as {fmt!r}, not skops"
    file = sklearn.get("pickled_model")
    if not isinstance(file, str) or not _SKOPS_FILE.match(file):
        return f"its model file {file!r} is not a .skops file beside the MLmodel"
    if isinstance(pyfunc, dict) and pyfunc.get("model_path", file) != file:
        return f"its pyfunc model_path {pyfunc.get('model_path')!r} is not {file!r}"
    return None


def _read_mlmodel(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _verified_file(local: Path, trusted: Collection[str]) -> tuple[Path, str | None]:
    """The skops file of a downloaded model, and why it is refused (None: it is not): the
    MLmodel's form, then every type the file holds beyond skops' defaults must be in `trusted`
    (skops reads the type names without building any object). A missing or unreadable file is
    an `OSError`/`ValueError` for the caller: broken, not untrusted."""
    import skops.io

    meta = _read_mlmodel(local / "MLmodel")
    reason = _untrusted_reason(meta)
    if reason:
        return local / "MLmodel", reason
    file = local / meta["flavors"]["sklearn"]["pickled_model"]
    if not file.is_file():
        raise FileNotFoundError(f"{file.name} is missing")
    try:
        found = skops.io.get_untrusted_types(file=file)
    except Exception as exc:  # not a skops archive at all
        raise ValueError(f"{file.name} is not a readable skops file ({first_line(exc)})") from None
    refused = sorted(set(found) - set(trusted))
    if refused:
        return file, (
            f"it holds type {', '.join(refused)}, which the binding policy does not trust"
            " (model.trusted_types)"
        )
    return file, None


def _untrusted(name: str, version: str, reason: str) -> UntrustedModelError:
    return UntrustedModelError(f"{name} v{version} is not trusted and was not loaded: {reason}")


def verify_model(
    registry: Registry, name: str, version: str, trusted: Collection[str]
) -> str | None:
    """One line saying why `name` v`version` would not be loaded (`load_model`'s checks,
    nothing of it executed), or None when it would. A store that fails to answer is an error
    (exit 3); a stored model that is missing or broken is a reason like an untrusted one."""
    try:
        with _downloaded(registry, name, version, trusted):
            return None
    except ArtifactError as exc:  # UntrustedModelError included
        return str(exc)


@contextlib.contextmanager
def _downloaded(
    registry: Registry, name: str, version: str, trusted: Collection[str]
) -> Iterator[tuple[Path, Path]]:
    """The verified model folder and its skops file, in a temporary folder while in use.

    The MLmodel file alone is read first: a version that names its own loader or code is refused
    before the rest is even downloaded. The copy that is then loaded is verified again."""
    import tempfile

    import mlflow.artifacts

    uri = f"models:/{name}/{version}"
    with tempfile.TemporaryDirectory(prefix="mlgate-model-") as tmp:

        def broken(exc: BaseException) -> ArtifactError:
            # Name the model URI, not the temporary folder it was downloaded to.
            detail = first_line(exc).replace(str(Path(tmp).resolve()), uri).replace(tmp, uri)
            return ArtifactError(f"cannot load {name} v{version} ({uri}): {detail}")

        try:  # a server that fails here is an infrastructure error, raised as it is
            with translate(registry.uri, f"downloading {name} v{version}"):
                first = Path(tmp) / "check"
                first.mkdir()
                mlmodel = mlflow.artifacts.download_artifacts(f"{uri}/MLmodel", dst_path=first)
                reason = _untrusted_reason(_read_mlmodel(Path(mlmodel)))
                if reason:
                    raise _untrusted(name, version, reason)
                local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=f"{tmp}/model"))
        except NotFoundError as exc:
            raise broken(exc) from None
        try:
            file, reason = _verified_file(local, trusted)
        except (OSError, ValueError) as exc:
            raise broken(exc) from None
        if reason:
            raise _untrusted(name, version, reason)
        yield local, file


def load_model(
    registry: Registry, name: str, version: str, trusted: Collection[str]
) -> LoadedModel:
    """Download, verify and load `name` v`version` for scoring.

    Verified first (`_untrusted_reason`, `_verified_file`): a version that fails is refused with
    `UntrustedModelError` and nothing of it is loaded. The model is then read by skops with the
    caller's `trusted` types (no pickle, no code of the version's choosing) and wrapped in MLflow's
    pyfunc model with its own MLmodel metadata, so scoring enforces its input signature as MLflow
    serving would.
    """
    import mlflow.pyfunc
    import skops.io
    from mlflow.models import Model

    uri = f"models:/{name}/{version}"
    # skops reads the whole model into memory, so the download can go once it is loaded.
    with _downloaded(registry, name, version, trusted) as (local, file):
        try:
            estimator = skops.io.load(file, trusted=sorted(trusted))
            model = mlflow.pyfunc.PyFuncModel(
                model_meta=Model.load(str(local / "MLmodel")), model_impl=_Scorer(estimator)
            )
        except Exception as exc:  # a corrupt skops file, an MLmodel MLflow cannot read, ...
            detail = first_line(exc).replace(str(local.resolve()), uri).replace(str(local), uri)
            raise ArtifactError(f"cannot load {name} v{version} ({uri}): {detail}") from None
        size = sum(
            f.stat().st_size
            for f in local.rglob("*")
            if f.is_file() and f.name != "input_example.json"
        )
    schema = model.metadata.get_input_schema()
    columns = None
    if schema is not None and schema.has_input_names():
        columns = tuple((c.name, getattr(c.type, "name", str(c.type))) for c in schema.inputs)
    return LoadedModel(model=model, size_bytes=size, input_schema=columns)


class _Scorer:
    """The pyfunc interface over a fitted scikit-learn estimator (what mlflow.sklearn's own
    loader would give, without importing a loader the MLmodel names)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.estimator.predict(data)


def _quote(value: str) -> str:
    return value.replace("'", "\\'")


def _paged(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    """Every item of a paged MLflow search: `fetch(page_token)` until the server says done."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return
