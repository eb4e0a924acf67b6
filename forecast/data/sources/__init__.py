"""Loaders of raw public data, one module per source family.

Each loader is a pure function ``raw_dir -> rows`` returning the columns
:data:`forecast.data.sources.rawfile.LOADER_COLUMNS`; :data:`LOADERS` lists them in the
order the panel builder runs them.
"""

from forecast.data.sources.aiddata import load_china_finance
from forecast.data.sources.dots import load_trade_shares
from forecast.data.sources.eurostat import load_eu_exports
from forecast.data.sources.idealpoints import OPTIONAL_FOLDER as IDEAL_POINTS_FOLDER
from forecast.data.sources.idealpoints import load_unga_ideal_points
from forecast.data.sources.institutions import (
    load_defense_pacts,
    load_memberships,
    load_shared_igos,
)
from forecast.data.sources.national import load_national_trade_shares
from forecast.data.sources.sipri import load_arms_shares
from forecast.data.sources.trade_splice import load_spliced_trade_shares
from forecast.data.sources.unvotes import load_unga_agreement
from forecast.data.sources.wdi import load_remittances, load_us_aid

LOADERS = (
    load_unga_agreement,
    load_unga_ideal_points,
    load_trade_shares,
    load_national_trade_shares,
    load_spliced_trade_shares,
    load_remittances,
    load_us_aid,
    load_arms_shares,
    load_china_finance,
    load_memberships,
    load_defense_pacts,
    load_shared_igos,
    load_eu_exports,
)

#: folders that older releases of the raw data lack -> what a panel built without them misses
OPTIONAL_FOLDERS = {
    IDEAL_POINTS_FOLDER: "unga_ideal_rus, unga_ideal_chn and unga_ideal_usa "
    "(the folder first appeared in the July 2025 release)",
}

__all__ = ["LOADERS", "OPTIONAL_FOLDERS"]
