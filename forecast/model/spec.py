"""The model spec: a frozen, validated view of ``models/alignment.toml``."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from forecast.data.codebook import Codebook
from forecast.dims import POLES
from forecast.errors import SpecError
from forecast.model.inference import ADAPTATIONS, METHODS, SamplerSettings
from forecast.model.transforms import LOG_LINK_KINDS
from forecast.periods import coarser_or_equal, period_frequency
from forecast.tomlfile import check_finite, check_keys, expect_type, parse_toml, read_text

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "alignment.toml"
#: how a Gaussian indicator's AR(1) deviation is scaled (see forecast.model.graph)
DEVIATIONS = ("stationary", "innovation")
#: how the log-link kinds' deviations are scaled: as every other's (``deviation``), or
#: by their stationary sd or their innovation sd whatever ``deviation`` says
LOG_LINK_DEVIATIONS = ("same", *DEVIATIONS)
#: what a Gaussian series carries into its next value (see forecast.model.likelihoods):
#: its observed residual; its expected deviation given the value's standard error, with a
#: fresh start after a value at its bound; the expected deviation only; or that given all
#: the series' earlier values (forecast.model.filtering)
CARRIES = ("observed", "filtered", "filtered_se", "kalman")
#: the carries that shrink the previous residual to its expected deviation
FILTERED_CARRIES = ("filtered", "filtered_se", "kalman")
#: which indicators share one persistence of their AR(1) deviations
PERSISTENCE_SHARING = ("indicator", "family")
#: options added after weights and ledger entries were keyed on spec hashes: at their
#: defaults they are left out of :meth:`AlignmentSpec.to_dict`, so those hashes still hold
_HASH_NEUTRAL_DEFAULTS: dict[str, Any] = {
    "carry": "observed",
    "persistence_by": "indicator",
    "deviation_df": math.inf,
    "log_link_deviation": "same",
}
#: the same for prior scales (in :meth:`AlignmentSpec.to_dict`'s ``priors`` table)
_HASH_NEUTRAL_PRIORS: dict[str, Any] = {"innovation_noise_sd": 0.5, "innovation_noise_log_sd": 0.4}


@dataclass(frozen=True)
class Priors:
    """Prior scales (see ``models/alignment.toml`` for their meaning)."""

    initial_sd: float = 1.0
    drift_mean_sd: float = 0.1
    drift_pool_sd: float = 0.05
    volatility_log_mean: float = -2.0
    volatility_log_sd: float = 0.5
    volatility_pool_sd: float = 0.3
    lkj_eta: float = 2.0
    intercept_sd: float = 1.5
    intercept_pool_sd: float = 1.0
    loading_log_sd: float = 0.35
    noise_sd: float = 0.5
    noise_log_sd: float = 0.4
    innovation_noise_sd: float = 0.5
    innovation_noise_log_sd: float = 0.4
    deviation_initial_sd: float = 1.0
    persistence_alpha: float = 2.0
    persistence_beta: float = 2.0
    concentration_mean: float = 100.0


#: sane upper bounds of the sampler's sizes, in the spec and on the command line: beyond them
#: a fit would run for days or exhaust memory
MAX_DRAWS = 100_000
MAX_TUNE = 100_000
MAX_CHAINS = 64
_SIZE_LIMITS = {"draws": MAX_DRAWS, "tune": MAX_TUNE, "chains": MAX_CHAINS}


@dataclass(frozen=True)
class ProjectionSettings:
    """How a fitted run is carried forward (no effect on the fit).

    ``drift_damping`` multiplies the state drift in each future step by ``damping^h``:
    1 extrapolates the fitted drift in a straight line, 0 drops it (a random walk from the
    last fitted level). Chosen by the pseudo-real-time backtest.
    """

    drift_damping: float = 1.0


@dataclass(frozen=True)
class AlignmentSpec:
    """Everything that defines a fit of the dynamic alignment model, except data and seed.

    Attributes
    ----------
    indicators
        Codebook keys the model uses.
    reference
        ``(pole, indicator)`` pairs: each pole's reference indicator has loading 1.
    """

    indicators: tuple[str, ...]
    reference: tuple[tuple[str, str], ...]
    name: str = "alignment"
    step: str = "Y"
    start: str = "auto"
    correlated_innovations: bool = True
    overdispersion: bool = True
    share_clip: float = 0.01
    deviation: str = "stationary"
    carry: str = "observed"
    persistence_by: str = "indicator"
    deviation_df: float = math.inf
    log_link_deviation: str = "same"
    priors: Priors = field(default_factory=Priors)
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    projection: ProjectionSettings = field(default_factory=ProjectionSettings)

    def reference_of(self, pole: str) -> str:
        """Return the reference indicator of ``pole``."""
        return dict(self.reference)[pole]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description (stored in every run's manifest).

        Options at their :data:`_HASH_NEUTRAL_DEFAULTS` are left out (they did not exist when
        the installed stacking weights and earlier ledger entries were hashed).
        """
        out = asdict(self)
        for key, default in _HASH_NEUTRAL_DEFAULTS.items():
            if out[key] == default:
                del out[key]
        for key, default in _HASH_NEUTRAL_PRIORS.items():
            if out["priors"][key] == default:
                del out["priors"][key]
        return out

    def innovation_scaled(self, kind: str) -> bool:
        """Whether a Gaussian indicator of ``kind`` has its deviation scaled by its innovation."""
        return innovation_scaled(self.deviation, self.log_link_deviation, kind)

    @property
    def sha256(self) -> str:
        """Hash of the spec's content (comments and key order in the TOML do not change it)."""
        return content_sha256(self.to_dict())

    @property
    def model_sha256(self) -> str:
        """Hash of everything but the sampler settings: the model and its projection.

        What the stacking weights depend on (:mod:`forecast.model.stacked`): a fit with more
        draws, another seed or another target acceptance estimates the same model, so
        ``forecast fit --draws 4000`` keeps the backtested weights.
        """
        return model_sha256(self.to_dict())

    def replace_sampler(self, **changes: Any) -> AlignmentSpec:
        """Return a copy with some sampler settings changed (``None`` values are ignored)."""
        current = asdict(self.sampler)
        current.update({k: v for k, v in changes.items() if v is not None})
        return replace(self, sampler=SamplerSettings(**current))


