"""Dimension names, coordinates and fixed vocabularies, defined once for the whole package.

Every labelled object (xarray Dataset, DataTree, tidy DataFrame) uses these names; nobody
types the string ``"state"`` twice.
"""

from typing import Final

CHAIN: Final = "chain"
DRAW: Final = "draw"
SAMPLE_DIMS: Final = (CHAIN, DRAW)

STATE: Final = "state"
POLE: Final = "pole"
PERIOD: Final = "period"
INDICATOR: Final = "indicator"
SCENARIO: Final = "scenario"
PARTITION: Final = "partition"
QUESTION: Final = "question"
WHATIF: Final = "whatif"
QUANTILE: Final = "quantile"
OBS: Final = "obs"
HORIZON: Final = "horizon"
ORIGIN: Final = "origin"
MODEL: Final = "model"
POLE_PAIR: Final = "pole_pair"
CI_BOUND: Final = "ci_bound"

#: the three alignment poles of the model
POLES: Final = ("RUS", "CHN", "WEST")

#: the five Central Asian states of the bundled panel (ISO 3166-1 alpha-3)
STATES: Final = ("KAZ", "KGZ", "TJK", "TKM", "UZB")

STATE_NAMES: Final = {
    "KAZ": "Kazakhstan",
    "KGZ": "Kyrgyzstan",
    "TJK": "Tajikistan",
    "TKM": "Turkmenistan",
    "UZB": "Uzbekistan",
}

POLE_NAMES: Final = {"RUS": "Russia", "CHN": "China", "WEST": "the West"}

#: indicator measurement kinds and their likelihoods (DESIGN.md section 3)
KINDS: Final = ("binomial", "share", "positive", "binary", "continuous")

#: names of the forecast Dataset's variables (a variable cannot share the name of a dimension)
ALIGNMENT_VAR: Final = "alignment"
INDICATOR_VAR: Final = "indicators"

#: period frequencies: year, quarter, month
FREQUENCIES: Final = ("Y", "Q", "M")

#: columns of the tidy panel (DESIGN.md section 2), in file order; ``se`` (the published
#: standard error of ``value`` on its natural scale, empty where the source gives none) was
#: added after DESIGN.md's seven, so a panel without it still reads
PANEL_COLUMNS: Final = ("state", "indicator", "period", "value", "n", "source", "vintage", "se")
#: columns a panel file may leave out (read as empty)
OPTIONAL_PANEL_COLUMNS: Final = ("se",)

#: columns of the tidy forecast summaries written by ``forecast predict``
QUANTILE_LEVELS: Final = (0.05, 0.25, 0.5, 0.75, 0.95)
SUMMARY_STATS: Final = ("mean", "q05", "q25", "q50", "q75", "q95")
