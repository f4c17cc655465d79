"""Reading YAML safely while keeping line numbers, so errors can say where."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's safe loader when present (much faster); the pure-Python one otherwise.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple[str | int, ...]
MAX_NODES = 200_000


# Plain (unquoted) scalars YAML reads as something other than a string: `prefix: 139` is
# the number 139, `extendedCode: 010` the number 8, `content: yes` true.
_NOT_STRINGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"})


@dataclass
class Located:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)
    # The text as written of each unquoted scalar YAML did not read as a string.
    unquoted: dict[Path, str] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its nearest existing parent."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


class YamlError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def cannot_read(exc: OSError) -> str:
    """Why a file given by name could not be read, in a few words and what to do."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file: name the YAML file itself"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "not readable: permission denied (check its mode and owner)"
    return f"cannot read the file: {exc.strerror or exc}"


def load(text: str) -> Located:
    """Parse with the safe loader only; raise YamlError with a line on malformed input.

    Tags that would build Python objects (`!!python/...`) are refused like any error.
    """
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    located = Located(None)
    if node is None:
        return located
    for count, (path, line, duplicate, scalar) in enumerate(_walk(node, ())):
        if count > MAX_NODES:
            # Aliases can make a small file expand enormously ("billion laughs").
            raise YamlError(line, f"document expands to more than {MAX_NODES} nodes")
        if duplicate:
            located.duplicates.append((path, line))
        else:
            located.lines.setdefault(path, line)
            if scalar is not None:
                located.unquoted.setdefault(path, scalar)
    try:
        located.data = yaml.SafeLoader(text).construct_document(node)  # constructing from nodes is cheap
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    return located


def _error(exc: yaml.YAMLError) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        # The parser often fails lines after the real mistake (an unclosed "[" is noticed at
        # the end of the file): name where the broken construct began as well.
        context = exc.context_mark
        if exc.context and context is not None and context.line + 1 != line:
            problem = f"{problem} ({exc.context} started at line {context.line + 1})"
        return YamlError(line, f"not valid YAML: {problem}")
    return YamlError(1, f"not valid YAML: {exc}")


def _walk(node: yaml.Node, path: Path) -> Iterator[tuple[Path, int, bool, str | None]]:
    """(path, line, is a duplicate key, the text of an unquoted scalar that is not a string)."""
    unquoted = None
    if isinstance(node, yaml.ScalarNode) and not node.style and node.tag in _NOT_STRINGS:
        unquoted = str(node.value)
    yield path, node.start_mark.line + 1, False, unquoted
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield (*path, key), key_node.start_mark.line + 1, True, None
            seen.add(key)
            yield (*path, key), key_node.start_mark.line + 1, False, None
            yield from _walk(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index))


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
