"""Default locations and horizons shared by the commands (kept free of heavy imports)."""

from pathlib import Path
from typing import Final

#: where runs are stored, relative to the working directory
DEFAULT_RUNS: Final = Path("runs")
#: default last forecast period
DEFAULT_HORIZON: Final = "2030"
#: default forecast ledger
DEFAULT_LEDGER: Final = Path("forecast.db")
