"""Metrics for comparing embeddings and reconstructions (scikit-learn underneath).

* :func:`reconstruction_mse` -- held-out mean squared error of ``inverse_transform(transform(X))``.
* :func:`knn_accuracy` -- how well a k-NN classifier trained on codes predicts labels.
* :func:`trustworthiness` -- re-exported from :func:`sklearn.manifold.trustworthiness`.
"""

from __future__ import annotations

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier

__all__ = ["knn_accuracy", "reconstruction_mse", "trustworthiness"]


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
