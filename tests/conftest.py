from __future__ import annotations

import logging
import os
import tempfile

# Stage results of the tests go to a throwaway cache, never the book's.
os.environ["LATENT_MARKETS_CACHE"] = tempfile.mkdtemp(prefix="latent-markets-tests-")

import numpy as np
import pandas as pd
import pytest

from helpers.data import load


@pytest.fixture(scope="session")
def small_synthetic():
    return load("synthetic", n_assets=12, n_days=1500, n_anomalies=10, seed=3)


@pytest.fixture(scope="session")
def default_synthetic():
    return load("synthetic")


@pytest.fixture
def random_prices():
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2020-01-01", periods=300)
    returns = rng.normal(0, 0.01, (300, 4))
    return pd.DataFrame(100 * np.exp(returns.cumsum(axis=0)), index=days, columns=list("ABCD"))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """A test that reaches yfinance's real download fails instead of waiting on the network."""
    import yfinance

    def refuse(*args, **kwargs):
        raise RuntimeError("a test called yfinance.download; serve it from tests.yfinance_standin instead")

    monkeypatch.setattr(yfinance, "download", refuse)


@pytest.fixture(autouse=True)
def _log_warnings(caplog):
    caplog.set_level(logging.WARNING)
