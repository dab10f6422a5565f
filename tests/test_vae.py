from __future__ import annotations

import pytest
import torch

from helpers.models.vae import VAE, VAEConfig, gaussian_kl
from helpers.train import TrainConfig, fit


def new_model(seed=0, **options):
    torch.manual_seed(seed)
    return VAE(VAEConfig(**({"n_inputs": 10, "latent_size": 2, "hidden_sizes": (16,)} | options)))


def test_shapes_without_and_with_a_condition():
    output = new_model()(torch.randn(5, 10))
    assert output.mean.shape == output.log_var.shape == output.z.shape == (5, 2)
    assert output.reconstruction.shape == (5, 10)
    conditional = new_model(condition_size=3)
    condition = torch.eye(3)[[0, 1, 2, 0, 1]]
    assert conditional(torch.randn(5, 10), condition).reconstruction.shape == (5, 10)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(4, 3)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(4, 3))
    assert (gaussian_kl(torch.ones(4, 3), torch.zeros(4, 3)) > 0).all()
    torch.testing.assert_close(gaussian_kl(torch.tensor([1.0]), torch.tensor([0.0])), torch.tensor([0.5]))


def test_loss_is_reconstruction_plus_beta_kl_and_terms_are_non_negative():
    model = new_model(beta=2.5).train()
    output = model(torch.randn(8, 10))
    assert output.losses["recon"] >= 0 and output.losses["kl"] >= 0
    torch.testing.assert_close(output.loss, output.losses["recon"] + 2.5 * output.losses["kl"])


def test_eval_uses_the_posterior_mean():
    model = new_model().eval()
    output = model(torch.randn(6, 10))
    torch.testing.assert_close(output.z, output.mean)
    torch.testing.assert_close(output.reconstruction, model.decode(output.mean))


def test_the_loss_falls():
    torch.manual_seed(0)
    data = torch.randn(400, 2) @ torch.randn(2, 10) + 0.1 * torch.randn(400, 10)
    history = fit(new_model(), data[:300], data[300:], TrainConfig(epochs=40, batch_size=32, learning_rate=3e-3,
                                                                   progress=False))
    assert history.best_validation_loss < 0.5 * history.epochs["validation_loss"].iloc[0]


def test_sample_shapes_and_seeded_draws():
    model = new_model(condition_size=2)
    first = model.sample(7, torch.tensor([1.0, 0.0]), generator=torch.Generator().manual_seed(1))
    second = model.sample(7, torch.tensor([1.0, 0.0]), generator=torch.Generator().manual_seed(1))
    assert first.shape == (7, 10)
    torch.testing.assert_close(first, second)


def test_same_seed_same_model():
    a, b = new_model(seed=4), new_model(seed=4)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name])


def test_condition_errors():
    with pytest.raises(ValueError, match="condition width 2 does not match condition_size=3"):
        new_model(condition_size=3)(torch.randn(4, 10), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="needs a condition of width 3"):
        new_model(condition_size=3)(torch.randn(4, 10))
    with pytest.raises(ValueError, match="condition_size=0"):
        new_model()(torch.randn(4, 10), torch.zeros(4, 2))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"latent_size": 0}, "latent_size=0"),
        ({"beta": -1.0}, "beta=-1.0"),
        ({"condition_size": -1}, "condition_size=-1"),
    ],
)
def test_bad_configuration(options, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**({"n_inputs": 10} | options))


def test_input_width_mismatch():
    with pytest.raises(ValueError, match="input width 9 does not match n_inputs=10"):
        new_model()(torch.randn(3, 9))
