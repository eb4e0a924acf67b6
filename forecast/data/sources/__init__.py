"""Loaders of raw public data, one module per source family.

Each loader is a pure function ``raw_dir -> rows`` returning the columns
:data:`forecast.data.sources.rawfile.LOADER_COLUMNS`; :data:`LOADERS` lists them in the
order the panel builder runs them.
"""

from forecast.data.sources.dots import load_trade_shares

LOADERS = (load_trade_shares,)

__all__ = ["LOADERS"]
