"""Helpers of the Latent Markets book: data sources, models, the training loop, plots."""
