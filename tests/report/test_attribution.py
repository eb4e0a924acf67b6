"""The news decomposition of what moved between two issues, on forecasts with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.data.codebook import load_codebook
from forecast.report.attribution import attribute, new_observations, news_contributions

STATES = ["KAZ", "KGZ"]
POLES = ["RUS", "CHN"]
PERIODS = ["2019", "2020", "2021"]


def _forecast(shift: float, seed: int, last_fitted: str) -> xr.Dataset:
    """Draws where trade_share_rus tracks the RUS latent and trade_share_chn the CHN latent."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(shift, 1.0, size=(1, 4000, 2, 2, 3))
    noise = 0.2 * rng.normal(size=(1, 4000, 2, 2, 3))
    indicators = 0.3 + 0.1 * (latent + noise)
    return xr.Dataset(
        {
            "alignment": (("chain", "draw", "state", "pole", "period"), latent),
            "indicators": (("chain", "draw", "state", "indicator", "period"), indicators),
        },
        coords={
            "state": STATES,
            "pole": POLES,
            "indicator": ["trade_share_rus", "trade_share_chn"],
            "period": PERIODS,
        },
        attrs={"last_fitted": last_fitted, "run_id": f"run{seed}"},
    )


def _panel(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["state", "indicator", "period", "value"])


def test_only_observations_after_the_previous_fit_are_news():
    prev = _forecast(0.0, 1, "2020")
    panel = _panel(
        [
            ("KAZ", "trade_share_rus", "2020", 0.3),
            ("KAZ", "trade_share_rus", "2021", 0.4),
            ("KAZ", "unknown_indicator", "2021", 0.4),
        ]
    )
    assert new_observations(panel, prev)["period"].tolist() == ["2021"]


def test_high_reading_moves_its_own_pole_up_and_not_the_other():
    prev = _forecast(0.0, 1, "2020")
    panel = _panel([("KAZ", "trade_share_rus", "2021", 0.3 + 0.1 * 2.0)])
    parts = news_contributions(panel, prev, "2021").set_index("pole")
    # E[latent | y] rises: KAZ is one of two states, so the region mean moves about half
    assert parts.loc["RUS", "contribution"] == pytest.approx(0.5 * 2.0 / 1.04, abs=0.1)
    assert abs(parts.loc["CHN", "contribution"]) < 0.05


def test_attribution_reports_change_rows_and_residual():
    prev = _forecast(0.0, 1, "2020")
    now = _forecast(0.5, 2, "2021")
    panel = _panel(
        [("KAZ", "trade_share_rus", "2021", 0.5), ("KGZ", "trade_share_rus", "2021", 0.5)]
    )
    result = attribute(panel, now, prev, codebook=load_codebook())
    assert result.previous_run == "run1"
    total = dict(result.total_change)
    assert total["RUS"] == pytest.approx(0.5, abs=0.05)
    top = result.rows[0]
    assert (top.indicator, top.pole, top.news) == ("trade_share_rus", "RUS", 2)
    assert top.contribution > 0.5
    assert "residual" in result.note and "2 observations" in result.note


def test_first_issue_says_there_is_nothing_to_compare():
    now = _forecast(0.0, 2, "2021")
    result = attribute(_panel([]), now, None, codebook=load_codebook())
    assert result.rows == () and result.previous_run is None
    assert "first issue" in result.note
