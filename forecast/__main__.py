"""``python -m forecast``, and the ``forecast`` console script.

The command-line interface is imported inside :func:`main`: it takes about a second to load,
and a Ctrl-C meanwhile ends like one during a command (one line, exit status 130) rather
than with Python's traceback of the import.
"""

import sys

from forecast.interrupts import NOTHING_WRITTEN


def main() -> None:
    """Run the ``forecast`` command line."""
    try:
        from forecast.cli import main as cli_main
    except KeyboardInterrupt:
        print(f"interrupted: {NOTHING_WRITTEN}", file=sys.stderr, flush=True)
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
