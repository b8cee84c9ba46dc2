"""params.yaml -> frozen, validated objects.

Why one module: every section is validated by the one parser, whose messages share a form;
the sections' dataclasses sit beside it.

Validation happens once, here: unknown keys, wrong types and out-of-range values raise
`ConfigError` naming the file, the key path and the expected form. The rest of the code never
reads raw dicts.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import schema as schema_mod
from . import yamltext
from .errors import ConfigError
from .schema import Schema
from .task import DEFAULT as DEFAULT_TASK
from .task import NAMES as TASK_NAMES
from .task import named as task_named

__all__ = [
    "NUMERIC_MODES",
    "CardConfig",
    "DataConfig",
    "GateConfig",
    "MlflowConfig",
    "ModelConfig",
    "Params",
    "PromotionConfig",
    "default_params",
    "load_params",
    "parse_params",
    "resolve_tracking_uri",
]

GATE_MODES = ("enabled", "dry_run", "disabled")
GATE_EVIDENCE = ("holdout", "cv")
ON_INCONCLUSIVE = ("fail", "warn", "pass")
NUMERIC_MODES = ("auto", "passthrough", "standard")  # estimators.scales_numeric reads them
MARGIN_KINDS = ("absolute", "relative")
_FIX_SCHEMA = "run 'mlgate data infer-schema --data FILE --target COLUMN --write params.yaml'"


@dataclass(frozen=True)
class DataConfig:
    """`data:`: the CSV, its split, and its schema (schema.py) once params.yaml describes it."""

    path: str = "data/train.csv"
    test_size: float = 0.2
    random_state: int = 42
    task: str = DEFAULT_TASK
    declared: Schema | None = None
    source: str = "params.yaml"

    @property
    def schema(self) -> Schema:
        """The schema; a `ConfigError` saying how to write one when params.yaml has none."""
        if self.declared is None:
            raise ConfigError(f"{self.source}: data.schema is missing; {_FIX_SCHEMA}")
        return self.declared

    @property
    def target(self) -> str:
        return self.schema.target


@dataclass(frozen=True)
class ModelConfig:
    """`model:`: the estimator (alias or import path, estimators.py), its params, how numeric
    columns reach it, and the types its saved form may hold beyond the reviewed ones."""

    estimator: str = "random_forest"
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    numeric: str = "auto"
    trusted_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class MlflowConfig:
    experiment_name: str = "mlgate"
    tracking_uri: str = "sqlite:///mlflow.db"
    registered_model_name: str = "model"
    # accuracy (classification) or R² (regression) at or above it moves a version to Staging
    staging_threshold: float = 0.85
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class GateConfig:
    mode: str = "enabled"
    primary_metric: str = "f1_macro"
    margin: float = 0.03
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"accuracy": 0.85})
    )
    max_class_drop: float = 0.10
    # Regression: the margin in RMSE/MAE units (absolute) or as a share of the champion's error
    # (relative); classification margins are absolute. The same units for data.slice_by's slices.
    margin_kind: str = "absolute"
    max_slice_loss: float = 0.10
    alpha: float = 0.05
    confidence: float = 0.95
    n_bootstrap: int = 2000
    seed: int = 0
    allow_schema_change: bool = False
    max_size_ratio: float = 3.0
    max_latency_ratio: float = 3.0
    evidence: str = "cv"
    on_inconclusive: str = "fail"
    cv_folds: int = 5
    cv_repeats: int = 2


@dataclass(frozen=True)
class PromotionConfig:
    use_stages: bool = True
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    model_cards_dir: str = "model_cards"
    # Who builds the version a release promotes: "pr" reuses the PR's version when it passes
    # verification (the one its comment showed), "release" trains every release in the release
    # job itself, so no artifact a PR job wrote reaches production (README, Architecture).
    build: str = "pr"


BUILDS = ("pr", "release")


@dataclass(frozen=True)
class CardConfig:
    """`card:`: what the model card says about the model in words (card.py renders the rest).

    `summary` may name {model_type}, {kind} (classifier | regressor), {target} and {n_classes}.
    """

    summary: str = "A {model_type} {kind} of {target}"
    intended_use: tuple[str, ...] = (
        "**Primary use:** the one the team that trained it documents here (params.yaml, card).",
    )
    data_source: str = ""
    # The file `data_source` describes; another file's card says `data_source_other` instead.
    data_sha256: str = ""
    data_source_other: str = ""
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class Params:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    card: CardConfig = field(default_factory=CardConfig)
    source: str = "params.yaml"

    def training_inputs(self) -> dict[str, Any]:
        """The sections that change the trained model (used by the fingerprint)."""
        declared = self.data.declared
        return {
            "data": {
                "test_size": self.data.test_size,
                "random_state": self.data.random_state,
                # The schema decides the columns, the preprocessing and which rows are valid;
                # slice_by only changes how the gate looks at the rows.
                "schema": {k: v for k, v in declared.to_dict().items() if k != "slice_by"}
                if declared
                else None,
            },
            "model": {
                "estimator": self.model.estimator,
                "params": dict(self.model.params),
                "numeric": self.model.numeric,
            },
        }


def default_params() -> Params:
    return Params(source="<defaults>")


def resolve_tracking_uri(params: Params, override: str | None = None) -> str:
    """--tracking-uri beats MLFLOW_TRACKING_URI beats params.yaml."""
    return override or os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri


def load_params(path: str | os.PathLike[str] = "params.yaml") -> Params:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (pass --params PATH, or run from the project root)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc}); check the file's permissions") from None
    return parse_params(text, str(path))


def parse_params(text: str, source: str = "params.yaml") -> Params:
    """Validate params.yaml's text; `source` names the file in messages."""
    raw = yamltext.load(text, source)
    if raw is None:
        raw = {}
    return _Parser(source).params(raw)


