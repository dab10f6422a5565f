"""How much faster `helpers.train` reaches a given validation loss than a tutorial-style loop.

The reference is the loop most tutorials show: a per-sample `DataLoader(batch_size=32)`
over a TensorDataset, Adam at 1e-3, 100 epochs. Its best validation loss is the target;
we time how long `helpers.train.fit` (default TrainConfig) takes to first reach it. Both
train the Chapter 2 autoencoder (20-day windows of the 20 bundled stocks -> 32 dims).

    python -m bench.train_speed
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from bench import write_results
from helpers.data import chronological_split, load, make_windows
from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.train import TrainConfig, fit

REFERENCE_EPOCHS = 100
REFERENCE_BATCH = 32
RESULTS = Path("_build/bench/train_speed.json")


def chapter_two_data():
    market = load("bundled")
    splits = chronological_split(market.returns.index, 0.6, 0.8)
    windows = make_windows(market.returns, 20, splits)
    return windows.inputs["train"], windows.inputs["validation"], windows.n_features


def new_model(n_inputs: int) -> DenseAutoencoder:
    torch.manual_seed(0)
    return DenseAutoencoder(DenseAEConfig(n_inputs=n_inputs, latent_size=32))


def reference_loop(train, validation, n_inputs):
    model = new_model(n_inputs)
    loader = DataLoader(TensorDataset(torch.as_tensor(train)), batch_size=REFERENCE_BATCH, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    validation = torch.as_tensor(validation)
    curve, start = [], time.perf_counter()
    for _ in range(REFERENCE_EPOCHS):
        model.train()
        for (batch,) in loader:
            loss = model(batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            curve.append((time.perf_counter() - start, model(validation).loss.item()))
    return curve


def main() -> None:
    torch.manual_seed(0)
    train, validation, n_inputs = chapter_two_data()
    print(f"data: {len(train)} training and {len(validation)} validation windows of {n_inputs} numbers; "
          f"torch threads: {torch.get_num_threads()}")

    curve = reference_loop(train, validation, n_inputs)
    best_index = min(range(len(curve)), key=lambda i: curve[i][1])
    reference_seconds, target = curve[best_index]
    print(f"reference: best validation loss {target:.4f} at epoch {best_index + 1} after {reference_seconds:.1f} s "
          f"({curve[-1][0]:.1f} s for all {REFERENCE_EPOCHS} epochs)")

    history = fit(new_model(n_inputs), train, validation, TrainConfig(progress=False))
    reached = history.epochs[history.epochs["validation_loss"] <= target]
    result = {
        "reference_best_validation_loss": target,
        "reference_seconds_to_best": reference_seconds,
        "reference_seconds_total": curve[-1][0],
        "helpers_best_validation_loss": history.best_validation_loss,
        "helpers_epochs_run": len(history.epochs),
        "helpers_seconds_total": float(history.epochs["seconds"].iloc[-1]),
    }
    if reached.empty:
        print(f"helpers.train: never reached {target:.4f}; its best was {history.best_validation_loss:.4f}")
    else:
        seconds = float(reached["seconds"].iloc[0])
        full_run = curve[-1][0]
        result |= {
            "helpers_seconds_to_target": seconds,
            "speedup_vs_reference_run": full_run / seconds,
            "speedup_vs_reference_time_to_best": reference_seconds / seconds,
        }
        print(f"helpers.train: reached {target:.4f} at epoch {reached.index[0]} after {seconds:.2f} s; "
              f"its best {history.best_validation_loss:.4f}")
        print(f"speed-up: {full_run / seconds:.1f}x against the {REFERENCE_EPOCHS}-epoch reference run, "
              f"{reference_seconds / seconds:.1f}x against the reference's time to its best epoch")
    write_results(RESULTS, result)


if __name__ == "__main__":
    main()
