"""Progress of long steps, written to stderr so that stdout keeps only results.

A command opens one reporter for its whole run (:func:`progress_for`) and hands it to the
library functions it calls, which wrap each long step in :meth:`Progress.step` and say what
the step is doing with :meth:`StepStatus.update`. Three reporters:

- :data:`SILENT` (the library's default, and ``--quiet``) writes nothing;
- :class:`LineProgress`, when stderr is not a terminal (a log file, a pipe, CI), writes plain
  lines that start with the time elapsed since the command began, and repeats the running
  step's status at least every :data:`LINE_INTERVAL` seconds, so that a log never falls
  silent during a compile or a long sampling run;
- :class:`LiveProgress`, on a terminal, keeps one live line per step (rich) with a spinner,
  the step's status and its elapsed time.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> ticks = iter([0.0, 2.0, 2.0, 2.0, 9.5, 9.5])  # a clock for the example
>>> progress = LineProgress(out, delay=0, clock=lambda: next(ticks))
>>> with progress.step("forecasting") as status:
...     status.update("2021 to 2030")
>>> print(out.getvalue(), end="")
[00:02] forecasting
[00:09] forecasting: done in 8 s
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Self, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

#: seconds between two lines of a running step when stderr is not a terminal (a log stays
#: readable, and nobody waits more than this to learn that the command is still working)
LINE_INTERVAL = 15.0

#: seconds a step runs before a log hears of it: quick steps, and commands that fail at once
#: (whose stderr is then one line of error), stay silent
LINE_DELAY = 5.0


def duration(seconds: float) -> str:
    """Return a duration in words a log reader takes in at a glance.

    Examples
    --------
    >>> duration(4.2), duration(75), duration(3725)
    ('4 s', '1 min 15 s', '1 h 2 min')
    """
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def clock_stamp(seconds: float) -> str:
    """Return the ``[mm:ss]`` stamp of a plain progress line (minutes grow past 59).

    Examples
    --------
    >>> clock_stamp(0), clock_stamp(75.6), clock_stamp(3725)
    ('[00:00]', '[01:15]', '[62:05]')
    """
    minutes, secs = divmod(int(seconds), 60)
    return f"[{minutes:02d}:{secs:02d}]"


class StepStatus:
    """What a running step is doing now; updated from any thread (nutpie's callback runs in one)."""

    def __init__(self, on_update: Callable[[str], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self._on_update = on_update

    @property
    def text(self) -> str:
        """The latest status ("" before the first update)."""
        with self._lock:
            return self._text

    def update(self, text: str) -> None:
        """Replace the status (shown on the next progress line, or live on a terminal)."""
        with self._lock:
            self._text = text
        if self._on_update is not None:
            self._on_update(text)


class Progress:
    """A reporter that writes nothing: the default of every library function.

    Subclasses show steps; all of them are context managers, entered once per command.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    @contextmanager
    def step(self, description: str, status: str = "") -> Iterator[StepStatus]:
        """Run one long step (compile, sampling, forecast, ...) inside this context.

        ``status`` is what the step is doing as it starts (updated through the yielded
        :class:`StepStatus`).
        """
        yield StepStatus()

    def note(self, text: str) -> None:
        """Say something about the work in progress (not a result: results go to stdout)."""


#: the reporter that writes nothing
SILENT = Progress()


@dataclass
class _Running:
    """A step of a :class:`LineProgress` while it runs."""

    description: str
    started: float
    status: StepStatus
    first: str
    announced: bool = False

    def opening(self) -> str:
        return f"{self.description}: {self.first}" if self.first else self.description


class LineProgress(Progress):
    """Plain progress lines with the elapsed time, for logs and pipes.

    Every line starts with ``[mm:ss]``, the time since the reporter was created. A step
    that runs longer than ``delay`` seconds writes a line then, and one when it ends (a
    quick step, or a command that fails at once, writes nothing); while it runs, a
    background thread repeats its latest status whenever no line has been written for
    ``interval`` seconds. Nested steps repeat only the innermost one.

    Parameters
    ----------
    stream
        Where to write (the command's stderr).
    interval
        Longest silence while a step runs, in seconds (default :data:`LINE_INTERVAL`).
    delay
        How long a step runs before it is announced (default :data:`LINE_DELAY`; 0 writes
        every step at once, also without entering the reporter).
    clock
        Monotonic clock in seconds (tests pass their own).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float | None = None,
        delay: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = LINE_INTERVAL if interval is None else interval
        self._delay = LINE_DELAY if delay is None else delay
        self._clock = clock
        self._lock = threading.RLock()
        self._started = clock()
        self._last_line = self._started
        self._steps: list[_Running] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="forecast-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _write(self, text: str) -> None:
        with self._lock:
            now = self._clock()
            self._last_line = now
            self._stream.write(f"{clock_stamp(now - self._started)} {text}\n")
            self._stream.flush()

    def _announce(self, older_than: float) -> None:
        """Write the opening line of every running step older than ``older_than`` seconds."""
        with self._lock:
            for step in self._steps:
                if not step.announced and self._clock() - step.started >= older_than:
                    step.announced = True
                    self._write(step.opening())

    def _beat(self) -> None:
        # wake often enough to keep the promised spacing, whatever the interval
        tick = min(0.25, self._interval / 4, self._delay / 2 or 0.25)
        while not self._stop.wait(tick):
            with self._lock:
                self._announce(self._delay)
                if not self._steps or self._clock() - self._last_line < self._interval:
                    continue
                step = self._steps[-1]
                if not step.announced:
                    continue
                running = duration(self._clock() - step.started)
                self._write(
                    f"{step.description}: {step.status.text or 'still running'} ({running} so far)"
                )

    @contextmanager
    def step(self, description: str, status: str = "") -> Iterator[StepStatus]:
        """Write the step's start (once it has run ``delay`` seconds) and end; repeat its status."""
        current = StepStatus()
        current.update(status)
        running = _Running(description, self._clock(), current, status)
        with self._lock:
            self._steps.append(running)
            if self._delay <= 0:
                self._announce(0.0)
        try:
            yield current
        except BaseException:
            self._finish(running, "stopped after")
            raise
        self._finish(running, "done in")

    def _finish(self, running: _Running, words: str) -> None:
        with self._lock:
            self._steps.remove(running)
            if running.announced:
                self._write(
                    f"{running.description}: {words} {duration(self._clock() - running.started)}"
                )

    def note(self, text: str) -> None:
        """Write a line (after announcing the steps it belongs to)."""
        with self._lock:
            self._announce(0.0)
            self._write(text)


class LiveProgress(Progress):
    """One live line per step on a terminal: spinner, description, status, elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._rich: RichProgress = RichProgress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[status]}", style="dim"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=False,
            # stdout carries results (and JSON): never send it through the live display
            redirect_stdout=False,
        )
        self._depth = 0

    def __enter__(self) -> Self:
        self._rich.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._rich.stop()

    @contextmanager
    def step(self, description: str, status: str = "") -> Iterator[StepStatus]:
        """Add the step's line; tick it with its duration when it ends."""
        label = "  " * self._depth + description
        task = self._rich.add_task(label, total=1, status=status)
        current = StepStatus(lambda text: self._rich.update(task, status=text))
        started = time.monotonic()
        self._depth += 1
        try:
            yield current
        except BaseException:
            self._rich.update(task, status="stopped")
            self._rich.stop_task(task)
            raise
        finally:
            self._depth -= 1
        self._rich.update(
            task, completed=1, status=f"done in {duration(time.monotonic() - started)}"
        )

    def note(self, text: str) -> None:
        """Print a line above the live lines."""
        self._rich.console.print(text, markup=False, highlight=False)


def progress_for(*, quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """Return the reporter a command should use: silent, live on a terminal, else lines.

    Examples
    --------
    >>> import io
    >>> type(progress_for(quiet=True)).__name__, type(progress_for(stream=io.StringIO())).__name__
    ('Progress', 'LineProgress')
    """
    if quiet:
        return SILENT
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return LiveProgress(stream)
    return LineProgress(stream)
