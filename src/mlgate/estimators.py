"""The estimator params.yaml names, the pipeline the schema builds around it, and the types its
saved form may contain.

    model:
      estimator: sklearn.ensemble.HistGradientBoostingClassifier  # or an alias: random_forest
      params: {max_iter: 200}
      numeric: auto          # auto | passthrough | standard
      trusted_types: []      # extra types the saved model may contain, after review

`estimator` is an import path to a class that follows the scikit-learn estimator API, including
one in the project's own repository (`models.my_estimator.MyClassifier`, importable from the
repository root), or one of the short names in `ALIASES`. Its predictions must fit the task:
a classifier for classification, a regressor for regression.

Models are saved with skops, which refuses to load a type it does not trust instead of running
arbitrary code as pickle would. `REVIEWED_TYPES` are the types outside skops' defaults that
mlgate's own pipelines contain; `model.trusted_types` adds the project's own after its review.
A fitted model holding any other type is refused before anything is registered.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, first_line
from .task import ALL as ALL_TASKS
from .task import named as task_named

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from .schema import Schema

__all__ = [
    "ALIASES",
    "NUMERIC_MODES",
    "REVIEWED_TYPES",
    "build",
    "build_pipeline",
    "checked_trusted_types",
    "import_module",
    "resolve",
    "scales_numeric",
    "trusted_types",
]

# model.estimator's short names, per task name (declared in task.py).
ALIASES: dict[str, dict[str, str]] = {t.name: t.aliases for t in ALL_TASKS}
NUMERIC_MODES = ("auto", "passthrough", "standard")
# Estimators that depend on the scale of their inputs (penalties, distances, gradient steps);
# `numeric: auto` standardises numeric columns for them. Trees split on thresholds and don't care.
_SCALE_SENSITIVE = (
    "sklearn.linear_model",
    "sklearn.svm",
    "sklearn.neighbors",
    "sklearn.neural_network",
)
# Types outside skops' default trust list that mlgate's pipelines contain, each reviewed: they hold
# arrays and numbers, and loading them calls no code of the file's choosing.
REVIEWED_TYPES = (
    "sklearn.tree._tree.Tree",  # a fitted tree's node arrays (random forests, extra trees, CART)
    # a fitted histogram-gradient-boosting tree's node array
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "numpy.dtype",  # an imputer's column dtype, rebuilt by numpy from an empty array
)


def trusted_types(extra: Iterable[str] = (), root: str | Path = ".") -> tuple[str, ...]:
    """The types a stored model may hold beyond skops' defaults: the reviewed ones and `extra`
    (a policy's `model.trusted_types`). Loading takes them from here, never from the model.

    skops imports a type's module by name to rebuild it; a trusted type of the project's own
    (in a module of the repository at `root`) is loaded here from its file (`import_module`),
    as the repository is never on `sys.path`."""
    extra = tuple(extra)
    for name in extra:
        module = name.rpartition(".")[0]
        if module and _repository_file(module, Path(root)) is not None:
            try:
                import_module(module, root)
            except Exception:  # skops then names the type it cannot load
                continue
    return tuple(sorted({*REVIEWED_TYPES, *extra}))


def import_module(name: str, root: str | Path | None = None) -> Any:
    """Module `name`: an installed one as Python imports it; one that lives in the repository at
    `root` (and is not installed) loaded from its file, and only that module.

    The repository never goes on `sys.path`: a file there named like a library (`yaml.py`,
    `tabulate.py`) would otherwise run in place of it in every later import, in every command.
    Called after mlgate's own imports, so the project's module runs last."""
    top = name.partition(".")[0]
    root_path = Path(root).resolve() if root is not None else None
    installed = importlib.util.find_spec(top)
    if installed is not None and not _inside(installed, root_path):
        return importlib.import_module(name)
    file = _repository_file(name, root_path) if root_path is not None else None
    if file is None:
        if root_path is not None and (
            (root_path / top).is_dir() or (root_path / f"{top}.py").is_file()
        ):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return importlib.import_module(name)
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(file):
        return loaded
    for library in _LIBRARIES:  # every library a command uses is imported before the project's
        importlib.import_module(library)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # skops imports the class's module by name when it loads one
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# The third-party packages mlgate's commands import: all are in sys.modules before a module of
# the project runs, so nothing it does to sys.path or sys.modules can change which code they are.
_LIBRARIES = ("numpy", "pandas", "scipy", "sklearn", "skops.io", "yaml", "tabulate", "mlflow")


def _repository_file(name: str, root: Path | None) -> Path | None:
    """The file of module `name` in the repository at `root`, if it lives there."""
    if root is None:
        return None
    base = root.resolve().joinpath(*name.split("."))
    for file in (base.with_suffix(".py"), base / "__init__.py"):
        if file.is_file():
            return file
    return None


def _inside(spec: Any, root: Path | None) -> bool:
    """Whether an import spec found the module in the repository (e.g. a test's sys.path)."""
    if root is None:
        return False
    places = [spec.origin, *(spec.submodule_search_locations or [])]
    return any(p and Path(p).resolve().is_relative_to(root) for p in places)


def resolve(
    spec: str, task: str, root: str | Path | None = None, source: str = "params.yaml"
) -> type:
    """The class `model.estimator` names: an alias of the task, or `package.module.Class`.

    A class defined in the project (a module under `root`, the repository) is loaded from its
    file, only that module (`import_module`); the repository never goes on `sys.path`.
    """
    key = "model.estimator"
    aliases = ALIASES[task]
    if spec in aliases:
        spec = aliases[spec]
    elif "." not in spec:
        other = next((t for t, names in ALIASES.items() if spec in names), None)
        if other is not None:
            raise ConfigError(
                f"{source}: {key} {spec!r} is a {other} alias, but data.task is {task}; use one of "
                f"{', '.join(aliases)} or an import path"
            )
        close = difflib.get_close_matches(spec, list(aliases), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(
            f"{source}: {key} {spec!r} is neither an alias nor an import path{hint}; use one of "
            f"{', '.join(aliases)} or package.module.Class"
        )
    module_name, _, name = spec.rpartition(".")
    try:
        module = import_module(module_name, root)
    except Exception as exc:  # the user's module may raise anything while importing
        reason = first_line(exc)
        raise ConfigError(
            f"{source}: {key} {spec!r} does not import ({type(exc).__name__}: {reason}); give a "
            "class importable from the repository root, e.g. "
            "sklearn.ensemble.RandomForestClassifier"
        ) from None
    cls = getattr(module, name, None)
    if cls is None:
        found = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(name, found, n=1)
        hint = f" (did you mean {module_name}.{close[0]}?)" if close else ""
        raise ConfigError(f"{source}: {key} {spec!r}: module {module_name} has no {name}{hint}")
    if not isinstance(cls, type) or not all(
        callable(getattr(cls, m, None)) for m in ("fit", "predict", "get_params")
    ):
        raise ConfigError(
            f"{source}: {key} {spec!r} is not a scikit-learn estimator (a class with fit, predict "
            "and get_params); name an estimator class"
        )
    return cls


def build(
    spec: str,
    params: Mapping[str, Any],
    task: str,
    root: str | Path | None = None,
    source: str = "params.yaml",
) -> Any:
    """An unfitted estimator from `model.estimator` and `model.params`, checked against the task."""
    cls = resolve(spec, task, root, source)
    try:
        estimator = cls(**dict(params))
    except TypeError as exc:
        raise ConfigError(
            f"{source}: model.params is not valid for {cls.__name__} ({exc}); see the "
            f"{cls.__name__} documentation"
        ) from None
    _validate_values(estimator, cls.__name__, source)
    kind = _estimator_type(estimator)
    learner = task_named(task).learner
    if kind != learner:
        what = f"a {kind}" if kind else "neither a classifier nor a regressor"
        other = next(t.name for t in ALL_TASKS if t.learner == kind) if kind else None
        raise ConfigError(
            f"{source}: model.estimator {spec!r} is {what}, but data.task is {task}; use a "
            f"{learner} (e.g. {ALIASES[task]['random_forest']})"
            + (f" or set data.task: {other}" if kind else "")
        )
    return estimator


def _validate_values(estimator: Any, name: str, source: str) -> None:
    """Refuse a hyper-parameter value the estimator would refuse at fit time (`max_depth:
    thirty`), before anything is opened or registered.

    scikit-learn checks values only when fitting, with the method its `fit` calls first
    (`_validate_params`, present since 1.2, reading the class's `_parameter_constraints`); it
    has no public spelling. Classes without constraints (a project's own) are checked by their
    fit, as before.
    """
    validate = getattr(estimator, "_validate_params", None)
    if not callable(validate) or not hasattr(estimator, "_parameter_constraints"):
        return
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        validate()
    except InvalidParameterError as exc:
        raise ConfigError(
            f"{source}: model.params: {first_line(exc).rstrip('.')}; fix the value (see the {name}"
            " documentation)"
        ) from None


def _estimator_type(estimator: Any) -> str | None:
    """'classifier', 'regressor' or None, from scikit-learn's tags (or the old attribute)."""
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(estimator):
            return "classifier"
        if is_regressor(estimator):
            return "regressor"
    except Exception:  # objects without scikit-learn's tags: fall back to the attribute
        pass
    kind = getattr(estimator, "_estimator_type", None)
    return kind if kind in ("classifier", "regressor") else None


def scales_numeric(estimator: Any, numeric: str = "auto") -> bool:
    """Whether numeric columns are standardised: as `model.numeric` says, or for `auto`, when the
    estimator is of a family that depends on the inputs' scale."""
    if numeric not in NUMERIC_MODES:
        raise ValueError(f"numeric must be one of {', '.join(NUMERIC_MODES)}, got {numeric!r}")
    if numeric != "auto":
        return numeric == "standard"
    return type(estimator).__module__.startswith(_SCALE_SENSITIVE)


def build_pipeline(schema: Schema, estimator: Any, numeric: str = "auto") -> Pipeline:
    """Preprocessing from the schema, then the estimator.

    Categorical columns are one-hot encoded (a value never seen in training encodes as all zeros
    rather than failing at predict time); numeric ones pass through or are standardised. Columns
    that may be empty (`required: false`) are imputed first: the most frequent category, the
    median number. Ignored columns and the target are not inputs.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = schema.features
    categorical = [c.name for c in features if c.kind == "categorical"]
    numbers = [c.name for c in features if c.kind == "numeric"]
    optional = {c.name for c in features if not c.required}
    scale = scales_numeric(estimator, numeric)

    def step(final: Any, impute: str | None, columns: list[str]) -> Any:
        if impute is None or not optional & set(columns):
            return final
        return Pipeline([("impute", SimpleImputer(strategy=impute)), ("transform", final)])

    parts = []
    if categorical:
        encoder = OneHotEncoder(handle_unknown="ignore")
        parts.append(("categorical", step(encoder, "most_frequent", categorical), categorical))
    if numbers:
        final = StandardScaler() if scale else "passthrough"
        impute = "median" if optional & set(numbers) else None
        if impute and final == "passthrough":
            final = SimpleImputer(strategy=impute)
            impute = None
        parts.append(("numeric", step(final, impute, numbers), numbers))
    return Pipeline([("prep", ColumnTransformer(parts)), ("model", estimator)])


def checked_trusted_types(
    pipeline: Any, extra: Iterable[str] = (), source: str = "params.yaml"
) -> list[str]:
    """The types outside skops' defaults that the fitted `pipeline` holds, all of them reviewed
    (`REVIEWED_TYPES`) or trusted by `model.trusted_types`; the list MLflow's skops flavour is
    given. Any other type is a `ConfigError` naming it: nothing falls back to pickle."""
    import skops.io

    allowed = set(REVIEWED_TYPES) | set(extra)
    found = sorted(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))
    refused = [t for t in found if t not in allowed]
    if refused:
        listed = ", ".join(refused)
        raise ConfigError(
            f"{source}: the fitted model contains type {listed}, which skops does not load "
            f"unless trusted; review it, then add it to model.trusted_types (mlgate never saves "
            "a model with pickle)"
        )
    return found
