"""Metrics for comparing embeddings and reconstructions (scikit-learn underneath).

* :func:`reconstruction_mse` -- held-out mean squared error of ``inverse_transform(transform(X))``.
* :func:`knn_accuracy` -- how well a k-NN classifier trained on codes predicts labels.
* :func:`trustworthiness` -- re-exported from :func:`sklearn.manifold.trustworthiness`.
* :func:`evaluate` -- fit a transformer and report all of the above on held-out rows.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier

__all__ = ["evaluate", "knn_accuracy", "reconstruction_mse", "trustworthiness"]


def reconstruction_mse(estimator, X) -> float:
    """Mean squared error between ``X`` and its reconstruction by a fitted ``estimator``.

    Works for any transformer with ``inverse_transform`` (PCA, skvae's estimators).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.RandomState(0).rand(20, 3)
    >>> round(reconstruction_mse(PCA(3).fit(X), X), 12)
    0.0
    """
    X = np.asarray(X, dtype=np.float64)
    X_hat = estimator.inverse_transform(estimator.transform(X))
    return float(np.mean((np.asarray(X_hat, dtype=np.float64) - X) ** 2))


def knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors: int = 5) -> float:
    """Accuracy on ``(Z_test, y_test)`` of a k-NN classifier fit on ``(Z_train, y_train)``.

    Examples
    --------
    >>> knn_accuracy([[0], [1], [10], [11]], [0, 0, 1, 1], [[0.5], [10.5]], [0, 1], 1)
    1.0
    """
    clf = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
    return float(clf.score(Z_test, y_test))


def evaluate(model, X_train, X_test, y_train, y_test) -> dict:
    """Fit ``model`` on ``X_train`` and measure it on the held-out ``X_test``.

    Returns ``fit_s`` (seconds), ``test_mse`` (:func:`reconstruction_mse`),
    ``knn5_acc`` (:func:`knn_accuracy` of the codes, 5 neighbours) and
    ``trustworthiness`` (of the test codes, 5 neighbours).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.RandomState(0).rand(60, 4)
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> sorted(evaluate(PCA(2), X[:40], X[40:], y[:40], y[40:]))
    ['fit_s', 'knn5_acc', 'test_mse', 'trustworthiness']
    """
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    return {
        "fit_s": fit_s,
        "test_mse": reconstruction_mse(model, X_test),
        "knn5_acc": knn_accuracy(Z_train, y_train, Z_test, y_test),
        "trustworthiness": float(trustworthiness(X_test, Z_test, n_neighbors=5)),
    }
