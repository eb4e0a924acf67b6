"""Recording issued forecasts in the ledger.

Each indicator forecast cell (state, indicator, future period) is stored with its mean, sd,
median and central interval bounds, plus a compact summary from which CRPS is computed when
the outcome arrives: the forecast's quantiles at the K = 100 levels ``(k - 0.5) / K``, an
equally weighted 100-member ensemble that represents the predictive distribution. On the
bundled model's forecasts the CRPS of that ensemble is within 1 % of the CRPS of all 4000
draws (median 0.03 %; see ``tests/evaluation/test_ledger_summary.py``), at 100 numbers per
cell rather than thousands.

Recording is idempotent: an issue is identified by its run id, recording the same run for the
same quarter again writes nothing, and recording it for another quarter is refused (a run is
issued once; a new issue needs a new run).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from forecast.dims import HORIZON, INDICATOR, INDICATOR_VAR, PERIOD, SAMPLE_DIMS, STATE
from forecast.errors import ForecastError
from forecast.evaluation.ledger.schema import transaction
from forecast.evaluation.scores import INTERVAL_LEVELS, interval_bounds, level_label
from forecast.periods import parse_period, period_frequency

if TYPE_CHECKING:
    from forecast.model.manifest import RunManifest

#: number of quantiles stored per indicator forecast
ENSEMBLE_SIZE: Final = 100


@dataclass(frozen=True)
class QuestionIssue:
    """Scenario and question probabilities of one issue, with the file they came from.

    Built by :func:`forecast.evaluation.ledger.questions.question_issue`.
    """

    table: pd.DataFrame
    spec_sha256: str
    spec_path: str
    spec_text: str


#: columns of a question table (:class:`QuestionIssue`)
QUESTION_COLUMNS = (
    "kind",
    "name",
    "partition",
    "period",
    "resolves_on",
    "title",
    "rule",
    "probability",
    "mcse",
)

#: interval bound columns of ``indicator_forecast``
BOUND_COLUMNS: Final = tuple(
    f"{side}_{level_label(level)}" for level in INTERVAL_LEVELS for side in ("lower", "upper")
)


def ensemble_levels(size: int = ENSEMBLE_SIZE) -> np.ndarray:
    """Quantile levels of the stored ensemble: ``(k - 0.5) / size``.

    Examples
    --------
    >>> ensemble_levels(4).tolist()
    [0.125, 0.375, 0.625, 0.875]
    """
    return (np.arange(size) + 0.5) / size


def now() -> str:
    """UTC time stamp of a ledger write."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class IssueMeta:
    """What identifies an issued forecast and where it came from."""

    run_id: str
    quarter: str
    data_sha256: str
    spec_sha256: str
    method: str
    approximate: int
    converged: int
    random_seed: int
    last_fitted: str
    until: str
    draws: int


def check_quarter(quarter: str) -> str:
    """Validate an issue quarter such as ``2026Q4``.

    Examples
    --------
    >>> check_quarter("2026Q4")
    '2026Q4'
    """
    if period_frequency(quarter) != "Q":
        raise ForecastError(f"--quarter {quarter!r}: expected a quarter such as 2026Q4")
    return quarter


def issue_meta(forecast: xr.Dataset, manifest: RunManifest, quarter: str) -> IssueMeta:
    """Build the issue record of a run's forecast."""
    draws = int(np.prod([forecast.sizes[d] for d in SAMPLE_DIMS]))
    try:
        return IssueMeta(
            run_id=manifest.run_id,
            quarter=check_quarter(quarter),
            data_sha256=manifest.data.sha256,
            spec_sha256=manifest.spec.sha256,
            method=manifest.method,
            approximate=int(manifest.approximate),
            converged=int(manifest.converged),
            random_seed=int(forecast.attrs["random_seed"]),
            last_fitted=str(forecast.attrs["last_fitted"]),
            until=str(forecast.attrs["until"]),
            draws=draws,
        )
    except KeyError as err:
        raise ForecastError(
            f"run {manifest.run_id}: the forecast lacks attribute {err.args[0]!r}"
        ) from None


def _horizon(period: str, last_fitted: str) -> int:
    """Periods of ``period``'s own frequency from the last fitted period to it."""
    target = parse_period(period)
    last = parse_period(last_fitted).asfreq(target.freqstr, how="end")
    return int((target - last).n)


def indicator_cells(forecast: xr.Dataset, *, size: int = ENSEMBLE_SIZE) -> pd.DataFrame:
    """Summaries of every indicator forecast cell after the last fitted period.

    Returns
    -------
    pandas.DataFrame
        ``state, indicator, period, horizon, mean, sd, median``, the interval bounds
        (``lower_50`` ... ``upper_95``) and ``ensemble`` (a list of ``size`` quantiles).
    """
    da = forecast[INDICATOR_VAR]
    last = str(forecast.attrs["last_fitted"])
    future = [p for p in (str(v) for v in da[PERIOD].values) if _horizon(p, last) > 0]
    da = da.sel({PERIOD: future}).stack(_sample=SAMPLE_DIMS)
    da = da.transpose(STATE, INDICATOR, PERIOD, "_sample")
    values = np.asarray(da.values, dtype=float)
    ok = np.isfinite(values).all(axis=-1)
    index = np.argwhere(ok)
    draws = values[ok]
    rows: dict[str, Any] = {
        STATE: [str(da[STATE].values[i]) for i in index[:, 0]],
        INDICATOR: [str(da[INDICATOR].values[i]) for i in index[:, 1]],
        PERIOD: [future[i] for i in index[:, 2]],
    }
    rows[HORIZON] = [_horizon(p, last) for p in rows[PERIOD]]
    rows["mean"] = draws.mean(axis=-1)
    rows["sd"] = draws.std(axis=-1, ddof=1) if draws.shape[-1] > 1 else np.zeros(len(draws))
    rows["median"] = np.median(draws, axis=-1)
    for level in INTERVAL_LEVELS:
        lower, upper = interval_bounds(draws, level)
        rows[f"lower_{level_label(level)}"] = lower
        rows[f"upper_{level_label(level)}"] = upper
    ensemble = np.quantile(draws, ensemble_levels(size), axis=-1).T
    rows["ensemble"] = list(ensemble)
    return pd.DataFrame(rows)


