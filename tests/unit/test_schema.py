from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlgate import data, schema, schema_inference
from mlgate.errors import ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]

BLOCK = {
    "task": "classification",
    "target": "label",
    "slice_by": "color",
    "schema": {
        "id": "ignore",
        "color": {"type": "categorical", "values": ["red", "blue"]},
        "size": {"type": "numeric", "min": 0, "max": 10},
        "note": {"type": "categorical", "values": ["a", "b"], "required": False},
        "label": {"type": "categorical", "values": ["yes_", "no_"]},
    },
}


def _block(**changes):
    block = {**BLOCK, "schema": dict(BLOCK["schema"])}
    for key, value in changes.items():
        if key.startswith("schema."):
            column = key.split(".", 1)[1]
            if value is None:
                del block["schema"][column]
            else:
                block["schema"][column] = value
        elif value is None:
            block.pop(key, None)
        else:
            block[key] = value
    return block


def test_parse_builds_frozen_columns():
    parsed = schema.parse(BLOCK)
    assert parsed.task == "classification"
    assert parsed.classes == ("yes_", "no_")
    assert [c.name for c in parsed.features] == ["color", "size", "note"]
    assert parsed.column("id").kind == "ignore"
    assert parsed.column("size") == schema.Column("size", "numeric", 0, 10)
    assert parsed.column("note").required is False
    with pytest.raises(AttributeError):
        parsed.task = "regression"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"task": "regresion"},
            "data.task must be one of classification, regression, got 'regresion'"
            " (did you mean regression?)",
        ),
        (
            {"schema": None},
            "data.schema is missing: list every column of the CSV (run 'mlgate data infer-schema",
        ),
        ({"target": "price"}, "data.schema has no entry for the target 'price'"),
        ({"schema.label": {"type": "numeric"}}, "a classification target must be categorical"),
        ({"task": "regression", "slice_by": None}, "a regression target must be numeric"),
        (
            {"schema.size": {"type": "numeric", "maximum": 3}},
            "data.schema.size.maximum is not a key of a numeric column"
            " (did you mean data.schema.size.max?)",
        ),
        (
            {"schema.color": {"type": "categorical", "values": [True, False]}},
            "which YAML read as bool: quote the value as it appears in the CSV, e.g. 'yes'",
        ),
        (
            {"schema.size": {"type": "numeric", "min": 5, "max": 1}},
            "data.schema.size min 5 is greater than max 1; swap them",
        ),
        (
            {"slice_by": "size"},
            "data.slice_by must name a categorical feature column, got 'size'"
            "; use one of: color, note",
        ),
        (
            {"schema.color": {"type": "categorical", "values": ["red", "red"]}},
            "lists red more than once",
        ),
        ({"schema.color": {"type": "categorcal"}}, "(did you mean categorical?)"),
        (
            {"schema.label": {"type": "categorical", "values": ["x"]}},
            "data.schema.label.values must list at least 2 classes",
        ),
        (
            {"schema.label": {"type": "categorical", "values": ["x", "y"], "required": False}},
            "cannot be false: every row needs a target",
        ),
    ],
    ids=[
        "task-typo",
        "no-schema",
        "target-not-listed",
        "classification-numeric-target",
        "regression-categorical-target",
        "unknown-key",
        "yaml-booleans",
        "min-above-max",
        "slice-not-categorical",
        "duplicate-values",
        "type-typo",
        "one-class",
        "optional-target",
    ],
)
def test_parse_rejects_with_key_and_fix(changes, message):
    with pytest.raises(ConfigError) as excinfo:
        schema.parse(_block(**changes), "p.yaml")
    assert str(excinfo.value).startswith("p.yaml: data.")
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


# --- reading and validating ------------------------------------------------------------------

ROWS = pd.DataFrame(
    {
        "id": ["a1", "a2", "a3", "a4", "a5", "a6"],
        "color": ["red", "blue", "red", "blue", "red", "blue"],
        "size": [1.0, 2.5, 3.0, 4.0, 5.5, 9.0],
        "note": ["a", None, "b", "a", None, "b"],
        "label": ["yes_", "no_", "yes_", "no_", "yes_", "no_"],
    }
)


def _csv(tmp_path, frame) -> Path:
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    return path


def test_read_csv_keeps_categories_as_written(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        "id,color,size,note,label\n1,red,2,1.0,yes_\n2,blue,3,1,no_\n3,red,4,1,yes_\n4,red,5,1,no_\n"
    )
    parsed = schema.parse(
        _block(**{"schema.note": {"type": "categorical", "values": ["1.0", "1"]}})
    )
    frame = data.read_csv(path, parsed)
    assert frame["note"].tolist() == [
        "1.0",
        "1",
        "1",
        "1",
    ]  # two different categories, as in the file
    assert frame["size"].tolist() == [2, 3, 4, 5]
    data.validate(frame, parsed, "d.csv")


