"""Forest and convergence plots on a tiny synthetic posterior."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import xarray as xr
from matplotlib.figure import Figure

from forecast.plots.convergence import parameter_draws, plot_convergence
from forecast.plots.forest import plot_forest
from tests.plots.conftest import drawn


def test_forest_has_loadings_and_drifts(posterior, codebook):
    fig = plot_forest(posterior, codebook=codebook)
    assert isinstance(fig, Figure)
    loadings, drifts = fig.axes
    assert drawn(loadings) and drawn(drifts)
    labels = [t.get_text() for t in loadings.get_yticklabels()]
    assert labels[0] == "Russia's share of trade turnover"
    # the fixed reference loading is noted rather than drawn as an interval
    assert any("fixed at 1" in t.get_text() for t in loadings.texts)
    states = [t.get_text() for t in drifts.get_yticklabels()]
    assert states == ["Regional mean", "Kazakhstan", "Uzbekistan"]


def test_forest_without_constant_data_finds_the_fixed_loading(posterior):
    bare = xr.DataTree.from_dict({"posterior": posterior["posterior"].to_dataset()})
    fig = plot_forest(bare)
    assert sum("fixed at 1" in t.get_text() for t in fig.axes[0].texts) == 1


def test_forest_needs_loadings_and_drifts(posterior):
    bare = xr.DataTree.from_dict(
        {"posterior": posterior["posterior"].to_dataset().drop_vars("loading")}
    )
    with pytest.raises(ValueError, match="loading"):
        plot_forest(bare)


def test_parameter_draws_drop_fixed_cells_and_missing_variables(posterior):
    draws = parameter_draws(posterior, ["loading", "drift_mu", "not_a_parameter"])
    assert list(draws.data_vars) == ["loading", "drift_mu"]
    assert list(draws["loading"]["indicator"].values) == ["unga_agree_chn", "us_aid"]


def test_rank_plot_has_a_panel_per_parameter_and_leaves_no_pyplot_figure(posterior, codebook):
    fig = plot_convergence(posterior, ["drift_mu", "loading"], codebook=codebook)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 3 + 2
    assert all(drawn(ax) for ax in panels)
    titles = " ".join(ax.get_title() for ax in panels)
    assert "Mean drift" in titles and "The West" in titles and "UNGA voting" in titles
    assert plt.get_fignums() == []


def test_trace_plot(posterior):
    fig = plot_convergence(posterior, ["volatility_log_mu"], kind="trace")
    assert len([ax for ax in fig.axes if ax.axison]) == 3
    assert all(drawn(ax) for ax in fig.axes if ax.axison)


def test_convergence_rejects_bad_requests(posterior):
    with pytest.raises(ValueError, match="kind"):
        plot_convergence(posterior, ["drift_mu"], kind="pair")
    with pytest.raises(ValueError, match="non-constant"):
        plot_convergence(posterior, ["nothing"])
