"""The dataset's schema: what params.yaml's `data:` block says the CSV holds.

`data.task` (classification | regression), `data.target`, the optional `data.slice_by` (a
categorical column whose slices the gate and the model card look at one by one) and
`data.schema`, one entry per CSV column:

    schema:
      plan: {type: categorical, values: [basic, premium]}
      Age: {type: numeric, min: 10, max: 100}
      customer_id: {type: ignore}
      Notes: {type: categorical, values: [a, b], required: false}

`numeric` columns may bound their values (`min`, `max`), `categorical` ones list every allowed
value (for a classification target: the classes, in the order reports list them), `ignore` keeps
a column (an id) out of the model. `required: false` allows empty cells; the model's
preprocessing imputes them. Every column of the CSV must be listed, so a renamed or new column is
an error rather than a silently different model.

Here: parsing into frozen dataclasses, and rendering the schema as YAML or writing it into an
existing params.yaml without losing its comments. data.py reads and validates a CSV against it;
schema_inference.py drafts one from a CSV.
"""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import yamltext
from .errors import ConfigError, first_line
from .task import ALL as ALL_TASKS
from .task import DEFAULT as DEFAULT_TASK
from .task import NAMES as TASK_NAMES
from .task import named as task_named

if TYPE_CHECKING:  # pandas costs ~0.5 s to import; callers that load data pay for it
    pass

__all__ = [
    "KINDS",
    "SCHEMA_KEYS",
    "TASKS",
    "Column",
    "Schema",
    "parse",
    "render",
    "write",
]

TASKS = TASK_NAMES  # data.task's values, declared in task.py
KINDS = ("numeric", "categorical", "ignore")
#: The keys of params.yaml's `data:` block that this module reads.
SCHEMA_KEYS = ("task", "target", "slice_by", "schema")
_COLUMN_KEYS = {
    "numeric": ("type", "min", "max", "required"),
    "categorical": ("type", "values", "required"),
    "ignore": ("type", "required"),
}
_FIX_SCHEMA = "run 'mlgate data infer-schema --data FILE --target COLUMN --write params.yaml'"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # numeric | categorical | ignore
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()  # categorical: the allowed values, in their reporting order
    required: bool = True  # false: empty cells are allowed (and imputed by the model)


@dataclass(frozen=True)
class Schema:
    task: str
    target: str
    columns: tuple[Column, ...]  # every CSV column, the target included
    slice_by: str | None = None

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def features(self) -> list[Column]:
        """The model's inputs, in file order: every column but the target and ignored ones."""
        return [c for c in self.columns if c.name != self.target and c.kind != "ignore"]

    @property
    def classes(self) -> tuple[str, ...]:
        """A classification target's classes, in order; () for regression."""
        return self.column(self.target).values if task_named(self.task).has_classes else ()

    def to_dict(self) -> dict[str, Any]:
        """The `data:` keys as plain data (what `render` writes and `parse` reads back)."""
        out: dict[str, Any] = {"task": self.task, "target": self.target}
        if self.slice_by:
            out["slice_by"] = self.slice_by
        out["schema"] = {c.name: _column_dict(c) for c in self.columns}
        return out


def _column_dict(column: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"type": column.kind}
    if column.kind == "categorical":
        out["values"] = list(column.values)
    if column.minimum is not None:
        out["min"] = column.minimum
    if column.maximum is not None:
        out["max"] = column.maximum
    if not column.required:
        out["required"] = False
    return out


# --- parsing ---------------------------------------------------------------------------------


