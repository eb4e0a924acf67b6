"""The layer's public names, its import cost, and the project-wide ban on ``eval``/``exec``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import forecast.scenarios as scenarios_api
from forecast.dims import PARTITION, SCENARIO
from forecast.scenarios.probabilities import ScenarioResult
from forecast.scenarios.synthetic import synthetic_forecast

ROOT = Path(__file__).resolve().parents[2]
#: builtins that run or compile code; none may be called anywhere in the project
FORBIDDEN_CALLS = frozenset({"eval", "exec", "compile", "__import__"})
#: the same as text, built so that a plain grep of the project for them finds nothing
CALL_TEXTS = tuple(f"{name}(" for name in ("eval", "exec"))


def _python_files() -> list[Path]:
    skip = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".ipynb_checkpoints"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def _notebook_sources() -> list[tuple[Path, str]]:
    out = []
    for path in ROOT.rglob("*.ipynb"):
        if ".ipynb_checkpoints" in path.parts:
            continue
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                out.append((path, "".join(source) if isinstance(source, list) else source))
    return out


def _forbidden_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            # a builtin called through the builtins module
            if func.value.id in {"builtins", "__builtins__"}:
                name = func.attr
        if name in FORBIDDEN_CALLS:
            found.append(f"{name} (line {node.lineno})")
    return found


def test_no_eval_or_exec_in_the_project() -> None:
    files = _python_files()
    assert len(files) > 50  # the scan does see the project
    offenders = {}
    for path in files:
        calls = _forbidden_calls(ast.parse(path.read_text(encoding="utf-8")))
        if calls:
            offenders[str(path.relative_to(ROOT))] = calls
    for path, source in _notebook_sources():
        # notebooks may hold IPython magics, which are not Python: check the text instead
        if any(call in source for call in CALL_TEXTS):
            offenders[str(path.relative_to(ROOT))] = ["eval/exec in a code cell"]
    assert offenders == {}


def test_package_source_has_no_eval_text() -> None:
    # stricter for the package: the words themselves, so a grep for them finds nothing
    # (``ast.parse(text, mode="eval")`` only names the parser's mode)
    for path in (ROOT / "forecast").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in (*CALL_TEXTS, "getattr(builtins", "__builtins__["):
            assert word not in text, (path, word)


def test_the_check_catches_a_call() -> None:
    evaluate, execute = (call[:-1] for call in CALL_TEXTS)
    tree = ast.parse(f"x = {evaluate}('1')\nimport builtins\nbuiltins.{execute}('pass')")
    assert _forbidden_calls(tree) == ["eval (line 1)", "exec (line 3)"]


def _modules_after(statement: str, candidates: tuple[str, ...]) -> list[str]:
    code = (
        f"import json, sys; {statement}; "
        f"print(json.dumps([m for m in {candidates!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout)


def test_cli_imports_no_heavy_library() -> None:
    # the commands import the model, PyMC and ArviZ when they run, not when the CLI loads
    heavy = (
        "pymc",
        "pytensor",
        "arviz",
        "forecast.model.fit",
        "forecast.model.project",
        "forecast.scenarios.probabilities",
        "forecast.scenarios.whatif",
    )
    assert _modules_after("import forecast.cli", heavy) == []


def test_reading_specs_needs_no_xarray() -> None:
    statement = "import forecast.scenarios.spec, forecast.scenarios.whatif_spec"
    assert _modules_after(statement, ("xarray", "arviz", "pymc")) == []


def test_public_names() -> None:
    assert set(scenarios_api.__all__) <= set(dir(scenarios_api))
    for name in scenarios_api.__all__:
        assert getattr(scenarios_api, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        scenarios_api.nope  # noqa: B018


def test_scenario_probabilities_from_the_package_is_labelled() -> None:
    from forecast.scenarios import load_scenario_spec, scenario_probabilities

    result = scenario_probabilities(synthetic_forecast(), load_scenario_spec())
    assert isinstance(result, ScenarioResult)
    probs = result.probabilities
    assert probs["probability"].dims == (SCENARIO,)
    assert {"kind", PARTITION, "title", "at", "resolves_on"} <= set(probs.coords)
    assert result.partitions["entropy"].dims == (PARTITION,)
    table = result.table()
    assert len(table) == probs.sizes[SCENARIO] and table[SCENARIO].is_unique
