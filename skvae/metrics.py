"""Metrics for comparing embeddings and reconstructions (scikit-learn underneath).

* :func:`reconstruction_mse` -- held-out mean squared error of ``inverse_transform(transform(X))``.
* :func:`knn_accuracy` -- how well a k-NN classifier trained on codes predicts labels.
* :func:`trustworthiness` -- re-exported from :func:`sklearn.manifold.trustworthiness`.
* :func:`kl_per_dimension` -- a VAE's KL per latent dimension on any rows (which are used).
* :func:`evaluate` -- fit a transformer and report all of the above on held-out rows.
* :func:`compare` -- :func:`evaluate` for several methods at once (PCA, t-SNE, the
  autoencoder and the VAE by default, see :mod:`skvae.comparison`), as a
  :class:`pandas.DataFrame`.

t-SNE (:class:`sklearn.manifold.TSNE`) has no ``transform``: it cannot embed new rows.
:func:`compare` therefore runs such methods' ``fit_transform`` on the training rows and
the test rows together and measures the test rows' part of that embedding; the table's
``note`` column says so, and their transform time and reconstruction error are missing.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "compare", "evaluate", "is_classification", "kl_per_dimension", "knn_accuracy", "knn_r2",
    "name_estimators", "reconstruction_mse", "trustworthiness",
]

#: The ``note`` of methods that can only embed the rows they were fitted on.
TRANSDUCTIVE_NOTE = "no transform(): fit_transform on train + test rows"


def reconstruction_mse(estimator, X) -> float:
    """Compute the mean squared error between ``X`` and its reconstruction by ``estimator``.

    Works for any transformer with ``inverse_transform`` (PCA, skvae's estimators).

    Parameters
    ----------
    estimator : fitted transformer
        Anything with ``transform`` and ``inverse_transform``.
    X : array-like of shape (n_samples, n_features)
        Numeric rows (held-out ones, for a fair measure).

    Returns
    -------
    mse : float
        ``mean((inverse_transform(transform(X)) - X) ** 2)`` over all values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skvae.metrics import reconstruction_mse
    >>> X = np.random.RandomState(0).rand(20, 3)
    >>> round(reconstruction_mse(PCA(3).fit(X), X), 12)
    0.0
    >>> round(reconstruction_mse(PCA(1).fit(X), X), 4)
    0.0415
    """
    X_hat = estimator.inverse_transform(estimator.transform(X))
    X_hat, X = np.asarray(X_hat, dtype=np.float64), np.asarray(X, dtype=np.float64)
    return float(np.mean((X_hat - X) ** 2))


def kl_per_dimension(vae, X) -> np.ndarray:
    """Compute a VAE's mean KL divergence from the prior per latent dimension, over ``X``.

    ``KL(q(z_j | x) || N(0, 1))`` averaged over the rows, in nats: a dimension near 0
    carries no information about the rows ("inactive", collapsed); ``fit`` records the
    training epochs' values as ``history_[:, "train_kl_dims"]`` and warns with
    :class:`~skvae.exceptions.PosteriorCollapseWarning`. This measures held-out rows.

    Parameters
    ----------
    vae : fitted VAETransformer
        The model.
    X : array-like of shape (n_samples, n_features)
        Rows like the training ones.

    Returns
    -------
    kl : ndarray of shape (n_components,)
        Each latent dimension's mean KL, in nats per row; they sum to the mean KL term
        of the ELBO.

    Raises
    ------
    TypeError
        When ``vae`` has no posterior (an :class:`~skvae.AutoencoderTransformer`).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> from skvae.metrics import kl_per_dimension
    >>> X = load_digits().data / 16
    >>> vae = VAETransformer(2, max_epochs=20, random_state=0).fit(X[:1000])
    >>> kl = kl_per_dimension(vae, X[1000:])
    >>> kl.shape, bool((kl > 0.5).all())  # both dimensions in use on held-out digits
    ((2,), True)
    """
    from ._data import map_batches
    from ._validation import check_values, validate_rows
    from .likelihoods import gaussian_kl
    from .vae import VAETransformer

    if not isinstance(vae, VAETransformer):
        raise TypeError(
            f"kl_per_dimension needs a fitted VAETransformer; got {type(vae).__name__}, whose "
            "codes have no posterior distribution. Fit a VAETransformer instead.")
    check_is_fitted(vae)
    X = validate_rows(vae, X)
    missing = check_values(X)
    module = vae._eval_module()

    def batch(x):
        mu, logvar = module.encode(vae._model_input(x, missing))
        return gaussian_kl(mu, logvar, per_dimension=True)

    return map_batches(batch, X, vae._device).astype(np.float64).mean(axis=0)


def knn_accuracy(Z_train, y_train, Z_test, y_test, n_neighbors: int = 5) -> float:
    """Score a k-NN classifier fit on ``(Z_train, y_train)`` by its accuracy on the test rows.

    Parameters
    ----------
    Z_train : array-like of shape (n_train, n_components)
        Codes of the training rows.
    y_train : array-like of shape (n_train,)
        Class labels of the training rows.
    Z_test : array-like of shape (n_test, n_components)
        Codes of the held-out rows.
    y_test : array-like of shape (n_test,)
        Class labels of the held-out rows.
    n_neighbors : int, default=5
        Neighbours of the k-NN classifier.

    Returns
    -------
    score : float
        The fraction of held-out rows whose label the classifier predicts.

    Examples
    --------
    >>> from skvae.metrics import knn_accuracy
    >>> knn_accuracy([[0], [1], [10], [11]], [0, 0, 1, 1], [[0.5], [10.5]], [0, 1], 1)
    1.0
    """
    clf = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
    return float(clf.score(Z_test, y_test))


def knn_r2(Z_train, y_train, Z_test, y_test, n_neighbors: int = 5) -> float:
    """Score a k-NN regressor fit on ``(Z_train, y_train)`` by its R² on the test rows.

    The counterpart of :func:`knn_accuracy` for a continuous target (e.g. a price):
    1 when neighbours in the embedding share the target, about 0 or below when the
    embedding says nothing about it.

    Parameters
    ----------
    Z_train : array-like of shape (n_train, n_components)
        Codes of the training rows.
    y_train : array-like of shape (n_train,)
        Continuous target of the training rows.
    Z_test : array-like of shape (n_test, n_components)
        Codes of the held-out rows.
    y_test : array-like of shape (n_test,)
        Continuous target of the held-out rows.
    n_neighbors : int, default=5
        Neighbours of the k-NN regressor.

    Returns
    -------
    score : float
        The coefficient of determination of the predictions (at most 1).

    Examples
    --------
    >>> from skvae.metrics import knn_r2
    >>> knn_r2([[0], [1], [10], [11]], [1.0, 1.0, 5.0, 5.0], [[0.5], [10.5]], [1.0, 5.0], 2)
    1.0
    """
    reg = KNeighborsRegressor(n_neighbors=n_neighbors).fit(Z_train, y_train)
    return float(reg.score(Z_test, y_test))


def evaluate(model, X_train, X_test, y_train, y_test) -> dict:
    """Fit ``model`` on ``X_train`` and measure it on the held-out ``X_test``.

    Parameters
    ----------
    model : transformer
        Anything with ``fit``, ``transform`` and ``inverse_transform``; fitted in place.
    X_train : array-like of shape (n_train, n_features)
        Training rows.
    X_test : array-like of shape (n_test, n_features)
        Held-out rows.
    y_train : array-like of shape (n_train,)
        Class labels of the training rows (only for the k-NN accuracy).
    y_test : array-like of shape (n_test,)
        Class labels of the held-out rows.

    Returns
    -------
    metrics : dict
        ``fit_s`` (seconds), ``test_mse`` (:func:`reconstruction_mse`), ``knn5_acc``
        (:func:`knn_accuracy` of the codes, 5 neighbours) and ``trustworthiness`` (of
        the test codes, 5 neighbours).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skvae.metrics import evaluate
    >>> X = np.random.RandomState(0).rand(60, 4)
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> metrics = evaluate(PCA(2), X[:40], X[40:], y[:40], y[40:])
    >>> sorted(metrics)
    ['fit_s', 'knn5_acc', 'test_mse', 'trustworthiness']
    >>> round(metrics["test_mse"], 4), metrics["knn5_acc"]
    (0.0532, 0.65)
    """
    row, _ = _measure(model, X_train, X_test, _as_matrix(X_train), _as_matrix(X_test), y_train,
                      y_test, n_neighbors=5, knn_score=knn_accuracy)
    return {"fit_s": row["fit_s"], "test_mse": row["test_mse"], "knn5_acc": row["knn"],
            "trustworthiness": row["trustworthiness"]}


def compare(estimators=None, X=None, y=None, *, X_test=None, y_test=None, test_size=0.2,
            n_neighbors=5, random_state=0, return_estimators=False, return_codes=False):
    """Fit several dimensionality reducers on the same rows and measure them side by side.

    Each estimator is cloned, fitted on the training rows and measured on the held-out
    rows: fit and transform seconds, reconstruction MSE (where ``inverse_transform``
    exists), trustworthiness and, with labels, the k-NN accuracy of the codes (k-NN R²
    for a continuous ``y``). Methods without ``transform`` (t-SNE) run ``fit_transform``
    on the training and test rows together, and the test rows' part is measured.

    Parameters
    ----------
    estimators : dict of str to estimator, list of estimators, or None
        The methods (pipelines work too), named as :func:`name_estimators` does.
        ``None`` means :func:`skvae.comparison.default_estimators` with 2 components.
    X : array-like of shape (n_samples, n_features)
        Numeric rows (distances and errors are measured in this space). Kept as given
        when passed to the estimators, so a DataFrame's column names reach them.
    y : array-like of shape (n_samples,), default=None
        Labels or a continuous target; used only to score the embeddings.
    X_test, y_test : array-like, default=None
        Held-out rows; when omitted, ``test_size`` of ``X`` is held out.
    test_size : float, default=0.2
        Held-out fraction when ``X_test`` is not given (stratified by ``y`` when it
        holds class labels).
    n_neighbors : int, default=5
        Neighbours for trustworthiness and the k-NN score.
    random_state : int, default=0
        Seeds the split.
    return_estimators : bool, default=False
        Also return the fitted clones (a dict by name). A transductive method's
        ``embedding_`` holds the training rows followed by the test rows.
    return_codes : bool, default=False
        Also return each method's codes of the held-out rows (a dict by name of
        ``(n_test, n_components)`` arrays; for a transductive method, its test rows'
        part of the joint embedding).

    Returns
    -------
    table : pandas.DataFrame
        One row per method: ``method``, ``n_components``, ``fit_s``, ``transform_s``,
        ``test_mse``, ``trustworthiness``, ``knn_accuracy`` or ``knn_r2`` (with ``y``),
        ``note``.
    fitted : dict
        Only with ``return_estimators=True``.
    codes : dict
        Only with ``return_codes=True`` (after ``fitted`` when both are asked for).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.manifold import TSNE
    >>> from skvae.metrics import compare
    >>> X, y = load_iris(return_X_y=True)
    >>> table, codes = compare({"PCA": PCA(2), "t-SNE": TSNE(2, random_state=0)}, X, y,
    ...                        return_codes=True)
    >>> table[["method", "n_components"]].to_dict("list")
    {'method': ['PCA', 't-SNE'], 'n_components': [2, 2]}
    >>> bool(table["test_mse"].isna().tolist() == [False, True])
    True
    >>> codes["t-SNE"].shape  # the 30 held-out rows
    (30, 2)
    """
    if X is None:
        raise TypeError("compare() needs the data: compare(estimators, X, y).")
    if estimators is None:
        from .comparison import default_estimators  # the estimators import this module

        estimators = default_estimators()
    estimators = name_estimators(estimators)
    if X_test is None:
        stratify = y if y is not None and is_classification(y) else None
        X, X_test, y, y_test = _split(X, y, test_size, random_state, stratify)
    A, A_test = _as_matrix(X), _as_matrix(X_test)  # once, before any fit
    knn_name, knn_score = _knn_metric(y)
    rows, fitted, codes = [], {}, {}
    for name, estimator in estimators.items():
        model = clone(estimator)
        row, codes[name] = _measure(model, X, X_test, A, A_test, y, y_test, n_neighbors,
                                    knn_score)
        if knn_name is not None:
            row[knn_name] = row.pop("knn")
        rows.append({"method": name, **row})
        fitted[name] = model
    columns = ["method", "n_components", "fit_s", "transform_s", "test_mse",
               "trustworthiness", *([] if knn_name is None else [knn_name]), "note"]
    table = pd.DataFrame(rows, columns=columns)
    extra = [fitted] * return_estimators + [codes] * return_codes
    return (table, *extra) if extra else table


def name_estimators(estimators) -> dict:
    """Name a list of estimators by class, numbering repeats; a dict keeps its names.

    The one naming rule of :func:`compare` and the plots.

    Parameters
    ----------
    estimators : dict, list or tuple of estimators, or one estimator
        The methods.

    Returns
    -------
    named : dict of str to estimator
        In the given order. The second ``PCA`` of a list is ``"PCA (1)"``, the third
        ``"PCA (2)"``.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.manifold import Isomap
    >>> from skvae.metrics import name_estimators
    >>> list(name_estimators([PCA(2), Isomap(), PCA(3)]))
    ['PCA', 'Isomap', 'PCA (1)']
    >>> list(name_estimators({"mine": PCA(2)}))
    ['mine']
    """
    if isinstance(estimators, dict):
        return dict(estimators)
    if not isinstance(estimators, (list, tuple)):
        estimators = [estimators]
    named, seen = {}, {}
    for estimator in estimators:
        name = type(estimator).__name__
        named[name if name not in seen else f"{name} ({seen[name]})"] = estimator
        seen[name] = seen.get(name, 0) + 1
    return named


def is_classification(y) -> bool:
    """Tell whether ``y`` holds class labels (binary or multiclass), not a continuous value.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels or a target.

    Returns
    -------
    classes : bool
        True for class labels (scored by k-NN accuracy), False otherwise (k-NN R²).

    Examples
    --------
    >>> from skvae.metrics import is_classification
    >>> is_classification([0, 1, 2, 1]), is_classification([0.5, 1.7, 2.25])
    (True, False)
    """
    return type_of_target(y) in ("binary", "multiclass")


def _split(X, y, test_size, random_state, stratify):
    if y is None:
        X_train, X_test = train_test_split(X, test_size=test_size, random_state=random_state)
        return X_train, X_test, None, None
    return train_test_split(X, y, test_size=test_size, random_state=random_state,
                            stratify=stratify)


def _knn_metric(y):
    if y is None:
        return None, None
    if is_classification(y):
        return "knn_accuracy", knn_accuracy
    return "knn_r2", knn_r2


def _as_matrix(X) -> np.ndarray:
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"compare() measures distances in X, so X must be numeric, but it is not ({exc}). "
            "Encode categorical columns first, e.g. skvae.tabular.TableLayout().fit(df)"
            ".transform(df) or OneHotEncoder in a ColumnTransformer."
        ) from None


def _measure(model, X, X_test, A, A_test, y, y_test, n_neighbors, knn_score):
    """Fit ``model`` and measure it on the held-out rows: ``(row, test codes)``.

    ``X`` / ``X_test`` go to the model as given; ``A`` / ``A_test`` are the same rows as
    float64 arrays, converted once by :func:`compare`, in which errors are measured.
    """
    row = {"transform_s": np.nan, "test_mse": np.nan, "note": ""}
    start = time.perf_counter()
    if hasattr(model, "transform"):
        model.fit(X)
        row["fit_s"] = time.perf_counter() - start
        start = time.perf_counter()
        Z_test = np.asarray(model.transform(X_test))
        row["transform_s"] = time.perf_counter() - start
        Z_train = np.asarray(model.transform(X))
        if hasattr(model, "inverse_transform"):  # reconstruction_mse, reusing Z_test
            X_hat = np.asarray(model.inverse_transform(Z_test), dtype=np.float64)
            row["test_mse"] = float(np.mean((X_hat - A_test) ** 2))
    else:  # transductive: one embedding of the training rows, then the test rows
        Z = np.asarray(model.fit_transform(np.vstack([A, A_test])))
        row["fit_s"] = time.perf_counter() - start
        Z_train, Z_test = Z[:len(A)], Z[len(A):]
        row["note"] = TRANSDUCTIVE_NOTE
    row["n_components"] = int(Z_test.shape[1])
    row["trustworthiness"] = float(trustworthiness(A_test, Z_test, n_neighbors=n_neighbors))
    if knn_score is not None:
        row["knn"] = knn_score(Z_train, y, Z_test, y_test, n_neighbors)
    return row, Z_test


def __getattr__(name):
    """``skvae.metrics.default_estimators`` moved to :mod:`skvae.comparison` (0.1.1)."""
    if name == "default_estimators":
        import warnings

        from .comparison import default_estimators

        warnings.warn(
            "skvae.metrics.default_estimators moved to skvae.comparison.default_estimators; "
            "import it from there.", DeprecationWarning, stacklevel=2)
        return default_estimators
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
