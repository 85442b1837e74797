"""Imports flow one way, and no module imports itself through others.

The layers, lowest first: the shared base (errors, config, files, registry, ...), data, the
model representation (architecture), teacher and student, distill, firmware, sorter, score
and explore, report, the demo, the command line. A module may import its own layer and the
ones below, never one above; every import counts, also those inside functions.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cellsort"

#: Rank of each top-level part of the package (modules not named: the shared base, rank 0).
LAYERS = {"data": 1, "architecture": 2, "teacher": 3, "student": 3, "distill": 4, "firmware": 5,
          "sorter": 6, "score": 7, "explore": 7, "report": 8, "demo": 9, "cli": 10, "__main__": 10}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The cellsort module ``name`` refers to (a name inside a module: that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target) if target.startswith("cellsort") else None
            if resolved and resolved != module:
                out.add(resolved)
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def test_no_module_imports_a_higher_layer():
    wrong = sorted(f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
                   for m, targets in GRAPH.items() if m != "cellsort"
                   for t in targets if layer(t) > layer(m))
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    """Depth-first search for a cycle among modules (the package root's lazy API excluded)."""
    graph = {m: {t for t in ts if t != "cellsort"} for m, ts in GRAPH.items() if m != "cellsort"}
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def test_every_package_says_what_it_owns_and_may_import():
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module != "cellsort":
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "May import" in doc, f"{module}: its docstring does not say which packages it may import"
