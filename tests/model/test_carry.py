"""The filtered carry and the persistence shared by an indicator family (spec options).

Left out of a spec, the options fall back to ``carry = "observed"`` and ``persistence_by =
"indicator"``, and stay out of its hash. ``carry = "filtered"`` carries a series' previous
residual shrunk to its expected deviation (``k = v / (v + se^2)``) and starts afresh after a
value at its bound; ``persistence_by = "family"`` gives the indicators of one family (the
three arms shares, the four trade shares, the three UN ideal points) one persistence.
Here: the spec, the graph's arrays, the likelihood's mean and scale against a NumPy
transcription at one point, and the projection against its closed form. Nothing here
samples; the recovery fit is in ``test_recovery_persistence``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from forecast.data.codebook import Codebook
from forecast.data.panel import DEFAULT_PANEL, read_panel
from forecast.dims import CHAIN, DRAW, INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.errors import SpecError
from forecast.model.design import build_model_data
from forecast.model.graph import (
    CENSOR_SENTINEL,
    build_alignment_model,
    censoring_bounds,
    observation_arrays,
)
from forecast.model.project import project
from forecast.model.spec import DEFAULT_MODEL, load_model_spec, parse_model_spec
from forecast.model.stacked import read_weights
from tests.model.test_horizon import (
    CENTRE,
    DRIFT,
    HORIZON,
    INTERCEPT,
    LAST_RUS,
    LAST_Y,
    LOADING,
    NOISE,
    PERSISTENCE,
    SCALE,
    SHARE,
    VOLATILITY,
    constant_posterior,
    link_of,
)

STACKING = DEFAULT_MODEL.parent / "stacking.toml"


@pytest.fixture(scope="module")
def default_data(codebook: Codebook):
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    return spec, build_model_data(read_panel(DEFAULT_PANEL, codebook), spec, codebook)


#: the options' fallbacks when a spec leaves them out
OBSERVED = {"carry": "observed", "persistence_by": "indicator"}
#: the hash of the bundled spec with those fallbacks: earlier ledger entries carry it
OBSERVED_MODEL_SHA256 = "3840c3ae339c0210f1792adafcc61011c7f8bf52e869cc8e57339b99e49a9898"


def without_options(text: str, keys: Iterable[str]) -> str:
    """``text`` without its lines that set one of ``keys``."""
    keys = set(keys)
    return "".join(ln for ln in text.splitlines(keepends=True) if ln.split(" = ")[0] not in keys)


def with_model_options(text: str, **options: str) -> str:
    """``text`` with ``options`` set in its ``[model]`` table (replacing lines it has)."""
    lines = "".join(f'{k} = "{v}"\n' for k, v in options.items())
    return without_options(text, options).replace("[model]\n", "[model]\n" + lines, 1)


def test_the_spec_reads_both_options(codebook: Codebook) -> None:
    text = with_model_options(
        DEFAULT_MODEL.read_text(encoding="utf-8"), carry="filtered", persistence_by="family"
    )
    spec = parse_model_spec(text, codebook)
    assert (spec.carry, spec.persistence_by) == ("filtered", "family")
    assert spec.to_dict()["carry"] == "filtered"


@pytest.mark.parametrize(("key", "value"), [("carry", "smoothed"), ("persistence_by", "state")])
def test_an_unknown_option_is_refused_naming_its_key(
    codebook: Codebook, key: str, value: str
) -> None:
    text = with_model_options(DEFAULT_MODEL.read_text(encoding="utf-8"), **{key: value})
    with pytest.raises(SpecError, match=f"model.{key}"):
        parse_model_spec(text, codebook)


def test_the_fallbacks_leave_the_hashes_as_they_were(codebook: Codebook) -> None:
    spec = load_model_spec(DEFAULT_MODEL, codebook)
    # the installed weights were learned by the backtest of this very model
    assert read_weights(STACKING).model_sha256 == spec.model_sha256
    # at their fallbacks the options stay out of the hashed text: a spec written before they
    # existed keeps its hash, and so do the runs and ledger entries made with it
    fallback = replace(spec, **OBSERVED)
    assert "carry" not in fallback.to_dict() and "persistence_by" not in fallback.to_dict()
    assert fallback.model_sha256 == OBSERVED_MODEL_SHA256
    unset = without_options(DEFAULT_MODEL.read_text(encoding="utf-8"), OBSERVED)
    assert parse_model_spec(unset, codebook).model_sha256 == OBSERVED_MODEL_SHA256
    assert replace(spec, carry="filtered").model_sha256 != spec.model_sha256


def test_the_arrays_mark_what_the_previous_value_was(default_data) -> None:
    _, data = default_data
    arrays = observation_arrays(data)
    obs = data.obs["gaussian"]
    lower, upper = censoring_bounds(data)
    at_bound = (lower > -CENSOR_SENTINEL) | (upper < CENSOR_SENTINEL)
    after = np.flatnonzero(obs.previous >= 0)
    np.testing.assert_array_equal(arrays["gaussian_obs_previous_se"][after], obs.se[after - 1])
    np.testing.assert_array_equal(
        arrays["gaussian_obs_previous_censored"][after], at_bound[after - 1]
    )
    first = obs.previous < 0
    assert not arrays["gaussian_obs_previous_se"][first].any()
    assert not arrays["gaussian_obs_previous_censored"][first].any()
    # the bundled panel has both: zero arms shares and UN ideal points with standard errors
    assert at_bound[after - 1].sum() > 50 and (obs.se[after - 1] > 0).sum() > 50


def gaussian_mean_and_sd(model, point: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The censored Normal's ``mu`` and ``sigma`` and the noise at ``point``."""
    normal = model["y_gaussian"].owner.inputs[0].owner.inputs
    outs = model.replace_rvs_by_values([normal[2], normal[3], model["noise"]])
    fn = model.compile_fn(
        outs, inputs=model.value_vars, on_unused_input="ignore", mode="FAST_COMPILE"
    )
    return tuple(np.asarray(v) for v in fn(point))  # type: ignore[return-value]


