"""The package's layers point one way: each package imports only the ones below it, and no
module reaches back up through a circle (docs/DECISIONS.md#layers)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "emay_mock"

# Modules that import nothing of the package but the protocol: any layer may use them.
LEAVES = {"settings", "yamlfile", "validation", "control_auth", "freezing"}

# Each package, and what it may import beside itself, the protocol and the leaves.
ALLOWED: dict[str, set[str]] = {
    "protocol": set(),
    "store": set(),
    "scenarios": set(),
    "observe": {"scenarios"},  # a journal entry names the scripted fault it played
    "delivery": {"store", "observe"},
    "platform": {"store", "observe", "delivery", "scenarios"},
    "web": {"store", "observe", "delivery", "scenarios", "platform", "config", "client"},
}
# And what each of them must never import, said plainly (a subset of what ALLOWED leaves out).
NEVER = {
    "store": {"delivery", "platform", "web"},
    "delivery": {"platform", "web"},
    "scenarios": {"platform", "web"},
    "observe": {"platform", "web"},
    "platform": {"web", "server", "cli", "config"},
    "web": {"server", "cli", "pytest_plugin"},
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module of the package this file imports, wherever the import stands (a type-only
    or a function's own import is still an edge a reader must follow)."""
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("emay_mock"):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("emay_mock"):
            assert node.module is not None
            for alias in node.names:  # `from emay_mock.web import secure` names a module
                full = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (full.replace(".", "/") + ".py")).exists()
                yield full if is_module else node.module


def _graph() -> dict[str, set[str]]:
    return {_module(p): set(_imports(p)) - {_module(p)} for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "emay_mock"


def test_each_package_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module, imported in sorted(_graph().items()):
        layer = _layer(module)
        if layer not in ALLOWED:
            continue
        allowed = ALLOWED[layer] | {layer, "protocol"}
        if layer != "protocol":  # the wire's rules stand alone
            allowed |= {"emay_mock"} | LEAVES
        for target in sorted(imported):
            if _layer(target) not in allowed:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_what_a_layer_never_imports(layer: str) -> None:
    found = [
        f"{module} imports {target}"
        for module, imported in sorted(_graph().items())
        if _layer(module) == layer
        for target in sorted(imported)
        if _layer(target) in NEVER[layer]
    ]
    assert found == []


def test_leaves_import_nothing_of_the_package_but_the_protocol() -> None:
    graph = _graph()
    wrong = {
        leaf: sorted(
            t for t in graph[f"emay_mock.{leaf}"] if _layer(t) not in {"protocol", "emay_mock"} | LEAVES
        )
        for leaf in LEAVES
    }
    assert {leaf: found for leaf, found in wrong.items() if found} == {}


def test_no_module_reaches_back_through_a_circle() -> None:
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target in graph and target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert circles == []


def test_no_package_reaches_back_through_a_circle() -> None:
    layers: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        if module.count(".") >= 2:  # modules of a subpackage: the package is the layer
            layers.setdefault(_layer(module), set()).update(
                _layer(t) for t in imported if t.count(".") >= 2 and _layer(t) != _layer(module)
            )
    order: list[str] = []
    done: set[str] = set()

    def visit(layer: str, seen: tuple[str, ...]) -> None:
        assert layer not in seen, " -> ".join((*seen, layer))
        if layer in done:
            return
        for target in sorted(layers.get(layer, ())):
            visit(target, (*seen, layer))
        done.add(layer)
        order.append(layer)

    for layer in sorted(layers):
        visit(layer, ())
    assert set(order) == set(layers)
