"""What assets do beyond the factors: exposures estimated on one period, residual returns
read on another with them, so a later period never informs its own exposures."""
from __future__ import annotations

import numpy as np
import pandas as pd


def factor_exposures(returns: pd.DataFrame, factors: pd.DataFrame, days) -> pd.DataFrame:
    """Each asset's exposures (factors x assets) to the factor returns over `days`: least
    squares with an intercept, which is left out of the result."""
    days = pd.DatetimeIndex(days)
    design = np.column_stack([np.ones(len(days)), factors.loc[days].to_numpy()])
    coefficients, *_ = np.linalg.lstsq(design, returns.loc[days].to_numpy(), rcond=None)
    return pd.DataFrame(coefficients[1:], index=factors.columns, columns=returns.columns)


def factor_residuals(returns: pd.DataFrame, factors: pd.DataFrame, fit_days, days) -> pd.DataFrame:
    """Returns on `days` less their exposures to `factors`, estimated on `fit_days` only: what
    each asset does beyond every factor, with its own drift kept."""
    days = pd.DatetimeIndex(days)
    exposures = factor_exposures(returns, factors, fit_days)
    return returns.loc[days] - factors.loc[days].to_numpy() @ exposures.to_numpy()
