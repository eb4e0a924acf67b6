"""Allow ``python -m forecast``."""

from forecast.cli import main

if __name__ == "__main__":
    main()
