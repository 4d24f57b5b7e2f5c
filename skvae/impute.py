"""Fill missing values from a fitted autoencoder or VAE, and an imputer for pipelines.

The estimators train on data with gaps (NaN, ``pd.NA``): missing entries are left out
of the reconstruction loss, so the model learns from the observed entries only. To
fill the gaps of a row, :func:`impute` encodes the row (its missing entries seen as
the training means, ``fill_values_``), decodes the code, and takes the decoder means
where the row has gaps; observed entries are returned as they are.

* Single imputation: ``impute(est, X)``, for either model.
* Multiple imputation (:class:`~skvae.VAETransformer` only): ``n_draws=k`` decodes
  ``k`` codes drawn from the posterior ``q(z | x)`` of each row, so the imputations
  vary as the model is unsure of the code (not by the likelihood's own noise).
* :class:`AutoencoderImputer` wraps either estimator as a scikit-learn imputer for a
  ``Pipeline`` (like :class:`~sklearn.impute.IterativeImputer`).

On a DataFrame with categorical columns a missing category is filled with the most
probable *known* category (a column whose training values had gaps also has a
"missing" category of its own, which imputation never returns).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _validation
from ._data import map_batches
from .likelihoods import decoder_mean

__all__ = ["AutoencoderImputer", "impute"]


def impute(estimator, X, n_draws=None, random_state=None):
    """Fill the missing values of ``X`` from a fitted skvae estimator's decoder.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator (trained on data with or without gaps).
    X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        Rows like the training ones; NaN (or ``pd.NA``) marks a missing value.
    n_draws : int or None, default=None
        None: one imputation from the posterior mean (the AE's code). An int
        (VAE only): that many imputations, each from a code drawn from ``q(z | x)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of ``n_draws``.

    Returns
    -------
    X_filled : ndarray or DataFrame, or a list of them with ``n_draws``
        ``X`` with every missing entry replaced (a dense array in ``X``'s float dtype,
        or a DataFrame with the training columns and dtypes).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> from skvae.impute import impute
    >>> X = load_digits().data[:300] / 16
    >>> X_gaps = X.copy()
    >>> X_gaps[::2, 20:30] = np.nan
    >>> vae = VAETransformer(8, hidden_layer_sizes=(64,), max_epochs=20, random_state=0)
    >>> filled = impute(vae.fit(X_gaps), X_gaps)
    >>> bool(np.isnan(filled).any()), np.array_equal(filled[1], X[1])  # rows without gaps
    (False, True)
    >>> len(impute(vae, X_gaps[:5], n_draws=3, random_state=0))
    3
    """
    check_is_fitted(estimator)
    features = _validation.validate_rows(estimator, X)
    _validation.check_values(features)
    features = features.toarray() if sp.issparse(features) else np.asarray(features)
    if n_draws is None:
        return _fill(estimator, X, features, _decoded(estimator, features, None))
    if not hasattr(estimator, "noise_variance_"):
        raise ValueError(
            f"n_draws={n_draws!r} needs a VAETransformer, whose posterior q(z | x) gives "
            f"the draws; {type(estimator).__name__} has one code per row. Use "
            "n_draws=None (one imputation), or a VAETransformer."
        )
    rng = check_random_state(random_state)
    return [_fill(estimator, X, features, _decoded(estimator, features, rng))
            for _ in range(int(n_draws))]


def _decoded(estimator, features, rng):
    """Decoder means of each row's code: the posterior mean, or a draw (``rng``)."""
    module = estimator._eval_module()
    kind, groups = estimator.reconstruction_loss, estimator.groups_
    seed = None if rng is None else int(rng.randint(np.iinfo(np.int32).max))

    def decode(x):
        x = estimator._model_input(x)
        if seed is None:
            code = estimator._encode(module, x)
        else:  # a posterior draw: mu + sigma * eps, eps seeded per call
            mu, logvar = module.encode(x)
            generator = torch.Generator(device=x.device).manual_seed(seed)
            eps = torch.randn(mu.shape, generator=generator, device=x.device)
            code = mu + torch.exp(0.5 * logvar) * eps
        return decoder_mean(module.decode(code), kind, groups)

    return map_batches(decode, features, estimator._device)


def _fill(estimator, X, features, decoded):
    """``X`` with its gaps taken from ``decoded`` (feature space)."""
    layout = estimator.layout_
    if layout is None:
        return np.where(np.isnan(features), decoded, features).astype(features.dtype, copy=False)
    decoded[:, layout.missing_features()] = 0.0  # never impute "missing"
    guesses = layout.inverse_transform(decoded)
    frame = X[layout.columns_].copy()
    for column in layout.columns_:
        gaps = frame[column].isna().to_numpy()
        if gaps.any():
            frame.loc[gaps, column] = guesses.loc[np.flatnonzero(gaps), column].to_numpy()
    return frame


class AutoencoderImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with a (variational) autoencoder, inside a Pipeline.

    ``fit`` trains a clone of ``estimator`` on the rows with their gaps (missing entries
    are masked out of the loss); ``transform`` fills the gaps with :func:`impute`.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer or None, default=None
        The model to train; None: ``VAETransformer(n_components=8)``.

    Attributes
    ----------
    estimator_ : AutoencoderTransformer or VAETransformer
        The fitted clone.
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> from skvae.impute import AutoencoderImputer
    >>> X = load_digits().data[:200] / 16
    >>> X[::3, 10] = np.nan
    >>> imputer = AutoencoderImputer(AutoencoderTransformer(4, hidden_layer_sizes=(32,),
    ...                                                     max_epochs=5, random_state=0))
    >>> bool(np.isnan(imputer.fit_transform(X)).any())
    False
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y=None):
        """Train the model on ``X`` (NaN are missing values).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training rows with gaps.
        y : None
            Ignored.

        Returns
        -------
        self : AutoencoderImputer
            The fitted imputer.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer
        >>> from skvae.impute import AutoencoderImputer
        >>> X = np.random.RandomState(0).rand(50, 4)
        >>> X[::5, 1] = np.nan
        >>> imputer = AutoencoderImputer(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=2, random_state=0)).fit(X)
        >>> imputer.estimator_.n_features_in_
        4
        """
        from .vae import VAETransformer

        base = VAETransformer(n_components=8) if self.estimator is None else self.estimator
        self.estimator_ = clone(base).fit(X)
        self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self

    def transform(self, X):
        """Fill the gaps of ``X`` from the model's decoder.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows with gaps.

        Returns
        -------
        X_filled : ndarray or DataFrame of shape (n_samples, n_features)
            ``X`` with every missing value replaced.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer
        >>> from skvae.impute import AutoencoderImputer
        >>> X = np.random.RandomState(0).rand(50, 4)
        >>> X[::5, 1] = np.nan
        >>> imputer = AutoencoderImputer(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=2, random_state=0)).fit(X)
        >>> bool(np.isnan(imputer.transform(X)).any())
        False
        """
        check_is_fitted(self)
        return impute(self.estimator_, X)

    def get_feature_names_out(self, input_features=None):
        """The input feature names (imputation keeps the columns).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names seen during fit are used.

        Returns
        -------
        names : ndarray of str
            One name per column.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer
        >>> from skvae.impute import AutoencoderImputer
        >>> X = np.random.RandomState(0).rand(50, 4)
        >>> X[::5, 1] = np.nan
        >>> imputer = AutoencoderImputer(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=2, random_state=0)).fit(X)
        >>> imputer.get_feature_names_out().tolist()
        ['x0', 'x1', 'x2', 'x3']
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags
