"""Progress reporters: timed lines when piped, live lines on a terminal, nothing when quiet."""

from __future__ import annotations

import io
import itertools
import re
import threading
import time

import pytest

from forecast.progress import (
    SILENT,
    LineProgress,
    LiveProgress,
    progress_for,
)

STAMP = re.compile(r"^\[(\d{2,}):(\d{2})\] \S")


class Recorder(io.StringIO):
    """A non-terminal stream that remembers when each line was written."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.times.extend(time.monotonic() for _ in range(text.count("\n")))
            return super().write(text)

    def lines(self) -> list[str]:
        return self.getvalue().splitlines()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_running_step_is_never_silent_for_longer_than_the_interval():
    out = Recorder()
    with LineProgress(out, interval=0.2, delay=0) as progress:
        with progress.step("compiling the model", "first compile") as status:
            time.sleep(0.7)
            status.update("nearly there")
            time.sleep(0.5)
    lines = out.lines()
    assert all(STAMP.match(line) for line in lines), lines
    assert lines[0].endswith("] compiling the model: first compile")
    assert lines[-1].endswith("compiling the model: done in 1 s")
    repeats = lines[1:-1]
    assert len(repeats) >= 4
    assert all("so far)" in line for line in repeats)
    assert any("nearly there" in line for line in repeats)
    # the spacing the issue asks for (at least a line every 30 s), scaled down to the test
    gaps = [b - a for a, b in itertools.pairwise(out.times)]
    assert max(gaps) < 0.45, gaps


def test_stamps_count_from_the_start_of_the_command():
    ticks = iter([0.0, 0.0, 0.0, 0.0, 61.0, 61.0, 125.0])
    out = io.StringIO()
    progress = LineProgress(out, delay=0, clock=lambda: next(ticks))
    with progress.step("sampling"):
        pass
    progress.note("the run did not converge")
    assert out.getvalue().splitlines() == [
        "[00:00] sampling",
        "[01:01] sampling: done in 1 min 1 s",
        "[02:05] the run did not converge",
    ]


def test_only_the_innermost_step_repeats():
    out = Recorder()
    with LineProgress(out, interval=0.1, delay=0) as progress:
        with progress.step("fitting"):
            with progress.step("sampling") as status:
                status.update("1 of 10 draws")
                time.sleep(0.4)
    repeats = [line for line in out.lines() if "so far" in line]
    assert repeats and all("sampling: 1 of 10 draws" in line for line in repeats)


def test_a_failed_step_says_it_stopped_and_the_error_goes_on():
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt), LineProgress(out, delay=0) as progress:
        with progress.step("sampling"):
            raise KeyboardInterrupt
    assert out.getvalue().splitlines()[-1].endswith("sampling: stopped after 0 s")


def test_quick_steps_stay_silent_and_slow_ones_announce_themselves():
    out = Recorder()
    with LineProgress(out, interval=10, delay=0.3) as progress:
        with progress.step("reading the run"):
            pass
        with progress.step("fitting"), progress.step("sampling", "2 chains") as status:
            time.sleep(0.6)
            status.update("tuning")
    lines = [line.split("] ", 1)[1] for line in out.lines()]
    # the quick step left no line; the slow ones opened in order, once old enough
    assert lines == [
        "fitting",
        "sampling: 2 chains",
        "sampling: done in 1 s",
        "fitting: done in 1 s",
    ]
    assert out.times[0] - out.times[0] == 0


def test_the_reporter_fits_the_stream(capsys):
    assert progress_for(quiet=True) is SILENT
    assert isinstance(progress_for(stream=io.StringIO()), LineProgress)
    terminal = Terminal()
    live = progress_for(stream=terminal)
    assert isinstance(live, LiveProgress)
    with live, live.step("forecasting") as status:
        status.update("2021 to 2030")
        print("a result")
    # results printed while the live lines run still reach stdout, the progress does not
    captured = capsys.readouterr()
    assert captured.out == "a result\n"
    assert "forecasting" in terminal.getvalue() and "done in" in terminal.getvalue()


def test_silent_writes_nothing(capsys):
    with SILENT as progress, progress.step("sampling") as status:
        status.update("1 of 2")
        progress.note("note")
    assert capsys.readouterr() == ("", "")
