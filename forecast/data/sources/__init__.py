"""Loaders of raw public data, one module per source family.

Each loader is a pure function ``raw_dir -> rows`` returning the columns
:data:`forecast.data.sources.rawfile.LOADER_COLUMNS`; :data:`LOADERS` lists them in the
order the panel builder runs them.
"""

from forecast.data.sources.aiddata import load_china_finance
from forecast.data.sources.dots import load_trade_shares
from forecast.data.sources.eurostat import load_eu_exports
from forecast.data.sources.institutions import (
    load_defense_pacts,
    load_memberships,
    load_shared_igos,
)
from forecast.data.sources.national import load_national_trade_shares
from forecast.data.sources.sipri import load_arms_shares
from forecast.data.sources.unvotes import load_unga_agreement
from forecast.data.sources.wdi import load_remittances, load_us_aid

LOADERS = (
    load_unga_agreement,
    load_trade_shares,
    load_national_trade_shares,
    load_remittances,
    load_us_aid,
    load_arms_shares,
    load_china_finance,
    load_memberships,
    load_defense_pacts,
    load_shared_igos,
    load_eu_exports,
)

__all__ = ["LOADERS"]
