"""The nonlinearity dial's cold time and its models trained per second, and what training its
VAEs as one ensemble saves against training them one at a time.

The dial (Chapter 4) trains one dense autoencoder and one VAE per simulated market. Its time
is given as a multiple of the reference training loop that `bench.train_speed` timed in the
same `make bench` run.

    python -m bench.dial
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from bench import write_results
from bench.book_build import reference_seconds
from helpers.experiments.dial import DialConfig, prepare_market, run_dial, train_ensemble
from helpers.models.vae import VAE, VAEConfig
from helpers.train import adjusted, fit

RESULTS = Path("_build/bench/dial.json")


def vae_training_seconds(config: DialConfig) -> tuple[float, float]:
    """Seconds to train the dial's VAEs as one ensemble, and one at a time."""
    markets = [prepare_market(config, *market) for market in config.markets()]
    model_config = VAEConfig(n_inputs=config.n_assets, latent_size=config.latent_size, hidden_sizes=config.hidden_sizes)
    start = time.perf_counter()
    train_ensemble([model_config] * len(markets), VAE, [m["days"] for m in markets], [m["seed"] for m in markets],
                   config.train)
    together = time.perf_counter() - start
    start = time.perf_counter()
    for market in markets:
        torch.manual_seed(market["seed"])
        fit(VAE(model_config), market["days"]["train"], market["days"]["validation"], config.train)
    return together, time.perf_counter() - start


def main() -> None:
    reference = reference_seconds()
    config = DialConfig(train=adjusted(DialConfig().train, progress=False))
    result = run_dial(config)
    together, alone = vae_training_seconds(config)
    summary = {
        "markets": len(config.markets()),
        "models_trained": result.models_trained,
        "dial_seconds_cold": result.seconds,
        "dial_ratio_to_reference": result.seconds / reference,
        "models_per_second": result.models_trained / result.seconds,
        "vae_ensemble_seconds": together,
        "vae_one_at_a_time_seconds": alone,
    }
    print(f"dial: {summary['markets']} markets, {result.models_trained} networks in {result.seconds:.1f} s "
          f"= {summary['dial_ratio_to_reference']:.1f}x the reference loop, "
          f"{summary['models_per_second']:.2f} models/s")
    print(f"its {summary['markets']} VAEs: {together:.1f} s as one ensemble, {alone:.1f} s one at a time "
          f"({alone / together:.1f}x)")
    write_results(RESULTS, summary)


if __name__ == "__main__":
    main()
