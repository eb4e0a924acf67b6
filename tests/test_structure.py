"""The package's structural rules hold (``tools/check_structure.py``), and the checks bite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_structure", ROOT / "tools" / "check_structure.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_package_breaks_no_structural_rule() -> None:
    assert _checker().breaches(ROOT) == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "forecast" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "forecast" / "model").mkdir(exist_ok=True)
    (tmp_path / "forecast" / "model" / "runs.py").write_text('FORECAST_FILE = "forecast.nc"\n')
    return tmp_path


def test_a_long_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    root = _package(tmp_path, {"__init__.py": "", "long.py": f"def f():\n{body}\n"})
    (breach,) = _checker().breaches(root)
    assert "long.py:1 f (86 lines > 80)" in breach


def test_an_import_cycle_is_found_even_under_type_checking(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "a.py": "from forecast import b\n",
        "b.py": "import typing\nif typing.TYPE_CHECKING:\n    from forecast.a import x\n",
    }
    assert _checker().breaches(_package(tmp_path, files)) == [
        "import cycle: forecast.a <-> forecast.b"
    ]


def test_the_forecast_file_named_elsewhere_and_manifest_get_are_found(tmp_path: Path) -> None:
    files = {
        "__init__.py": "",
        "c.py": 'path = run / "forecast.nc"\nseed = manifest.get("seed", 1)\n',
    }
    found = _checker().breaches(_package(tmp_path, files))
    assert len(found) == 2
    assert "c.py:1 names the forecast file" in found[0]
    assert "c.py:2 reads a manifest with .get(" in found[1]
