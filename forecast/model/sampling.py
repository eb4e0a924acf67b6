"""NUTS through nutpie with progress: chains, draws, divergences so far and time left.

nutpie samples in a background thread (``blocking=False``) and reports each chain's progress
to a callback; this module turns those reports into one status line and keeps the main
thread polling, so that Ctrl-C reaches Python: the sampler is then aborted and the
``KeyboardInterrupt`` re-raised for the caller (the ledger, the CLI) to handle. The draws are
those of a blocking ``nutpie.sample`` with the same arguments.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forecast.progress import SILENT, Progress, duration

if TYPE_CHECKING:
    import xarray as xr

    from forecast.model.inference import FitSettings

#: seconds the main thread waits on the sampler between two checks for Ctrl-C
POLL_SECONDS = 0.25

#: milliseconds between two progress reports of nutpie's sampler thread
REPORT_MS = 500


@dataclass(frozen=True)
class ChainState:
    """One chain's progress, as nutpie's ``ChainProgress`` reports it.

    ``divergences`` counts divergent transitions after tuning (those the gates count).
    """

    finished: int
    total: int
    divergences: int
    tuning: bool
    started: bool

    @classmethod
    def of(cls, chain: Any) -> ChainState:
        """Copy a ``nutpie.ChainProgress`` (read on nutpie's thread, used on ours)."""
        return cls(
            int(chain.finished_draws),
            int(chain.total_draws),
            int(chain.divergences),
            bool(chain.tuning),
            bool(chain.started),
        )


def sampling_status(chains: Sequence[ChainState], elapsed: float) -> str:
    """Summarise the chains' progress in one line, with the time left at the current rate.

    Draws count tuning and kept draws together, as the sampler works through both; chains
    are counted by what they are doing (with fewer cores than chains, some wait). The time
    left assumes the rate so far, which tuning's longer trajectories make pessimistic early.

    Examples
    --------
    >>> chains = [ChainState(600, 1500, 0, False, True), ChainState(300, 1500, 1, True, True),
    ...           ChainState(0, 1500, 0, True, False)]
    >>> for part in sampling_status(chains, elapsed=30.0).split(", "):
    ...     print(part)
    900 of 4,500 draws (20 %)
    chains: 1 tuning
    1 sampling
    1 waiting
    1 divergence after tuning
    about 2 min 0 s left
    """
    finished = sum(c.finished for c in chains)
    total = sum(c.total for c in chains) or 1
    states = {
        "tuning": sum(c.started and c.tuning and c.finished < c.total for c in chains),
        "sampling": sum(c.started and not c.tuning and c.finished < c.total for c in chains),
        "waiting": sum(not c.started for c in chains),
        "done": sum(c.started and c.finished >= c.total for c in chains),
    }
    doing = ", ".join(f"{n} {state}" for state, n in states.items() if n)
    divergences = sum(c.divergences for c in chains)
    parts = [
        f"{finished:,} of {total:,} draws ({100 * finished / total:.0f} %)",
        f"chains: {doing}",
        f"{divergences} divergence{'' if divergences == 1 else 's'} after tuning",
    ]
    if 0 < finished < total and elapsed > 0:
        parts.append(f"about {duration((total - finished) * elapsed / finished)} left")
    return ", ".join(parts)


def sample_with_progress(
    compiled: Any, settings: FitSettings, *, progress: Progress = SILENT
) -> xr.DataTree:
    """Sample a compiled nutpie model with ``settings``, reporting progress to ``progress``.

    Parameters
    ----------
    compiled
        A ``nutpie`` compiled model.
    settings
        Draws, tuning steps, chains, cores, seed, target acceptance and mass matrix adaptation.
    progress
        Where to report; silent by default.

    Returns
    -------
    xarray.DataTree
        nutpie's trace (with the warm-up groups).

    Raises
    ------
    KeyboardInterrupt
        After aborting the sampler, when the user interrupts.
    """
    import nutpie

    sizes = f"{settings.chains} chains x ({settings.tune} tuning + {settings.draws} draws)"
    with progress.step("sampling", sizes) as status:
        started = time.monotonic()

        def report(chains: Sequence[Any]) -> None:
            status.update(
                sampling_status([ChainState.of(c) for c in chains], time.monotonic() - started)
            )

        sampler = nutpie.sample(
            compiled,
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            seed=settings.seed,
            cores=settings.cores,
            target_accept=settings.target_accept,
            adaptation=settings.adaptation,
            progress_bar=False,
            progress_callback=report,
            progress_rate=REPORT_MS,
            blocking=False,
        )
        try:
            while True:
                try:
                    return sampler.wait(timeout=POLL_SECONDS)
                except TimeoutError:
                    continue
        except KeyboardInterrupt:
            sampler.abort()
            raise
        except BaseException:
            sampler.cancel()
            raise
