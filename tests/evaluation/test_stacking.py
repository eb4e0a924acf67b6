"""Stacking: mixture statistics, leave-future-out weights, mixture draws (no model fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoringrules as sr
import xarray as xr

from forecast.dims import CHAIN, DRAW, HORIZON, INDICATOR, ORIGIN, PERIOD, STATE
from forecast.evaluation.cells import CELL_COLUMNS, SCALE
from forecast.evaluation.stacked import (
    RECALIBRATED,
    SPREAD_ADJUSTED,
    OriginStack,
    stack_backtest,
    training_cells,
)
from forecast.evaluation.stacking import (
    MIN_CELLS,
    best_weights,
    learned_weights,
    mean_abs_difference,
    mixture_statistics,
)
from forecast.model.stacked import COMPONENTS, indicator_family, mix_draws, weights_for
from forecast.scenarios.events import event_summary
from tests.evaluation.stack_helpers import origin_stack


def test_mean_abs_difference_equals_all_pairs(rng):
    x, y = rng.normal(size=(3, 50)), rng.normal(1.0, 2.0, size=(3, 40))
    brute = np.abs(x[:, :, None] - y[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(mean_abs_difference(x, y), brute, rtol=1e-12)


def test_mixture_crps_from_statistics_equals_scoring_the_mixture(rng):
    """The quadratic form gives the CRPS of the mixture of the components' draws."""
    obs = rng.normal(size=5)
    w = np.array([0.5, 0.25, 0.25])
    # components with 200, 100 and 100 draws: a mixture of 400 draws with these weights
    draws = [
        rng.normal(m, s, size=(5, int(400 * wj)))
        for (m, s), wj in zip(((0, 1), (1, 0.5), (-1, 2)), w, strict=True)
    ]
    stats = mixture_statistics(obs, draws)
    a = stats[[f"a_{c}" for c in COMPONENTS]].to_numpy()
    b = np.zeros((5, 3, 3))
    for j, cj in enumerate(COMPONENTS):
        for k, ck in enumerate(COMPONENTS):
            name = f"b_{cj}_{ck}" if j <= k else f"b_{ck}_{cj}"
            b[:, j, k] = stats[name]
    quadratic = a @ w - 0.5 * np.einsum("j,njk,k->n", w, b, w)
    mixed = np.concatenate(draws, axis=1)
    # the (all-pairs) CRPS of the mixture's draws
    np.testing.assert_allclose(quadratic, sr.crps_ensemble(obs, mixed, estimator="nrg"), rtol=1e-9)


def _stats(rng, n, sharp_model=True, horizon=1, indicator="trade_share_chn"):
    obs = rng.normal(size=n)
    model_sd = 0.3 if sharp_model else 3.0
    draws = [
        obs[:, None] + rng.normal(0, model_sd, size=(n, 200)),  # the model: centred on the truth
        obs[:, None] + 1.0 + rng.normal(0, 1.0, size=(n, 200)),  # persistence: biased
        obs[:, None] - 1.0 + rng.normal(0, 1.0, size=(n, 200)),  # local level: biased the other way
    ]
    stats = mixture_statistics(obs, draws)
    return stats.assign(**{INDICATOR: indicator, HORIZON: horizon, SCALE: 1.0})


def test_best_weights_favour_the_better_component(rng):
    assert best_weights(_stats(rng, 60))[0] > 0.8
    # a vague model is mostly left out for the two biased but sharper baselines
    assert best_weights(_stats(rng, 60, sharp_model=False))[0] < 0.5


