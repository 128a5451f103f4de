"""Dependencies flow one way: no import cycle inside `rag/`, and `rag` never imports `ui`.

Read with the standard library's `ast`, so every import counts, also those inside functions
(a lazy import still makes one module depend on the other); only imports under
`if TYPE_CHECKING:` are left out, as they are never executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _import_nodes(node: ast.AST, children=None):
    for child in ast.iter_child_nodes(node) if children is None else children:
        if _type_checking_only(child):
            yield from _import_nodes(child, child.orelse)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def _imports(path: Path) -> list[list[str]]:
    """Per imported name, the modules it may be, most specific first: `from a import b` is
    module a.b when that exists, else an attribute of a."""
    name = _module_name(path)
    package = _package_of(name, path)
    found: list[list[str]] = []
    for node in _import_nodes(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend([alias.name] for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        found.extend([f"{base}.{alias.name}", base] for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, for every module under rag/ and ui/."""
    files = {_module_name(p): p for top in ("rag", "ui") for p in (ROOT / top).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for candidates in _imports(path):
            module = next((c for c in candidates if c in files), None)
            if module is None and candidates[-1].partition(".")[0] in ("rag", "ui"):
                module = candidates[-1].rpartition(".")[0]  # `import rag.x.y`: a package
            if module and module != name and module in files:
                targets.add(module)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _inside(names, top: str) -> bool:
    return all(n == top or n.startswith(top + ".") for n in names)


def test_the_walk_sees_relative_and_lazy_imports():
    graph = _graph()
    assert "rag.runtime" in graph["rag.api.app"]  # `from ..runtime import Runtime`
    assert "rag.library" in graph["rag.server"]  # imported inside a function
    assert "rag.assistant" in graph["ui.app"]


def test_type_checking_imports_are_left_out(tmp_path):
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
        "else:\n    import b\ndef f():\n    import c\n"
    )
    assert sorted(n.names[0].name for n in _import_nodes(tree) if isinstance(n, ast.Import)) == [
        "b",
        "c",
    ]


def test_cycles_are_detected():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_rag():
    graph = {
        name: {t for t in targets if _inside([t], "rag")}
        for name, targets in _graph().items()
        if _inside([name], "rag")
    }
    cycles = _cycles(graph)
    assert cycles == []


def test_rag_never_imports_ui():
    offenders = {
        name: sorted(t for t in targets if _inside([t], "ui"))
        for name, targets in _graph().items()
        if _inside([name], "rag")
    }
    assert {name: ui for name, ui in offenders.items() if ui} == {}
