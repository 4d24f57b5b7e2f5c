"""Outlier detection with a fitted autoencoder or VAE, in scikit-learn's convention.

:class:`OutlierDetector` wraps :class:`~skvae.AutoencoderTransformer` or
:class:`~skvae.VAETransformer` as a scikit-learn outlier detector, like
:class:`~sklearn.ensemble.IsolationForest`: a row the model reconstructs badly (the
autoencoder), or whose evidence lower bound is low (the VAE), is an outlier.

* ``score_samples`` (higher is more normal): the model's own score (minus the mean
  reconstruction loss for the AE, the ELBO for the VAE), or with
  ``scoring="per_feature"`` minus the mean of each row's reconstruction terms, each
  squared error measured against that feature's own residual variance on the
  training rows.
  With ``scoring="pathway"``, the log-density of the row's *pathway*: the
  differences between the encoder's hidden activations of the row and of its
  reconstruction (RAPP, Kim et al. 2020; :mod:`skvae._pathway`).
* ``decision_function = score_samples - offset_`` and ``predict`` (+1 inlier, -1
  outlier), where ``offset_`` is the ``contamination`` quantile of the training scores.
* ``feature_scores``: which features make a row an outlier, for attribution: each
  feature's term of the reconstruction's negative log-likelihood.

:func:`skvae.plotting.plot_outliers` draws the most anomalous rows and their top features.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _validation
from ._data import evenly_spaced_rows, map_batches
from ._pathway import fit_pathway_density, pathway_scores
from .autoencoder import AutoencoderTransformer
from .likelihoods import _block_log_softmax, _elementwise_loss, reconstruction_error
from .vae import VAETransformer

__all__ = ["OutlierDetector"]

#: What :class:`OutlierDetector` can rank rows by (see its ``scoring``).
SCORINGS = ("estimator", "per_feature", "pathway")
#: Training rows (evenly spaced) on which the residual variances are estimated, and
#: most squared errors held at once for it (64 MB).
VARIANCE_ROWS, VARIANCE_VALUES = 10_000, 2**24
#: Each feature's residual variance is at least this share of the features' mean: a
#: feature that the model always reconstructs exactly (a pixel dark in every training
#: image) must not make any ink there infinitely unlikely. On one-class Fashion-MNIST
#: (validation rows, 10 tasks) floors of 1%, 10% and 30% gave mean ROC AUCs of 0.919,
#: 0.919 and 0.918.
VARIANCE_FLOOR = 0.01


class OutlierDetector(OutlierMixin, BaseEstimator):
    """Detect outliers as the rows an autoencoder or a VAE explains worst.

    ``fit`` trains a clone of ``estimator`` on ``X`` (assumed mostly normal) and sets
    the threshold ``offset_`` so that a share ``contamination`` of the training rows
    score below it. A row's score is the model's ``score_samples``: minus the mean
    per-feature reconstruction loss for :class:`~skvae.AutoencoderTransformer`, the
    ELBO in nats for :class:`~skvae.VAETransformer`. With ``scoring="per_feature"`` it
    is minus the mean of the row's :meth:`feature_scores` instead: the row is decoded
    from its code and each feature's squared error is divided by twice that feature's
    residual variance over the training rows (``residual_variance_``), so that an
    error counts by how unusual it is *for that feature* (a Gaussian likelihood with
    one variance per feature, in nats up to a constant); one-hot blocks count their
    cross-entropy, ``"bce"`` features their binary cross-entropy.
    :meth:`feature_scores` says which features of a row make it anomalous.

    Inputs are the wrapped estimator's: arrays, sparse matrices, DataFrames (with
    categorical columns too), NaN as missing values (left out of the scores).

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer or None, default=None
        The unfitted model; it is cloned by ``fit``. None: ``AutoencoderTransformer()``.
    contamination : float in (0, 0.5], default=0.1
        The expected share of outliers in the training data: the threshold
        ``offset_`` is this quantile of the training rows' scores.
    scoring : {"estimator", "per_feature", "pathway"}, default="estimator"
        ``"estimator"``: ``estimator_.score_samples`` (the AE: one scale for every
        feature; the VAE: the ELBO). ``"per_feature"``: each feature's error in units
        of its own training error, as described above. ``"pathway"``: the row and
        its reconstruction both go through the encoder, and the differences of their
        hidden activations and codes are scored by a Gaussian fitted to those of the
        training rows (``pathway_density_``; RAPP, see :mod:`skvae._pathway`).
        ``benchmarks/bench_outliers.py``: ``"pathway"`` ranks images best, and single
        corrupted table cells worst: there ``"per_feature"`` wins (user guide).

    Attributes
    ----------
    estimator_ : AutoencoderTransformer or VAETransformer
        The fitted clone of ``estimator``.
    residual_variance_ : ndarray of shape (n_model_features,) or None
        Each model feature's mean squared reconstruction error over the training rows
        (up to 10,000 evenly spaced ones), at least 1% of the features' mean; NaN for
        the features of one-hot blocks. None for ``reconstruction_loss="bce"`` (its
        terms are already likelihoods).
    pathway_density_ : sklearn.covariance.LedoitWolf
        The Gaussian of the training rows' pathways (up to 10,000 evenly spaced
        rows), which ``scoring="pathway"`` scores rows by.
    offset_ : float
        The threshold on ``score_samples``: the ``contamination`` quantile of the
        training rows' scores (scikit-learn's name, as in
        :class:`~sklearn.ensemble.IsolationForest`). ``decision_function`` is
        ``score_samples - offset_``.
    n_features_in_ : int
        Number of features (columns) seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the columns seen during fit, when ``X`` had string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outliers by random isolation trees.
    sklearn.covariance.EllipticEnvelope : Outliers of a Gaussian distribution.
    skvae.plotting.plot_outliers : The most anomalous rows and their top features.

    Notes
    -----
    The scores are the model's, so the detector is as good as the model is at
    reconstructing normal rows and *only* them: train on clean data when you have
    it (a one-class setting), keep the code small (``n_components``) so that the
    model cannot learn to copy any row, and stop before it overfits. Scores are
    deterministic and each row's does not depend on the others in the call.

    The threshold is in-sample, as scikit-learn's checks require: ``predict`` flags
    ``contamination`` of the training rows. New normal rows, which the model (and
    with ``"pathway"`` its Gaussian) was not fitted to, score lower, so more of them
    are flagged (figures in the user guide). To flag a share of new normal rows, set
    ``offset_`` to that quantile of held-out normal rows' ``score_samples``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.metrics import roc_auc_score
    >>> from skvae import AutoencoderTransformer, OutlierDetector
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> detector = OutlierDetector(AutoencoderTransformer(
    ...     4, hidden_layer_sizes=(32,), max_epochs=20, batch_size=32, random_state=0))
    >>> detector = detector.fit(X[y == 0][:150])  # zeros only
    >>> float(detector.predict(X[y == 0][:150]).tolist().count(-1) / 150)  # contamination
    0.1
    >>> auc = roc_auc_score(y[1500:] != 0, -detector.score_samples(X[1500:]))
    >>> bool(auc > 0.95)  # the other digits score lower than held-out zeros
    True
    """

    _parameter_constraints: dict = {
        "estimator": [AutoencoderTransformer, VAETransformer, None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "scoring": [StrOptions(set(SCORINGS))],
    }

    def __init__(self, estimator=None, *, contamination=0.1, scoring="estimator"):
        self.estimator = estimator
        self.contamination = contamination
        self.scoring = scoring

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the model on ``X`` and set the threshold from the training scores.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training rows, mostly normal ones (NaN are missing values).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : OutlierDetector
            The fitted detector.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer, OutlierDetector
        >>> X = np.random.RandomState(0).rand(100, 4)
        >>> detector = OutlierDetector(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=2, random_state=0), contamination=0.2)
        >>> detector = detector.fit(X)
        >>> float((detector.score_samples(X) < detector.offset_).mean())
        0.2
        """
        base = AutoencoderTransformer() if self.estimator is None else self.estimator
        self.estimator_ = clone(base).fit(X)
        self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        features, missing = _validated(self.estimator_, X)
        self.residual_variance_ = _residual_variance(self.estimator_, features, missing)
        self.pathway_density_ = fit_pathway_density(self.estimator_, features, missing,
                                                    VARIANCE_ROWS)
        # as IsolationForest: the rows strictly below this quantile are the outliers
        self.offset_ = float(np.quantile(self.score_samples(X), self.contamination))
        return self

    def score_samples(self, X):
        """Each row's score: the lower, the more abnormal.

        ``scoring="estimator"``: ``estimator_.score_samples(X)``, minus the mean
        per-feature reconstruction loss (:class:`~skvae.AutoencoderTransformer`) or
        the ELBO in nats (:class:`~skvae.VAETransformer`). ``"per_feature"``: minus
        the mean of the row's likelihood terms (:meth:`feature_scores`; a one-hot
        block is one term), each squared error in units of its feature's residual
        variance. ``"pathway"``: the log-density (nats, up to a constant) of the
        differences between the encoder's activations of the row and of its
        reconstruction, under the Gaussian of the training rows' (``pathway_density_``).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows like the training ones.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            One score per row, in float64.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer, OutlierDetector
        >>> X = np.random.RandomState(0).rand(100, 4)
        >>> detector = OutlierDetector(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=5, random_state=0)).fit(X)
        >>> normal, far = detector.score_samples(np.r_[X[:1], X[:1] + 5])
        >>> bool(far < normal)
        True
        """
        check_is_fitted(self)
        if self.scoring == "estimator":
            return self.estimator_.score_samples(X)
        if self.scoring == "pathway":
            return pathway_scores(self.estimator_, *_validated(self.estimator_, X),
                                  self.pathway_density_)
        estimator, scale = self.estimator_, self._scale()
        scores = _decoded_map(estimator, *_validated(estimator, X), lambda x_hat, x, seen: (
            -reconstruction_error(*_scaled(x_hat, x, scale), estimator.reconstruction_loss,
                                  estimator.groups_, seen)))
        return scores.astype(np.float64)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows like the training ones.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            How far each row's score lies above the threshold, in float64.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer, OutlierDetector
        >>> X = np.random.RandomState(0).rand(100, 4)
        >>> detector = OutlierDetector(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=5, random_state=0)).fit(X)
        >>> decision = detector.decision_function(X)
        >>> bool(((decision < 0) == (detector.predict(X) == -1)).all())
        True
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row: +1 for an inlier, -1 for an outlier.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows like the training ones.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where ``decision_function(X) < 0``, else +1 (integers).

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer, OutlierDetector
        >>> X = np.random.RandomState(0).rand(100, 4)
        >>> detector = OutlierDetector(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=5, random_state=0)).fit(X)
        >>> detector.predict(np.r_[X[:1], X[:1] + 5]).tolist()
        [1, -1]
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def feature_scores(self, X):
        """Each feature's contribution to each row's anomaly, for attribution.

        The row is encoded and decoded (the autoencoder's ``decode(encode(x))``, the
        VAE's decoder at the posterior mean), and each feature scores its own term of
        the reconstruction's negative log-likelihood: the higher, the worse that
        feature is explained. Per feature:

        * ``reconstruction_loss="mse"``: with ``scoring="per_feature"`` (or
          ``"pathway"``, whose score has no per-feature terms),
          ``(x - x_hat)**2 / (2 * residual_variance_)``, the feature's Gaussian term
          in nats up to its constant. Otherwise the autoencoder's squared error
          ``(x - x_hat)**2`` in the model's feature units (those of ``X``; a
          DataFrame's numeric columns are normalised by the layout, see
          :class:`~skvae.tabular.TableLayout`), and the VAE's
          ``(x - x_hat)**2 / (2 * noise_variance_)`` (nats, up to the constant
          ``log(2 pi noise_variance_) / 2``).
        * ``reconstruction_loss="bce"``: the binary cross-entropy, in nats.
        * a one-hot block with a softmax head (``estimator_.groups_``: a DataFrame's
          categorical columns and numeric state blocks, or ``categorical_groups``):
          ``-x_k * log softmax_k`` for each feature ``k`` of the block, in nats, so the
          block sums to its cross-entropy (all on the observed category).

        A missing (NaN) entry scores 0: it is left out of the likelihood, as in
        ``score_samples``.

        How they add up to ``score_samples``: for the autoencoder with
        ``scoring="estimator"``, and for either model with ``"per_feature"``,
        ``-score_samples(X)`` is ``feature_scores(X).sum(axis=1)`` divided by the row's
        number of likelihood terms: each observed plain feature and each one-hot block
        counts once (for a DataFrame with categorical columns, ``len(layout_.numeric_)
        + len(layout_.groups_)``, less each number the layout leaves to its state
        block: a missing value, or a zero of a column with a ``zero`` state). Without
        blocks or gaps that is ``feature_scores(X).mean(axis=1) == -score_samples(X)``.
        For the VAE's ELBO (``scoring="estimator"``) the sum is ``-log p(x | z = mu)``
        (with ``"mse"``, less the constants): the ELBO's reconstruction term at the
        posterior mean rather than averaged over the posterior, without the KL term.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Rows like the training ones.

        Returns
        -------
        scores : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            One score per row and feature (float64). A DataFrame with ``X``'s index
            when ``X`` is one; for a model fitted on a DataFrame with categorical
            columns, one column per training column: the sum of its features (a
            categorical column's block; a numeric column's value and its state block).

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import AutoencoderTransformer, OutlierDetector
        >>> X = np.random.RandomState(0).rand(100, 4)
        >>> detector = OutlierDetector(AutoencoderTransformer(
        ...     hidden_layer_sizes=(8,), max_epochs=5, random_state=0)).fit(X)
        >>> row = X[:1].copy()
        >>> row[0, 2] = 5.0  # corrupt one feature
        >>> int(detector.feature_scores(row).argmax())
        2
        >>> bool(np.allclose(detector.feature_scores(X).mean(axis=1),
        ...                  -detector.score_samples(X), rtol=1e-5))
        True
        """
        check_is_fitted(self)
        estimator, scale = self.estimator_, self._scale()
        scores = _decoded_map(estimator, *_validated(estimator, X), lambda x_hat, x, seen: (
            _feature_terms(estimator, x_hat, x, seen, scale)))
        return _as_columns(estimator, scores.astype(np.float64), X)

    def _scale(self):
        """What each feature's residual is divided by (``sqrt(2 * variance)``; 1 in the
        one-hot blocks), on the model's device; None: the residuals as they are."""
        estimator = self.estimator_
        variance = self.residual_variance_
        if self.scoring == "estimator":
            if estimator.reconstruction_loss != "mse" or not hasattr(estimator,
                                                                    "noise_variance_"):
                return None
            variance = np.where(np.isnan(variance), np.nan, estimator.noise_variance_)
        if variance is None:
            return None
        scale = np.where(np.isnan(variance), 1.0, np.sqrt(2.0 * variance))
        return torch.as_tensor(scale, dtype=torch.float32, device=estimator._device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values: left out of the scores
        tags.input_tags.sparse = True  # densified batch by batch by the model
        return tags


def _validated(estimator, X):
    """``(features, missing)``: ``X`` checked as the fitted model's input."""
    features = _validation.validate_rows(estimator, X)
    missing = _validation.check_values(features)
    _validation.check_unit_range(features, estimator.reconstruction_loss, estimator.groups_)
    return features, missing


def _decoded_map(estimator, features, missing, per_batch) -> np.ndarray:
    """``per_batch(x_hat, target, observed)`` over the batches of ``features``, each row
    decoded from its code (the AE's ``decode(encode(x))``; the VAE's posterior mean)."""
    module = estimator._eval_module()

    def batch(x):
        inputs, target, observed = estimator._split(x, missing)
        return per_batch(module.decode(estimator._encode(module, inputs)), target, observed)

    result = map_batches(batch, features, estimator._device)
    return _validation.finite_output(result, "scores", features)


def _scaled(x_hat, target, scale):
    return (x_hat, target) if scale is None else (x_hat / scale, target / scale)


def _feature_terms(estimator, x_hat, target, observed, scale):
    """Each feature's term of a batch: the (scaled) squared error or BCE, and in each
    one-hot block ``-x_k log softmax_k``; 0 where missing."""
    kind, groups = estimator.reconstruction_loss, estimator.groups_
    scores = _elementwise_loss(*_scaled(x_hat, target, scale), kind, observed)
    if groups:
        log_p, (index, _, block_features, positions) = _block_log_softmax(x_hat, groups)
        terms = 0.0 - target[..., index] * log_p  # 0.0 -: no -0.0 off the category
        scores[..., block_features] = terms.flatten(-2)[..., positions]
    return scores


def _residual_variance(estimator, features, missing):
    """Each plain feature's mean squared reconstruction error over (up to
    ``VARIANCE_ROWS`` evenly spaced) validated rows, floored; NaN in one-hot blocks."""
    if estimator.reconstruction_loss != "mse":
        return None
    rows = evenly_spaced_rows(features, max(1, min(VARIANCE_ROWS, VARIANCE_VALUES
                                                   // features.shape[1])))
    squares = _decoded_map(estimator, rows, missing, lambda x_hat, x, seen: (
        (x - x_hat).pow(2) * (1.0 if seen is None else seen)))  # 0 where missing
    gaps = np.isnan(rows.toarray() if sp.issparse(rows) else rows) if missing else 0
    counts = rows.shape[0] - np.sum(gaps, axis=0)
    variance = squares.sum(axis=0, dtype=np.float64) / np.maximum(counts, 1)
    plain = np.ones(len(variance), dtype=bool)
    plain[[i for group in estimator.groups_ for i in group]] = False
    observed_plain = plain & (counts > 0)
    floor = VARIANCE_FLOOR * (variance[observed_plain].mean() if observed_plain.any() else 1.0)
    variance = np.where(observed_plain, np.maximum(variance, floor), floor)
    return np.where(plain, variance, np.nan)


def _as_columns(estimator, scores, X):
    """Feature scores as the caller's columns: summed per training column (tables with a
    layout), a DataFrame for DataFrame input, else the array."""
    layout = estimator.layout_
    if layout is not None:
        owners = feature_columns(layout)
        by_column = scores @ np.eye(len(layout.columns_))[owners]
        return pd.DataFrame(by_column, columns=layout.columns_, index=X.index)
    if isinstance(X, pd.DataFrame):
        return pd.DataFrame(scores, columns=X.columns, index=X.index)
    return scores


def feature_columns(layout) -> np.ndarray:
    """The position in ``layout.columns_`` of the column each model feature comes from.

    The features are ordered as :class:`~skvae.tabular.TableLayout` lays them out: the
    numeric columns' values, then a one-hot block per categorical column, then the
    numeric columns' state blocks (``groups_`` holds the blocks in that order).

    >>> import pandas as pd
    >>> from skvae.tabular import TableLayout
    >>> df = pd.DataFrame({"kind": ["a", "b", "a"], "size": [1.0, None, 0.0]})
    >>> layout = TableLayout().fit(df)
    >>> layout.get_feature_names_out().tolist()
    ['size', 'kind=a', 'kind=b', 'size:value', 'size:zero', 'size:missing']
    >>> feature_columns(layout).tolist()
    [1, 0, 0, 1, 1, 1]
    """
    position = {column: i for i, column in enumerate(layout.columns_)}
    owners = np.empty(layout.n_features_, dtype=np.intp)
    owners[:len(layout.numeric_)] = [position[c] for c in layout.numeric_]
    for group, column in zip(layout.groups_, [*layout.categorical_, *layout.states_],
                             strict=True):
        owners[list(group)] = position[column]
    return owners


def score_units(detector) -> str:
    """The units of a fitted detector's :meth:`OutlierDetector.feature_scores` (axis labels)."""
    estimator = detector.estimator_
    if estimator.reconstruction_loss == "bce":
        return "nats"
    if detector.scoring == "estimator" and not hasattr(estimator, "noise_variance_"):
        return "squared error; categories: nats" if estimator.groups_ else "squared error"
    return "nats, up to a constant"