def parse(raw: Mapping[str, Any], source: str = "params.yaml") -> Schema:
    """Schema from the `data:` mapping of params.yaml (other keys of the block are ignored)."""

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{source}: data.{key} {message}")

    task = raw.get("task", DEFAULT_TASK)
    if task not in TASKS:
        close = difflib.get_close_matches(str(task), TASKS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise fail("task", f"must be one of {', '.join(TASKS)}, got {task!r}{hint}")
    target = raw.get("target")
    if not isinstance(target, str) or not target.strip():
        raise fail("target", f"must name the column to predict, got {target!r}")
    entries = raw.get("schema")
    if entries is None:
        raise fail("schema", f"is missing: list every column of the CSV ({_FIX_SCHEMA})")
    if not isinstance(entries, Mapping) or not entries:
        raise fail("schema", f"must map each column to its type, got {entries!r}")
    columns = tuple(_column(str(name), spec, fail) for name, spec in entries.items())
    names = [c.name for c in columns]
    if target not in names:
        close = difflib.get_close_matches(target, names, n=1)
        if close:  # a typo of a declared column, not a column missing from the schema
            raise fail(
                "target", f"{target!r} is not a column of data.schema (did you mean {close[0]}?)"
            )
        declared = task_named(task)
        kind = declared.target_kind + (", values: [...]" if declared.has_classes else "")
        raise fail(
            "schema", f"has no entry for the target {target!r}; add {target}: {{type: {kind}}}"
        )
    label = columns[names.index(target)]
    declared = task_named(task)
    if label.kind != declared.target_kind:
        other = next(t.name for t in ALL_TASKS if t.name != task)
        values = " with its classes as values" if declared.has_classes else ""
        raise fail(
            f"schema.{target}",
            f"is {label.kind}, but a {task} target must be {declared.target_kind}{values} "
            f"(or set data.task: {other})",
        )
    if declared.has_classes and len(label.values) < 2:
        raise fail(f"schema.{target}.values", "must list at least 2 classes")
    if not label.required:
        raise fail(f"schema.{target}.required", "cannot be false: every row needs a target")
    slice_by = raw.get("slice_by")
    if slice_by is not None:
        features = {c.name: c for c in columns if c.name != target}
        if slice_by not in features or features[slice_by].kind != "categorical":
            choices = [c.name for c in features.values() if c.kind == "categorical"]
            listed = ", ".join(choices) or "none in data.schema"
            raise fail(
                "slice_by",
                f"must name a categorical feature column, got {slice_by!r}; use one of: {listed}",
            )
    return Schema(task=task, target=target, columns=columns, slice_by=slice_by)


def _column(name: str, spec: Any, fail: Any) -> Column:
    key = f"schema.{name}"
    if isinstance(spec, str):  # shorthand: `id: ignore`, `Age: numeric`
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise fail(key, f"must be a mapping like {{type: numeric}}, got {spec!r}")
    kind = spec.get("type")
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise fail(f"{key}.type", f"must be one of {', '.join(KINDS)}, got {kind!r}{hint}")
    allowed = _COLUMN_KEYS[kind]
    for extra in spec:
        if extra not in allowed:
            close = difflib.get_close_matches(str(extra), allowed, n=1)
            hint = f" (did you mean data.{key}.{close[0]}?)" if close else ""
            raise fail(
                f"{key}.{extra}",
                f"is not a key of a {kind} column{hint}; keys: {', '.join(allowed)}",
            )
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise fail(f"{key}.required", f"must be true or false, got {required!r}")
    bounds = {}
    for bound in ("min", "max"):
        value = spec.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise fail(f"{key}.{bound}", f"must be a number, got {value!r}")
        bounds[bound] = value
    if None not in bounds.values() and bounds["min"] > bounds["max"]:
        raise fail(key, f"min {bounds['min']} is greater than max {bounds['max']}; swap them")
    values: tuple[str, ...] = ()
    if kind == "categorical":
        values = _values(spec.get("values"), f"{key}.values", fail)
    return Column(name, kind, bounds["min"], bounds["max"], values, required)


def _values(raw: Any, key: str, fail: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise fail(key, f"must list the allowed values, got {raw!r}")
    out = []
    for value in raw:
        if isinstance(value, bool) or value is None:
            # YAML 1.1 reads yes/no/on/off/true/false/null unquoted as booleans and null.
            raise fail(
                key,
                f"contains {value!r}, which YAML read as {type(value).__name__}: quote the value "
                "as it appears in the CSV, e.g. 'yes'",
            )
        if not isinstance(value, (str, int, float)):
            raise fail(key, f"must list strings or numbers, got {value!r}")
        out.append(str(value))
    duplicates = sorted({v for v in out if out.count(v) > 1})
    if duplicates:
        raise fail(key, f"lists {', '.join(duplicates)} more than once; remove the duplicates")
    return tuple(out)


# --- rendering and writing -------------------------------------------------------------------


def render(schema: Schema, path: str | None = None) -> str:
    """The `data:` block as YAML: one line per column, comments saying what each key does."""
    lines = ["data:"]
    if path is not None:
        lines.append(f"  path: {_scalar(path)}")
    lines.append(f"  task: {schema.task}  # {' | '.join(TASK_NAMES)}")
    lines.append(f"  target: {_scalar(schema.target)}")
    if schema.slice_by:
        lines.append(f"  slice_by: {_scalar(schema.slice_by)}")
    else:
        lines.append("  # slice_by: COLUMN  # a categorical column the gate checks slice by slice")
    lines.append("  # numeric: min/max bound the values; categorical: the allowed values;")
    lines.append("  # ignore: not a feature (ids); required: false allows empty cells")
    lines.append("  schema:")
    for column in schema.columns:
        lines.append(f"    {_scalar(column.name)}: {_flow(_column_dict(column))}")
    return "\n".join(lines) + "\n"


def _flow(spec: Mapping[str, Any]) -> str:
    parts = []
    for key, value in spec.items():
        if isinstance(value, list):
            text = "[" + ", ".join(_scalar(v) for v in value) + "]"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = f"{value:.12g}"
        else:
            text = _scalar(str(value)) if isinstance(value, str) else str(value)
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def _scalar(value: str) -> str:
    """`value` plain when YAML reads it back as the same string (in a flow sequence and as a key),
    double-quoted otherwise: `yes`, `1.0`, `a, b` or `null` must stay text."""
    try:
        plain = yaml.safe_load(f"{{{value}: [{value}]}}") == {value: [value]}
    except yaml.YAMLError:
        plain = False
    return value if plain and value.strip() == value and value else json.dumps(value)


def _remove(block: Any, key: str) -> None:
    """Drop `key`, keeping the full-line comments that follow it (ruamel stores them with the
    key): they move to the key before, whose line has no comment of its own then."""
    if key not in block:
        return
    keys = list(block)
    token = block.ca.items.get(key, [None, None, None, None])[2]
    block.pop(key)
    index = keys.index(key)
    if token is None or index == 0:
        return
    _, _, rest = token.value.partition("\n")
    previous = keys[index - 1]
    slots = block.ca.items.setdefault(previous, [None, None, None, None])
    if rest.strip() and slots[2] is None:
        token.value = "\n" + rest
        slots[2] = token


def write(schema: Schema, params_path: str | Path, data_path: str | None = None) -> None:
    """Put the schema into params.yaml's `data:` block, keeping every comment and every other key.

    The block's keys are replaced in place (new ones go after `data.path`); a file that does not
    exist is created. What is written is read back and must parse to the same schema.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    path = Path(params_path)
    rt = YAML()
    rt.width = 4096  # one line per column, however many categories
    rt.indent(mapping=2, sequence=4, offset=2)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    yamltext.load(text, str(path))  # the same one-line messages as params.yaml's own reader
    try:
        document = rt.load(text) if text.strip() else None
    except Exception as exc:
        raise ConfigError(f"{path}: YAML syntax error ({first_line(exc)}); fix the YAML") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise ConfigError(f"{path}: (top level) must be a mapping; fix the file")
    block = document.get("data")
    if block is None:
        block = CommentedMap()
        document.insert(0, "data", block)
    if not isinstance(block, CommentedMap):
        raise ConfigError(f"{path}: data must be a mapping; fix the file")

    def text_of(value: str) -> Any:
        return value if _scalar(value) == value else DoubleQuotedScalarString(value)

    entries = CommentedMap()
    for column in schema.columns:
        spec = CommentedMap()
        for key, value in _column_dict(column).items():
            if isinstance(value, list):
                seq = CommentedSeq(text_of(v) for v in value)
                seq.fa.set_flow_style()
                value = seq
            elif isinstance(value, str):
                value = text_of(value)
            spec[key] = value
        spec.fa.set_flow_style()
        entries[text_of(column.name)] = spec
    wanted: dict[str, Any] = {}
    if data_path is not None:
        wanted["path"] = text_of(data_path)
    wanted |= {"task": schema.task, "target": text_of(schema.target)}
    wanted["slice_by"] = text_of(schema.slice_by) if schema.slice_by else None
    wanted["schema"] = entries
    position = list(block).index("path") + 1 if "path" in block else 0
    for key, value in wanted.items():
        if value is None:
            _remove(block, key)
        elif key in block:
            block[key] = value
            position = list(block).index(key) + 1
        else:
            block.insert(position, key, value)
            position += 1
    out = io.StringIO()
    rt.dump(document, out)
    written = out.getvalue()
    reread = parse((yaml.safe_load(written) or {}).get("data") or {}, str(path))
    if reread != schema:
        raise ConfigError(f"{path}: the schema did not survive writing; fix the file by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(written, encoding="utf-8")
