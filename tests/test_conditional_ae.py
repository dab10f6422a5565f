"""The conditional autoencoder: shapes, its managed portfolios, its linear case, and training."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.models.conditional_ae import ConditionalAEConfig, ConditionalAutoencoder, managed_portfolios
from helpers.models.ensemble import Ensemble
from helpers.train import TrainConfig, fit


def panel(months=60, assets=40, n_characteristics=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    characteristics = torch.rand(months, assets, n_characteristics, generator=generator) * 2 - 1
    characteristics[..., 0] = 1.0  # the constant
    thresholded = torch.sign(characteristics[..., 2]) * (1 + characteristics[..., 3])  # bends, yet loads on c2
    betas = torch.stack([1 + 0.5 * characteristics[..., 1], thresholded], -1)
    factors = torch.randn(months, 2, generator=generator) * 0.05
    returns = (betas @ factors.unsqueeze(-1)).squeeze(-1) + 0.01 * torch.randn(months, assets, generator=generator)
    return characteristics, returns


def test_the_output_has_named_parts_of_the_right_shapes():
    characteristics, returns = panel()
    model = ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=3, hidden_sizes=(8,)))
    output = model(characteristics[:5], returns[:5])
    assert output.betas.shape == (5, 40, 3) and output.factors.shape == (5, 3)
    assert output.reconstruction.shape == (5, 40) and set(output.losses) == {"reconstruction"}
    with pytest.raises(ValueError, match="3 characteristics; the model was built for n_characteristics=4"):
        model(characteristics[:5, :, :3], returns[:5])


def test_managed_portfolios_are_the_months_regressions_on_the_characteristics():
    characteristics, returns = panel(months=3)
    expected = np.stack([np.linalg.lstsq(characteristics[m].numpy(), returns[m].numpy(), rcond=None)[0]
                         for m in range(3)])
    np.testing.assert_allclose(managed_portfolios(characteristics, returns).numpy(), expected, atol=1e-5)


def test_without_hidden_layers_the_betas_are_linear_in_the_characteristics():
    model = ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=2, hidden_sizes=()))
    a, b = torch.rand(1, 5, 4), torch.rand(1, 5, 4)
    returns = torch.zeros(1, 5)
    betas = [model(x, returns).betas for x in (a, b, (a + b) / 2)]
    torch.testing.assert_close(betas[2], (betas[0] + betas[1]) / 2)


def test_a_hidden_layer_fits_nonlinear_betas_that_the_linear_case_cannot():
    characteristics, returns = panel()
    train, validation = (characteristics[:45], returns[:45]), (characteristics[45:], returns[45:])
    losses = {}
    for hidden in ((), (32,)):
        torch.manual_seed(0)
        model = ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=2, hidden_sizes=hidden))
        history = fit(model, train, validation, TrainConfig(epochs=300, batch_size=45, learning_rate=1e-2,
                                                            patience=50, progress=False))
        losses[hidden] = history.best_validation_loss
    assert losses[(32,)] < 0.8 * losses[()]


def test_members_train_together_in_an_ensemble():
    characteristics, returns = panel(months=20)
    members = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        members.append(ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=2)))
    ensemble = Ensemble(members)
    stacked = characteristics.unsqueeze(1).expand(-1, 2, -1, -1), returns.unsqueeze(1).expand(-1, 2, -1)
    output = ensemble(*stacked)
    assert output.member_losses.shape == (2,)
    torch.testing.assert_close(output.member_losses[0], members[0](characteristics, returns).loss)


def test_a_wide_model_with_k_active_factors_is_a_k_factor_model():
    characteristics, returns = panel(months=6)
    torch.manual_seed(0)
    narrow = ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=2, hidden_sizes=(8,)))
    wide = ConditionalAutoencoder(ConditionalAEConfig(n_characteristics=4, n_factors=5, active_factors=2,
                                                      hidden_sizes=(8,)))
    with torch.no_grad():  # the wide model's first two outputs are the narrow model's
        wide.beta_network[0].load_state_dict(narrow.beta_network[0].state_dict())
        wide.beta_network[-1].weight[:2] = narrow.beta_network[-1].weight
        wide.beta_network[-1].bias[:2] = narrow.beta_network[-1].bias
        wide.factor_network.weight[:2] = narrow.factor_network.weight
    torch.testing.assert_close(wide(characteristics, returns).reconstruction,
                               narrow(characteristics, returns).reconstruction)
    assert (wide(characteristics, returns).factors[:, 2:] == 0).all()
    with pytest.raises(ValueError, match="active_factors=6; expected at most n_factors=5"):
        ConditionalAEConfig(n_characteristics=4, n_factors=5, active_factors=6)
