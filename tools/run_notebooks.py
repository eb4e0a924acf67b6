"""Re-execute the notebooks in ``notebooks/`` in place, keeping their outputs.

Run from the repository root after the data or the model change, and commit the result::

    .venv/bin/python tools/run_notebooks.py            # all four
    .venv/bin/python tools/run_notebooks.py 02 03      # those whose names start so

Each notebook runs top to bottom in a fresh kernel, in ``notebooks/`` (as nbmake runs it in
CI), and is written back only if every cell succeeded. Figures are stored inline as PNG at
96 dpi (the notebooks set it), readable at their own size on a code host. The notebooks keep
their runs in temporary directories; this script checks that ``notebooks/`` holds the same
files afterwards and fails if anything was left behind. ``FORECAST_NOTEBOOK_DRAWS`` (default
100) sets the draws of the notebooks' small fits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: a notebook's longest run, in seconds (a fit with a cold compilation cache included)
TIMEOUT = 1800


def _files(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder)) for p in folder.rglob("*") if ".ipynb_checkpoints" not in p.parts
    }


def execute(path: Path) -> float:
    """Execute one notebook in place with outputs; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # no timestamps in the stored notebook: a re-run changes only what it computes
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    nbformat.write(book, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Execute the chosen notebooks; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "prefixes", nargs="*", help="run only notebooks whose names start with these"
    )
    args = parser.parse_args(argv)
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.prefixes:
        books = [b for b in books if b.name.startswith(tuple(args.prefixes))]
    if not books:
        print(f"no notebook in {NOTEBOOKS} matches {args.prefixes}", file=sys.stderr)
        return 1
    before = _files(NOTEBOOKS)
    for book in books:
        print(f"executing {book.name} ...", flush=True)
        seconds = execute(book)
        print(f"  {book.name}: {seconds:.0f} s, written with its outputs", flush=True)
    left = sorted(_files(NOTEBOOKS) - before)
    if left:
        print(f"the notebooks left files behind in {NOTEBOOKS}: {left}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
