"""Small panels and specs for the model tests (no PyMC)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.codebook import Codebook
from forecast.data.panel import read_panel
from forecast.model.spec import AlignmentSpec
from forecast.periods import parse_period

#: each pole's reference in the default spec
REFERENCE = (("RUS", "trade_share_rus"), ("CHN", "trade_share_chn"), ("WEST", "trade_share_eu"))

#: a row of a test panel: state, indicator, period, value, n (None unless binomial)
Row = tuple[str, str, str, float, int | None]


def write_panel_csv(path: Path, rows: Iterable[Row]) -> Path:
    """Write rows as a panel CSV (vintage: a year after the period ends)."""
    lines = ["state,indicator,period,value,n,source,vintage"]
    for state, indicator, period, value, n in rows:
        vintage = parse_period(period).end_time + pd.DateOffset(years=1)
        trials = "" if n is None else str(n)
        lines.append(f"{state},{indicator},{period},{value!r},{trials},test,{vintage:%Y-%m-%d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_panel(tmp_path: Path, rows: Iterable[Row], codebook: Codebook) -> pd.DataFrame:
    """A validated panel made of ``rows``."""
    return read_panel(write_panel_csv(tmp_path / "panel.csv", rows), codebook)


def small_spec(indicators: tuple[str, ...], step: str = "Y", **options: object) -> AlignmentSpec:
    """A spec using ``indicators`` with the default references and priors."""
    return AlignmentSpec(indicators=indicators, reference=REFERENCE, step=step, **options)


#: the four indicators of :func:`tiny_panel_csv`, each pole's reference among them
TINY_SPEC = """
[model]
name = "tiny"
[indicators]
use = ["trade_share_rus", "trade_share_chn", "trade_share_eu", "unga_agree_rus"]
[indicators.reference]
RUS = "trade_share_rus"
CHN = "trade_share_chn"
WEST = "trade_share_eu"
"""


def tiny_panel_csv(path: Path) -> Path:
    """Two states, four indicators, ten years: the smallest panel a fit accepts quickly."""
    rng = np.random.default_rng(3)
    rows = []
    for state in ("KAZ", "KGZ"):
        for year in range(2005, 2015):
            for indicator, level in (
                ("trade_share_rus", 0.3),
                ("trade_share_chn", 0.2),
                ("trade_share_eu", 0.25),
            ):
                rows.append(
                    (state, indicator, str(year), round(level + rng.normal(0, 0.03), 4), None)
                )
            rows.append((state, "unga_agree_rus", str(year), int(rng.binomial(70, 0.8)) / 70, 70))
    return write_panel_csv(path, rows)
