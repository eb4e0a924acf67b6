"""The stacked forecast users get: the model's indicator draws mixed with the baselines'.

The weights come from the pseudo-real-time backtest (:mod:`forecast.evaluation.stacking`),
stored in ``models/stacking.toml`` with their provenance. A future cell of a series (a period
after its last observation) takes the weights of its indicator family at its horizon, counted
as a backtest counts it: a backtest origin's data end in the year before it, so a period
``P`` of a run whose data end in ``L`` stands at horizon ``P - L - 1`` (a nowcast of the year
after the data is horizon 0). Horizons beyond the table take its longest.

The latent alignment stays the model's (the baselines have none), so scenarios stated on the
latent, and every what-if, see the model; scenarios stated on indicators see the stacked
draws. Within a cell the components contribute their shares of the draws, interleaved
along them (:func:`mix_draws`); draw ``i`` of two cells with the same weights comes from the
same component, and a draw from the model is the model's draw ``i``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from forecast.atomic import write_text_atomic
from forecast.baselines import baseline_forecast
from forecast.data.codebook import Codebook
from forecast.dims import CHAIN, DRAW, HORIZON, INDICATOR, INDICATOR_VAR, PERIOD, STATE
from forecast.errors import SpecError
from forecast.periods import parse_period
from forecast.tomlfile import read_toml

DEFAULT_STACKING = Path(__file__).resolve().parents[2] / "models" / "stacking.toml"
#: the components, in the order of every weight vector
COMPONENTS = ("model", "persistence", "local_level")
#: name of the stacked forecast wherever models are listed
STACKED = "stacked"
#: the pole suffixes an indicator family leaves out
_POLE_SUFFIXES = ("_rus", "_chn", "_eu", "_usa", "_west")
#: the forecast variants a user can ask for
FORECASTS = ("stacked", "model")


@dataclass(frozen=True)
class StackingWeights:
    """Stacking weights, where they come from, and the backtest's evidence for them.

    ``evidence`` is the backtest's summary for readers
    (:func:`forecast.evaluation.skill.backtest_evidence`): skill and interval coverage of
    the model and the stacked forecast by horizon; ``pit`` their PIT histograms
    (:func:`forecast.evaluation.skill.pit_counts`). Both are empty when the file has none.
    """

    table: pd.DataFrame
    provenance: dict[str, object]
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    pit: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def spec_sha256(self) -> str:
        """Hash of the model spec the backtest fitted (sampler settings included)."""
        return str(self.provenance.get("spec_sha256", ""))

    @property
    def model_sha256(self) -> str:
        """Hash of that spec without its sampler settings (see ``spec.model_sha256``)."""
        return str(self.provenance.get("model_sha256", ""))

    def fits(self, spec_content: Mapping[str, object], spec_sha256: str) -> bool:
        """Whether these weights were learned for a run of this spec (any sampler settings)."""
        from forecast.model.spec import model_sha256

        if self.model_sha256:
            return self.model_sha256 == model_sha256(spec_content)
        return self.spec_sha256 == spec_sha256


def write_weights(
    path: str | Path,
    table: pd.DataFrame,
    provenance: dict[str, object],
    evidence: pd.DataFrame | None = None,
    pit: pd.DataFrame | None = None,
) -> None:
    """Write weights, provenance and the backtest's evidence as TOML, atomically."""
    lines = [
        "# Stacking weights of the model with the persistence and local-level baselines, per",
        "# indicator family and horizon, learned by `forecast backtest --write-weights` from",
        "# every cell of the pseudo-real-time backtest (forecast/model/stacked.py).",
        "",
        "[provenance]",
    ]
    for key, value in provenance.items():
        text = f'"{value}"' if isinstance(value, str) else str(value).lower()
        lines.append(f"{key} = {text}")
    for row in table.to_dict("records"):
        lines += ["", "[[weight]]"]
        lines.append(f'family = "{row["family"]}"')
        lines.append(f"{HORIZON} = {int(row[HORIZON])}")
        lines += [f"{c} = {float(row[c]):.4f}" for c in COMPONENTS]
        lines.append(f"cells = {int(row['cells'])}")
        lines.append(f'basis = "{row["basis"]}"')
    for row in [] if evidence is None else evidence.to_dict("records"):
        lines += ["", "[[evidence]]"]
        for name, value in row.items():
            key = str(name)
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif key in (HORIZON, "cells"):
                lines.append(f"{key} = {int(value)}")
            elif np.isfinite(value):
                lines.append(f"{key} = {float(value):.4f}")
    for row in [] if pit is None else pit.to_dict("records"):
        lines += ["", "[[pit]]", f'model = "{row["model"]}"']
        lines += [f"bin = {int(row['bin'])}", f"count = {int(row['count'])}"]
    write_text_atomic(Path(path), "\n".join(lines) + "\n")


