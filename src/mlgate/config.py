"""params.yaml -> frozen, validated objects.

Validation happens once, here: unknown keys, wrong types and out-of-range values raise
`ConfigError` naming the file, the key path and the expected form. The rest of the code never
reads raw dicts.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .data import CLASSES
from .errors import ConfigError

__all__ = [
    "MODEL_TYPES",
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

MODEL_TYPES = (
    "random_forest",
    "logistic_regression",
    "gradient_boosting",
    "extra_trees",
    "decision_tree",
)
GATE_MODES = ("enabled", "dry_run", "disabled")


@dataclass(frozen=True)
class DataConfig:
    path: str = "data/obesity.csv"
    target: str = "NObeyesdad"
    test_size: float = 0.2
    random_state: int = 42


@dataclass(frozen=True)
class ModelConfig:
    type: str = "random_forest"
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class MlflowConfig:
    experiment_name: str = "obesity_classification"
    tracking_uri: str = "sqlite:///mlflow.db"
    registered_model_name: str = "obesity_classifier"
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
    alpha: float = 0.05
    confidence: float = 0.95
    n_bootstrap: int = 2000
    seed: int = 0
    allow_schema_change: bool = False
    max_size_ratio: float = 3.0
    max_latency_ratio: float = 3.0


@dataclass(frozen=True)
class PromotionConfig:
    use_stages: bool = True
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    model_cards_dir: str = "model_cards"


@dataclass(frozen=True)
class Params:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    source: str = "params.yaml"

    def training_inputs(self) -> dict[str, Any]:
        """The sections that change the trained model (used by the fingerprint)."""
        return {
            "data": {
                "target": self.data.target,
                "test_size": self.data.test_size,
                "random_state": self.data.random_state,
            },
            "model": {"type": self.model.type, "params": dict(self.model.params)},
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
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: YAML syntax error{where}: {problem}; fix the YAML") from None
    if raw is None:
        raw = {}
    return _Parser(source).params(raw)


# Each section: key -> (expected kind, check). Kinds: "str", "int", "float", "bool", "map".
class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

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
        }
        self.reject_unknown(raw, sections, "")
        built = {name: fn(self.mapping(raw.get(name) or {}, name)) for name, fn in sections.items()}
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
        cfg = DataConfig(**self.fields(DataConfig, raw, "data"))
        self.range(cfg, "data.test_size", 0.05, 0.5)
        self.range(cfg, "data.random_state", 0, 2**32 - 1)
        return cfg

    def model(self, raw: Mapping[str, Any]) -> ModelConfig:
        known = {"type", "params"}
        self.reject_unknown(raw, known, "model.")
        kind = raw.get("type", ModelConfig.type)
        if not isinstance(kind, str):
            raise self.fail("model.type", f"must be a string, got {kind!r}")
        self.choice(kind, "model.type", MODEL_TYPES)
        hyper = raw.get("params") or {}
        hyper = self.mapping(hyper, "model.params")
        for name, value in hyper.items():
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                raise self.fail(
                    f"model.params.{name}",
                    f"must be a scalar (number, string, bool), got {value!r}",
                )
        return ModelConfig(type=kind, params=MappingProxyType(dict(hyper)))

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
        thresholds = self.mapping(
            raw.pop("thresholds", None) or dict(GateConfig().thresholds), "gate.thresholds"
        )
        known = _metrics()
        gated = (*known, *(f"f1_{label}" for label in CLASSES))
        for name, value in thresholds.items():
            if name not in gated:
                close = difflib.get_close_matches(str(name), gated, n=1)
                hint = f" (did you mean gate.thresholds.{close[0]}?)" if close else ""
                raise self.fail(
                    f"gate.thresholds.{name}",
                    f"is not a metric the gate computes{hint}; use {', '.join(known)}"
                    " or f1_<class>",
                )
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                raise self.fail(
                    f"gate.thresholds.{name}", f"must be a number in [0, 1], got {value!r}"
                )
        cfg = GateConfig(
            **self.fields(GateConfig, raw, "gate"),
            thresholds=MappingProxyType({str(k): float(v) for k, v in thresholds.items()}),
        )
        self.choice(cfg.mode, "gate.mode", GATE_MODES)
        self.primary_metric(cfg.primary_metric)
        self.range(cfg, "gate.margin", 0.0, 1.0, _percent_hint(cfg.margin))
        self.range(cfg, "gate.max_class_drop", 0.0, 1.0, _percent_hint(cfg.max_class_drop))
        self.range(cfg, "gate.alpha", 1e-6, 0.5)
        self.range(cfg, "gate.confidence", 0.5, 0.999)
        self.range(cfg, "gate.n_bootstrap", 100, 100_000)
        self.range(cfg, "gate.max_size_ratio", 1.0, 1000.0)
        self.range(cfg, "gate.max_latency_ratio", 1.0, 1000.0)
        return cfg

    def primary_metric(self, metric: str) -> None:
        """Only stats.METRICS have a paired bootstrap interval."""
        if metric.startswith("f1_") and metric[3:] in CLASSES:
            raise self.fail(
                "gate.primary_metric",
                f"must be one of {', '.join(_metrics())}, got {metric!r} (per-class F1 has no "
                f"paired interval: gate it with gate.max_class_drop or gate.thresholds.{metric})",
            )
        self.choice(metric, "gate.primary_metric", _metrics())

    def promotion(self, raw: Mapping[str, Any]) -> PromotionConfig:
        return PromotionConfig(**self.fields(PromotionConfig, raw, "promotion"))


def _percent_hint(value: float) -> str:
    return f" (did you mean {value / 100:g}?)" if 1 < value <= 100 else ""


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _metrics() -> tuple[str, ...]:
    """The metrics the gate computes, named in stats.py.

    Imported here rather than at the top: stats pulls numpy, and config is read by commands
    (and `--help`) that never compute a metric.
    """
    from .stats import METRICS

    return METRICS
