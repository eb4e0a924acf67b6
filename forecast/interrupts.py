"""Ctrl-C (SIGINT) that ends a command cleanly: noticed wherever it lands, reported in one line.

Python turns SIGINT into :class:`KeyboardInterrupt`, but some libraries catch it and carry on
with what they have (nutpie returns the draws made so far; PyMC's samplers and ADVI, and
pymc-extras' Pathfinder, likewise). :func:`sigint_noticed` tells the caller that SIGINT
arrived inside a block whoever caught it, so a fit can refuse to finish on a partial sample.
:func:`sigint_deferred` holds SIGINT for the few renames that must happen together, and
:class:`Interrupted` carries what a command had already written to the one line the
command-line interface prints.

Signal handlers can only be set in the main thread; elsewhere (a Dask worker's task thread,
which SIGINT never reaches) both context managers do nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

#: what an interrupted command kept when it says nothing else
NOTHING_WRITTEN: Final = "nothing written"


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C, with what the interrupted command had already written.

    A subclass of :class:`KeyboardInterrupt`, so that every ``except KeyboardInterrupt``
    (and nothing else) handles it as the interrupt it is.

    Examples
    --------
    >>> str(Interrupted("run 1 written to runs/1"))
    'run 1 written to runs/1'
    """

    def __init__(self, kept: str = NOTHING_WRITTEN) -> None:
        super().__init__(kept)
        self.kept = kept


@contextmanager
def kept_on_interrupt(kept: str) -> Iterator[None]:
    """Turn a Ctrl-C inside the block into :class:`Interrupted` saying ``kept``.

    An :class:`Interrupted` raised deeper keeps its own (more precise) account.

    Examples
    --------
    >>> try:
    ...     with kept_on_interrupt("the panel"):
    ...         raise KeyboardInterrupt
    ... except Interrupted as err:
    ...     err.kept
    'the panel'
    """
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        raise Interrupted(kept) from None


class Kept:
    """What a command of several steps has written so far, for the line a Ctrl-C prints.

    Use it as a context manager around the steps and :meth:`add` each output once it is in
    place; a Ctrl-C inside leaves as :class:`Interrupted` listing them.

    Examples
    --------
    >>> try:
    ...     with Kept() as kept:
    ...         kept.add("run 1 was written to runs/1")
    ...         raise KeyboardInterrupt
    ... except Interrupted as err:
    ...     err.kept
    'run 1 was written to runs/1'
    """

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, what: str) -> None:
        """Note one output now in place."""
        self.items.append(what)

    def __enter__(self) -> Kept:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        traceback: object,
    ) -> None:
        if not isinstance(err, KeyboardInterrupt):
            return
        items = list(self.items)
        # a deeper account (one step that had written part of its output) comes last
        if isinstance(err, Interrupted) and err.kept != NOTHING_WRITTEN:
            items.append(err.kept)
        raise Interrupted("; ".join(items) or NOTHING_WRITTEN) from None


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigint_noticed(
    on_signal: Callable[[], None] | None = None,
) -> Iterator[Callable[[], bool]]:
    """Yield a function that tells whether SIGINT arrived inside the block.

    SIGINT still raises :class:`KeyboardInterrupt` as before (the previous handler runs,
    after ``on_signal`` if given); the function says it arrived even when a library caught
    the exception and returned. Nothing is installed when SIGINT is ignored (a background
    job) or outside the main thread; the function then says ``False``.

    Examples
    --------
    >>> with sigint_noticed() as interrupted:
    ...     pass
    >>> interrupted()
    False
    """
    previous = signal.getsignal(signal.SIGINT)
    if not _in_main_thread() or not callable(previous):
        yield lambda: False
        return
    arrived = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        arrived.set()
        if on_signal is not None:
            on_signal()
        previous(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield arrived.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def sigint_deferred(kept: str | None = None) -> Iterator[None]:
    """Hold SIGINT until the block ends, then raise :class:`KeyboardInterrupt` if it came.

    For a few renames that must all happen or none (a run directory and ``runs/latest``):
    keep the block short, since Ctrl-C waits for it. ``kept`` says what the block has
    written once it completed: a Ctrl-C held over it leaves as :class:`Interrupted` saying
    so.

    Examples
    --------
    >>> with sigint_deferred():
    ...     pass
    """
    previous = signal.getsignal(signal.SIGINT)
    if not _in_main_thread() or not callable(previous):
        yield
        return
    arrived = threading.Event()

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.set()

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    except Exception:
        # a failure after Ctrl-C is taken as its consequence (worker processes that got
        # the terminal's Ctrl-C too fail to start): the command was interrupted
        if arrived.is_set():
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if arrived.is_set():
        raise KeyboardInterrupt if kept is None else Interrupted(kept)