@pytest.mark.parametrize("carry", ["filtered", "filtered_se"])
def test_the_filtered_likelihood_is_its_formula(default_data, carry: str) -> None:
    spec, data = default_data
    spec = replace(spec, **OBSERVED)
    filtered = build_alignment_model(data, replace(spec, carry=carry))
    point = filtered.initial_point()
    point["persistence_logodds__"] = np.full_like(point["persistence_logodds__"], np.log(4.0))
    # with the persistence at 0 no residual is carried: the mean is the linear predictor
    predictor, _, _ = gaussian_mean_and_sd(
        filtered, dict(point, persistence_logodds__=point["persistence_logodds__"] * 0 - 60)
    )
    mu, sigma, noise = gaussian_mean_and_sd(filtered, point)
    arrays = observation_arrays(data)
    obs = data.obs["gaussian"]
    local = arrays["gaussian_obs_local"]
    phi_d = 0.8**obs.gap
    v = noise[local] ** 2
    k = v / (v + arrays["gaussian_obs_previous_se"] ** 2)
    carried = obs.previous >= 0
    if carry == "filtered":
        # a value at its bound says only "at or beyond": the next one starts afresh
        carried &= arrays["gaussian_obs_previous_censored"] == 0
    resid_prev = np.concatenate([[0.0], (obs.y - predictor)[:-1]])
    expected_mu = predictor + np.where(carried, phi_d * k * resid_prev, 0.0)
    variance = np.where(carried, v * (1 - phi_d**2) + phi_d**2 * v * (1 - k), v)
    np.testing.assert_allclose(mu, expected_mu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sigma, np.sqrt(variance + obs.se**2), rtol=1e-10)
    # the observed carry differs exactly where the previous value had an error or a bound
    observed = build_alignment_model(data, spec)
    mu_obs, _, _ = gaussian_mean_and_sd(observed, point)
    noisy = (obs.previous >= 0) & (arrays["gaussian_obs_previous_se"] > 0)
    if carry == "filtered":
        noisy |= (obs.previous >= 0) & (arrays["gaussian_obs_previous_censored"] > 0)
    same = ~noisy & (obs.previous >= 0)
    np.testing.assert_allclose(mu_obs[same], mu[same], rtol=1e-10, atol=1e-12)
    assert not np.allclose(mu_obs[noisy], mu[noisy])


