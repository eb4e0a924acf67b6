"""Plain-language labels for states, poles, indicators and periods, and their axis positions."""

from __future__ import annotations

from collections.abc import Mapping

from forecast.data.codebook import Indicator
from forecast.dims import POLE_NAMES, STATE_NAMES
from forecast.periods import frequency_of, parse_period

#: the latent's unit, as an axis label (the scale is fixed by the model's identification)
ALIGNMENT_UNIT = "alignment (0 = 1992 regional average)"


def state_label(code: str) -> str:
    """Return a state's name, or its code when it has none.

    Examples
    --------
    >>> state_label("KAZ"), state_label("MNG")
    ('Kazakhstan', 'MNG')
    """
    return STATE_NAMES.get(code, code)


def pole_label(code: str) -> str:
    """Return a pole's name as it reads in a sentence ("the West").

    Examples
    --------
    >>> pole_label("WEST")
    'the West'
    """
    return POLE_NAMES.get(code, code)


def pole_title(code: str) -> str:
    """Return a pole's name as it starts a title ("The West").

    Examples
    --------
    >>> pole_title("WEST"), pole_title("RUS")
    ('The West', 'Russia')
    """
    name = pole_label(code)
    return name[:1].upper() + name[1:]


def indicator_label(key: str, codebook: Mapping[str, Indicator] | None = None) -> str:
    """Return an indicator's codebook title, or its key when the codebook lacks it.

    Examples
    --------
    >>> indicator_label("trade_share_rus")
    'trade_share_rus'
    """
    if codebook is not None and key in codebook:
        return codebook[key].title
    return key


def is_fraction(key: str, codebook: Mapping[str, Indicator] | None = None) -> bool:
    """Return whether an indicator is a fraction, to be shown in per cent.

    Without a codebook entry the key decides (``*_share_*``, ``*_agree_*``, ``*_gdp``).

    Examples
    --------
    >>> is_fraction("unga_agree_usa"), is_fraction("us_aid")
    (True, False)
    """
    if codebook is not None and key in codebook:
        entry = codebook[key]
        return entry.kind in ("binomial", "share") or entry.unit.startswith(("fraction", "share"))
    return "_share" in key or "_agree_" in key or key.endswith("_gdp")


def value_scale(key: str, codebook: Mapping[str, Indicator] | None = None) -> str:
    """Return how to draw an indicator's axis: ``percent``, ``log`` or ``linear``.

    Positive amounts (finance, aid in money) span orders of magnitude and are modelled on the
    log scale, so they are drawn on one too.

    Examples
    --------
    >>> value_scale("trade_share_chn"), value_scale("us_aid")
    ('percent', 'linear')
    """
    if is_fraction(key, codebook):
        return "percent"
    if codebook is not None and key in codebook and codebook[key].kind == "positive":
        return "log"
    return "linear"


def indicator_unit(key: str, codebook: Mapping[str, Indicator] | None = None) -> str:
    """Return the axis label of an indicator's natural scale.

    Examples
    --------
    >>> indicator_unit("unga_agree_rus")
    'per cent'
    """
    if is_fraction(key, codebook):
        return "per cent"
    if codebook is not None and key in codebook:
        return codebook[key].unit
    return "value"


def period_x(label: str) -> float:
    """Return the position of a period on a time axis in years (a period starts at its label).

    Examples
    --------
    >>> period_x("2019"), period_x("2019Q3"), period_x("2019-07")
    (2019.0, 2019.5, 2019.5)
    """
    period = parse_period(str(label))
    freq = frequency_of(period)
    if freq == "Q":
        return period.year + (period.quarter - 1) / 4
    if freq == "M":
        return period.year + (period.month - 1) / 12
    return float(period.year)
