"""Check the package's structural rules; print each breach and exit 1 if there is any.

Rules (issue 17, STYLE.md):

- no function or method in ``forecast/`` longer than :data:`MAX_FUNCTION_LINES` lines
  (from ``def`` to its last line, docstring included);
- no import cycle between the package's modules (imports under ``TYPE_CHECKING`` and inside
  functions count: a cycle is a tangle for a reader even when Python tolerates it);
- one definition of a run's forecast file name, read and written only by the run store;
- no ``manifest.get(`` in the package: a run's manifest is typed, its keys are not guessed.

Run from the repository root: ``python tools/check_structure.py``
(``tests/test_structure.py`` runs it with the tests).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

MAX_FUNCTION_LINES = 80
PACKAGE = "forecast"
#: the run store: the one module that names, reads and writes a run's forecast file
RUN_STORE = Path("forecast/model/runs.py")


def modules(root: Path) -> dict[str, Path]:
    """Map each module's dotted name to its file."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> Iterator[str]:
    """Yield ``file:line name (n lines)`` for each function longer than ``limit`` lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                yield f"{path}:{node.lineno} {node.name} ({length} lines > {limit})"


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Return the package modules ``name`` imports (anywhere in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import module`` imports the module when it is one
            targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            targets.append(base)
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def import_cycles(root: Path) -> list[list[str]]:
    """Return the package's import cycles (each as the modules of one strongly connected set)."""
    mods = modules(root)
    known = set(mods)
    graph = {name: imports_of(name, path, known) for name, path in mods.items()}
    # a package imports its ``__init__`` first: edges into a parent package are not cycles
    # of the modules' own making, so they are left out
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return [c for c in _strongly_connected(graph) if len(c) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the module graph is deep enough to matter)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def forecast_file_breaches(root: Path) -> list[str]:
    """Places outside the run store that name a run's forecast file or its constant."""
    breaches = []
    pattern = re.compile(r"FORECAST_FILE|[\"']forecast\.nc[\"']")
    for path in modules(root).values():
        if path == root / RUN_STORE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                breaches.append(f"{path}:{number} names the forecast file outside {RUN_STORE}")
    text = (root / RUN_STORE).read_text(encoding="utf-8")
    if len(re.findall(r"^FORECAST_FILE\s*=", text, re.M)) != 1:
        breaches.append(f"{RUN_STORE}: FORECAST_FILE must be defined exactly once")
    return breaches


def manifest_gets(root: Path) -> list[str]:
    """Lines of the package that read a manifest with ``.get(``."""
    return [
        f"{path}:{number} reads a manifest with .get(: use the typed RunManifest"
        for path in modules(root).values()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "manifest.get(" in line
    ]


def breaches(root: Path) -> list[str]:
    """Every breach of the rules, one line each."""
    out = [line for path in modules(root).values() for line in long_functions(path)]
    out += [f"import cycle: {' <-> '.join(cycle)}" for cycle in import_cycles(root)]
    out += forecast_file_breaches(root)
    out += manifest_gets(root)
    return out


def main() -> int:
    """Print the breaches; return 1 if there is any."""
    found = breaches(Path.cwd())
    for line in found:
        print(line)
    print(
        f"{len(found)} breaches of the structural rules" if found else "structure: all rules hold"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