def test_valid_rows_pass_and_optional_columns_may_be_empty(tmp_path):
    parsed = schema.parse(BLOCK)
    data.validate(data.read_csv(_csv(tmp_path, ROWS), parsed), parsed, "d.csv")


@pytest.mark.parametrize(
    ("mutate", "changes", "message"),
    [
        (
            lambda f: f.drop(columns=["size"]),
            {},
            "d.csv: missing column(s) size; data.schema in params.yaml needs all 5",
        ),
        (
            lambda f: f.assign(extra=1),
            {},
            "d.csv: unexpected column(s) extra"
            "; remove them, or list them in data.schema (type: ignore",
        ),
        (
            lambda f: f.assign(color=f.color.where(f.index != 2, None)),
            {},
            "column color has 1 missing value(s) (CSV line 4)"
            "; fill or drop those rows or set data.schema.color.required: false",
        ),
        (
            lambda f: f.assign(size=f["size"].astype(object).where(f.index != 1, "big")),
            {},
            "column size must be numeric, got 'big' on CSV line 3"
            "; fix the value, or declare data.schema.size categorical",
        ),
        (
            lambda f: f.assign(size=f["size"].where(f.index != 4, 12.5)),
            {},
            "column size value 12.5 on CSV line 6 is outside [0, 10]"
            "; fix the value, or change data.schema.size.max",
        ),
        (
            lambda f: f.assign(color=f.color.where(f.index != 5, "green")),
            {},
            "column color has unknown category 'green' (CSV line 7)"
            "; expected one of red, blue (or add it to data.schema.color.values)",
        ),
        (
            lambda f: f.assign(label="yes_"),
            {},
            "d.csv: label has fewer than 2 classes (only 'yes_'); nothing to classify",
        ),
        (
            lambda f: f.assign(label=["yes_"] * 5 + ["no_"]),
            {},
            "class no_ (1) has fewer than 2 rows",
        ),
        (
            lambda f: f.assign(label=["1.5", "2", "x", "3", "4", "5"]),
            {"task": "regression", "schema.label": {"type": "numeric"}},
            "column label must be numeric, got 'x' on CSV line 4"
            "; a regression target must be a number",
        ),
        (
            lambda f: f.assign(label=7.0),
            {"task": "regression", "schema.label": {"type": "numeric"}},
            "regression target label has a single value",
        ),
    ],
    ids=[
        "missing-column",
        "extra-column",
        "empty-required-cell",
        "text-in-numeric",
        "out-of-range",
        "unknown-category",
        "one-class",
        "rare-class",
        "regression-text-target",
        "regression-constant-target",
    ],
)
def test_validate_names_column_line_and_fix(tmp_path, mutate, changes, message):
    parsed = schema.parse(_block(**changes))
    frame = data.read_csv(_csv(tmp_path, mutate(ROWS.copy())), parsed)
    with pytest.raises(DataError) as excinfo:
        data.validate(frame, parsed, "d.csv")
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        data.read_csv(tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"not a readable CSV \(the file is empty\)"):
        data.read_csv(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="has a header but no data rows"):
        data.read_csv(tmp_path / "header.csv")


# --- inference -------------------------------------------------------------------------------


def _infer(tmp_path, frame, target="label", task=None):
    return schema_inference.infer(data.read_csv(_csv(tmp_path, frame)), target, task, "d.csv")


def test_infer_types_ids_optional_and_ranges(tmp_path):
    frame = ROWS.assign(row=range(6), count=[3, 1, 4, 1, 5, 9])
    inferred = _infer(tmp_path, frame)
    kinds = {c.name: c.kind for c in inferred.columns}
    assert kinds == {
        "id": "ignore",  # text, every value distinct
        "color": "categorical",
        "size": "numeric",
        "note": "categorical",
        "label": "categorical",
        "row": "ignore",  # integers counting the rows
        "count": "numeric",
    }
    assert inferred.task == "classification"
    assert inferred.column("color").values == ("blue", "red")
    assert inferred.column("note").required is False
    assert (inferred.column("size").minimum, inferred.column("size").maximum) == (0.2, 9.8)
    assert (inferred.column("count").minimum, inferred.column("count").maximum) == (0, 10)


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (["cat", "dog"] * 3, "classification"),
        ([0, 1, 1, 0, 2, 1], "classification"),
        ([0.5, 1.25, 3.0, 2.0, 7.5, 1.0], "regression"),
        (list(range(100, 106)) * 1, "classification"),
    ],
    ids=["text", "few-integers", "floats", "six-integers"],
)
def test_infer_task_from_target(tmp_path, labels, task):
    assert _infer(tmp_path, ROWS.assign(label=labels)).task == task


