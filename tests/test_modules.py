"""Torch modules: shapes, mirrored decoders, reparameterisation."""

import pytest
import torch

from skvae.modules import ACTIVATIONS, Autoencoder, VariationalAutoencoder, mlp


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_stacks_linear_layers_with_activations_between(activation):
    net = mlp([5, 7, 3], activation, dropout=0.2)
    kinds = [type(m) for m in net]
    assert kinds == [torch.nn.Linear, ACTIVATIONS[activation], torch.nn.Dropout, torch.nn.Linear]
    assert net(torch.zeros(4, 5)).shape == (4, 3)


def test_decoder_mirrors_the_encoder():
    ae = Autoencoder(10, 3, hidden_layer_sizes=(8, 6))
    enc = [m.out_features for m in ae.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m.out_features for m in ae.decoder if isinstance(m, torch.nn.Linear)]
    assert enc == [8, 6, 3] and dec == [6, 8, 10]


def test_vae_encode_splits_mean_and_log_variance():
    torch.manual_seed(0)
    vae = VariationalAutoencoder(10, 3, hidden_layer_sizes=(8,))
    x = torch.rand(5, 10)
    mu, logvar = vae.encode(x)
    raw = vae.encoder(x)
    torch.testing.assert_close(mu, raw[:, :3])
    torch.testing.assert_close(logvar, raw[:, 3:])


def test_reparameterize_uses_the_given_noise():
    mu, logvar = torch.tensor([[1.0, -1.0]]), torch.log(torch.tensor([[4.0, 0.25]]))
    z = VariationalAutoencoder.reparameterize(mu, logvar, eps=torch.tensor([[1.0, 2.0]]))
    torch.testing.assert_close(z, torch.tensor([[3.0, 0.0]]))


def test_vae_forward_samples_the_posterior():
    torch.manual_seed(0)
    vae = VariationalAutoencoder(4, 2, hidden_layer_sizes=(8,)).eval()
    x = torch.rand(3, 4)
    first, second = vae(x)[0], vae(x)[0]
    assert not torch.equal(first, second)
    mu, _ = vae.encode(x)
    assert vae(x)[1].equal(mu)
