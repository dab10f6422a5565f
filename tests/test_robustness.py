"""The robustness page's run measures what the chapters measure: on the same market, with
the same settings, its numbers are the chapters' own glued numbers (marker: smoke)."""
from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

from helpers.sweep import execute_run
from helpers.threads import THREAD_VARIABLES

# One worker runs the whole module, so its chapters execute once (make notebooks: --dist loadgroup).
pytestmark = [pytest.mark.smoke, pytest.mark.xdist_group("robustness")]
ROOT = Path(__file__).resolve().parents[1]
SHARED = {"seed": 0, "synthetic_assets": 20, "synthetic_days": 800, "max_epochs": 10}
CHAPTERS = {
    "probe": ("book/robustness/one_market.md", {"n_generated": 4000}),
    "factors": ("notebooks/04_vae_factors.md", {"source": "synthetic", "seeds": [0], "betas": [0.5, 32.0],
                                                "real_latent_size": 2, "dial_nonlinearities": [0.0, 2.0],
                                                "dial_seeds": [0], "dial_assets": 8, "dial_days": 300,
                                                "dial_epochs": 5}),
    "anomalies": ("notebooks/07_anomalies.md", {"source": "synthetic", "seeds": [0]}),
    "scenarios": ("notebooks/09_scenarios.md", {"source": "synthetic", "n_generated": 4000, "per_day": 5}),
}


@pytest.fixture(scope="module")
def glued(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("robustness")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LATENT_MARKETS_CACHE", str(folder / "cache"))
        for name in (*THREAD_VARIABLES, "TQDM_DISABLE"):
            patch.setenv(name, "1")  # execute_run pins them; the context restores them after
        records = {}
        for name, (notebook, extra) in CHAPTERS.items():
            executable = folder / f"{name}.ipynb"
            jupytext.write(jupytext.read(ROOT / notebook), executable)
            records[name] = execute_run(str(executable), SHARED | extra, str(folder / name), "test", "test")
    for name, record in records.items():
        assert record["status"] == "ok", f"{name}: {record['error']}"
    return {name: record["glued"] for name, record in records.items()}


def numbers(glued: dict, *keys: str) -> list[float]:
    """Glued values as numbers (a sweep's record keeps them as the text the page shows)."""
    return [float(glued[key]) for key in keys]


def test_the_probe_reads_the_factors_as_chapter_4_does(glued):
    vae, pca, oracle = numbers(glued["probe"], "recovery_vae", "recovery_pca", "recovery_oracle")
    gain, oracle_gap = numbers(glued["factors"], "gain_mean", "oracle_gap_mean")
    assert vae - pca == pytest.approx(gain, abs=1e-9)
    assert oracle - vae == pytest.approx(oracle_gap, abs=1e-9)


def test_the_probe_scores_windows_as_chapter_6_does(glued):
    for name, key in (("vae", "vae"), ("pca", "pca"), ("no_model", "raw")):
        probe, chapter = numbers(glued["probe"], f"window_auroc_{name}") + numbers(glued["anomalies"],
                                                                                   f"{key}_window_auroc")
        assert probe == pytest.approx(chapter, abs=1e-9)


def test_the_probe_compares_generated_correlations_as_chapter_8_does(glued):
    for name, key in (("vae", "generated"), ("pca", "pca"), ("training", "train")):
        probe, chapter = numbers(glued["probe"], f"distance_{name}") + numbers(glued["scenarios"], f"corr_{key}")
        assert probe == pytest.approx(chapter, abs=1e-9)
