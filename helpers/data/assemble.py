"""The last step of every source: add the derived indicators and build the MarketData."""
from __future__ import annotations

import pandas as pd

from helpers.data.indicators import derived_indicators
from helpers.data.market import MarketData


def assemble_market(
    prices: pd.DataFrame,
    benchmark: pd.Series,
    observed: pd.DataFrame,
    observed_info: pd.DataFrame,
    assets: pd.DataFrame,
    source: str,
    notes: tuple[str, ...],
    truth=None,
    cash_yield: pd.Series | None = None,
) -> MarketData:
    """Join a source's own indicators with those every source derives from its prices."""
    derived, derived_info = derived_indicators(prices, benchmark)
    return MarketData(
        prices=prices,
        benchmark=benchmark,
        indicators=pd.concat([observed, derived], axis=1),
        assets=assets,
        indicator_info=pd.concat([observed_info, derived_info]),
        source=source,
        truth=truth,
        notes=notes,
        cash_yield=cash_yield,
    )
