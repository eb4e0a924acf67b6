"""Whether a compile of the model is likely to be a first one on this machine, and why.

PyTensor keeps the numba code it compiles in ``<base_compiledir>/numba``. With that cache
empty, compiling the alignment model takes minutes on two cores; with it warm, well under
one (README, "Setup", has the measured times). The progress line of the compile says which
case is likely, so that a user facing a silent first compile knows it is expected. A small
marker per model structure, kept beside PyTensor's cache (and cleared with it), tells a
structure compiled before from a new one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: the folder beside PyTensor's numba cache holding one marker per compiled structure
MARKERS = "forecast-compiled"


def _base() -> Path:
    from pytensor import config

    return Path(config.base_compiledir)


def numba_cache_entries(base: Path | None = None) -> int:
    """Return how many functions PyTensor's numba cache holds (0 when it is missing)."""
    cache = (base or _base()) / "numba"
    if not cache.is_dir():
        return 0
    return sum(1 for _ in cache.glob("*.nbi"))


def _marker(key: object, base: Path) -> Path:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:20]
    return base / MARKERS / digest


def compile_note(key: object, *, base: Path | None = None) -> str:
    """Describe the coming compile of a model structure ``key`` for a progress line.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(compile_note(("KAZ",), base=Path(tmp)))
    first compile on this machine (empty PyTensor cache): a few minutes
    """
    base = base or _base()
    if numba_cache_entries(base) == 0:
        return "first compile on this machine (empty PyTensor cache): a few minutes"
    if not _marker(key, base).exists():
        return "first compile of this model here: up to a few minutes"
    return "compiled before here: usually under a minute"


def mark_compiled(key: object, *, base: Path | None = None) -> None:
    """Remember that structure ``key`` compiled with this cache (best effort)."""
    marker = _marker(key, base or _base())
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        # a read-only cache only costs the hint its precision
        return
