"""Fan charts and predictive checks on a tiny synthetic forecast."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from forecast.plots.alignment_fan import plot_alignment_fan, plot_alignment_fans
from forecast.plots.bands import BAND_LEVELS, quantile_bands
from forecast.plots.indicator_fan import plot_indicator_fans
from forecast.plots.observed import outside_band
from forecast.plots.ppc import plot_ppc
from forecast.plots.run_figures import forecast_bands
from tests.plots.conftest import INDICATORS, POLES, STATES, drawn


def test_alignment_grid_has_one_panel_per_state_and_pole(forecast):
    fig = plot_alignment_fans(forecast)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(STATES) * len(POLES)
    assert all(drawn(ax) for ax in fig.axes)
    # the horizon is labelled on the top row only
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert labels.count("forecast") == len(POLES)
    titles = [ax.get_title() for ax in fig.axes[: len(POLES)]]
    assert titles == ["Alignment with Russia", "Alignment with China", "Alignment with the West"]


def test_alignment_grid_subsets_and_rejects_unknown_states(forecast):
    fig = plot_alignment_fans(forecast, states=["UZB"], poles=["CHN"])
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="TKM"):
        plot_alignment_fans(forecast, states=["TKM"])


def test_single_state_fan_has_one_panel_per_pole(forecast):
    fig = plot_alignment_fan(forecast, "KAZ")
    assert len(fig.axes) == len(POLES)
    assert all(drawn(ax) for ax in fig.axes)
    assert "Kazakhstan" in fig.get_suptitle()


def test_precomputed_bands_draw_the_same_median(forecast):
    from_draws = plot_alignment_fan(forecast, "KAZ")
    from_bands = plot_alignment_fan(forecast_bands(forecast), "KAZ")
    for a, b in zip(from_draws.axes, from_bands.axes, strict=True):
        np.testing.assert_allclose(a.lines[-1].get_ydata(), b.lines[-1].get_ydata())


def test_quantile_bands_rejects_data_without_draws_or_quantiles(forecast):
    with pytest.raises(ValueError, match="chain"):
        quantile_bands(forecast["alignment"].isel(chain=0))
    with pytest.raises(ValueError, match="lack the quantiles"):
        quantile_bands(quantile_bands(forecast["alignment"], (0.5,)), BAND_LEVELS)


def test_unconverged_forecast_says_so_in_the_title(forecast):
    forecast.attrs["converged"] = 0
    assert "NOT CONVERGED" in plot_alignment_fans(forecast).get_suptitle()


def test_ppc_draws_one_panel_per_state_with_observations(forecast, panel, codebook):
    fig = plot_ppc(forecast, panel, "trade_share_rus", codebook=codebook)
    assert len(fig.axes) == len(STATES)
    for ax in fig.axes:
        assert drawn(ax)
        # the observations are scattered points
        assert any(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    assert "Russia's share of trade turnover" in fig.get_suptitle()


def test_ppc_shows_history_only(forecast, panel):
    fig = plot_ppc(forecast, panel, "us_aid")
    median = fig.axes[0].lines[0]
    assert max(median.get_xdata()) == 2020.0


def test_ppc_counts_observations_outside_the_band(forecast, panel):
    # the synthetic us_aid draws lie in [10, 90]: the observed 50 is inside every band
    fig = plot_ppc(forecast, panel, "us_aid")
    counts = [ax.get_title(loc="right") for ax in fig.axes]
    assert counts == ["6 of 6 inside 90 % interval"] * len(STATES)


def test_outside_band_flags_values_beyond_the_90_percent_interval(forecast):
    bands = quantile_bands(forecast["indicators"].sel(state="KAZ", indicator="us_aid"))
    import pandas as pd

    obs = pd.DataFrame({"period": ["2016", "2017", "1990"], "value": [50.0, 1e6, 1e6]})
    assert outside_band(bands, obs).tolist() == [False, True, False]


def test_indicator_fans_have_one_panel_per_indicator(forecast, panel, codebook):
    fig = plot_indicator_fans(forecast, "KAZ", panel=panel, codebook=codebook)
    assert len(fig.axes) == len(INDICATORS)
    assert all(drawn(ax) for ax in fig.axes)


def test_indicator_fans_without_codebook_or_panel(forecast):
    fig = plot_indicator_fans(forecast, "UZB", indicators=["us_aid"])
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="TKM"):
        plot_indicator_fans(forecast, "TKM")
