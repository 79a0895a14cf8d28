"""Load YAML with line numbers so every content error reads ``path:line: message``.

PyYAML's ``SafeLoader`` is used with two changes:

* ``yes``/``no``/``on``/``off`` stay strings (YAML 1.1 would turn them into
  booleans, and "yes" and "no" are answers here, not truth values);
* every mapping and sequence is returned as a :class:`Node` subclass of
  ``dict``/``list`` that remembers the line of each key and item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a content file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# The exit status of a command given a bad file (reported as path:line: message).
EXIT_BAD_INPUT = 2


class ContentError(Exception):
    """Raised with every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class LineDict(dict[str, Any]):
    """A mapping that knows where it and each of its keys stand in the file."""

    path: str = "?"
    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows where it and each of its items stand."""

    path: str = "?"
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _Loader(yaml.SafeLoader):
    pass


# Keep only true/false as booleans: "yes" and "no" are answers.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.path = loader.name
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word or number", key_node.start_mark
            )
        skey = str(key)
        if skey in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {skey!r}", key_node.start_mark)
        result[skey] = loader.construct_object(value_node, deep=True)
        result.key_lines[skey] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.path = loader.name
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_text(text: str, path: str) -> Any:
    """Parse ``text`` (named ``path`` in messages); raise ContentError on bad YAML."""
    loader = _Loader(text)
    loader.name = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = exc.problem or exc.context or "invalid YAML"
        raise ContentError([Problem(path, line, f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ContentError([Problem(path, 1, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def load_file(path: Path) -> Any:
    """Read and parse a YAML file; unreadable files become a ContentError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError([Problem(str(path), 0, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError([Problem(str(path), 0, f"cannot read file: {exc}")]) from None
    return load_text(text, str(path))


def where(node: Any, key: str | int | None = None) -> tuple[str, int]:
    """Return (path, line) for ``node`` or one of its keys/items."""
    if isinstance(node, LineDict):
        return node.path, node.line_of(str(key)) if key is not None else node.line
    if isinstance(node, LineList):
        return node.path, node.line_of(key) if isinstance(key, int) else node.line
    return "?", 0