def test_infer_numeric_classes_in_numeric_order(tmp_path):
    inferred = _infer(tmp_path, ROWS.assign(label=[10, 2, 10, 2, 1, 1]))
    assert inferred.classes == ("1", "2", "10")


@pytest.mark.parametrize(
    ("frame", "target", "task", "message"),
    [
        (
            ROWS,
            "lable",
            None,
            "d.csv: no target column 'lable' (did you mean label?)"
            "; columns: id, color, size, note, label; pass --target",
        ),
        (
            ROWS.assign(label="same"),
            "label",
            None,
            "d.csv: target label has a single class ('same'); nothing to classify",
        ),
        (
            ROWS,
            "label",
            "regression",
            "d.csv: regression target label must be numeric, got 'yes_' on CSV line 2"
            "; fix the value, or pass --task classification",
        ),
        (
            ROWS.assign(label=[1.5] * 6),
            "label",
            "regression",
            "regression target label has a single value",
        ),
        (
            ROWS.assign(label=["a", None, "b", "a", "b", "a"]),
            "label",
            None,
            "target label has 1 missing value(s) (CSV line 3)",
        ),
    ],
    ids=[
        "missing-target",
        "one-class",
        "text-regression-target",
        "constant-target",
        "empty-target",
    ],
)
def test_infer_rejects_bad_targets(tmp_path, frame, target, task, message):
    with pytest.raises(DataError) as excinfo:
        _infer(tmp_path, frame, target, task)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("lo", "hi", "integral", "expected"),
    [
        (14, 61, True, (9, 66)),
        (1.45, 1.98, False, (1.39, 2.04)),
        (0, 3, False, (0, 3.3)),  # non-negative stays non-negative
        (-0.1, 0.2, False, (-0.13, 0.23)),
        (1, 2, True, (0, 3)),
        (5, 5, False, (4.5, 5.5)),  # a constant column: widened by a tenth of its value
        (25, 346, True, (0, 380)),
    ],
)
def test_widen_rule(lo, hi, integral, expected):
    assert schema_inference.widen(lo, hi, integral) == pytest.approx(expected)


# --- rendering and writing -------------------------------------------------------------------

TRICKY = schema.Schema(
    task="classification",
    target="label: final",
    columns=(
        schema.Column(
            "yes",
            "categorical",
            values=("yes", "no", "on", "null", "1.0", "a, b", " x", "#c", "[d]"),
        ),
        schema.Column("mean radius", "numeric", 0.5, 12.25),
        schema.Column("count", "numeric", 0, 10, required=False),
        schema.Column("id", "ignore"),
        schema.Column("label: final", "categorical", values=("true", "false")),
    ),
    slice_by="yes",
)


@pytest.mark.parametrize("value", [TRICKY, schema.parse(BLOCK)], ids=["tricky", "plain"])
def test_render_reads_back_as_the_same_schema(value):
    text = schema.render(value, "data/x.csv")
    loaded = yaml.safe_load(text)["data"]
    assert loaded["path"] == "data/x.csv"
    assert schema.parse(loaded) == value


def test_render_is_one_line_per_column():
    text = schema.render(schema.parse(BLOCK))
    assert "    color: {type: categorical, values: [red, blue]}\n" in text
    assert "    size: {type: numeric, min: 0, max: 10}\n" in text
    assert "    note: {type: categorical, values: [a, b], required: false}\n" in text
    assert '"no"' in schema.render(TRICKY)  # YAML 1.1 would read a plain no as false


def _comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def test_write_keeps_comments_and_other_sections(tmp_path):
    original = (REPO / "params.yaml").read_text()
    path = tmp_path / "params.yaml"
    path.write_text(original)
    schema.write(TRICKY, path, "data/new.csv")
    written = path.read_text()
    for comment in _comments(original):
        if "committed, generated" not in comment:  # the replaced data.path's own comment may go
            assert comment in written
    before, after = yaml.safe_load(original), yaml.safe_load(written)
    assert {k: v for k, v in after.items() if k != "data"} == {
        k: v for k, v in before.items() if k != "data"
    }
    assert after["data"]["test_size"] == before["data"]["test_size"]
    assert after["data"]["path"] == "data/new.csv"
    assert schema.parse(after["data"]) == TRICKY
    schema.write(TRICKY, path, "data/new.csv")
    assert path.read_text() == written  # idempotent


def test_write_replaces_and_removes_keys(tmp_path):
    path = tmp_path / "params.yaml"
    schema.write(TRICKY, path)  # a new file
    plain = schema.parse(BLOCK)
    schema.write(schema.Schema(plain.task, plain.target, plain.columns), path)
    data = yaml.safe_load(path.read_text())["data"]
    assert "slice_by" not in data
    assert list(data["schema"]) == ["id", "color", "size", "note", "label"]


def test_write_refuses_broken_yaml(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        schema.write(TRICKY, path)
    assert path.read_text() == "data: [unclosed\n"