def read_weights(path: str | Path = DEFAULT_STACKING) -> StackingWeights:
    """Read a weights file; errors name the file and key."""
    path = Path(path)
    raw = read_toml(path)
    rows = raw.get("weight", [])
    if not isinstance(rows, list) or not rows:
        raise SpecError(path, "expected [[weight]] tables", key="weight")
    table = pd.DataFrame(rows)
    missing = [c for c in ("family", HORIZON, *COMPONENTS) if c not in table.columns]
    if missing:
        raise SpecError(path, f"missing {missing[0]}", key="weight")
    weights = table[list(COMPONENTS)].to_numpy(dtype=float)
    if (weights < 0).any() or not np.allclose(weights.sum(axis=1), 1.0, atol=1e-3):
        raise SpecError(path, "weights must be non-negative and add up to 1", key="weight")
    provenance = raw.get("provenance", {})
    extra = {}
    for key in ("evidence", "pit"):
        rows = raw.get(key, [])
        if not isinstance(rows, list):
            raise SpecError(path, f"expected [[{key}]] tables", key=key)
        extra[key] = pd.DataFrame(rows)
    return StackingWeights(table, dict(provenance) if isinstance(provenance, dict) else {}, **extra)


def horizon_of(period: str, last_data: str) -> int:
    """Return a period's horizon as the backtest counts it (``P - L - 1``, at least 0).

    Examples
    --------
    >>> horizon_of("2025", "2024"), horizon_of("2027", "2024"), horizon_of("2024", "2024")
    (0, 2, 0)
    """
    return max(int(parse_period(period).year) - int(parse_period(last_data).year) - 1, 0)


def stack_forecast(
    forecast: xr.Dataset,
    panel: pd.DataFrame,
    codebook: Codebook,
    weights: StackingWeights,
    *,
    random_seed: int,
) -> xr.Dataset:
    """Mix a model forecast's future indicator cells with the baselines' draws.

    Parameters
    ----------
    forecast
        From :func:`forecast.model.project.project` (``attrs["last_fitted"]`` is the last
        period with data).
    panel
        The panel the model was fitted to (the baselines forecast from it).
    codebook
        The codebook.
    weights
        From :func:`read_weights`.
    random_seed
        Seed of the baselines' draws.

    Returns
    -------
    xarray.Dataset
        ``forecast`` with the stacked indicator draws; ``attrs["forecast"] = "stacked"`` and
        ``attrs["stacking"]`` naming the weights' provenance.
    """
    draws = forecast[INDICATOR_VAR]
    n_chain, n_draw = draws.sizes[CHAIN], draws.sizes[DRAW]
    n = n_chain * n_draw
    states = [str(s) for s in draws[STATE].values]
    indicators = [str(k) for k in draws[INDICATOR].values]
    until = str(forecast.attrs.get("until", draws[PERIOD].values[-1]))
    last = str(forecast.attrs["last_fitted"])
    baselines = {
        method: baseline_forecast(
            panel,
            codebook,
            method=method,
            until=until,
            indicators=[k for k in indicators if codebook[k].kind != "binary"],
            states=states,
            draws=n,
            random_seed=random_seed + j,
        )[INDICATOR_VAR]
        for j, method in enumerate(COMPONENTS[1:])
    }
    out = draws.transpose(CHAIN, DRAW, STATE, INDICATOR, PERIOD).values.copy()
    periods = [str(p) for p in draws[PERIOD].values]
    for s_pos, state in enumerate(states):
        for i_pos, key in enumerate(indicators):
            for p_pos, period in enumerate(periods):
                parts = [out[:, :, s_pos, i_pos, p_pos].reshape(n)]
                for base in baselines.values():
                    cell = _cell(base, state, key, period)
                    if cell is None:
                        break
                    parts.append(cell)
                if len(parts) < len(COMPONENTS) or not np.isfinite(parts[0]).all():
                    continue
                w = weights_for(weights.table, key, horizon_of(period, last))
                mixed = mix_draws([p[None, :] for p in parts], w)[0]
                out[:, :, s_pos, i_pos, p_pos] = mixed.reshape(n_chain, n_draw)
    stacked = forecast.copy()
    stacked[INDICATOR_VAR] = (draws.transpose(CHAIN, DRAW, STATE, INDICATOR, PERIOD).dims, out)
    stacked.attrs.update(
        {
            "forecast": "stacked",
            "stacking": ", ".join(f"{k}={v}" for k, v in weights.provenance.items()),
        }
    )
    return stacked


def _cell(base: xr.DataArray, state: str, key: str, period: str) -> np.ndarray | None:
    """Return a baseline's draws of one cell, or None where it has none."""
    try:
        cell = base.sel({STATE: state, INDICATOR: key, PERIOD: period}).values.reshape(-1)
    except KeyError:
        return None
    return cell if np.isfinite(cell).all() else None