def _numbers(path: Path, table: dict[str, Any], cls: type, prefix: str) -> dict[str, Any]:
    names = {f.name: f.type for f in fields(cls)}
    check_keys(path, table, required=set(), optional=set(names), prefix=prefix)
    out: dict[str, Any] = {}
    for key, value in table.items():
        typ = names[key]
        full = f"{prefix}.{key}"
        if typ in ("int", int):
            out[key] = expect_type(path, full, value, int)
            if out[key] <= 0:
                raise SpecError(path, "must be a positive integer", key=full)
            if key in _SIZE_LIMITS and out[key] > _SIZE_LIMITS[key]:
                raise SpecError(
                    path, f"must be at most {_SIZE_LIMITS[key]}, got {out[key]}", key=full
                )
        elif typ in ("float", float):
            out[key] = float(expect_type(path, full, value, (int, float)))
        else:
            out[key] = expect_type(path, full, value, str)
    return out


def load_model_spec(path: str | Path, codebook: Codebook) -> AlignmentSpec:
    """Load and validate a model spec file (:func:`parse_model_spec` of its text).

    Examples
    --------
    >>> from forecast.data.codebook import load_codebook
    >>> spec = load_model_spec(DEFAULT_MODEL, load_codebook())
    >>> spec.reference_of("CHN"), spec.step
    ('trade_share_chn', 'Y')
    """
    return parse_model_spec(read_text(path), codebook, path)


def parse_model_spec(
    text: str, codebook: Codebook, source: str | Path = "<model spec text>"
) -> AlignmentSpec:
    """Validate a model spec given as TOML text; ``source`` names it in errors.

    Parameters
    ----------
    text
        TOML with tables ``[model]``, ``[indicators]`` (with ``[indicators.reference]``),
        ``[priors]``, ``[sampler]`` and ``[projection]``.
    codebook
        Every used indicator must be in it.
    source
        The file (or a label) for messages.

    Raises
    ------
    SpecError
        Naming file and key, for an unknown key, a wrong type, a number that is not finite
        (``nan``, ``inf``), an indicator missing from the codebook, a reference that is not
        used or not of its pole, or an impossible value (sampler sizes beyond
        :data:`MAX_DRAWS`, :data:`MAX_TUNE`, :data:`MAX_CHAINS` included).

    Examples
    --------
    >>> from forecast.data.codebook import load_codebook
    >>> text = DEFAULT_MODEL.read_text(encoding="utf-8")
    >>> parse_model_spec(text, load_codebook()) == load_model_spec(DEFAULT_MODEL, load_codebook())
    True
    """
    path = Path(source)
    raw = parse_toml(text, path)
    check_keys(
        path, raw, required={"model", "indicators"}, optional={"priors", "sampler", "projection"}
    )
    check_finite(path, raw)
    for table in raw:
        if not isinstance(raw[table], dict):
            raise SpecError(path, "expected a table", key=table)
    model = _model_table(path, raw["model"])
    use, reference = _indicators_table(path, raw["indicators"], codebook, model["step"])
    return AlignmentSpec(
        indicators=use,
        reference=reference,
        **model,
        priors=_priors(path, raw.get("priors", {})),
        sampler=_sampler(path, raw.get("sampler", {})),
        projection=_projection(path, raw.get("projection", {})),
    )


