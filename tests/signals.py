"""Ctrl-C in tests: a real SIGINT to this process, raised where the test's code runs."""

from __future__ import annotations

import os
import signal


def ctrl_c() -> None:
    """Send SIGINT to this process; Python raises it at the next bytecode of the main thread.

    Called from the main thread (inside a patched library call), the interrupt lands right
    there; from a timer thread, wherever the main thread is then.
    """
    os.kill(os.getpid(), signal.SIGINT)
