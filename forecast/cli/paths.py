"""Output paths given on the command line, checked before a command does any work.

A command that would fit for a minute and then fail to write its result should fail at once,
on one line naming the path and the option: a directory where a file is expected (or the
reverse), a parent that is a file, or a place the user cannot write. Nothing is created by
the check itself: missing directories are made later, when the command writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from forecast.errors import ForecastError


def _nearest_existing(path: Path) -> Path:
    """Return ``path`` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()  # unreachable for absolute paths; "." for relative ones


def _check_writable_dir(path: Path, where: Path, option: str) -> None:
    """Refuse ``path`` unless files can be created under ``where`` (``path`` or an ancestor)."""
    existing = _nearest_existing(where)
    if not existing.is_dir():
        raise ForecastError(
            f"{path}: cannot write: {existing} is a file, not a directory ({option})"
        )
    try:
        # a real attempt rather than os.access: a read-only file system refuses even root
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ForecastError(f"{path}: cannot write: {reason} in {existing} ({option})") from None


def output_dir(path: str | Path, option: str) -> Path:
    """Check that the command can write into directory ``path`` (made if missing).

    Parameters
    ----------
    path
        The directory the command will write into.
    option
        The option that gave it, e.g. ``--out``, for the error message.

    Raises
    ------
    ForecastError
        Naming the path and the option, when ``path`` is a file, sits under a file, or lies
        where the user cannot write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> output_dir(d / "new" / "figures", "--out") == d / "new" / "figures"
    True
    >>> (d / "file").write_text("x")
    1
    >>> output_dir(d / "file", "--out")
    Traceback (most recent call last):
    ...
    forecast.errors.ForecastError: .../file: cannot write: it is a file, expected a directory (--out)
    """  # noqa: E501
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ForecastError(f"{path}: cannot write: it is a file, expected a directory ({option})")
    _check_writable_dir(path, path, option)
    return path


def output_file(path: str | Path, option: str) -> Path:
    """Check that the command can write file ``path`` (its directory made if missing).

    Raises
    ------
    ForecastError
        Naming the path and the option, when ``path`` is a directory, its parent is a file or
        does not let the user write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> output_file(d, "--out")
    Traceback (most recent call last):
    ...
    forecast.errors.ForecastError: ...: cannot write: it is a directory, expected a file (--out)
    """
    path = Path(path)
    if path.is_dir():
        raise ForecastError(f"{path}: cannot write: it is a directory, expected a file ({option})")
    _check_writable_dir(path, path.parent, option)
    return path
