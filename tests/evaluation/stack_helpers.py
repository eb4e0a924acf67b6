"""One origin's stacking inputs built from outcomes and component draws (no model fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.dims import HORIZON, INDICATOR, ORIGIN, PERIOD, STATE
from forecast.evaluation.cells import OBSERVED, SCALE, VINTAGE
from forecast.evaluation.stacked import OriginStack
from forecast.evaluation.stacking import mixture_statistics


def origin_stack(
    origin: int, obs: np.ndarray, draws: tuple[np.ndarray, ...], vintage: str
) -> OriginStack:
    """KAZ ``trade_share_chn`` cells at horizon 1, one per outcome, published at ``vintage``."""
    cells = pd.DataFrame(
        {
            ORIGIN: origin,
            HORIZON: 1,
            STATE: "KAZ",
            INDICATOR: "trade_share_chn",
            PERIOD: [str(origin + 1)] * len(obs),
            OBSERVED: obs,
            VINTAGE: vintage,
            SCALE: 1.0,
        }
    )
    return OriginStack(pd.concat([cells, mixture_statistics(obs, draws)], axis=1), draws)