# Each section: key -> (expected kind, check). Kinds: "str", "int", "float", "bool", "map".
class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.task = DEFAULT_TASK
        self.declared: Schema | None = None

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key} {message}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, got {_kind(value)}")
        return value

    def params(self, raw: Any) -> Params:
        raw = self.mapping(raw, "(top level)") if raw != {} else {}
        sections = {
            "data": self.data,
            "model": self.model,
            "mlflow": self.mlflow,
            "gate": self.gate,
            "promotion": self.promotion,
            "card": self.card,
        }
        self.reject_unknown(raw, sections, "")
        built: dict[str, Any] = {}
        for name, fn in sections.items():  # data first: the gate's metrics follow its task
            built[name] = fn(self.mapping(raw.get(name) or {}, name))
            if name == "data":
                self.task, self.declared = built[name].task, built[name].declared
        return Params(**built, source=self.source)

    def reject_unknown(self, raw: Mapping[str, Any], known: Mapping[str, Any], prefix: str) -> None:
        for key in raw:
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
                allowed = ", ".join(known)
                raise self.fail(
                    f"{prefix}{key}", f"is not a known key{hint}; known keys: {allowed}"
                )

    def fields(self, cls: type, raw: Mapping[str, Any], section: str) -> dict[str, Any]:
        known = {f.name: f for f in dataclasses.fields(cls)}
        self.reject_unknown(raw, known, f"{section}.")
        out: dict[str, Any] = {}
        for name, value in raw.items():
            default = known[name].default
            if default is dataclasses.MISSING:
                default = known[name].default_factory()  # type: ignore[misc]
            out[name] = self.typed(value, default, f"{section}.{name}")
        return out

    def typed(self, value: Any, like: Any, key: str) -> Any:
        if isinstance(like, bool):
            if not isinstance(value, bool):
                raise self.fail(key, f"must be true or false, got {value!r}")
            return value
        if isinstance(like, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(key, f"must be an integer, got {value!r}")
            return value
        if isinstance(like, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(key, f"must be a number, got {value!r}")
            return float(value)
        if isinstance(like, str):
            if not isinstance(value, str) or not value.strip():
                raise self.fail(key, f"must be a non-empty string, got {value!r}")
            return value
        return value

    def range(self, cfg: Any, key: str, lo: float, hi: float, hint: str = "") -> None:
        value = getattr(cfg, key.rsplit(".", 1)[1])
        if not lo <= value <= hi:
            raise self.fail(key, f"must be between {lo:g} and {hi:g}, got {value!r}{hint}")

    def choice(self, value: str, key: str, choices: tuple[str, ...]) -> None:
        if value not in choices:
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}{hint}")

    def data(self, raw: Mapping[str, Any]) -> DataConfig:
        own = {k: v for k, v in raw.items() if k not in schema_mod.SCHEMA_KEYS}
        known = {"path", "test_size", "random_state", *schema_mod.SCHEMA_KEYS}
        self.reject_unknown(raw, dict.fromkeys(known), "data.")
        fields = self.fields(DataConfig, own, "data")
        task = raw.get("task", DEFAULT_TASK)
        self.choice(str(task), "data.task", TASK_NAMES)
        # A project set up without a CSV has no target or schema yet: commands that need the
        # data say how to write it (DataConfig.schema).
        described = any(k in raw for k in ("target", "schema", "slice_by"))
        declared = schema_mod.parse(raw, self.source) if described else None
        cfg = DataConfig(**fields, task=task, declared=declared, source=self.source)
        self.range(cfg, "data.test_size", 0.05, 0.5)
        self.range(cfg, "data.random_state", 0, 2**32 - 1)
        return cfg

    def model(self, raw: Mapping[str, Any]) -> ModelConfig:
        # `type` is the key's old name, still read (not advertised)
        known = dict.fromkeys(("estimator", "params", "numeric", "trusted_types"))
        self.reject_unknown({k: v for k, v in raw.items() if k != "type"}, known, "model.")
        if "type" in raw and "estimator" in raw:
            raise self.fail("model.type", "is the old name of model.estimator: keep only one")
        spec = raw.get("estimator", raw.get("type", ModelConfig.estimator))
        key = "model.estimator" if "estimator" in raw or "type" not in raw else "model.type"
        if not isinstance(spec, str) or not spec.strip():
            raise self.fail(key, f"must be an alias or an import path, got {spec!r}")
        numeric = raw.get("numeric", "auto")
        self.choice(str(numeric), "model.numeric", NUMERIC_MODES)
        trusted = raw.get("trusted_types") or []
        if not isinstance(trusted, list) or not all(isinstance(t, str) for t in trusted):
            raise self.fail("model.trusted_types", f"must be a list of type names, got {trusted!r}")
        hyper = raw.get("params") or {}
        hyper = self.mapping(hyper, "model.params")
        for name, value in hyper.items():
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                raise self.fail(
                    f"model.params.{name}",
                    f"must be a scalar (number, string, bool), got {value!r}",
                )
        return ModelConfig(spec, MappingProxyType(dict(hyper)), numeric, tuple(trusted))

    def mlflow(self, raw: Mapping[str, Any]) -> MlflowConfig:
        raw = dict(raw)
        tags = self.mapping(raw.pop("tags", None) or {}, "mlflow.tags")
        cfg = MlflowConfig(
            **self.fields(MlflowConfig, raw, "mlflow"),
            tags=MappingProxyType({str(k): str(v) for k, v in tags.items()}),
        )
        self.range(cfg, "mlflow.staging_threshold", 0.0, 1.0)
        return cfg

    def gate(self, raw: Mapping[str, Any]) -> GateConfig:
        raw = dict(raw)
        task = task_named(self.task)
        default = dict(GateConfig().thresholds) if task.unit_scores else {}
        thresholds = self.mapping(raw.pop("thresholds", None) or default, "gate.thresholds")
        self.thresholds(thresholds)
        raw.setdefault("primary_metric", task.primary_metric)
        raw.setdefault("margin_kind", task.margin_kind)
        if task.margin is not None:
            raw.setdefault("margin", task.margin)
        cfg = GateConfig(
            **self.fields(GateConfig, raw, "gate"),
            thresholds=MappingProxyType({str(k): float(v) for k, v in thresholds.items()}),
        )
        self.choice(cfg.mode, "gate.mode", GATE_MODES)
        self.primary_metric(cfg.primary_metric)
        self.choice(cfg.margin_kind, "gate.margin_kind", MARGIN_KINDS)
        if cfg.margin_kind not in task.margin_kinds:
            raise self.fail(
                "gate.margin_kind",
                "relative applies to regression errors; a classification margin is absolute",
            )
        if not task.unit_scores and cfg.margin_kind == "absolute":  # in the target's units
            self.range(cfg, "gate.margin", 0.0, math.inf)
            self.range(cfg, "gate.max_slice_loss", 0.0, math.inf)
        else:
            self.range(cfg, "gate.margin", 0.0, 1.0, _percent_hint(cfg.margin))
            self.range(cfg, "gate.max_slice_loss", 0.0, 1.0, _percent_hint(cfg.max_slice_loss))
        self.range(cfg, "gate.max_class_drop", 0.0, 1.0, _percent_hint(cfg.max_class_drop))
        self.range(cfg, "gate.alpha", 1e-6, 0.5)
        self.range(cfg, "gate.confidence", 0.5, 0.999)
        self.range(cfg, "gate.n_bootstrap", 100, 100_000)
        self.range(cfg, "gate.max_size_ratio", 1.0, 1000.0)
        self.range(cfg, "gate.max_latency_ratio", 1.0, 1000.0)
        self.choice(cfg.evidence, "gate.evidence", GATE_EVIDENCE)
        self.choice(cfg.on_inconclusive, "gate.on_inconclusive", ON_INCONCLUSIVE)
        self.range(cfg, "gate.cv_folds", 2, 20)
        self.range(cfg, "gate.cv_repeats", 1, 20)
        return cfg

    def thresholds(self, thresholds: Mapping[str, Any]) -> None:
        """Names the gate computes for this task; classification scores lie in [0, 1]."""
        task = task_named(self.task)
        known = task.metrics
        per_class = tuple(f"f1_{c}" for c in self._classes()) if task.has_classes else ()
        gated = (*known, *per_class)
        for name, value in thresholds.items():
            if name not in gated:
                close = difflib.get_close_matches(str(name), gated, n=1)
                hint = f" (did you mean gate.thresholds.{close[0]}?)" if close else ""
                more = " or f1_<class>" if task.has_classes else ""
                raise self.fail(
                    f"gate.thresholds.{name}",
                    f"is not a metric the gate computes{hint}; use {', '.join(known)}{more}",
                )
            number = not isinstance(value, bool) and isinstance(value, (int, float))
            if not task.unit_scores and not number:
                raise self.fail(f"gate.thresholds.{name}", f"must be a number, got {value!r}")
            if task.unit_scores and not (number and 0 <= value <= 1):
                raise self.fail(
                    f"gate.thresholds.{name}", f"must be a number in [0, 1], got {value!r}"
                )

    def _classes(self) -> tuple[str, ...]:
        return self.declared.classes if self.declared is not None else ()

    def primary_metric(self, metric: str) -> None:
        """Only the task's metrics have a paired bootstrap interval."""
        metrics = task_named(self.task).metrics
        # f1_macor is a typo of f1_macro, not a per-class F1: that hint would mislead.
        typo = metric[3:] not in self._classes() and difflib.get_close_matches(metric, metrics)
        per_class = metric.startswith("f1_") and task_named(self.task).has_classes
        if per_class and metric not in metrics and not typo:
            raise self.fail(
                "gate.primary_metric",
                f"must be one of {', '.join(metrics)}, got {metric!r} (per-class F1 has no "
                f"paired interval: gate it with gate.max_class_drop or gate.thresholds.{metric})",
            )
        self.choice(metric, "gate.primary_metric", metrics)

    def card(self, raw: Mapping[str, Any]) -> CardConfig:
        known = {f.name: f for f in dataclasses.fields(CardConfig)}
        self.reject_unknown(raw, known, "card.")
        out: dict[str, Any] = {}
        for key in ("intended_use", "caveats"):
            if key in raw:
                items = raw[key]
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    raise self.fail(f"card.{key}", f"must be a list of sentences, got {items!r}")
                out[key] = tuple(items)
        for key in ("summary", "data_source", "data_sha256", "data_source_other"):
            if key in raw:
                out[key] = self.typed(raw[key], "", f"card.{key}")
        cfg = CardConfig(**out)
        try:
            cfg.summary.format(model_type="", kind="", target="", n_classes=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise self.fail(
                "card.summary",
                f"has an unknown placeholder ({exc}); use {{model_type}}, {{kind}}, {{target}}"
                " or {n_classes}",
            ) from None
        return cfg

    def promotion(self, raw: Mapping[str, Any]) -> PromotionConfig:
        cfg = PromotionConfig(**self.fields(PromotionConfig, raw, "promotion"))
        self.choice(cfg.build, "promotion.build", BUILDS)
        return cfg


def _percent_hint(value: float) -> str:
    return f" (did you mean {value / 100:g}?)" if 1 < value <= 100 else ""


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )
