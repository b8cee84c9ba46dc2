"""YAML a user wrote (params.yaml), read strictly.

Why not plain `yaml.safe_load`: it keeps the last of two equal keys in a mapping, so a second
`gate:` appended at the end of params.yaml silently drops the whole first section. Every file a
user edits is read here, and a repeated key at any depth is a `ConfigError` naming both lines.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["load"]

_MERGE = "tag:yaml.org,2002:merge"  # `<<: *defaults` may repeat: later keys override merged ones


def load(text: str, source: str) -> Any:
    """The document in `text`; `ConfigError` (one line) for invalid YAML or a repeated key."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _reject_duplicates(loader, node, "", source, set())
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: YAML syntax error{where}: {problem}; fix the YAML") from None
    finally:
        loader.dispose()


def _reject_duplicates(
    loader: yaml.SafeLoader, node: yaml.Node, path: str, source: str, seen: set[int]
) -> None:
    if id(node) in seen:  # an alias: its node was checked where it was anchored
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_duplicates(loader, item, f"{path}[{index}]", source, seen)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    first_line: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            _reject_duplicates(loader, value_node, path, source, seen)
            continue
        key = loader.construct_object(key_node)  # `1` and `1.0`, `yes` and `true` are one key
        name = f"{path}.{key}" if path else str(key)
        line = key_node.start_mark.line + 1
        if key in first_line:
            raise ConfigError(
                f"{source}: key `{name}` appears twice (lines {first_line[key]} and {line});"
                " keep one"
            )
        first_line[key] = line
        _reject_duplicates(loader, value_node, name, source, seen)
