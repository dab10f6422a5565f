"""Market specs take keywords and validate what a reader passes; findings fail hard only at
a chapter's default parameters."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.claims import Above, Below
from helpers.data import MarketSpec, fit_standardizer
from helpers.findings import FindingNotHeld, Findings, at_defaults, default_parameters


def test_market_spec_fields_are_keyword_only():
    with pytest.raises(TypeError):
        MarketSpec("synthetic", None, None, None, None, 12, 600, "regimes", 7)


def test_market_spec_takes_parameters_as_papermill_and_jupyter_pass_them():
    spec = MarketSpec(source="synthetic", synthetic_assets="12", synthetic_days=600.0, seed="7", start="2004-01-05")
    assert (spec.synthetic_assets, spec.synthetic_days, spec.seed, spec.start) == (12, 600, 7, "2004-01-05")
    assert MarketSpec(source="yfinance", tickers=["SPY", "TLT"]).tickers == ("SPY", "TLT")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"source": "yahoo"}, r"source='yahoo'; expected one of \['bundled', 'synthetic', 'yfinance', 'csv'\]"),
        ({"seed": -1}, r"seed=-1; expected a whole number >= 0"),
        ({"synthetic_assets": 2.5}, r"synthetic_assets=2.5; expected a whole number"),
        ({"start": "last year"}, r"start='last year'; expected a date"),
        ({"tickers": ["SPY", 3]}, r"tickers=\['SPY', 3\]; expected ticker symbols"),
        ({"tickers": []}, r"tickers=\[\]; expected ticker symbols"),
        ({"source": "synthetic", "tickers": ["A"]}, "takes no tickers"),
    ],
)
def test_market_spec_names_a_bad_value(options, message):
    with pytest.raises(ValueError, match=message):
        MarketSpec(**options)


def test_the_seed_lands_in_the_seed():
    market = MarketSpec(source="synthetic", synthetic_assets=12, synthetic_days=300, seed=7).load()
    again = MarketSpec(source="synthetic", synthetic_assets=12, synthetic_days=300, seed=7).load()
    other = MarketSpec(source="synthetic", synthetic_assets=12, synthetic_days=300, seed=8).load()
    pd.testing.assert_frame_equal(market.prices, again.prices)
    assert not market.prices.equals(other.prices)


def test_a_series_that_never_moves_on_training_days_has_no_scale(random_prices):
    returns = random_prices.pct_change().iloc[1:].assign(C=0.0)
    with pytest.raises(ValueError, match=r"\['C'\] do not move on any of the"):
        fit_standardizer(returns, returns.index[:100])


def test_default_parameters_are_read_from_the_chapter():
    defaults = default_parameters("01_data")
    assert defaults["source"] == "bundled" and defaults["window"] == 20 and defaults["tickers"] is None
    assert at_defaults("01_data", dict(defaults))
    assert not at_defaults("01_data", defaults | {"source": "synthetic"})
    dense_defaults = default_parameters("02_dense_autoencoder")
    assert at_defaults("02_dense_autoencoder", dense_defaults | {"hidden_sizes": (256, 128)})
    with pytest.raises(ValueError, match="chapter='99_nothing'"):
        default_parameters("99_nothing")


def test_findings_raise_only_when_enforced():
    enforced = Findings(enforce=True)
    enforced.claim("up", "it rises", Above(2.0, 1.0))
    enforced.claim("down", "it falls", Below(2.0, 1.0))
    with pytest.raises(FindingNotHeld, match=r"it falls \(2 < 1\)"):
        enforced.report()
    reported = Findings(enforce=False)
    reported.claim("down", "it falls", Below(2.0, 1.0))
    with pytest.warns(UserWarning, match="does not hold with these parameters: it falls"):
        table = reported.report()
    assert table.loc["down", "holds"] == "no" and table.loc["down", "estimate"] == "2"
    with pytest.raises(ValueError, match="checked twice"):
        reported.claim("down", "again", Above(2.0, 1.0))
