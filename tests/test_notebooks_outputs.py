"""Notebooks are committed executed, with their figures inline (``tools/run_notebooks.py``).

CI runs them again with nbmake; these tests check what a reader sees on a code host: every
code cell ran, in order and without error, every cell that draws has its image, the images
are of a size that reads on a page, and nothing is written beside the notebooks.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

#: a call that draws a figure: the package's plot functions, pandas' and matplotlib's
DRAWS = re.compile(r"\bplot_\w+\(|\.plot\(|plt\.subplots\(")

#: widest inline image, in pixels: a page-wide figure at the notebooks' 96 dpi, with margin
MAX_WIDTH = 1000


def _png_size(data: str) -> tuple[int, int]:
    header = base64.b64decode(data)[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_there_are_four_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) == 4, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_executed_with_its_figures(path: Path):
    book = nbformat.read(path, as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    # executed top to bottom in one kernel
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), path.name
    assert sum(bool(cell.outputs) for cell in code) >= len(code) - 2, "cells without output"
    drawing = 0
    for cell in code:
        kinds = {output.output_type for output in cell.outputs}
        assert "error" not in kinds, (path.name, cell.source[:60])
        for output in cell.outputs:
            shown = output.get("data", {}).get("text/plain", "")
            # a bare object repr is noise to a reader: end such a line with ";"
            assert " at 0x" not in shown, (path.name, shown[:60])
        images = [o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        if DRAWS.search(cell.source):
            drawing += 1
            assert images, f"{path.name}: no figure from {cell.source[:60]!r}"
        for image in images:
            width, _ = _png_size(image)
            assert 300 < width <= MAX_WIDTH, (path.name, width)
    assert drawing >= 1, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_writes_nothing_beside_itself(path: Path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    # runs go to a temporary directory, removed with the kernel
    assert 'Path("runs")' not in source and "runs_dir=RUNS" not in source
    if "fit_panel(" in source:
        assert "tempfile.TemporaryDirectory(" in source


def test_only_notebooks_in_the_folder():
    folder = NOTEBOOKS[0].parent
    extra = sorted(
        p.name for p in folder.iterdir() if p.suffix != ".ipynb" and p.name != ".ipynb_checkpoints"
    )
    assert extra == [], f"left behind in {folder}: {extra}"