def provenance_now(**fields: object) -> dict[str, object]:
    """Provenance fields plus the date written."""
    return {"created": dt.date.today().isoformat(), **fields}


def indicator_family(indicator: str) -> str:
    """Return the family an indicator shares weights with: its key without the pole suffix.

    Examples
    --------
    >>> indicator_family("trade_share_chn"), indicator_family("remittances_gdp")
    ('trade_share', 'remittances_gdp')
    """
    for suffix in _POLE_SUFFIXES:
        if indicator.endswith(suffix):
            return indicator.removesuffix(suffix)
    return indicator


def weights_for(table: pd.DataFrame, indicator: str, horizon: int) -> NDArray[np.float64]:
    """Look up the weights of one indicator at one horizon (nearest horizon in the table).

    An indicator whose family the table lacks gets equal weights.
    """
    family = indicator_family(indicator)
    mine = table[table["family"] == family]
    if mine.empty:
        return np.full(len(COMPONENTS), 1 / len(COMPONENTS))
    nearest = mine.iloc[int(np.argmin(np.abs(mine[HORIZON].to_numpy() - horizon)))]
    return nearest[list(COMPONENTS)].to_numpy(dtype=float)


def _van_der_corput(n: int) -> NDArray[np.float64]:
    """Return the first ``n`` points of the base-2 van der Corput sequence (bits reversed).

    Any run of consecutive points spreads evenly over [0, 1).

    Examples
    --------
    >>> _van_der_corput(4).tolist()
    [0.0, 0.5, 0.25, 0.75]
    """
    i = np.arange(n)
    out = np.zeros(n)
    scale = 1.0
    while (i > 0).any():
        scale /= 2
        out += (i % 2) * scale
        i //= 2
    return out


def mixture_components(weights: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    """Which component each of ``n`` draws comes from: ``round(w_j n)`` of each, interleaved.

    The counts are rounded so that they add up to ``n`` (the largest remainders take what
    rounding leaves over). Each component's draws are spread evenly along the draws (in
    van der Corput order), so every chain of a ``(chain, draw)`` layout holds its share of
    each: in blocks (the model's draws first, then the baselines'), the chains would differ
    in distribution and a Monte Carlo standard error estimated from the chains' effective
    sample size would be many times too large.

    Examples
    --------
    >>> mixture_components(np.array([0.5, 0.25, 0.25]), 8).tolist()
    [0, 1, 0, 2, 0, 1, 0, 2]
    """
    w = np.asarray(weights, dtype=float)
    counts = np.floor(w * n).astype(int)
    remainder = w * n - counts
    for j in np.argsort(-remainder, kind="stable")[: n - counts.sum()]:
        counts[j] += 1
    out = np.empty(n, dtype=np.int64)
    out[np.argsort(_van_der_corput(n), kind="stable")] = np.repeat(np.arange(w.size), counts)
    return out


def mix_draws(
    draws: Sequence[NDArray[np.float64]], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Draw a mixture along the last axis: component ``j`` gives ``round(w_j n)`` of the draws.

    Draw ``i`` of the mixture is draw ``i`` of the component :func:`mixture_components`
    assigns to it, so a draw from the model keeps its index, and its pairing with the
    model's other quantities (the latent alignment) of that draw. Every component must have
    the same number of draws.

    Examples
    --------
    >>> a, b = np.zeros((1, 4)), np.ones((1, 4))
    >>> mix_draws([a, b, b], np.array([0.75, 0.25, 0.0])).tolist()
    [[0.0, 0.0, 0.0, 1.0]]
    """
    n = draws[0].shape[-1]
    if any(d.shape[-1] != n for d in draws):
        raise ValueError(f"components have {[d.shape[-1] for d in draws]} draws: need {n} each")
    which = mixture_components(weights, n)
    out = np.array(draws[0], dtype=float, copy=True)
    for j, d in enumerate(draws[1:], start=1):
        out[..., which == j] = d[..., which == j]
    return out


def mix_cells(
    draws: Sequence[NDArray[np.float64]], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mix ``(cells, n)`` component draws with each cell's own weights, ``(cells, components)``.

    Cells with the same weights are mixed together by :func:`mix_draws`, so a cell's mixture
    is the one :func:`mix_draws` gives it alone.

    Examples
    --------
    >>> a, b = np.zeros((2, 4)), np.ones((2, 4))
    >>> mix_cells([a, b, b], np.array([[0.75, 0.25, 0.0], [0.0, 1.0, 0.0]])).tolist()
    [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    out = np.empty(np.shape(draws[0]))
    keys = [tuple(w) for w in np.asarray(weights, dtype=float)]
    for key in dict.fromkeys(keys):
        rows = np.array([i for i, k in enumerate(keys) if k == key])
        out[rows] = mix_draws([d[rows] for d in draws], np.array(key))
    return out
