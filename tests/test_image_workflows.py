"""The image notebooks' workflows: conv autoencoders and VAEs, denoising, on held-out images.

Runs on a small slice of the shared MNIST file when ``SKVAE_DATA_HOME`` holds it
(as CI sets it) and on scikit-learn's 8 x 8 digits otherwise; never downloads.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_digits, load_mnist
from skvae.metrics import reconstruction_mse

#: Conv nets trained for hundreds of steps: the slow lane.
pytestmark = pytest.mark.slow

#: MNIST rows used when the shared file is there: enough for a conv net to learn in seconds.
N_TRAIN, N_TEST = 3000, 500


@pytest.fixture(scope="module")
def images():
    """Held-out image data plus the epochs giving ~500 optimisation steps at batch 128."""
    home = os.environ.get("SKVAE_DATA_HOME")
    if home and (Path(home) / "mnist.npz").exists():
        d = load_mnist()
        return Bunch(name="mnist", X_train=d.X_train[:N_TRAIN], X_test=d.X_test[:N_TEST],
                     image_shape=d.image_shape, epochs=20)
    d = load_digits()
    X_train, X_test = train_test_split(d.data, test_size=0.2, random_state=0)
    return Bunch(name="digits", X_train=X_train, X_test=X_test, image_shape=d.image_shape,
                 epochs=50)


def conv(Estimator, images, **params):
    params = {"max_epochs": images.epochs, "random_state": 0, "conv_channels": (16, 32),
              **params}
    return Estimator(architecture="conv", image_shape=images.image_shape, **params)


@pytest.fixture(scope="module")
def conv_ae(images):
    return conv(AutoencoderTransformer, images, n_components=2).fit(images.X_train)


def test_conv_autoencoder_beats_pca_on_held_out_images(conv_ae, images):
    pca = PCA(n_components=2).fit(images.X_train)
    X_test = images.X_test
    assert reconstruction_mse(conv_ae, X_test) <= 0.9 * reconstruction_mse(pca, X_test)


def test_conv_autoencoder_is_a_deterministic_row_wise_transformer(conv_ae, images):
    X = images.X_test[:50]
    Z = conv_ae.transform(X)
    np.testing.assert_array_equal(Z, conv_ae.transform(X))
    np.testing.assert_allclose(conv_ae.transform(X[:7]), Z[:7], rtol=1e-5, atol=1e-6)
    assert conv_ae.inverse_transform(Z).shape == X.shape
    assert conv_ae.sample(3, random_state=0).shape == (3, X.shape[1])


def test_conv_vae_learns_a_bernoulli_model_of_the_images(images):
    params = dict(n_components=2, reconstruction_loss="bce")
    vae = conv(VAETransformer, images, **params).fit(images.X_train)
    untrained = conv(VAETransformer, images, **params, max_epochs=1).fit(images.X_train)
    # the ELBO (nats per image) improves on one epoch's by >= 0.05 nats per pixel
    assert vae.score(images.X_test) > untrained.score(images.X_test) + 0.05 * images.X_test.shape[1]
    samples = vae.sample(20, random_state=0)
    assert samples.min() >= 0 and samples.max() <= 1  # probabilities, as with "bce"


@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_denoising_autoencoder_maps_noisy_images_closer_to_the_clean_ones(images, architecture):
    level = 0.3
    X_test = images.X_test
    noisy = X_test + level * np.random.RandomState(0).standard_normal(X_test.shape)
    ae = AutoencoderTransformer(
        n_components=16, architecture=architecture, image_shape=images.image_shape,
        conv_channels=(16, 32), noise="gaussian", noise_level=level,
        max_epochs=images.epochs, random_state=0,
    ).fit(images.X_train)
    denoised = ae.inverse_transform(ae.transform(noisy))
    noisy_mse = np.mean((noisy - X_test) ** 2)
    assert np.mean((denoised - X_test) ** 2) <= 0.5 * noisy_mse


@pytest.mark.parametrize("noise", ["mask", "salt_pepper"])
def test_noise_is_only_applied_while_training(images, noise):
    ae = AutoencoderTransformer(n_components=2, hidden_layer_sizes=(32,), noise=noise,
                                noise_level=0.5, max_epochs=2, random_state=0)
    ae.fit(images.X_train[:300])
    clean = AutoencoderTransformer(n_components=2, hidden_layer_sizes=(32,), max_epochs=2,
                                   random_state=0).fit(images.X_train[:300])
    assert not np.allclose(ae.transform(images.X_test), clean.transform(images.X_test))
    # scores and codes are deterministic: no noise outside training
    np.testing.assert_array_equal(ae.score_samples(images.X_test),
                                  ae.score_samples(images.X_test))
    assert ae.net_.module_.training is False


def test_conv_vae_with_the_notebooks_16_unit_layer_uses_both_dimensions():
    """The Keras notebook's 2-D conv VAE (16 dense units) collapsed one dimension or both;
    the defaults (centred input, decoder started at the mean, KL warm-up) keep both."""
    from skvae.metrics import kl_per_dimension

    home = os.environ.get("SKVAE_DATA_HOME")
    if not (home and (Path(home) / "mnist.npz").exists()):
        pytest.skip("needs mnist.npz in SKVAE_DATA_HOME")
    d = load_mnist()
    vae = VAETransformer(2, architecture="conv", image_shape=(1, 28, 28),
                         hidden_layer_sizes=(16,), reconstruction_loss="bce", max_epochs=3,
                         random_state=0).fit(d.X_train[:10000])
    assert kl_per_dimension(vae, d.X_test[:2000]).min() > 0.5  # nats; 0 is a dead dimension


def test_a_linear_autoencoder_of_faces_gets_close_to_pca():
    """Uncentred 4096-pixel faces left a linear AE at 2.6x PCA's error after 150 epochs;
    with the encoder's input centred it is within 1.1x."""
    from skvae.datasets import load_olivetti_faces

    home = os.environ.get("SKVAE_DATA_HOME")
    if not (home and (Path(home) / "olivetti_faces.npz").exists()):
        pytest.skip("needs olivetti_faces.npz in SKVAE_DATA_HOME")
    faces = load_olivetti_faces(mirror=True)
    X_train, X_test = train_test_split(faces.data, test_size=0.2, stratify=faces.target,
                                       random_state=0)
    ae = AutoencoderTransformer(16, hidden_layer_sizes=(), max_epochs=150, batch_size=32,
                                lr=3e-3, random_state=0).fit(X_train)
    pca = PCA(16).fit(X_train)
    assert reconstruction_mse(ae, X_test) <= 1.1 * reconstruction_mse(pca, X_test)
