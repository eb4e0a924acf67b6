"""Default locations and horizons shared by the commands (kept free of heavy imports)."""

from pathlib import Path
from typing import Final

#: where runs are stored, relative to the working directory
DEFAULT_RUNS: Final = Path("runs")
#: default last forecast period
DEFAULT_HORIZON: Final = "2030"
#: default forecast ledger
DEFAULT_LEDGER: Final = Path("forecast.db")
#: the largest seed a command accepts (seeds run from 0): NumPy takes any non-negative
#: integer, but a run stores its seed in netCDF attributes (64-bit at most) and PyMC's
#: samplers draw per-chain seeds below 2**30; 2**32 - 1 is NumPy's classic 32-bit range
MAX_SEED: Final = 2**32 - 1