def encode_ensemble(values: np.ndarray) -> str:
    """JSON text of an ensemble, 9 significant digits (well below any score's resolution).

    Examples
    --------
    >>> encode_ensemble(np.array([0.1, 1 / 3]))
    '[0.1,0.333333333]'
    """
    return json.dumps([float(f"{v:.9g}") for v in values], separators=(",", ":"))


def decode_ensemble(text: str) -> np.ndarray:
    """Inverse of :func:`encode_ensemble`."""
    return np.asarray(json.loads(text), dtype=float)


@dataclass(frozen=True)
class Recorded:
    """What ``ledger record`` did: the issue id, its cell count, whether it was new.

    ``root`` is the issue's root hash (:func:`forecast.evaluation.ledger.chain.issue_root`)
    when the caller computed it.
    """

    issue_id: int
    indicator_forecasts: int
    questions: int
    new: bool
    root: str = ""


def _existing(conn: sqlite3.Connection, meta: IssueMeta) -> Recorded | None:
    row = conn.execute(
        "SELECT issue_id, quarter FROM issue WHERE run_id = ?", (meta.run_id,)
    ).fetchone()
    if row is None:
        return None
    issue_id, quarter = row
    if quarter != meta.quarter:
        raise ForecastError(
            f"run {meta.run_id} was already issued for {quarter}; a run is issued once "
            "(fit a new run to issue a new forecast)"
        )
    n_cells = conn.execute(
        "SELECT count(*) FROM indicator_forecast WHERE issue_id = ?", (issue_id,)
    ).fetchone()[0]
    n_questions = conn.execute(
        "SELECT count(*) FROM question_forecast WHERE issue_id = ?", (issue_id,)
    ).fetchone()[0]
    return Recorded(issue_id, n_cells, n_questions, new=False)


def record_issue(
    conn: sqlite3.Connection,
    path: str | Path,
    meta: IssueMeta,
    cells: pd.DataFrame,
    questions: QuestionIssue | None = None,
) -> Recorded:
    """Store an issued forecast in one transaction (idempotent for the same run and quarter).

    Parameters
    ----------
    conn, path
        An open ledger (:func:`forecast.evaluation.ledger.schema.open_ledger`) and its path.
    meta
        The issue record.
    cells
        From :func:`indicator_cells`.
    questions
        Optional scenario and question probabilities with their scenario file
        (:func:`forecast.evaluation.ledger.questions.question_issue`).
    """
    with transaction(conn, path):
        existing = _existing(conn, meta)
        if existing is not None:
            return existing
        fields = asdict(meta) | {"issued_at": now()}
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        cur = conn.execute(f"INSERT INTO issue ({names}) VALUES ({marks})", tuple(fields.values()))
        issue_id = int(cur.lastrowid or 0)
        columns = [STATE, INDICATOR, PERIOD, HORIZON, "mean", "sd", "median", *BOUND_COLUMNS]
        conn.executemany(
            f"INSERT INTO indicator_forecast (issue_id, {', '.join(columns)}, ensemble) "
            f"VALUES (?, {', '.join('?' for _ in columns)}, ?)",
            (
                (issue_id, *_plain(row[c] for c in columns), encode_ensemble(row["ensemble"]))
                for row in cells.to_dict("records")
            ),
        )
        n_questions = 0
        if questions is not None and len(questions.table):
            # a spec already stored is kept as first stored: the ledger refuses any insert
            # whose key exists (even OR IGNORE), so look first
            stored = conn.execute(
                "SELECT 1 FROM scenario_spec WHERE sha256 = ?", (questions.spec_sha256,)
            ).fetchone()
            if stored is None:
                conn.execute(
                    "INSERT INTO scenario_spec (sha256, path, text) VALUES (?, ?, ?)",
                    (questions.spec_sha256, questions.spec_path, questions.spec_text),
                )
            qcols = list(QUESTION_COLUMNS)
            conn.executemany(
                f"INSERT INTO question_forecast (issue_id, spec_sha256, {', '.join(qcols)}) "
                f"VALUES (?, ?, {', '.join('?' for _ in qcols)})",
                (
                    (issue_id, questions.spec_sha256, *_plain(row[c] for c in qcols))
                    for row in questions.table.to_dict("records")
                ),
            )
            n_questions = len(questions.table)
    return Recorded(issue_id, len(cells), n_questions, new=True)


def _plain(values: Any) -> tuple[Any, ...]:
    """Python scalars for sqlite3 (NumPy integers are not accepted as parameters)."""
    return tuple(v.item() if isinstance(v, np.generic) else v for v in values)
