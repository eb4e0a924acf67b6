"""Atomic file and directory writes: write to a temporary sibling, then rename into place.

A reader never sees a half-written file, and a failure leaves what was stored untouched.
A temporary directory's name carries the writer's host and process id
(``.<name>.<host>-<pid>.<random>.tmp``), so that one left behind by a killed writer can be
told from one still being written, and removed (:func:`remove_stale_directories`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from forecast.errors import DataError
from forecast.interrupts import sigint_deferred


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    target = Path(target)
    with _cannot_write(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp creates 0600; give the file the permissions a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with _cannot_write(target):
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def _cannot_write(target: Path) -> Iterator[None]:
    """Report a failure to create or rename into ``target``'s place as a user error.

    The error is a :class:`~forecast.errors.DataError` naming the file, which is what
    :func:`~forecast.data.panel.write_panel` promises its callers. The commands check their
    output paths first (:mod:`forecast.cli.paths`); this catches what no check can foresee
    (the place became read-only, a directory took the file's name).
    """
    try:
        yield
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise DataError(target, f"cannot write: {reason}") from None


def _umask() -> int:
    # the only portable way to read the umask is to set it and restore it
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, Unix newlines) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


@contextmanager
def atomic_paths(targets: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Yield a temporary path next to each target; rename them all into place on success.

    The renames are shielded from Ctrl-C (:func:`forecast.interrupts.sigint_deferred`), so
    an interrupted command leaves either every new file or none, never a new one beside an
    old one. On any exception every temporary file is removed and the targets are left as
    they were.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_paths([d / "a.txt", d / "b.txt"]) as (a, b):
    ...     _ = a.write_text("1"), b.write_text("2")
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt', 'b.txt']
    """
    paths = [Path(target) for target in targets]
    if not paths:
        yield []
        return
    common = Path(os.path.commonpath(paths)) if len(paths) > 1 else paths[0].parent
    names = ", ".join(str(path.relative_to(common)) for path in paths)
    written = f"{names} written to {common}"
    with ExitStack() as stack:
        tmps = [stack.enter_context(atomic_path(path)) for path in paths]
        yield tmps
        with sigint_deferred(kept=written):
            stack.close()


def _owner_tag() -> str:
    """``<host>-<pid>`` of this process, the host reduced to letters, digits and hyphens."""
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


# a temporary directory made by atomic_directory: .<name>.<host>-<pid>.<random>.tmp
_TEMP_DIR = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.[^.]+\.tmp$")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # another user's process: alive
        return True
    return True


def remove_stale_directories(parent: str | Path) -> list[Path]:
    """Remove the temporary directories in ``parent`` whose writer is gone; return them.

    Only directories made by :func:`atomic_directory` on this host are considered, and only
    those whose process no longer exists are removed: a write in progress (this process or
    another) is left alone, and so is one made on another host sharing the directory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> remove_stale_directories(d)
    []
    """
    parent = Path(parent)
    if not parent.is_dir():
        return []
    host = _owner_tag().rsplit("-", 1)[0]
    removed = []
    for path in sorted(parent.iterdir()):
        match = _TEMP_DIR.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        if match["host"] != host or _process_exists(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory next to ``target``; rename it onto ``target`` on success.

    ``target`` must not exist yet (run directories are never overwritten). The temporary
    directory's name carries this process's host and id (see the module docstring).
    """
    target = Path(target)
    with _cannot_write(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.{_owner_tag()}.", suffix=".tmp", dir=target.parent
            )
        )
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        with _cannot_write(target):
            os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def replace_symlink(link: str | Path, target_name: str) -> None:
    """Point symlink ``link`` at ``target_name`` (relative), replacing it atomically."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target_name, tmp)
    os.replace(tmp, link)


def write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and rename the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
