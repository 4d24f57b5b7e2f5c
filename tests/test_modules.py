"""Torch modules: shapes (dense and conv), mirrored decoders, input noise, reparameterisation."""

import pytest
import torch

from skvae.modules import (
    ACTIVATIONS,
    Autoencoder,
    ConvDecoder,
    ConvEncoder,
    InputNoise,
    VariationalAutoencoder,
    make_encoder,
    mlp,
)


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


IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (1, 64, 64), (3, 9, 7), (2, 5, 1), (1, 1, 1)]


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
@pytest.mark.parametrize("kernel_size", [1, 3, 4, 5])
@pytest.mark.parametrize("conv_channels", [(4,), (4, 8), (4, 8, 8)])
def test_conv_encoder_and_decoder_retrace_any_image_size(image_shape, kernel_size, conv_channels):
    n_features = image_shape[0] * image_shape[1] * image_shape[2]
    enc = ConvEncoder(image_shape, 6, conv_channels, kernel_size, hidden_layer_sizes=(5,))
    dec = ConvDecoder(image_shape, 3, conv_channels, kernel_size, hidden_layer_sizes=(5,))
    assert enc(torch.rand(2, n_features)).shape == (2, 6)
    assert dec(torch.rand(2, 3)).shape == (2, n_features)


def test_conv_stages_halve_the_image_and_the_decoder_mirrors_them():
    enc = ConvEncoder((1, 28, 28), 2, conv_channels=(8, 16), kernel_size=3)
    dec = ConvDecoder((1, 28, 28), 2, conv_channels=(8, 16), kernel_size=3)
    x = torch.rand(1, 784)
    sizes = []
    for layer in enc:
        x = layer(x)
        if isinstance(layer, torch.nn.Conv2d):
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(8, 14, 14), (16, 7, 7)]
    z, sizes = torch.rand(1, 2), []
    for layer in dec:
        z = layer(z)
        if isinstance(layer, (torch.nn.ConvTranspose2d, torch.nn.Unflatten)):
            sizes.append(tuple(z.shape[1:]))
    assert sizes == [(16, 7, 7), (8, 14, 14), (1, 28, 28)]


