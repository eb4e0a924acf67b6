"""The PyMC graph: index arithmetic, vectorisation and identification (scale, location, sign).

Nothing here compiles a sampler: the structural checks build graphs, the sign check compiles
one small function in PyTensor's fast-compile mode, and the per-draw identification checks
read the session's bundled fit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pytensor.graph.traversal import applys_between

from forecast.data.codebook import Codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import PERIOD, POLE, POLES, STATE
from forecast.model.design import FAMILIES, build_model_data
from forecast.model.graph import build_alignment_model, observation_arrays, structure_key
from forecast.model.spec import DEFAULT_MODEL, load_model_spec
from forecast.model.trees import group
from tests.model.panels import Row, small_panel, small_spec

REFS = ("trade_share_rus", "trade_share_chn", "trade_share_eu")
EXTRA = ("arms_share_rus", "unga_agree_rus")

#: two states, two years; the extra RUS indicators are seen in 2000 by KAZ and in 2001 by both
ROWS: list[Row] = [
    *[
        (s, k, y, round(0.2 + 0.1 * i + 0.05 * j + 0.01 * t, 2), None)
        for j, s in enumerate(("KAZ", "KGZ"))
        for i, k in enumerate(REFS)
        for t, y in enumerate(("2000", "2001"))
    ],
    ("KAZ", "arms_share_rus", "2000", 0.6, None),
    ("KAZ", "arms_share_rus", "2001", 0.7, None),
    ("KGZ", "arms_share_rus", "2001", 0.2, None),
    ("KAZ", "unga_agree_rus", "2000", 0.5, 40),
    ("KAZ", "unga_agree_rus", "2001", 0.25, 40),
    ("KGZ", "unga_agree_rus", "2001", 0.75, 40),
]

#: the same with a third year of the references: a walk of two increments, the shortest with a
#: deviation from its mean increment (with one, the graph has no deviation coefficients)
ROWS_3Y: list[Row] = [
    *ROWS,
    *[(s, k, "2002", 0.5, None) for s in ("KAZ", "KGZ") for k in REFS],
]


@pytest.fixture(scope="module")
def default_data(codebook: Codebook):
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    return spec, build_model_data(read_panel(DEFAULT_PANEL, codebook), spec, codebook)


def test_observation_index_gathers_the_right_latent_cells(default_data) -> None:
    _, data = default_data
    n_states, n_poles, n_steps = len(data.states), len(data.poles), data.n_steps
    theta = np.random.default_rng(5).normal(size=(n_states, n_poles, n_steps))
    arrays = observation_arrays(data)
    # the default spec's UN indicators are ideal points (Gaussian): no binomial family
    for family in [f for f in FAMILIES if len(data.obs[f])]:
        obs = data.obs[family]
        index = arrays[f"{family}_obs_theta_index"]
        gathered = (theta.ravel()[index] * arrays[f"{family}_obs_weight"]).sum(axis=1)
        pole = data.pole_index[obs.indicator]
        expected = (theta[obs.state[:, None], pole[:, None], obs.cover] * obs.weight).sum(axis=1)
        np.testing.assert_array_equal(gathered, expected)
        # and the cell is the one the observation's labels name
        step = [data.steps.index(p) for p in obs.period]
        np.testing.assert_array_equal(expected, theta[obs.state, pole, step])


def test_one_likelihood_per_family_and_no_python_loop(
    default_data, tmp_path: Path, codebook: Codebook
) -> None:
    spec, data = default_data
    # the default spec has Gaussian indicators only (UN ideal points): so has the tiny one
    options = {"carry": spec.carry, "persistence_by": spec.persistence_by}
    small = replace(small_spec((*REFS, "arms_share_rus")), **options)
    rows = [r for r in ROWS_3Y if r[1] != "unga_agree_rus"]
    tiny = build_model_data(small_panel(tmp_path, rows, codebook), small, codebook)
    models = [build_alignment_model(d, s) for d, s in ((data, spec), (tiny, small))]
    for model, d in zip(models, (data, tiny), strict=True):
        families = [f for f in FAMILIES if len(d.obs[f])]
        assert [rv.name for rv in model.observed_RVs] == [f"y_{f}" for f in families]
    assert [rv.name for rv in models[0].free_RVs] == [rv.name for rv in models[1].free_RVs]
    # UN votes add the beta-binomial family and its concentration
    votes = build_model_data(
        small_panel(tmp_path, ROWS_3Y, codebook), small_spec(REFS + EXTRA), codebook
    )
    with_votes = build_alignment_model(votes, small_spec(REFS + EXTRA))
    assert [rv.name for rv in with_votes.observed_RVs] == ["y_gaussian", "y_binomial"]
    assert "concentration" in [rv.name for rv in with_votes.free_RVs]
    # 5 states x 13 indicators x 29 years against 2 x 5 x 2: a loop over indicators or states
    # would add nodes per item; a vectorised graph has the same size up to index details
    sizes = [len(list(applys_between(m.value_vars, [m.logp()]))) for m in models]
    # (a loop over the 13 indicators against 5 would differ by dozens of nodes)
    assert abs(sizes[0] - sizes[1]) <= 6, sizes


def test_structure_key_allows_reuse_on_a_cut_panel(default_data, codebook: Codebook) -> None:
    spec, data = default_data
    panel = read_panel(DEFAULT_PANEL, codebook)
    cut = panel[panel["period"].str[:4].astype(int) <= 2019]
    cut_data = build_model_data(cut, spec, codebook, until=data.steps[-1])
    assert len(cut_data.obs["gaussian"]) < len(data.obs["gaussian"])
    assert structure_key(cut_data, spec) == structure_key(data, spec)
    assert structure_key(data, spec.replace_sampler(draws=10)) == structure_key(data, spec)
    other_prior = replace(spec, priors=replace(spec.priors, lkj_eta=3.0))
    assert structure_key(data, other_prior) != structure_key(data, spec)
    shorter = build_model_data(cut, spec, codebook)
    assert structure_key(shorter, spec) != structure_key(data, spec)


def test_sign_turns_the_latent_around(tmp_path: Path, codebook: Codebook) -> None:
    """Raising the RUS latent raises a sign +1 indicator and lowers a sign -1 one."""
    flipped = Codebook(
        tuple(replace(i, sign=-1) if i.key in EXTRA else i for i in codebook.indicators),
        path="flipped",
    )
    spec = small_spec(REFS + EXTRA)
    data = build_model_data(small_panel(tmp_path, ROWS, flipped), spec, flipped)
    assert data.sign.tolist() == [1.0, 1.0, 1.0, -1.0, -1.0]
    model = build_alignment_model(data, spec)
    # the Gaussian likelihood is censored at its kind's bounds: its inputs are (the Normal,
    # lower, upper), and the Normal's are (rng, size, mu, sigma)
    gauss = model["y_gaussian"].owner.inputs[0].owner.inputs
    binom = model["y_binomial"].owner.inputs
    # RandomVariable inputs are (rng, size, *parameters): Normal(mu, sigma),
    # BetaBinomial(n, alpha, beta) with alpha / (alpha + beta) = sigmoid(eta)
    outs = model.replace_rvs_by_values([gauss[2], binom[3], binom[4], model["persistence"]])
    fn = model.compile_fn(
        outs, inputs=model.value_vars, on_unused_input="ignore", mode="FAST_COMPILE"
    )
    point = model.initial_point()
    # log loadings 0.7 (arms_share_rus) and 0.4 (unga_agree_rus); a binomial indicator's is
    # sampled shifted by its pole's log volatility
    shift = point["volatility_log_mu"][0] - spec.priors.volatility_log_mean
    point["log_loading_shifted"] = np.log([0.7, 0.4]) + np.array([0.0, shift])
    # every state's RUS latent rises by +1 from the second step on
    moved = dict(point, drift_realised=point["drift_realised"] + np.array([1.0, 0.0, 0.0]))
    (mu0, a0, b0, phi), (mu1, a1, b1, _) = fn(point), fn(moved)
    arrays = observation_arrays(data)
    rise = np.zeros((len(data.states), len(data.poles), data.n_steps))
    rise[:, 0, 1:] = 1.0
    # the levels are sampled at the latent's mean over each series' cells, which rises too
    series_rise = (arrays["centring_weight"] @ rise.ravel()).reshape(len(data.indicators), -1)

    def expected_change(family: str, loadings: dict[str, float]) -> np.ndarray:
        obs = data.obs[family]
        load = np.array([loadings.get(data.indicators[i], 0.0) for i in obs.indicator])
        own = rise.ravel()[arrays[f"{family}_obs_theta_index"][:, 0]]
        return data.sign[obs.indicator] * load * (own - series_rise[obs.indicator, obs.state])

    def later_minus_earlier(family: str, change: np.ndarray) -> dict[tuple[int, int], float]:
        # the within-series contrast of the change: sign * loading where both years are seen
        obs = data.obs[family]
        out = {}
        for key in set(zip(obs.indicator.tolist(), obs.state.tolist(), strict=True)):
            rows = np.flatnonzero((obs.indicator == key[0]) & (obs.state == key[1]))
            if len(rows) == 2:
                out[key] = float(change[rows[1]] - change[rows[0]])
        return out

    g_change = expected_change("gaussian", {"trade_share_rus": 1.0, "arms_share_rus": 0.7})
    # the Gaussian mean carries the AR(1) deviation of the previous observation of the series
    obs = data.obs["gaussian"]
    phi_d = phi[arrays["gaussian_obs_local"]] ** obs.gap
    carry = np.where(obs.previous >= 0, phi_d * np.roll(g_change, 1), 0.0)
    np.testing.assert_allclose(mu1 - mu0, g_change - carry, atol=1e-12)
    contrasts = later_minus_earlier("gaussian", g_change)
    arms = data.indicators.index("arms_share_rus")
    ref = data.indicators.index("trade_share_rus")
    assert {k: round(v, 12) for k, v in contrasts.items() if k[0] in (arms, ref)} == {
        (ref, 0): 1.0,
        (ref, 1): 1.0,
        (arms, 0): -0.7,
    }
    logit = lambda a, b: np.log(a) - np.log(b)  # noqa: E731
    b_change = expected_change("binomial", {"unga_agree_rus": 0.4})
    np.testing.assert_allclose(logit(a1, b1) - logit(a0, b0), b_change, atol=1e-9)
    unga = data.indicators.index("unga_agree_rus")
    assert {k: round(v, 12) for k, v in later_minus_earlier("binomial", b_change).items()} == {
        (unga, 0): -0.4
    }


def test_identification_holds_in_every_draw(bundled_fit) -> None:
    tree = bundled_fit.run.posterior()
    post = group(tree, "posterior")
    const = group(tree, "constant_data")
    reference = const["is_reference"].values.astype(bool)
    loading = post["loading"].values  # (chain, draw, indicator)
    # scale: the reference loadings are exactly one; the others positive
    assert (loading[..., reference] == 1.0).all()
    assert (loading[..., ~reference] > 0).all()
    # each reference has one intercept common to all states
    intercept = post["intercept"].values[..., reference, :]
    assert (intercept == intercept[..., :1]).all()
    # location: the first period sums to zero across states for every pole
    first = post["alignment"].isel({PERIOD: 0}).sum(STATE)
    assert list(first[POLE].values) == list(POLES)
    assert float(np.abs(first).max()) < 1e-10
    # but the latent is not pinned afterwards: the state sum of the last period varies
    assert float(post["alignment"].isel({PERIOD: -1}).sum(STATE).std()) > 0.05


def _lkj_cholesky_logp(chol: np.ndarray, eta: float) -> float:
    """Stan's ``lkj_corr_cholesky`` log density, up to its constant (Stan manual, 1-based k)."""
    k = np.arange(1, len(chol) + 1)
    return float(((len(chol) - k + 2 * eta - 2) * np.log(np.diag(chol)))[1:].sum())


