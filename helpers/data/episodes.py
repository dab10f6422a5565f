"""Named stress episodes of the US market, used to shade figures and to group days."""
from __future__ import annotations

import pandas as pd

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
