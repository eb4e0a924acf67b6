"""What-ifs: re-propagate the posterior paths under shocks, and compare with the baseline.

A shock adds to the latent's future *increments* (:func:`forecast.model.project.project`'s
``offsets``): a level shock ``L`` at period ``start`` adds ``L`` to that period's increment,
so the path shifts by ``L`` from ``start`` on; a drift change ``d`` adds ``d`` to every
increment from ``start`` on, so the shift grows by ``d`` per period. Both act on the random
walk, so they persist. The what-if forecast is projected with the baseline's seed and horizon,
so baseline and what-if share every random number (innovations and observation noise): the
comparison is paired, and differences are due to the shock alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from forecast.dims import PARTITION, PERIOD, POLE, SCENARIO, STATE, WHATIF
from forecast.errors import ForecastError, SpecError
from forecast.model.project import future_steps, project
from forecast.model.trees import group
from forecast.periods import (
    PANDAS_FREQ,
    coarser_or_equal,
    format_period,
    frequency_of,
    parse_period,
)
from forecast.scenarios.events import mean_summary
from forecast.scenarios.probabilities import ScenarioResult, scenario_probabilities
from forecast.scenarios.spec import ScenarioSpec
from forecast.scenarios.whatif_spec import WhatIf, WhatIfSpec, check_claims

#: a claimed direction counts as shown when the paired difference exceeds this many MCSEs
CLAIM_MCSE = 2.0


def whatif_offsets(
    whatif: WhatIf,
    *,
    states: list[str],
    poles: list[str],
    future: list[str],
    step: str,
) -> xr.DataArray:
    """Build the additions to the latent's future increments, dims ``(state, pole, period)``.

    Parameters
    ----------
    whatif
        The what-if.
    states, poles
        The posterior's states and poles.
    future
        The forecast's future periods (model steps after the last fitted one).
    step
        The model step (``Y`` or ``Q``).

    Raises
    ------
    SpecError
        Naming the what-if file and shock: an unknown state, or a start period that is not
        in the forecast's future (in the past, beyond the horizon, or finer than the step).

    Examples
    --------
    >>> from forecast.scenarios.whatif_spec import Shock, WhatIf
    >>> shock = Shock("2022", ("RUS",), ("KAZ",), level=-0.5, drift=0.1)
    >>> w = WhatIf("w", "t", "n", (shock,), None, (), (), "whatif.toml")
    >>> off = whatif_offsets(w, states=["KAZ", "UZB"], poles=["RUS", "CHN"],
    ...                      future=["2021", "2022", "2023"], step="Y")
    >>> off.sel(state="KAZ", pole="RUS").values.tolist()
    [0.0, -0.4, 0.1]
    """
    offsets = np.zeros((len(states), len(poles), len(future)))
    for i, shock in enumerate(whatif.shocks):
        where = f"{whatif.key}.shock[{i}]"
        chosen = shock.states if shock.states is not None else tuple(states)
        for state in chosen:
            if state not in states:
                raise SpecError(
                    whatif.path,
                    f"unknown state {state!r} (the forecast has {', '.join(states)})",
                    key=f"{where}.states",
                )
        first = _start_index(whatif, where, shock.start, future, step)
        rows = [states.index(s) for s in chosen]
        cols = [poles.index(p) for p in shock.poles]
        block = np.ix_(rows, cols)
        offsets[(*block, slice(first, first + 1))] += shock.level
        offsets[(*block, slice(first, None))] += shock.drift
    return xr.DataArray(
        offsets,
        dims=(STATE, POLE, PERIOD),
        coords={STATE: states, POLE: poles, PERIOD: future},
    )


def _start_index(whatif: WhatIf, where: str, start: str, future: list[str], step: str) -> int:
    key = f"{where}.start"
    period = parse_period(start)
    if not coarser_or_equal(frequency_of(period), step):
        raise SpecError(
            whatif.path,
            f"start {start} is finer than the model's step ({step})",
            key=key,
        )
    first = format_period(period.asfreq(PANDAS_FREQ[step], how="start"))
    if not future:
        raise SpecError(whatif.path, "the forecast has no future periods", key=key)
    if parse_period(first) < parse_period(future[0]):
        raise SpecError(
            whatif.path,
            f"start {start} is not after the last fitted period: a what-if changes the future "
            f"only (first forecast period {future[0]})",
            key=key,
        )
    if first not in future:
        raise SpecError(
            whatif.path, f"start {start} is beyond the forecast's horizon {future[-1]}", key=key
        )
    return future.index(first)


def apply_whatif(
    posterior: xr.DataTree, whatif: WhatIf, *, until: str, random_seed: int
) -> xr.Dataset:
    """Forecast a run's posterior under a what-if.

    Parameters
    ----------
    posterior
        The run's posterior DataTree.
    whatif
        The what-if.
    until, random_seed
        Horizon and seed: pass the baseline forecast's (``attrs["until"]``,
        ``attrs["random_seed"]``) so that the comparison is paired.

    Returns
    -------
    xarray.Dataset
        A forecast like :func:`forecast.model.project.project`'s, with ``attrs["whatif"]``.
    """
    post = group(posterior, "posterior")
    step = str(group(posterior, "constant_data").attrs["step"])
    offsets = whatif_offsets(
        whatif,
        states=[str(s) for s in post[STATE].values],
        poles=[str(p) for p in post[POLE].values],
        future=future_steps(posterior, until),
        step=step,
    )
    forecast = project(posterior, until, random_seed=random_seed, offsets=offsets)
    forecast.attrs["whatif"] = whatif.id
    return forecast


@dataclass(frozen=True)
class WhatIfResult:
    """Scenario probabilities under each what-if beside the baseline.

    Attributes
    ----------
    baseline
        The baseline's :class:`~forecast.scenarios.probabilities.ScenarioResult`.
    probabilities
        Dims ``(whatif, scenario)``: ``probability``, ``mcse``, ``difference`` (what-if minus
        baseline, paired draw by draw) and ``difference_mcse``; ``entropy`` ``(whatif,
        partition)``; ``trend_probability`` ``(whatif)``.
    claims
        One row per claimed direction: ``whatif scenario claim difference difference_mcse
        shown`` (``shown``: the difference has the claimed sign and exceeds
        :data:`CLAIM_MCSE` Monte Carlo errors).
    coherence
        With weights: dim ``scenario``, ``mixture`` (the weighted sum of the probabilities
        under each what-if and the baseline), ``baseline`` and ``gap``; else ``None``.
    notes
        The rules whose denominator was zero in some draws under a what-if (those of the
        baseline are in ``baseline.notes``), each prefixed with the what-if's id.
    """

    run_id: str
    baseline: ScenarioResult
    probabilities: xr.Dataset
    claims: pd.DataFrame
    coherence: xr.Dataset | None
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """Return one row per what-if and scenario or question (for the what-if plot).

        Columns: ``whatif whatif_title target kind title baseline probability mcse
        difference difference_mcse``.
        """
        base = self.baseline.probabilities
        frame = (
            self.probabilities[["probability", "mcse", "difference", "difference_mcse"]]
            .to_dataframe()
            .reset_index()
            .rename(columns={SCENARIO: "target"})
        )
        frame["whatif_title"] = frame[WHATIF].map(
            dict(
                zip(
                    self.probabilities[WHATIF].values,
                    self.probabilities["whatif_title"].values,
                    strict=True,
                )
            )
        )
        lookup = base.to_dataframe()
        frame["kind"] = frame["target"].map(lookup["kind"])
        frame["title"] = frame["target"].map(lookup["title"])
        frame["baseline"] = frame["target"].map(lookup["probability"])
        columns = [
            WHATIF,
            "whatif_title",
            "target",
            "kind",
            "title",
            "baseline",
            "probability",
            "mcse",
            "difference",
            "difference_mcse",
        ]
        return frame.loc[:, columns]

    def to_json(self) -> dict[str, Any]:
        """Return the ``forecast whatif --json`` document."""
        base = self.baseline.probabilities
        whatifs = []
        for wid in self.probabilities[WHATIF].values:
            mine = self.probabilities.sel({WHATIF: wid})
            whatifs.append(
                {
                    "id": str(wid),
                    "title": str(mine["whatif_title"].values),
                    "trend_probability": float(mine["trend_probability"]),
                    "entropy": {
                        str(p): float(mine["entropy"].sel({PARTITION: p}))
                        for p in mine[PARTITION].values
                    },
                    "scenarios": [
                        {
                            "id": str(sid),
                            "title": str(base["title"].sel({SCENARIO: sid}).values),
                            "kind": str(base["kind"].sel({SCENARIO: sid}).values),
                            "baseline": float(base["probability"].sel({SCENARIO: sid})),
                            "probability": float(mine["probability"].sel({SCENARIO: sid})),
                            "mcse": float(mine["mcse"].sel({SCENARIO: sid})),
                            "difference": float(mine["difference"].sel({SCENARIO: sid})),
                            "difference_mcse": float(mine["difference_mcse"].sel({SCENARIO: sid})),
                        }
                        for sid in base[SCENARIO].values
                    ],
                    "claims": self.claims[self.claims[WHATIF] == wid]
                    .drop(columns=[WHATIF])
                    .to_dict(orient="records"),
                }
            )
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "baseline": self.baseline.to_json(),
            "whatifs": whatifs,
        }
        if self.coherence is not None:
            gap = self.coherence["gap"]
            worst = str(gap[SCENARIO].values[int(np.abs(gap.values).argmax())])
            out["coherence"] = {
                "max_abs_gap": float(np.abs(gap).max()),
                "worst": worst,
                "scenarios": [
                    {
                        "id": str(sid),
                        "mixture": float(self.coherence["mixture"].sel({SCENARIO: sid})),
                        "baseline": float(self.coherence["baseline"].sel({SCENARIO: sid})),
                        "gap": float(gap.sel({SCENARIO: sid})),
                    }
                    for sid in self.coherence[SCENARIO].values
                ],
            }
        return out


def whatif_probabilities(
    posterior: xr.DataTree,
    baseline: xr.Dataset,
    scenarios: ScenarioSpec,
    whatifs: WhatIfSpec,
) -> WhatIfResult:
    """Compute every scenario's and question's probability under each what-if.

    Parameters
    ----------
    posterior
        The run's posterior DataTree.
    baseline
        The run's baseline forecast, the model's own (``attrs["forecast"]`` ``model``, as
        :func:`~forecast.model.project.project` writes it): its ``until`` and
        ``random_seed`` attributes fix the what-ifs' horizon and seed, so every comparison
        is paired. A stacked forecast is refused: its baseline draws could not be paired.
    scenarios, whatifs
        The loaded specs.
    """
    kind = str(baseline.attrs.get("forecast", "model"))
    if kind != "model":
        raise ForecastError(
            f"what-ifs compare with the model's own forecast, not a {kind} one "
            "(forecast_run(..., forecast='model'))"
        )
    check_claims(whatifs, scenarios)
    base = scenario_probabilities(baseline, scenarios)
    until = str(baseline.attrs["until"])
    seed = int(baseline.attrs["random_seed"])
    rows = []
    notes: list[str] = []
    for whatif in whatifs.whatifs:
        forecast = apply_whatif(posterior, whatif, until=until, random_seed=seed)
        forecast.attrs["run_id"] = base.run_id
        result = scenario_probabilities(forecast, scenarios)
        notes += [f"what-if {whatif.id}: {note}" for note in result.notes]
        paired = mean_summary(result.events.astype(float) - base.events.astype(float))
        variables = {
            "probability": result.probabilities["probability"],
            "mcse": result.probabilities["mcse"],
            "difference": paired["mean"],
            "difference_mcse": paired["mcse"],
            "entropy": result.partitions["entropy"],
        }
        rows.append(
            xr.Dataset({k: v.reset_coords(drop=True) for k, v in variables.items()}).assign(
                trend_probability=result.headline.trend_probability,
                whatif_title=whatif.title,
            )
        )
        del forecast
    ids = [w.id for w in whatifs.whatifs]
    table = xr.concat(rows, dim=WHATIF).assign_coords({WHATIF: ids})
    return WhatIfResult(
        run_id=base.run_id,
        baseline=base,
        probabilities=table,
        claims=_claims(whatifs, table),
        coherence=_coherence(whatifs, base, table),
        notes=tuple(notes),
    )


def _claims(whatifs: WhatIfSpec, table: xr.Dataset) -> pd.DataFrame:
    records = []
    for whatif in whatifs.whatifs:
        for claim, ids in (("raises", whatif.raises), ("lowers", whatif.lowers)):
            for sid in ids:
                cell = table.sel({WHATIF: whatif.id, SCENARIO: sid})
                diff = float(cell["difference"])
                err = float(cell["difference_mcse"])
                sign = 1.0 if claim == "raises" else -1.0
                records.append(
                    {
                        WHATIF: whatif.id,
                        SCENARIO: sid,
                        "claim": claim,
                        "difference": diff,
                        "difference_mcse": err,
                        "shown": bool(sign * diff > CLAIM_MCSE * err and sign * diff > 0),
                    }
                )
    columns = [WHATIF, SCENARIO, "claim", "difference", "difference_mcse", "shown"]
    return pd.DataFrame.from_records(records, columns=columns)


def _coherence(whatifs: WhatIfSpec, base: ScenarioResult, table: xr.Dataset) -> xr.Dataset | None:
    if not whatifs.weighted:
        return None
    weights = xr.DataArray(
        [w.weight or 0.0 for w in whatifs.whatifs],
        dims=WHATIF,
        coords={WHATIF: [w.id for w in whatifs.whatifs]},
    )
    baseline = base.probabilities["probability"]
    mixture = (weights * table["probability"]).sum(WHATIF) + (
        whatifs.baseline_weight or 0.0
    ) * baseline
    return xr.Dataset({"mixture": mixture, "baseline": baseline, "gap": mixture - baseline})
