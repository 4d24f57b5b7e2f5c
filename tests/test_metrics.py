"""Metrics."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skvae.metrics import knn_accuracy, reconstruction_mse


def test_reconstruction_mse_of_pca_equals_the_discarded_variance():
    X = np.random.RandomState(0).randn(500, 5) * [3, 2, 1, 0.5, 0.1]
    pca = PCA(n_components=3).fit(X)
    discarded = pca.explained_variance_  # kept components
    total = np.var(X, axis=0, ddof=1).sum()
    expected = (total - discarded.sum()) * (len(X) - 1) / len(X) / X.shape[1]
    assert reconstruction_mse(pca, X) == pytest.approx(expected, rel=1e-6)


def test_knn_accuracy_separates_clusters_and_fails_on_noise():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 50)
    Z = rng.randn(100, 2) + 6 * y[:, None]
    assert knn_accuracy(Z[::2], y[::2], Z[1::2], y[1::2]) == 1.0
    noise = rng.randn(100, 2)
    assert knn_accuracy(noise[::2], y[::2], noise[1::2], y[1::2]) < 0.75
