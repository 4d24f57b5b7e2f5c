"""The shared scikit-learn side of skvae's estimators.

:class:`BaseAutoencoder` is a plain scikit-learn estimator that *owns* a private
skorch net (``net_``). It reads top to bottom as the life of a model: declare the
parameters, validate the data (:mod:`skvae._validation`), build the net
(:func:`skvae._net.build_net`), train it through skorch, and infer in batches
(:mod:`skvae._data`). Subclasses say which module and criterion to build and how
to encode, score and sample rows.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _training, _validation
from ._data import map_batches
from ._net import OPTIMIZERS
from .layers import ACTIVATIONS, ARCHITECTURES, NOISES
from .likelihoods import RECONSTRUCTION_LOSSES, decoder_mean, split_missing

#: scikit-learn's checks of each parameter on its own (run when ``fit`` starts); what
#: depends on the data or on several parameters is checked in :mod:`skvae._validation`.
PARAMETER_CONSTRAINTS: dict = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "hidden_layer_sizes": [StrOptions({"auto"}), "array-like",
                           Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "reconstruction_loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "architecture": [StrOptions(set(ARCHITECTURES))],
    "image_shape": ["array-like", None],
    "conv_channels": ["array-like"],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
    "noise": [StrOptions(set(NOISES)), None],
    "noise_level": [Interval(Real, 0, None, closed="left")],
    "missing_indicator": ["boolean"],
    "categorical_groups": [list, tuple, None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "callbacks": [list, None],
    "distributed": [StrOptions({"auto"}), "boolean"],
}


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator,
                      metaclass=ABCMeta):
    """Base class of :class:`AutoencoderTransformer` and :class:`VAETransformer`.

    Not meant to be used directly; see the subclasses for the parameters.
    """

    # ------------------------------------------------------------------ declare
    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(self, n_components=2, *, hidden_layer_sizes="auto", activation="relu",
                 reconstruction_loss="mse", dropout=0.0, architecture="dense",
                 image_shape=None, conv_channels=(32, 64), kernel_size=3, noise=None,
                 noise_level=0.1, missing_indicator=False, categorical_groups=None,
                 batch_size=128, max_epochs=100,
                 lr=1e-3, optimizer="adam", weight_decay=0.0, validation_fraction=None,
                 n_iter_no_change=None, device="auto", random_state=None, verbose=0,
                 warm_start=False, callbacks=None, distributed="auto"):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.reconstruction_loss = reconstruction_loss
        self.dropout = dropout
        self.architecture = architecture
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.noise = noise
        self.noise_level = noise_level
        self.missing_indicator = missing_indicator
        self.categorical_groups = categorical_groups
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.distributed = distributed

    # ------------------------------------------------------------------ model hooks
    @abstractmethod
    def _module_class(self) -> type:
        """The torch module class (built by skorch with the architecture parameters)."""

    @abstractmethod
    def _criterion(self) -> torch.nn.Module:
        """The training criterion (its ``terms`` are recorded per epoch)."""

    @abstractmethod
    def _encode(self, module, x: torch.Tensor) -> torch.Tensor:
        """The codes ``transform`` returns for a batch of rows."""

    @abstractmethod
    def _score_rows(self, module, x: torch.Tensor, target: torch.Tensor, observed) -> torch.Tensor:
        """The per-row scores ``score_samples`` returns for a batch: ``x`` is the encoder's
        input, ``target`` the rows (missing entries 0), ``observed`` their mask or None."""

    @abstractmethod
    def sample(self, n_samples=1, random_state=None):
        """Generate ``n_samples`` new rows (see the subclasses)."""

    def _model_callbacks(self, streaming=False) -> list:
        """Callbacks the model itself needs (e.g. the VAE's KL warm-up); ``streaming``:
        for ``partial_fit``."""
        return []

    def _check_params(self) -> None:
        """Check (or warn about) parameter combinations the constraints cannot express."""

    def _after_fit(self, X, seed: int) -> None:
        """Fitted state derived from the trained model (e.g. the AE's code density)."""

    #: Rows of the bounded sample ``partial_fit`` keeps for the fitted summaries.
    _summary_rows = 10_000

    # ------------------------------------------------------------------ validate, build, train
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows (numbers only; float64 or float32, computed in float32).
        y : None
            Ignored; present for API consistency (pipelines pass it).

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data[:100] / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2, random_state=0)
        >>> ae.fit(X).n_iter_, ae.n_features_in_
        (2, 64)
        >>> sorted(key for key in ae.history_[-1] if key.startswith("train_"))
        ['train_batch_count', 'train_loss', 'train_loss_best', 'train_recon']
        """
        return _training.keep_on_failure(self, _training.fit, X)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one pass (epoch) over ``X``, continuing from the weights so far.

        For data that arrives in chunks or does not fit in memory, as with
        :class:`~sklearn.neural_network.MLPRegressor` or
        :class:`~sklearn.decomposition.IncrementalPCA`: the first call builds the model
        (it trains as ``fit`` with ``max_epochs=1`` would), each later call continues
        it (whatever ``warm_start`` says; ``max_epochs`` is not used) with the same
        features. Loop over the chunks once per pass you want. ``n_iter_`` and
        ``history_`` count the passes. Every row is trained on: ``validation_fraction``
        and ``n_iter_no_change`` must be None (score a held-out chunk yourself).

        The fitted summaries (the autoencoder's code density, the VAE's noise
        variance) and the values that fill missing entries are computed from all the
        rows seen so far, through a bounded uniform sample of them (``stream_``, drawn
        from ``random_state``). After ``fit`` (or ``load_model``), ``partial_fit``
        continues that model; ``fit`` starts again from scratch. The net trains in
        place (no copy of the model per call); a call that fails, e.g. by diverging,
        puts back the weights, optimiser state, history and row sample it started from.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            A chunk of training rows (like ``fit``'s). Integer arrays and memory-mapped
            files are converted to float32 batch by batch.
        y : None
            Ignored; present for API consistency (e.g. dask-ml's ``Incremental``).

        Returns
        -------
        self : object
            The estimator, trained one more pass.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(32,), random_state=0)
        >>> for epoch in range(2):
        ...     for chunk in np.array_split(X, 3):
        ...         ae = ae.partial_fit(chunk)
        >>> ae.n_iter_, ae.stream_.rows_seen
        (6, 3594)
        """
        return _training.keep_on_failure(self, _training.partial_fit, X)

    def _after_partial_fit(self, stream) -> None:
        """Fitted summaries after a ``partial_fit`` call, from the stream's row sample."""
        self._after_fit(stream.sample, stream.seed)

    # ------------------------------------------------------------------ infer
    @property
    def _device(self) -> torch.device:
        return torch.device(self.net_.device)

    def _eval_module(self) -> torch.nn.Module:
        """The trained module, switched to evaluation mode (no dropout, no input noise)."""
        return self.net_.module_.eval()

    @property
    def _n_features_out(self):
        check_is_fitted(self, "net_")
        return self.n_components

    def transform(self, X):
        """Encode ``X`` into the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like the training ones (a DataFrame with the training columns when
            fitted on one with categorical columns).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Latent codes, in ``X``'s float dtype. Deterministic, and each row's code
            does not depend on the other rows passed.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAETransformer
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAETransformer(hidden_layer_sizes=(16,), max_epochs=2, random_state=0).fit(X)
        >>> Z = vae.transform(X)
        >>> Z.shape, Z.dtype
        ((100, 2), dtype('float64'))
        >>> np.allclose(vae.transform(X[:3]), Z[:3])  # each row's code on its own
        True
        """
        check_is_fitted(self)
        X = _validation.validate_rows(self, X)
        missing = _validation.check_values(X)
        module = self._eval_module()
        Z = map_batches(lambda x: self._encode(module, self._model_input(x, missing)), X,
                        self._device)
        return _validation.finite_output(Z, "codes", X).astype(_validation.output_dtype(X),
                                                               copy=False)

    def _model_input(self, x: torch.Tensor, missing: bool = True) -> torch.Tensor:
        """The encoder's input: missing (NaN) entries replaced by ``fill_values_`` (``x``
        itself when the data has none)."""
        return self.net_.encoder_input(x, missing)

    def _split(self, x: torch.Tensor, missing: bool) -> tuple:
        """``(encoder input, target, observed)`` of a batch (see :func:`split_missing`)."""
        return split_missing(x, self.net_.fill_on(x.device), missing,
                             self.net_.module_.missing_indicator)

    def inverse_transform(self, X):
        """Decode latent codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes (e.g. from :meth:`transform` or a grid over the latent space).

        Returns
        -------
        X_original : ndarray of shape (n_samples, ``n_features_in_``) or DataFrame
            Decoder means, in the codes' float dtype: probabilities with
            ``reconstruction_loss="bce"`` and in each ``categorical_groups`` block,
            values with ``"mse"``. When fitted on a DataFrame with categorical columns:
            a DataFrame with the training columns and dtypes (each category the most
            probable one).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data[:100] / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
        ...                             max_epochs=2, random_state=0).fit(X)
        >>> X_hat = ae.inverse_transform(ae.transform(X))
        >>> X_hat.shape
        (100, 64)
        >>> bool(X_hat.min() >= 0 and X_hat.max() <= 1)  # "bce": probabilities
        True
        >>> ae.inverse_transform(np.zeros((3, 2))).shape  # any point of the latent space
        (3, 64)
        """
        check_is_fitted(self)
        return self._decode(_validation.validate_codes(self, X))

    def _decode(self, Z, clip=False):
        """The one decode path (``inverse_transform``, ``sample``): output in ``Z``'s dtype
        (a DataFrame through the layout, numbers clipped to the training range on request)."""
        module, kind, groups = self._eval_module(), self.reconstruction_loss, self.groups_
        X_hat = map_batches(lambda z: decoder_mean(module.decode(z), kind, groups), Z,
                            self._device)
        X_hat = _validation.finite_output(X_hat, "decoded values", Z).astype(Z.dtype, copy=False)
        return X_hat if self.layout_ is None else self.layout_.inverse_transform(X_hat, clip=clip)

    def score_samples(self, X):
        """Per-row score: higher means the model explains the row better.

        :class:`AutoencoderTransformer`: minus the mean per-feature reconstruction loss
        (``-mean((x - x_hat)**2)`` or ``-mean(BCE)``); :class:`VAETransformer`: each
        row's ELBO in nats. Deterministic, and independent of the other rows in the call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like the training ones.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            One score per row, in float64.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data[:100] / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
        ...                             random_state=0).fit(X)
        >>> scores = ae.score_samples(X)
        >>> scores.shape, bool((scores < 0).all())  # minus each row's mean squared error
        ((100,), True)
        """
        return self._score_samples(X)

    def _score_samples(self, X, **options):
        """Validate ``X``, then ``_score_rows(..., **options)`` batch by batch."""
        check_is_fitted(self)
        X = _validation.validate_rows(self, X)
        missing = _validation.check_values(X)
        _validation.check_unit_range(X, self.reconstruction_loss, self.groups_)
        module = self._eval_module()
        scores = map_batches(lambda x: self._score_rows(module, *self._split(x, missing),
                                                        **options), X, self._device)
        return _validation.finite_output(scores, "scores", X).astype(np.float64)

    def score(self, X, y=None, **options):
        """Mean of :meth:`score_samples` over the rows of ``X`` (higher is better).

        What :class:`~sklearn.model_selection.GridSearchCV` uses when no ``scoring`` is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like the training ones.
        y : None
            Ignored.
        **options
            The VAE's ``score_samples`` options (``n_draws``, ``bound``, ``random_state``).

        Returns
        -------
        score : float
            The mean score per row.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data[:100] / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
        ...                             random_state=0).fit(X)
        >>> score = ae.score(X)  # minus the mean squared reconstruction error
        >>> bool(score < 0), bool(score == ae.score_samples(X).mean())
        (True, True)
        """
        return float(np.mean(self.score_samples(X, **options)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True  # missing values: masked out of the loss
        tags.input_tags.sparse = True  # densified batch by batch
        return tags