def test_innovation_correlation_prior_is_lkj(default_data) -> None:
    """The prior on the innovations' Cholesky factor is LKJ(eta) on the correlation matrix."""
    from pymc.model.transform.conditioning import remove_value_transforms

    spec, data = default_data
    model = remove_value_transforms(build_alignment_model(data, spec))
    value = model.rvs_to_values[model["innovation_chol"]]
    prior = model.logp(vars=[model["innovation_chol"]])
    with_jacobian = prior + model.logp(vars=[model["innovation_chol_jacobian"]])
    fn = model.compile_fn(
        [prior, with_jacobian], inputs=[value], on_unused_input="ignore", mode="FAST_COMPILE"
    )
    rng = np.random.default_rng(3)
    gaps = []
    for _ in range(8):
        x = rng.normal(size=(3, 5))
        corr = np.corrcoef(x)
        chol = np.linalg.cholesky(corr)
        plain, fixed = fn({value.name: chol})
        stan = _lkj_cholesky_logp(chol, spec.priors.lkj_eta)
        gaps.append((float(plain) - stan, float(fixed) - stan))
    plain_gap, fixed_gap = np.array(gaps).T
    # equal up to a constant with the Jacobian; without it, not (the negative control)
    assert np.ptp(fixed_gap) < 1e-8
    assert np.ptp(plain_gap) > 0.1
