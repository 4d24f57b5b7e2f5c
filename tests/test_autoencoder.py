"""AutoencoderTransformer: quality against PCA on held-out digits, sampling, scoring."""

import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from skvae import AutoencoderTransformer
from skvae.metrics import knn_accuracy, reconstruction_mse


@pytest.fixture(scope="module")
def fitted_ae(digits_split):
    X_train = digits_split[0]
    # documented defaults plus only max_epochs and batch_size
    return AutoencoderTransformer(n_components=2, max_epochs=100, batch_size=128,
                                  random_state=0).fit(X_train)


def test_reconstruction_beats_pca_on_held_out_digits(fitted_ae, digits_split):
    X_train, X_test, _, _ = digits_split
    pca = PCA(n_components=2).fit(X_train)
    assert reconstruction_mse(fitted_ae, X_test) <= 0.75 * reconstruction_mse(pca, X_test)


def test_codes_separate_classes_better_than_pca(fitted_ae, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pca = PCA(n_components=2).fit(X_train)
    pca_acc = knn_accuracy(pca.transform(X_train), y_train, pca.transform(X_test), y_test)
    ae_acc = knn_accuracy(fitted_ae.transform(X_train), y_train,
                          fitted_ae.transform(X_test), y_test)
    assert ae_acc >= pca_acc + 0.15


def test_score_samples_is_negative_reconstruction_mse(fitted_ae, digits_split):
    X_test = digits_split[1]
    X_hat = fitted_ae.inverse_transform(fitted_ae.transform(X_test))
    np.testing.assert_allclose(fitted_ae.score_samples(X_test),
                               -np.mean((X_hat - X_test) ** 2, axis=1), rtol=1e-4, atol=1e-6)
    assert fitted_ae.score(X_test) == pytest.approx(fitted_ae.score_samples(X_test).mean())


def test_sample_draws_from_the_code_density(fitted_ae, digits_split):
    X_train = digits_split[0]
    samples = fitted_ae.sample(500, random_state=0)
    assert samples.shape == (500, 64)
    np.testing.assert_array_equal(samples, fitted_ae.sample(500, random_state=0))
    assert not np.array_equal(samples, fitted_ae.sample(500, random_state=1))
    # generated digits look like digits: their codes land where training codes are
    codes = fitted_ae.transform(samples)
    train_codes = fitted_ae.transform(X_train)
    density = fitted_ae.latent_density_
    assert density.score(codes) > density.score(train_codes) - 3.0
    assert np.abs(samples.mean(axis=0) - X_train.mean(axis=0)).mean() < 0.1


def test_the_code_density_is_fitted_on_first_use_as_fit_used_to(digits_split):
    X_train = digits_split[0]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32,), max_epochs=3,
                                random_state=0).fit(X_train)
    assert "_latent_density" not in ae.__dict__  # fit paid for one encoder pass only
    copy = pickle.loads(pickle.dumps(ae))
    samples = ae.sample(50, random_state=0)
    density = ae.__dict__["_latent_density"]
    # the mixture fit used to run at the end of fit: on the training codes, fit's seed
    eager = GaussianMixture(n_components=10, reg_covar=1e-4,
                            random_state=density.random_state).fit(
                                ae.transform(X_train).astype(np.float64))
    np.testing.assert_allclose(density.means_, eager.means_, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(copy.sample(50, random_state=0), samples)
    assert ae.latent_density_ is density  # fitted once


def test_bce_inverse_transform_returns_probabilities(digits_split):
    X_train = digits_split[0]
    ae = AutoencoderTransformer(reconstruction_loss="bce", max_epochs=3, random_state=0)
    X_hat = ae.fit(X_train).inverse_transform(ae.transform(X_train))
    assert X_hat.min() >= 0.0 and X_hat.max() <= 1.0


def test_linear_autoencoder_matches_pca_subspace(digits_split):
    X_train, X_test = digits_split[:2]
    ae = AutoencoderTransformer(n_components=4, hidden_layer_sizes=(), max_epochs=150,
                                lr=1e-2, random_state=0).fit(X_train)
    pca = PCA(n_components=4).fit(X_train)
    pca_mse, ae_mse = reconstruction_mse(pca, X_test), reconstruction_mse(ae, X_test)
    # a linear AE can at best find PCA's subspace: close to, never much below, PCA
    assert 0.97 * pca_mse <= ae_mse <= 1.1 * pca_mse
