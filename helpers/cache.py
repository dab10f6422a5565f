"""Where the book keeps what it downloads and what it computes once.

Shared stages (a trained model and its outputs for one configuration) are cached with
joblib.Memory, keyed by a hash of their arguments: a chapter that needs another chapter's
result recomputes it or finds it here, never in a file that exists only because another
notebook ran first. joblib drops an entry when the cached function's own code changes,
but not when code it calls does: after changing helpers, `make clean` empties the cache.
"""
from __future__ import annotations

import os
from pathlib import Path

from joblib import Memory

DOWNLOAD_ENV = "LATENT_MARKETS_YFINANCE_DOWNLOAD"


def cache_root() -> Path:
    """$LATENT_MARKETS_CACHE if set, else .cache/ at the top of the repository.

    With a stand-in for yfinance switched on (see `helpers.data.yahoo`), everything goes to
    a `standin` folder inside it, so that simulated downloads, and models trained on them,
    are never served as real ones.
    """
    configured = os.environ.get("LATENT_MARKETS_CACHE")
    root = Path(configured) if configured else Path(__file__).resolve().parent.parent / ".cache"
    return root / "standin" if os.environ.get(DOWNLOAD_ENV) else root


memory = Memory(cache_root() / "stages", verbose=0)
