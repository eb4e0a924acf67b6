"""Convergence diagnostics and the gates a run must pass to be called converged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

#: gates of a "converged" NUTS run (DESIGN.md section 3)
MAX_RHAT = 1.01
MIN_ESS_BULK = 400
MAX_DIVERGENCES = 0

#: variables checked by the gates: every sampled parameter and the quantities reported
GATED = (
    "alignment",
    "drift",
    "volatility",
    "drift_mu",
    "drift_tau",
    "volatility_log_mu",
    "volatility_log_tau",
    "innovation_corr",
    "intercept",
    "intercept_tau",
    "loading",
    "noise",
    "persistence",
    "concentration",
)


@dataclass(frozen=True)
class Diagnostics:
    """Convergence summary of a run.

    Attributes
    ----------
    max_rhat, min_ess_bulk, min_ess_tail
        Worst values over every gated scalar (constants such as the reference loadings,
        fixed at 1, are skipped).
    divergences
        Divergent transitions after tuning.
    converged
        Whether every gate passed; always ``False`` for an approximate method.
    failures
        One sentence per failed gate.
    """

    method: str
    approximate: bool
    chains: int
    draws: int
    max_rhat: float
    worst_rhat: str
    min_ess_bulk: float
    worst_ess_bulk: str
    min_ess_tail: float
    divergences: int
    converged: bool
    failures: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form for the manifest."""
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable report, one fact per line."""
        out = [
            f"method: {self.method}{' (APPROXIMATE)' if self.approximate else ''}, "
            f"{self.chains} chains x {self.draws} draws",
            f"max R-hat: {self.max_rhat:.4f} ({self.worst_rhat})",
            f"min bulk ESS: {self.min_ess_bulk:.0f} ({self.worst_ess_bulk}); "
            f"min tail ESS: {self.min_ess_tail:.0f}",
            f"divergences: {self.divergences}",
        ]
        if self.converged:
            out.append(
                f"converged: R-hat <= {MAX_RHAT}, bulk ESS >= {MIN_ESS_BULK}, no divergences"
            )
        else:
            out.append("NOT CONVERGED: " + "; ".join(self.failures))
        return out


def convergence_summary(posterior: xr.DataTree) -> az.Summary | Any:
    """ArviZ summary of the gated variables, without constant entries."""
    names = [v for v in GATED if v in posterior["posterior"].data_vars]
    # constant entries make ArviZ divide zero by zero; they are dropped below, so their
    # warnings would only be noise on the command line
    with np.errstate(divide="ignore", invalid="ignore"):
        table = az.summary(posterior, var_names=names)
    # fixed entries (reference loadings, correlation diagonal) have zero sd and no R-hat
    return table[table["sd"] > 0]


def _worst(values: Any, *, largest: bool) -> tuple[float, str]:
    """Worst value and its label, or NaN and ``"n/a"`` when none is defined (R-hat of one chain)."""
    if not values.notna().any():
        return float("nan"), "n/a"
    label = values.idxmax() if largest else values.idxmin()
    return float(values[label]), str(label)


def diagnose(
    posterior: xr.DataTree,
    *,
    method: str,
    approximate: bool,
    table: az.Summary | Any | None = None,
) -> Diagnostics:
    """Compute R-hat, ESS and divergences and apply the gates.

    Parameters
    ----------
    posterior
        The fitted DataTree (groups ``posterior`` and, for NUTS, ``sample_stats``).
    method
        Inference method name.
    approximate
        True for Pathfinder or ADVI: R-hat and ESS of independent approximate draws say
        nothing about the approximation's error, so such a run is never "converged".
    table
        :func:`convergence_summary` of ``posterior`` when the caller already has it (it
        takes seconds on a full run).
    """
    if table is None:
        table = convergence_summary(posterior)
    rhat = table["r_hat"].astype(float)
    ess_bulk = table["ess_bulk"].astype(float)
    ess_tail = table["ess_tail"].astype(float)
    post = posterior["posterior"]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    divergences = 0
    if "sample_stats" in posterior.children and "diverging" in posterior["sample_stats"]:
        divergences = int(np.asarray(posterior["sample_stats"]["diverging"]).sum())
    # the approximate methods return one chain of draws, whose R-hat is undefined
    max_rhat, worst_rhat = _worst(rhat, largest=True)
    min_ess_bulk, worst_ess_bulk = _worst(ess_bulk, largest=False)
    failures = []
    if approximate:
        failures.append(f"{method} is an approximate method; the gates apply to NUTS only")
    else:
        if not np.isfinite(max_rhat):
            failures.append("R-hat undefined (it needs at least two chains)")
        elif max_rhat > MAX_RHAT:
            failures.append(f"max R-hat {max_rhat:.3f} > {MAX_RHAT} ({worst_rhat})")
        if not min_ess_bulk >= MIN_ESS_BULK:
            failures.append(f"min bulk ESS {min_ess_bulk:.0f} < {MIN_ESS_BULK} ({worst_ess_bulk})")
        if divergences > MAX_DIVERGENCES:
            failures.append(f"{divergences} divergent transitions")
    return Diagnostics(
        method=method,
        approximate=approximate,
        chains=chains,
        draws=draws,
        max_rhat=max_rhat,
        worst_rhat=worst_rhat,
        min_ess_bulk=min_ess_bulk,
        worst_ess_bulk=worst_ess_bulk,
        min_ess_tail=float(ess_tail.min()),
        divergences=divergences,
        converged=not failures,
        failures=tuple(failures),
    )
