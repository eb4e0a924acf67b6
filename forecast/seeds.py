"""Every random stream of the package, derived from one seed here and nowhere else.

A fit, a forecast, a simulation and a backtest each start from one integer seed (the run's,
or the backtest's). Each random stream they use is named in :data:`STREAMS`, and its
generator comes from :func:`generator` (or its integer seed from :func:`stream_seed`, where a
library takes an integer), keyed by the stream's name and, where a stream has one per item,
the item's names (an indicator, a state, an origin). Keys are words of numpy's
``SeedSequence``, so every stream is independent of every other and a stream's draws do not
depend on which other items are drawn.

The derivations are fixed: a stored run's forecast, an issued forecast in the ledger and a
backtest table are reproduced draw for draw by later versions of the package only as long as
they do not change, so a new stream gets a new name, never an old name's words.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["STREAMS", "generator", "name_word", "stream_seed"]

#: stream -> (offset added to the seed, whether its words continue with the item's names);
#: the offsets are the package's historical ones, kept so stored results stay reproducible
STREAMS: dict[str, tuple[int, bool]] = {
    # NUTS: nutpie's (or PyMC's) seed is the run's seed itself
    "fit": (0, False),
    # the drifts re-drawn from their pooled prior after sampling (forecast.model.fit)
    "drift": (0, True),
    # the latent's future innovations (forecast.model.random_walk, forecast.model.project)
    "latent": (0, False),
    # each indicator's deviations and observation noise, one stream per indicator
    "observation": (1, True),
    # the stacked forecast's baseline components, one stream per component
    "stacking": (2, False),
    # a baseline's draws, one stream per (state, indicator) series
    "baseline": (0, True),
    # one backtest origin's streams, from the backtest's seed (forecast.evaluation.plan)
    "origin": (0, True),
    # a simulation from the model's prior (forecast.model.simulate): PyMC's draw of the
    # parameters and the non-Gaussian observations, the Gaussian deviations, the drifts
    "simulation": (0, False),
    "simulation_gaussian": (1, False),
    "simulation_drift": (2, False),
}
#: the word that keys the drift stream (its first word is the seed)
_DRIFT_WORD = 1


def name_word(name: str | int) -> int:
    """Return the ``SeedSequence`` word of an item's name (an integer stays itself).

    Examples
    --------
    >>> name_word("trade_share_chn") == name_word("trade_share_chn"), name_word(2012)
    (True, 2012)
    """
    return name if isinstance(name, int) else zlib.crc32(name.encode())


def _words(seed: int, stream: str, keys: tuple[str | int, ...]) -> list[int] | int:
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}: one of {', '.join(STREAMS)}")
    offset, keyed = STREAMS[stream]
    if not keyed:
        if keys:
            raise ValueError(f"stream {stream!r} takes no keys, got {keys}")
        return seed + offset
    if stream == "drift":
        return [seed, _DRIFT_WORD]
    return [seed + offset, *(name_word(k) for k in keys)]


def generator(seed: int, stream: str, *keys: str | int) -> np.random.Generator:
    """Return the generator of a named stream under ``seed`` (keyed by ``keys``).

    Examples
    --------
    >>> a = generator(1, "observation", "trade_share_chn").normal()
    >>> a == generator(1, "observation", "trade_share_chn").normal()
    True
    >>> a == generator(1, "observation", "remittances_gdp").normal()
    False
    """
    return np.random.default_rng(_words(seed, stream, keys))


def stream_seed(seed: int, stream: str, *keys: str | int) -> int:
    """Return an integer seed of a named stream, for libraries that take one.

    A keyed stream's words are hashed by ``SeedSequence`` to a 30-bit integer (inside the
    signed 32-bit range every sampler accepts).

    Examples
    --------
    >>> stream_seed(1, "fit"), stream_seed(1, "stacking")
    (1, 3)
    >>> stream_seed(1, "origin", 2012, 0) == stream_seed(1, "origin", 2013, 0)
    False
    """
    words = _words(seed, stream, keys)
    if isinstance(words, int):
        return words
    return int(np.random.SeedSequence(words).generate_state(1)[0] >> 2)