#: the ``[model]`` table's keys and their defaults
_MODEL_DEFAULTS: dict[str, Any] = {
    "name": "alignment",
    "step": "Y",
    "start": "auto",
    "correlated_innovations": True,
    "overdispersion": True,
    "share_clip": 0.01,
    "deviation": "stationary",
    "carry": "observed",
    "persistence_by": "indicator",
    "deviation_df": math.inf,
    "log_link_deviation": "same",
}


def _choice(path: Path, out: dict[str, Any], name: str, options: tuple[str, ...]) -> str:
    """Return the ``[model]`` setting ``name``, refused unless it is one of ``options``."""
    value = expect_type(path, f"model.{name}", out[name], str)
    if value not in options:
        raise SpecError(path, f"{name} must be one of {', '.join(options)}", key=f"model.{name}")
    return str(value)


def _model_table(path: Path, model: dict[str, Any]) -> dict[str, Any]:
    """Check the ``[model]`` table; return its settings, defaults filled in."""
    check_keys(path, model, required=set(), optional=set(_MODEL_DEFAULTS), prefix="model")
    out = {**_MODEL_DEFAULTS, **model}
    name = expect_type(path, "model.name", out["name"], str)
    step = expect_type(path, "model.step", out["step"], str)
    if step not in ("Y", "Q"):
        raise SpecError(path, f"step must be Y or Q, got {step!r}", key="model.step")
    start = expect_type(path, "model.start", out["start"], str)
    if start != "auto" and period_frequency(start) != step:
        raise SpecError(
            path, f"start must be 'auto' or a period of frequency {step}", key="model.start"
        )
    corr = expect_type(path, "model.correlated_innovations", out["correlated_innovations"], bool)
    overdispersion = expect_type(path, "model.overdispersion", out["overdispersion"], bool)
    deviation = _choice(path, out, "deviation", DEVIATIONS)
    log_link = _choice(path, out, "log_link_deviation", LOG_LINK_DEVIATIONS)
    carry = _choice(path, out, "carry", CARRIES)
    persistence_by = _choice(path, out, "persistence_by", PERSISTENCE_SHARING)
    df = float(expect_type(path, "model.deviation_df", out["deviation_df"], (int, float)))
    if not df > 2:  # NaN too
        raise SpecError(
            path,
            f"deviation_df must be above 2 (a finite variance; leave it out for a Normal), "
            f"got {df}",
            key="model.deviation_df",
        )
    clip = float(expect_type(path, "model.share_clip", out["share_clip"], (int, float)))
    if not 0 < clip < 0.5:
        raise SpecError(path, "share_clip must be in (0, 0.5)", key="model.share_clip")
    return {
        "name": name,
        "step": step,
        "start": start,
        "correlated_innovations": corr,
        "overdispersion": overdispersion,
        "share_clip": clip,
        "deviation": deviation,
        "carry": carry,
        "persistence_by": persistence_by,
        "deviation_df": df,
        "log_link_deviation": log_link,
    }