def test_small_groups_borrow_the_horizons_weights_and_empty_ones_are_equal(rng):
    enough = _stats(rng, MIN_CELLS + 5, indicator="trade_share_chn")
    few = _stats(rng, 3, indicator="arms_share_rus")
    table = learned_weights(
        pd.concat([enough, few], ignore_index=True), [1, 2], ["trade_share", "arms_share"]
    )
    by = table.set_index(["family", HORIZON])
    assert by.loc[("trade_share", 1), "basis"] == "family"
    assert by.loc[("arms_share", 1), "basis"] == "horizon"
    assert by.loc[("arms_share", 2), "basis"] == "equal"
    np.testing.assert_allclose(
        by.loc[("arms_share", 2), list(COMPONENTS)].to_numpy(float), 1 / 3, atol=1e-3
    )
    assert (
        weights_for(table, "trade_share_eu", 7).tolist()
        == by.loc[("trade_share", 2), list(COMPONENTS)].tolist()
    )


def test_mix_draws_takes_each_components_share():
    draws = [np.full((2, 10), float(j)) for j in range(3)]
    mixed = mix_draws(draws, np.array([0.55, 0.25, 0.2]))
    assert mixed.shape == (2, 10)
    assert [(mixed[0] == j).sum() for j in range(3)] == [6, 2, 2]


def test_mixed_draws_are_interleaved_so_every_chain_holds_each_share():
    """A (chain, draw) layout of the mixture: chains alike, the model's draws in place."""
    n_chain, n_draw = 4, 1000
    model = np.arange(n_chain * n_draw, dtype=float)
    rng = np.random.default_rng(0)
    baselines = [np.full(n_chain * n_draw, -1.0), np.full(n_chain * n_draw, -2.0)]
    mixed = mix_draws([model, *baselines], np.array([0.2, 0.45, 0.35]))
    from_model = mixed >= 0
    # a draw from the model is the model's draw of that index
    np.testing.assert_array_equal(mixed[from_model], model[from_model])
    by_chain = mixed.reshape(n_chain, n_draw)
    for chain in by_chain:
        shares = [(chain >= 0).mean(), (chain == -1).mean(), (chain == -2).mean()]
        np.testing.assert_allclose(shares, [0.2, 0.45, 0.35], atol=0.002)
    # so an event on the mixture has the Monte Carlo error of independent draws: with the
    # components in blocks (a chain of the model, then the baselines') its estimated error
    # was about 30 times as large (an ESS of 19 out of 16 000 draws in a probe)
    event = (rng.random(n_chain * n_draw) < 0.3) & from_model
    summary = event_summary(xr.DataArray(event.reshape(n_chain, n_draw), dims=(CHAIN, DRAW)))
    assert float(summary["ess"]) > 0.5 * n_chain * n_draw


def test_indicator_families():
    assert {indicator_family(k) for k in ("unga_ideal_rus", "unga_ideal_usa")} == {"unga_ideal"}
    assert indicator_family("arms_share_west") == "arms_share"


def _origin_stack(rng, origin: int, vintage: str, n: int = 50) -> OriginStack:
    obs = rng.normal(size=n)
    draws = tuple(obs[:, None] + rng.normal(j, 1.0, size=(n, 100)) for j in range(3))
    return origin_stack(origin, obs, draws, vintage)


def test_weights_learn_only_from_outcomes_public_at_the_origin(rng):
    """Leave-future-out: an earlier origin's outcome published after the origin is not used."""
    early = _origin_stack(rng, 2010, "2012-06-30")
    late = _origin_stack(rng, 2011, "2013-06-30")
    now = _origin_stack(rng, 2012, "2014-06-30")
    stacks = [early, late, now]
    assert set(training_cells(stacks, 2012)[ORIGIN]) == {2010}
    assert training_cells(stacks, 2010).empty
    scores, weights = stack_backtest(stacks, [1], ["trade_share"])
    assert set(scores["model"]) == {"stacked", SPREAD_ADJUSTED, RECALIBRATED}
    assert set(scores[ORIGIN]) == {2010, 2011, 2012}
    # 50 public PIT values at 2012 are too few to recalibrate by: the mixture is the forecast
    assert (weights["recalibration_cells"] == 0).all()
    crps = {m: scores.loc[scores["model"] == m, "crps"].to_numpy() for m in scores["model"]}
    np.testing.assert_array_equal(crps["stacked"], crps[RECALIBRATED])
    first = weights[weights[ORIGIN] == 2010].iloc[0]
    assert first["basis"] == "equal"  # nothing public before the first origin
    # the model component is the unbiased one: later origins learn to favour it
    assert weights[weights[ORIGIN] == 2012].iloc[0]["model"] > 0.5
    assert list(scores.columns[: len(CELL_COLUMNS)]) == list(CELL_COLUMNS)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_degenerate_weights_reproduce_one_component(weight):
    a, b = np.zeros((1, 8)), np.ones((1, 8))
    mixed = mix_draws([a, b, b], np.array([weight, 1 - weight, 0.0]))
    assert float(mixed.mean()) == 1 - weight


