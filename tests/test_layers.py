"""The architecture, as the folder tree shows it, kept true by reading every import with ``ast``.

    voice_triage/core/    pure: no audio, network, SQLite, threads or clock; imports only core
    voice_triage/speech/  audio adapters: import core (never kiosk, cli or session)
    voice_triage/kiosk/   the kiosk app: imports speech and core
    voice_triage/cli.py, session.py, __main__.py sit on top; only __main__ imports cli.

Every import counts, also those inside functions and under ``TYPE_CHECKING``:
a lazy import is still a dependency.  The checker itself is tested on small
made-up packages, so that it can be seen to fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "voice_triage"

# What the pure core may never import (top-level module names).
CORE_FORBIDDEN = {"vosk", "sounddevice", "pyttsx3", "starlette", "uvicorn", "sqlite3", "threading", "time"}
LAYER_ORDER = {"core": 0, "speech": 1, "kiosk": 2}  # a layer imports only layers at or below it


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> Iterator[str]:
    """Every module ``path`` imports (absolute names; ``from X import y`` yields X and X.y)."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports."""
    paths = {module_name(root, p): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges[name] = {target for target in imports_of(root, path) if target in paths and target != name}
    return edges


def external_imports(root: Path, module: str) -> set[str]:
    path = next(p for p in root.rglob("*.py") if module_name(root, p) == module)
    top = root.name
    return {target.split(".")[0] for target in imports_of(root, path) if target.split(".")[0] != top}


def layer(root: Path, module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYER_ORDER else "top"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def problems(root: Path) -> list[str]:
    """Every broken layering rule in the package at ``root``."""
    edges = graph(root)
    top = root.name
    found: list[str] = []
    for module, targets in sorted(edges.items()):
        mine = layer(root, module)
        for target in sorted(targets):
            theirs = layer(root, target)
            if target == f"{top}.cli" and module != f"{top}.__main__":
                found.append(f"{module} imports {target}: only __main__ may import the command line")
            if mine in LAYER_ORDER and theirs == "top" and target not in (top, f"{top}.__init__"):
                found.append(f"{module} ({mine}) imports {target}, which sits on top")
            elif mine in LAYER_ORDER and theirs in LAYER_ORDER and LAYER_ORDER[theirs] > LAYER_ORDER[mine]:
                found.append(f"{module} ({mine}) imports {target} ({theirs})")
        if mine == "core":
            for name in sorted(external_imports(root, module) & CORE_FORBIDDEN):
                found.append(f"{module} (core, pure) imports {name}")
    for cycle in cycles(edges):
        found.append("import cycle: " + " -> ".join(cycle))
    return found


def test_the_package_keeps_its_layers() -> None:
    assert problems(PACKAGE_DIR) == []


def test_the_layers_exist() -> None:
    edges = graph(PACKAGE_DIR)
    layers = {layer(PACKAGE_DIR, m) for m in edges}
    assert {"core", "speech", "kiosk", "top"} <= layers
    assert "voice_triage.core.dialogue" in edges and "voice_triage.core.engine" in edges["voice_triage.core.dialogue"]


# ------------------------------------------------------------ the checker can fail


def make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {root, *(p.parent for p in root.rglob("*.py"))}:
        (folder / "__init__.py").touch()
    return root


CLEAN = {
    "core/a.py": "from . import b\n",
    "core/b.py": "import json\n",
    "speech/s.py": "from ..core import a\n",
    "kiosk/k.py": "from ..speech.s import x\nfrom ..core.b import y\n",
    "cli.py": "from .kiosk import k\n",
    "__main__.py": "from .cli import main\n",
}


def broken(**changes: str) -> dict[str, str]:
    return {**CLEAN, **changes}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (CLEAN, []),
        (broken(**{"core/b.py": "import sqlite3\n"}), ["pkg.core.b (core, pure) imports sqlite3"]),
        (broken(**{"core/b.py": "def f():\n    import time\n"}), ["pkg.core.b (core, pure) imports time"]),
        (broken(**{"core/b.py": "from ..speech import s\n"}), ["pkg.core.b (core) imports pkg.speech.s (speech)"]),
        (broken(**{"speech/s.py": "from ..kiosk.k import z\n"}), ["pkg.speech.s (speech) imports pkg.kiosk.k (kiosk)"]),
        (broken(**{"kiosk/k.py": "from .. import cli\n"}), ["only __main__ may import"]),
        (broken(**{"core/b.py": "from . import a\n"}), ["import cycle: pkg.core.a -> pkg.core.b"]),
    ],
)
def test_the_checker_finds_each_broken_rule(tmp_path: Path, files: dict[str, str], expected: Iterable[str]) -> None:
    found = problems(make_package(tmp_path, files))
    for text in expected:
        assert any(text in problem for problem in found), found
    if not list(expected):
        assert found == []