def test_conv_model_has_dropout_after_convolutions_and_dense_layers():
    ae = Autoencoder(64, 2, (16,), dropout=0.3, architecture="conv", image_shape=(1, 8, 8),
                     conv_channels=(4,))
    dropouts = [m for m in ae.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(dropouts) == 4  # after the conv, the dense layer; mirrored in the decoder


def test_conv_model_needs_a_matching_image_shape():
    with pytest.raises(ValueError, match=r"image_shape=\(1, 7, 7\) does not describe rows of 64"):
        make_encoder(64, 2, architecture="conv", image_shape=(1, 7, 7))


@pytest.mark.parametrize("Model", [Autoencoder, VariationalAutoencoder])
def test_conv_models_map_rows_to_rows(Model):
    model = Model(64, 2, (16,), architecture="conv", image_shape=(1, 8, 8), conv_channels=(4, 8))
    out = model(torch.rand(3, 64))
    assert out[0].shape == (3, 64) and out[1].shape == (3, 2)


@pytest.mark.parametrize("kind", [None, "gaussian", "mask", "salt_pepper"])
def test_input_noise_is_the_identity_in_evaluation_mode(kind):
    x = torch.rand(50, 20)
    assert torch.equal(InputNoise(kind, 0.5).eval()(x), x)


def test_gaussian_noise_adds_noise_of_the_given_scale():
    torch.manual_seed(0)
    x = torch.rand(200, 100)
    delta = InputNoise("gaussian", 0.3).train()(x) - x
    assert abs(float(delta.std()) - 0.3) < 0.01 and abs(float(delta.mean())) < 0.01


def test_mask_noise_zeroes_values_with_the_given_probability():
    torch.manual_seed(0)
    x = torch.rand(200, 100) + 1.0
    noisy = InputNoise("mask", 0.25).train()(x)
    hit = noisy == 0
    assert abs(float(hit.float().mean()) - 0.25) < 0.01
    assert torch.equal(noisy[~hit], x[~hit])


def test_salt_pepper_noise_sets_zeros_and_ones():
    torch.manual_seed(0)
    x = torch.full((200, 100), 0.5)
    noisy = InputNoise("salt_pepper", 0.2).train()(x)
    hit = noisy != 0.5
    assert abs(float(hit.float().mean()) - 0.2) < 0.01
    assert set(noisy[hit].unique().tolist()) == {0.0, 1.0}
    assert abs(float(noisy[hit].mean()) - 0.5) < 0.03


@pytest.mark.parametrize("Model", [Autoencoder, VariationalAutoencoder])
def test_models_corrupt_the_encoder_input_only_in_training(Model):
    torch.manual_seed(0)
    model = Model(10, 2, (8,), noise="gaussian", noise_level=1.0)
    x = torch.rand(4, 10)
    clean = model.encoder(x)
    code = model.encode(x)
    code = code if isinstance(code, torch.Tensor) else torch.cat(code, dim=-1)
    assert not torch.allclose(code, clean)
    model.eval()
    code = model.encode(x)
    code = code if isinstance(code, torch.Tensor) else torch.cat(code, dim=-1)
    assert torch.equal(code, clean)


@pytest.mark.parametrize("architecture,image_shape", [("dense", None), ("conv", (1, 8, 8))])
def test_a_missing_indicator_doubles_the_encoder_input_only(architecture, image_shape):
    ae = Autoencoder(64, 3, hidden_layer_sizes=(16,), architecture=architecture,
                     image_shape=image_shape, conv_channels=(4,), missing_indicator=True).eval()
    x_hat, z = ae(torch.rand(5, 128))  # values, then the observed mask
    assert tuple(x_hat.shape) == (5, 64) and tuple(z.shape) == (5, 3)
    with pytest.raises(RuntimeError):
        ae(torch.rand(5, 64))  # the mask is part of the input


def test_mask_noise_with_an_indicator_hides_entries_as_missing_ones_look():
    torch.manual_seed(0)
    ae = Autoencoder(1000, 2, hidden_layer_sizes=(4,), noise="mask", noise_level=0.3,
                     missing_indicator=True).train()
    values, observed = torch.rand(2, 1000) + 0.5, (torch.rand(2, 1000) > 0.2).float()
    noisy = ae.corrupt(torch.cat([values * observed, observed], 1))
    noisy_values, noisy_observed = noisy.chunk(2, 1)
    hidden = (observed == 1) & (noisy_observed == 0)
    assert torch.all(noisy_values[noisy_observed == 0] == 0)  # hidden and missing: 0 and 0
    assert torch.equal(noisy_values[noisy_observed == 1], values[noisy_observed == 1])
    assert torch.all(noisy_observed <= observed)  # a missing entry never becomes observed
    assert 0.25 < hidden.sum() / observed.sum() < 0.35
    clean = torch.cat([values * observed, observed], 1)
    assert torch.equal(ae.eval().corrupt(clean), clean)


def test_init_from_mean_centres_the_encoders_input_and_starts_the_decoder_at_the_mean():
    import torch

    from skvae.modules import VariationalAutoencoder

    torch.manual_seed(0)
    vae = VariationalAutoencoder(4, 2, hidden_layer_sizes=(8,), missing_indicator=True)
    mean = torch.tensor([0.5, 0.2, 0.9, 0.1])
    vae.init_from_mean(mean, output=torch.logit(mean))
    # the values half of the encoder's input is centred; the observed indicators are not
    torch.testing.assert_close(vae.input_shift, torch.cat([mean, torch.zeros(4)]))
    x = torch.cat([torch.rand(3, 4), torch.ones(3, 4)], dim=1)  # values, all observed
    first = vae.encoder[0]
    torch.testing.assert_close(vae.encode(x)[0],
                               vae.encoder[1:](first(x - vae.input_shift)).chunk(2, -1)[0])
    last = vae.decoder[-1]
    torch.testing.assert_close(last.bias, torch.logit(mean))
    assert "input_shift" in vae.state_dict()  # saved and loaded with the weights


def test_a_fitted_estimator_centres_on_its_training_means(small_X):
    import numpy as np

    from skvae import AutoencoderTransformer

    ae = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    shift = ae.fit(small_X).net_.module_.input_shift.numpy()
    np.testing.assert_allclose(shift, small_X.mean(axis=0), rtol=1e-6)