def test_a_family_shares_one_persistence(default_data) -> None:
    spec, data = default_data
    model = build_alignment_model(data, replace(spec, persistence_by="family"))
    families = list(model.coords["gaussian_family"])
    assert "arms_share" in families and "trade_share" in families and "unga_ideal" in families
    assert "remittances_gdp" in families
    fn = model.compile_fn(
        model.replace_rvs_by_values([model["persistence"]]),
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    point = model.initial_point()
    point["persistence_family_logodds__"] = np.linspace(-1, 1, len(families))
    (phi,) = fn(point)
    gaussian = list(model.coords["gaussian_indicator"])
    arms = [phi[gaussian.index(k)] for k in gaussian if k.startswith("arms_share")]
    assert len(arms) == 3 and len(set(np.round(arms, 12))) == 1
    assert len(set(np.round(phi, 12))) == len(families)


SE = 0.4


def filtered_posterior(last_y: float = LAST_Y, lower: float = -np.inf) -> xr.DataTree:
    """The known posterior of ``test_horizon`` with a filtered carry and a published error."""
    tree = constant_posterior()
    const = tree["constant_data"].to_dataset()
    const.attrs["carry"] = "filtered"
    const["lower"] = (INDICATOR, [lower, -np.inf])
    const["upper"] = (INDICATOR, [np.inf, np.inf])
    observed = tree["observed_data"].to_dataset()
    dim = "obs_gaussian"
    observed = observed.assign_coords({f"{dim}_se": (dim, [SE])})
    observed["y_gaussian"] = observed["y_gaussian"].copy(data=[last_y])
    return xr.DataTree.from_dict(
        {
            "posterior": tree["posterior"].to_dataset(),
            "constant_data": const,
            "observed_data": observed,
        }
    )


def standardised_share(tree: xr.DataTree) -> xr.DataArray:
    known = project(tree, "2030", random_seed=5)
    values = known[INDICATOR_VAR].sel({STATE: "KAZ", INDICATOR: SHARE, PERIOD: HORIZON})
    return (link_of(values, "share") - CENTRE) / SCALE


def test_the_projection_carries_the_filtered_deviation() -> None:
    h = np.arange(1, len(HORIZON) + 1)
    standardised = standardised_share(filtered_posterior())
    k = NOISE**2 / (NOISE**2 + SE**2)
    level = INTERCEPT[SHARE] + LOADING[SHARE] * (LAST_RUS + DRIFT * h)
    residual = LAST_Y - (INTERCEPT[SHARE] + LOADING[SHARE] * LAST_RUS)
    mean = level + PERSISTENCE**h * k * residual
    var = (
        (LOADING[SHARE] * VOLATILITY) ** 2 * h
        + NOISE**2 * (1 - PERSISTENCE ** (2 * h))
        + PERSISTENCE ** (2 * h) * NOISE**2 * (1 - k)
        + SE**2
    )
    np.testing.assert_allclose(standardised.mean((CHAIN, DRAW)), mean, atol=0.03)
    np.testing.assert_allclose(standardised.var((CHAIN, DRAW)), var, rtol=0.05)


def test_after_a_value_at_its_bound_the_projection_starts_afresh() -> None:
    h = np.arange(1, len(HORIZON) + 1)
    standardised = standardised_share(filtered_posterior(last_y=-1.0, lower=-1.0))
    level = INTERCEPT[SHARE] + LOADING[SHARE] * (LAST_RUS + DRIFT * h)
    var = (LOADING[SHARE] * VOLATILITY) ** 2 * h + NOISE**2 + SE**2
    np.testing.assert_allclose(standardised.mean((CHAIN, DRAW)), level, atol=0.03)
    np.testing.assert_allclose(standardised.var((CHAIN, DRAW)), var, rtol=0.05)
