from __future__ import annotations

import pytest
import torch

from helpers.models.sparse_ae import SparseAEConfig, SparseAutoencoder
from helpers.train import TrainConfig, fit


def new_model(seed=0, **options):
    torch.manual_seed(seed)
    return SparseAutoencoder(SparseAEConfig(**({"n_inputs": 6, "n_features": 24, "k": 3, "dead_after": 50} | options)))


def test_shapes_and_forward_is_decode_of_encode():
    model = new_model().eval()
    x = torch.randn(10, 6)
    output = model(x)
    assert output.features.shape == (10, 24) and output.reconstruction.shape == (10, 6)
    torch.testing.assert_close(output.reconstruction, model.decode(model.encode(x)))
    assert set(output.losses) == {"recon", "aux"}


def test_at_most_k_active_and_exactly_k_when_pre_activations_are_positive():
    model = new_model().eval()
    x = torch.randn(50, 6)
    assert ((model.encode(x) > 0).sum(dim=1) <= 3).all()
    with torch.no_grad():
        model.encoder_bias.fill_(100.0)
    assert ((model.encode(x) > 0).sum(dim=1) == 3).all()
    assert (model.encode(x) >= 0).all()


def test_encoder_starts_as_decoder_transpose_with_unit_columns():
    model = new_model()
    torch.testing.assert_close(model.encoder, model.decoder.T)
    torch.testing.assert_close(model.decoder.norm(dim=0), torch.ones(24))


def test_pre_bias_centres_on_the_data():
    model = new_model()
    x = torch.randn(100, 6) + 5
    model.init_pre_bias(x)
    torch.testing.assert_close(model.pre_bias.detach(), x.mean(dim=0))


def test_training_keeps_unit_norm_columns_and_the_loss_falls():
    torch.manual_seed(1)
    atoms = torch.randn(6, 12)
    codes = torch.relu(torch.randn(400, 12)) * (torch.rand(400, 12) < 0.2)
    data = codes @ atoms.T
    model = new_model(n_features=24, k=3, dead_after=400)
    model.init_pre_bias(data[:300])
    config = TrainConfig(epochs=30, batch_size=32, learning_rate=3e-3, progress=False)
    history = fit(model, data[:300], data[300:], config)
    torch.testing.assert_close(model.decoder.detach().norm(dim=0), torch.ones(24))
    assert history.epochs["validation_recon"].min() < 0.5 * history.epochs["validation_recon"].iloc[0]


def test_gradient_parallel_to_columns_is_removed():
    model = new_model()
    model.decoder.grad = model.decoder.detach() * 3 + torch.randn(6, 24)
    model.before_step()
    parallel = (model.decoder.grad * model.decoder.detach()).sum(dim=0)
    torch.testing.assert_close(parallel, torch.zeros(24), atol=1e-5, rtol=0)


def test_dead_features_get_an_auxiliary_loss():
    model = new_model(dead_after=5).train()
    x = torch.randn(8, 6)
    assert model(x).losses["aux"].item() == 0, "no feature can be dead before any sample"
    model.samples_since_fired.fill_(10)
    assert model(x).losses["aux"].item() > 0
    assert not model.dead_features()[model(x).features.sum(dim=0) > 0].any(), "firing revives a feature"


def test_same_seed_same_model():
    a, b = new_model(seed=3), new_model(seed=3)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": 30}, "k=30; expected 1 <= k <= n_features=24"),
        ({"k": 0}, "k=0"),
        ({"n_inputs": 0}, "n_inputs=0"),
        ({"aux_k": 0}, "aux_k=0"),
        ({"n_features": 0, "k": 1}, "n_features=0"),
    ],
)
def test_bad_configuration(options, message):
    with pytest.raises(ValueError, match=message):
        SparseAEConfig(**({"n_inputs": 6, "n_features": 24, "k": 3} | options))


def test_input_width_mismatch():
    with pytest.raises(ValueError, match="input width 7 does not match n_inputs=6"):
        new_model()(torch.randn(2, 7))
