from __future__ import annotations

import pytest
import torch

from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder


def test_shapes_and_forward_is_decode_of_encode():
    torch.manual_seed(0)
    model = DenseAutoencoder(DenseAEConfig(n_inputs=40, latent_size=8)).eval()
    x = torch.randn(5, 40)
    output = model(x)
    assert output.embedding.shape == (5, 8) and output.reconstruction.shape == (5, 40)
    torch.testing.assert_close(output.reconstruction, model.decode(model.encode(x)))
    torch.testing.assert_close(output.loss, torch.mean((output.reconstruction - x) ** 2))
    assert set(output.losses) == {"recon"}


def test_same_seed_same_initial_weights():
    weights = []
    for _ in range(2):
        torch.manual_seed(3)
        weights.append(DenseAutoencoder(DenseAEConfig(n_inputs=10, latent_size=2)).state_dict())
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"latent_size": 0}, "latent_size=0"),
        ({"n_inputs": 0}, "n_inputs=0"),
        ({"activation": "swish"}, "activation='swish'"),
        ({"dropout": 1.0}, "dropout=1.0"),
        ({"hidden_sizes": (16, 0)}, "hidden_sizes"),
    ],
)
def test_bad_configuration(options, message):
    with pytest.raises(ValueError, match=message):
        DenseAEConfig(**({"n_inputs": 10} | options))


def test_input_width_mismatch():
    model = DenseAutoencoder(DenseAEConfig(n_inputs=10, latent_size=2))
    with pytest.raises(ValueError, match="input width 11 does not match n_inputs=10"):
        model(torch.randn(3, 11))