def test_stacked_forecast_mixes_future_cells_only(codebook):
    """The user's stacked forecast: history untouched, future cells a mixture."""
    from forecast.model.stacked import StackingWeights, stack_forecast

    years = [str(y) for y in range(2010, 2021)]
    panel = pd.DataFrame(
        {
            STATE: "KAZ",
            INDICATOR: "trade_share_chn",
            PERIOD: years,
            "value": np.linspace(0.1, 0.2, len(years)),
        }
    )
    periods = [*years, "2021", "2022"]
    values = np.full((2, 50, 1, 1, len(periods)), 0.9)
    forecast = xr.Dataset(
        {
            "indicators": (
                (CHAIN, DRAW, STATE, INDICATOR, PERIOD),
                values,
            )
        },
        coords={
            CHAIN: [0, 1],
            DRAW: np.arange(50),
            STATE: ["KAZ"],
            INDICATOR: ["trade_share_chn"],
            PERIOD: periods,
        },
        attrs={"last_fitted": "2020", "until": "2022"},
    )
    table = pd.DataFrame(
        [
            {
                "family": "trade_share",
                HORIZON: h,
                "model": 0.5,
                "persistence": 0.5,
                "local_level": 0.0,
            }
            for h in (0, 1)
        ]
    )
    out = stack_forecast(
        forecast, panel, codebook, StackingWeights(table, {"spec_sha256": "x"}), random_seed=1
    )
    cells = out["indicators"].sel(state="KAZ", indicator="trade_share_chn")
    assert (cells.sel(period="2020") == 0.9).all()
    future = cells.sel(period="2021").values.reshape(-1)
    assert (future == 0.9).sum() == 50 and (future < 0.5).sum() == 50
    assert out.attrs["forecast"] == "stacked"


def test_weights_fit_a_run_of_their_model_whatever_its_sampler_settings(default_spec):
    from dataclasses import replace

    from forecast.model.stacked import StackingWeights

    table = pd.DataFrame()
    weights = StackingWeights(table, {"model_sha256": default_spec.model_sha256})
    more_draws = default_spec.replace_sampler(draws=6000, target_accept=0.95)
    assert more_draws.sha256 != default_spec.sha256
    assert weights.fits(more_draws.to_dict(), more_draws.sha256)
    damped = replace(default_spec, projection=replace(default_spec.projection, drift_damping=0.5))
    assert not weights.fits(damped.to_dict(), damped.sha256)
    # weights written before the model hash existed match the whole spec's hash only
    legacy = StackingWeights(table, {"spec_sha256": default_spec.sha256})
    assert legacy.fits(default_spec.to_dict(), default_spec.sha256)
    assert not legacy.fits(more_draws.to_dict(), more_draws.sha256)


def test_the_installed_weights_fit_the_default_spec(default_spec):
    from forecast.model.stacked import DEFAULT_STACKING, read_weights

    weights = read_weights(DEFAULT_STACKING)
    assert weights.fits(default_spec.to_dict(), default_spec.sha256)


@pytest.fixture
def default_spec(codebook):
    from forecast.model.spec import DEFAULT_MODEL, load_model_spec

    return load_model_spec(DEFAULT_MODEL, codebook)
