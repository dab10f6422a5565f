"""Named stress episodes of the US market, used to shade figures and to group days, and the
days a stress call is scored against on any source."""
from __future__ import annotations

import pandas as pd

from helpers.validate import InputError

STRESS_EPISODES = {
    "Dot-com bust": ("2000-03-10", "2002-10-09"),
    "Global financial crisis": ("2007-10-09", "2009-03-09"),
    "COVID crash": ("2020-02-19", "2020-04-30"),
    "2022 hiking cycle": ("2022-01-03", "2022-10-12"),
}


def episode_mask(days: pd.DatetimeIndex, episodes: dict[str, tuple[str, str]] = STRESS_EPISODES) -> pd.Series:
    """The name of the episode each day falls in, or missing outside every episode."""
    labels = pd.Series(pd.NA, index=days, dtype="string", name="episode")
    for name, (first, last) in episodes.items():
        labels[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))] = name
    return labels


def stress_reference(market, days: pd.DatetimeIndex) -> tuple[pd.Series, str]:
    """The days a stress call is scored against, and what they are.

    A simulated market knows its stress regime, so that is the reference; a real market
    has the named episodes. Scoring needs both stress and other days among `days`; a rerun
    whose days cover no episode gets an error saying so rather than a score of nothing.
    """
    if market.truth is not None:
        stress, name = market.truth.regimes.reindex(days) == 1, "the true stress regime of the simulated market"
    else:
        stress, name = episode_mask(days).notna(), "the named stress episodes"
    if stress.all() or not stress.any():
        raise InputError(
            f"the days {days[0].date()}..{days[-1].date()} are all inside or all outside {name}, so no stress "
            f"call can be scored; choose dates that also cover one of {list(STRESS_EPISODES)}"
        )
    return stress.rename("stress"), name


def training_stress(market, training_days: pd.DatetimeIndex) -> pd.Series | None:
    """The stress reference on training days, for rules that are chosen on them; None when
    those days hold only one kind (no episode before the end of training), so that a caller
    must fall back on a stated default instead of choosing on nothing."""
    if market.truth is not None:
        stress = market.truth.regimes.reindex(training_days) == 1
    else:
        stress = episode_mask(training_days).notna()
    return stress.rename("stress") if stress.nunique() == 2 else None
