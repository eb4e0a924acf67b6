"""The one inference configuration: defaults, then the model spec's ``[sampler]``, then flags.

:class:`SamplerSettings` is what a model spec may set (and what its hash covers);
:class:`FitSettings` adds what belongs to one fit (the seed, the cores). Every fit's settings
come from :func:`fit_settings`, which merges the three layers in that order, so a default is
defined once, here, whoever fits: ``forecast fit``, ``forecast report``, the backtest.
(Imitates pymc-marketing's ``default_sampler_config | sampler_config``.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

__all__ = [
    "ADAPTATIONS",
    "APPROXIMATE",
    "BACKTEST_SAMPLER",
    "METHODS",
    "NUTS_SAMPLERS",
    "FitSettings",
    "SamplerSettings",
    "fit_settings",
]

METHODS = ("nuts", "pathfinder", "advi")
#: methods whose draws come from an approximation of the posterior
APPROXIMATE = ("pathfinder", "advi")
#: nutpie's mass-matrix adaptations: "diag" (draw and gradient variances) or "draw_diag"
#: (draw variances, as Stan and PyMC)
ADAPTATIONS = ("diag", "draw_diag")
#: NUTS implementations: nutpie (the default, compiled with numba) or PyMC's own (Python;
#: several times slower, a cross-check of nutpie on the same model)
NUTS_SAMPLERS = ("nutpie", "pymc")


@dataclass(frozen=True)
class SamplerSettings:
    """The inference settings a model spec's ``[sampler]`` table may set, with their defaults.

    The defaults are the shipped spec's (``models/alignment.toml``, whose comments say how
    they were chosen): a spec without a ``[sampler]`` table fits as the shipped one does.
    """

    method: str = "nuts"
    draws: int = 4000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.995
    adaptation: str = "draw_diag"

    @property
    def approximate(self) -> bool:
        """True for Pathfinder and ADVI."""
        return self.method in APPROXIMATE


@dataclass(frozen=True)
class FitSettings(SamplerSettings):
    """The settings of one fit: the spec's sampler settings, its seed and its resources.

    ``nuts_sampler`` chooses the NUTS implementation (:data:`NUTS_SAMPLERS`); ``cores`` the
    processes of PyMC's samplers (default: one per chain, at most two).
    """

    seed: int = 1
    cores: int | None = None
    nuts_sampler: str = "nutpie"


#: a backtest's sampler: deliberately modest, as it fits every origin (``forecast backtest``)
BACKTEST_SAMPLER = SamplerSettings(draws=300, tune=500, chains=2, target_accept=0.95)


def fit_settings(sampler: SamplerSettings | None = None, **flags: object) -> FitSettings:
    """Merge the defaults, a spec's sampler settings and command-line flags (``None`` = keep).

    Examples
    --------
    >>> fit_settings().draws, fit_settings(SamplerSettings(draws=500)).draws
    (4000, 500)
    >>> fit_settings(SamplerSettings(draws=500), draws=None, seed=7).seed
    7
    """
    merged = asdict(sampler if sampler is not None else SamplerSettings())
    known = {f.name for f in fields(FitSettings)}
    unknown = set(flags) - known
    if unknown:
        raise TypeError(f"unknown inference settings: {', '.join(sorted(unknown))}")
    merged.update({k: v for k, v in flags.items() if v is not None})
    return FitSettings(**merged)