def _indicators_table(
    path: Path, ind: dict[str, Any], codebook: Codebook, step: str
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Check ``[indicators]``: return the indicators used and each pole's reference."""
    check_keys(path, ind, required={"use", "reference"}, prefix="indicators")
    use = expect_type(path, "indicators.use", ind["use"], list)
    if not use:
        raise SpecError(path, "no indicator listed", key="indicators.use")
    for i, key in enumerate(use):
        expect_type(path, f"indicators.use[{i}]", key, str)
        if key not in codebook:
            raise SpecError(
                path,
                f"indicator {key!r} is not in the codebook {codebook.path}",
                key="indicators.use",
            )
        if not coarser_or_equal(codebook[key].frequency, step):
            raise SpecError(
                path,
                f"indicator {key!r} has frequency {codebook[key].frequency}, "
                f"finer than the model step {step}",
                key="indicators.use",
            )
    if len(set(use)) != len(use):
        raise SpecError(path, "an indicator is listed twice", key="indicators.use")
    ref = expect_type(path, "indicators.reference", ind["reference"], dict)
    check_keys(path, ref, required=set(POLES), prefix="indicators.reference")
    for pole in POLES:
        _check_reference(path, pole, ref[pole], use, codebook)
    return tuple(use), tuple((pole, ref[pole]) for pole in POLES)


def _check_reference(path: Path, pole: str, key: Any, use: list[str], codebook: Codebook) -> None:
    """Refuse a reference indicator that is unused, of another pole, or not continuous."""
    where = f"indicators.reference.{pole}"
    key = expect_type(path, where, key, str)
    if key not in use:
        raise SpecError(path, f"reference {key!r} is not in indicators.use", key=where)
    if codebook[key].pole != pole:
        raise SpecError(
            path, f"reference {key!r} measures pole {codebook[key].pole}, not {pole}", key=where
        )
    if codebook[key].kind in ("binary", "binomial"):
        raise SpecError(
            path,
            "a reference must be a share, positive or continuous indicator (it fixes the scale)",
            key=where,
        )


def _priors(path: Path, table: dict[str, Any]) -> Priors:
    priors = Priors(**_numbers(path, table, Priors, "priors"))
    for f in fields(Priors):
        if f.name not in ("volatility_log_mean",) and getattr(priors, f.name) <= 0:
            raise SpecError(path, "must be positive", key=f"priors.{f.name}")
    return priors


def _projection(path: Path, table: dict[str, Any]) -> ProjectionSettings:
    projection = ProjectionSettings(**_numbers(path, table, ProjectionSettings, "projection"))
    if not 0 <= projection.drift_damping <= 1:
        raise SpecError(path, "must be in [0, 1]", key="projection.drift_damping")
    return projection


def _sampler(path: Path, table: dict[str, Any]) -> SamplerSettings:
    """Check the ``[sampler]`` table; return it over the defaults of the inference config."""
    sampler = SamplerSettings(**_numbers(path, table, SamplerSettings, "sampler"))
    if sampler.method not in METHODS:
        raise SpecError(path, f"method must be one of {', '.join(METHODS)}", key="sampler.method")
    if not 0.5 <= sampler.target_accept < 1:
        raise SpecError(path, "target_accept must be in [0.5, 1)", key="sampler.target_accept")
    if sampler.adaptation not in ADAPTATIONS:
        raise SpecError(
            path, f"adaptation must be one of {', '.join(ADAPTATIONS)}", key="sampler.adaptation"
        )
    return sampler


def innovation_scaled(deviation: str, log_link_deviation: str, kind: str) -> bool:
    """Whether a Gaussian indicator's AR(1) deviation is scaled by its innovation sd.

    ``deviation`` for every kind, unless ``log_link_deviation`` names another scaling for
    the log-link kinds (:data:`forecast.model.transforms.LOG_LINK_KINDS`).

    Examples
    --------
    >>> innovation_scaled("stationary", "innovation", "positive")
    True
    >>> innovation_scaled("stationary", "innovation", "share")
    False
    >>> innovation_scaled("innovation", "same", "share")
    True
    """
    if kind in LOG_LINK_KINDS and log_link_deviation != "same":
        return log_link_deviation == "innovation"
    return deviation == "innovation"


def model_sha256(content: Mapping[str, Any]) -> str:
    """Hash of a spec's content (:meth:`AlignmentSpec.to_dict`) without its sampler table.

    Examples
    --------
    >>> a = {"indicators": ["x"], "sampler": {"draws": 1000}}
    >>> model_sha256(a) == model_sha256(a | {"sampler": {"draws": 4000}})
    True
    """
    return content_sha256({k: v for k, v in content.items() if k != "sampler"})


def content_sha256(content: dict[str, Any]) -> str:
    """Hash of a JSON-serialisable table, independent of key order."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
