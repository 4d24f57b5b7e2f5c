"""Shared machinery of skvae's estimators.

:class:`BaseAutoencoder` is a plain scikit-learn estimator that *owns* a private
skorch net (``net_``): it declares and validates the parameters, validates the
data, builds the net, runs skorch's training, and implements the batched
post-fit methods. Subclasses say which module and criterion to build and how to
encode, decode and score rows.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping

from ._data import HoldoutSplit, TensorDataset, map_batches, training_tensor
from ._net import AutoencoderNet
from .callbacks import EpochProgress
from .losses import RECONSTRUCTION_LOSSES, decoder_mean, feature_layout
from .modules import ACTIVATIONS, ARCHITECTURES, NOISES
from .tabular import TableLayout, has_categorical_columns

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

_FLOAT_DTYPES = (np.float64, np.float32)


def resolve_device(device) -> torch.device:
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    ``"auto"`` is CUDA when available, else the CPU. A CUDA device that is not
    there is an error rather than a silent fall-back.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows ({exc}). "
            "Use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this machine "
            "(torch.cuda.is_available() is False). Use device='auto' to train on the GPU "
            "when there is one and on the CPU otherwise, or device='cpu'."
        )
    return resolved


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of :class:`AutoencoderTransformer` and :class:`VAETransformer`.

    Not meant to be used directly; see the subclasses for the parameters.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "reconstruction_loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "image_shape": ["array-like", None],
        "conv_channels": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "noise": [StrOptions(set(NOISES)), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "categorical_groups": [list, None],
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
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        reconstruction_loss="mse",
        dropout=0.0,
        architecture="dense",
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
        noise=None,
        noise_level=0.1,
        categorical_groups=None,
        batch_size=128,
        max_epochs=100,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        validation_fraction=None,
        n_iter_no_change=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
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

    # ------------------------------------------------------------------ subclass hooks
    def _module_class(self):
        raise NotImplementedError

    def _criterion(self):
        raise NotImplementedError

    def _model_callbacks(self) -> list:
        """Callbacks the model itself needs (e.g. KL warm-up)."""
        return []

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _score_rows(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _warn_params(self) -> None:
        """Warn about parameter combinations that are valid but likely unintended."""

    def _after_fit(self, X, seed: int) -> None:
        """Extra fitted state (e.g. the AE's latent density); default none."""

    # ------------------------------------------------------------------ fit
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
        saved = self.__dict__.copy()
        try:
            self._fit(X)
        except BaseException:
            # a failed fit must leave a previously fitted model as it was
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        return self

    def _fit(self, X):
        warm = self.warm_start and hasattr(self, "net_")
        X = self._fit_data(X, reset=not warm)
        self._check_range(X)
        architecture = self._architecture(X.shape[1])
        self._warn_params()
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        valid_index = self._draw_validation_rows(len(X), rng)
        cuda = [device.index or 0] if device.type == "cuda" else []
        dataset = TensorDataset(training_tensor(X, device))
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            if warm:
                net = copy.deepcopy(self.net_)
                net.partial_fit(dataset, epochs=self.max_epochs)
            else:
                net = self._build_net(X.shape[1], architecture, device, valid_index)
                net.fit(dataset)
        net.module_.eval()
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self._after_fit(X, seed)

    def _fit_data(self, X, reset):
        """Validate the training data; a DataFrame with categorical columns gets a layout.

        Sets ``layout_`` (a :class:`skvae.tabular.TableLayout` or None) and ``groups_``
        (the one-hot blocks with softmax heads) and returns a float array.
        """
        if not reset:  # warm start: the layout and groups of the first fit
            return self._data(X)
        if has_categorical_columns(X):
            if self.categorical_groups is not None:
                raise ValueError(
                    "categorical_groups is for numeric arrays holding one-hot blocks, but X "
                    "is a DataFrame with categorical columns, which get softmax heads "
                    "anyway. Drop categorical_groups, or one-hot encode X yourself."
                )
            validate_data(self, X, skip_check_array=True, reset=True)
            self.layout_ = TableLayout().fit(X)
            self.groups_ = tuple(map(tuple, self.layout_.groups_))
            return self.layout_.transform(X)
        X = self._validate_X(X, reset=True)
        self.layout_ = None
        self.groups_ = self._declared_groups(X)
        return X

    def _data(self, X):
        """Validate post-fit input: a DataFrame through the fitted layout, else an array."""
        if getattr(self, "layout_", None) is None:
            return self._validate_X(X)
        if not hasattr(X, "columns"):
            raise TypeError(
                f"{type(self).__name__} was fitted on a DataFrame with categorical columns; "
                f"got {type(X).__name__}. Pass a DataFrame with the training columns "
                f"{list(self.feature_names_in_)}."
            )
        return self.layout_.transform(X)

    def _declared_groups(self, X) -> tuple:
        """``categorical_groups`` as tuples of column indices, checked against ``X``."""
        if self.categorical_groups is None:
            return ()
        names = list(getattr(self, "feature_names_in_", []))
        groups, seen = [], set()
        for group in self.categorical_groups:
            index = tuple(names.index(c) if isinstance(c, str) and c in names else c
                          for c in group)
            if (len(index) < 2 or not all(isinstance(i, Integral) and 0 <= i < X.shape[1]
                                          for i in index) or seen & set(index)):
                raise ValueError(
                    f"categorical_groups entry {list(group)!r} is not a one-hot block of X: "
                    f"give each block as two or more column indices (0..{X.shape[1] - 1}) or "
                    "names of X, each column in at most one block."
                )
            block = X[:, list(index)]
            if not (np.isin(block, (0, 1)).all() and (block.sum(axis=1) <= 1).all()):
                raise ValueError(
                    f"categorical_groups entry {list(group)!r} is not one-hot: its columns "
                    "must hold 0/1 with at most one 1 per row (all zeros for a missing "
                    "value). Pass the output of OneHotEncoder or pd.get_dummies."
                )
            seen |= set(index)
            groups.append(tuple(int(i) for i in index))
        return tuple(groups)

    def _validate_X(self, X, reset=False):
        """``validate_data`` for numeric rows, with a clear error for non-numeric input."""
        try:
            return validate_data(self, X, dtype=_FLOAT_DTYPES, reset=reset)
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            where = ""
            if hasattr(X, "select_dtypes"):
                where = f" in columns {list(X.select_dtypes(exclude='number').columns)}"
            raise TypeError(
                f"{type(self).__name__} needs numeric data, but X holds non-numeric values"
                f"{where} ({exc}). Encode categorical columns first, e.g. with OneHotEncoder "
                "inside a ColumnTransformer, or pass a pandas DataFrame: its categorical "
                "columns then get softmax heads."
            ) from None

    def _draw_validation_rows(self, n_samples, rng):
        if self.validation_fraction is None:
            return None
        n_valid = round(self.validation_fraction * n_samples)
        if not 1 <= n_valid < n_samples:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n_valid} of "
                f"{n_samples} rows for validation; at least one row must go to each side. "
                "Use a larger fraction, more data, or validation_fraction=None."
            )
        return rng.permutation(n_samples)[:n_valid]

    def _build_net(self, n_features, architecture, device, valid_index):
        optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        callbacks = self._model_callbacks() + copy.deepcopy(self.callbacks or [])
        if self.verbose == 1:
            callbacks.append(EpochProgress(desc=type(self).__name__))
        if self.n_iter_no_change is not None:
            monitor = "train_loss" if valid_index is None else "valid_loss"
            callbacks.append(
                EarlyStopping(monitor=monitor, patience=self.n_iter_no_change, load_best=True)
            )
        return AutoencoderNet(
            module=self._module_class(),
            module__n_features=n_features,
            module__n_components=self.n_components,
            **{f"module__{key}": value for key, value in architecture.items()},
            criterion=self._criterion(),
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None if valid_index is None else HoldoutSplit(valid_index),
            callbacks=callbacks,
            device=device,
            # skorch prints its epoch table when its own verbose is set: only at verbose>=2
            verbose=int(self.verbose >= 2),
        )

    def _architecture(self, n_features) -> dict:
        """The module's keyword arguments, checked against each other and the data."""
        return dict(
            hidden_layer_sizes=_positive_ints(
                self.hidden_layer_sizes, "hidden_layer_sizes",
                "(256, 128), or () for a linear model",
            ),
            activation=self.activation,
            dropout=self.dropout,
            architecture=self.architecture,
            image_shape=self._image_shape(n_features),
            conv_channels=_positive_ints(self.conv_channels, "conv_channels", "(32, 64)"),
            kernel_size=self.kernel_size,
            noise=self.noise,
            noise_level=self._noise_level(),
        )

    def _image_shape(self, n_features):
        if self.image_shape is None:
            if self.architecture == "conv":
                raise ValueError(
                    "architecture='conv' needs image_shape=(channels, height, width), e.g. "
                    "image_shape=(1, 28, 28) for MNIST rows of 784 pixels; got image_shape=None."
                )
            return None
        shape = _positive_ints(self.image_shape, "image_shape", "(1, 28, 28)")
        shape = (1, *shape) if len(shape) == 2 else shape
        if len(shape) != 3 or int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} does not describe rows of {n_features} "
                "features: give (channels, height, width) (or (height, width) for one "
                f"channel) whose product is {n_features}, in the order the pixels are "
                "flattened (images.reshape(n, -1))."
            )
        return shape

    def _noise_level(self):
        if self.noise in ("mask", "salt_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise={self.noise!r} corrupts each value with probability noise_level, "
                f"but noise_level={self.noise_level} is above 1. Use a value in [0, 1]."
            )
        return self.noise_level

    def _check_range(self, X):
        if self.reconstruction_loss != "bce" or X.size == 0:
            return
        if self.groups_:  # one-hot blocks have their own (softmax) likelihood
            X = X[:, feature_layout(self.groups_, X.shape[1])[0]]
            if X.size == 0:
                return
        low, high = float(X.min()), float(X.max())
        if low < 0 or high > 1:
            raise ValueError(
                "reconstruction_loss='bce' needs every value in [0, 1], but X has values in "
                f"[{low:.4g}, {high:.4g}]. Scale the data first (e.g. MinMaxScaler), or use "
                "reconstruction_loss='mse'."
            )

    # ------------------------------------------------------------------ post-fit
    @property
    def _device(self) -> torch.device:
        return torch.device(self.net_.device)

    @property
    def _module(self) -> torch.nn.Module:
        module = self.net_.module_
        module.eval()
        return module

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
        X = self._data(X)
        Z = map_batches(self._encode, X, self._device)
        return Z.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Decode latent codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes (e.g. from :meth:`transform` or a grid over the latent space).

        Returns
        -------
        X_original : ndarray of shape (n_samples, ``n_features_in_``) or DataFrame
            Decoder means: probabilities with ``reconstruction_loss="bce"`` and in each
            ``categorical_groups`` block, values with ``"mse"``. When fitted on a
            DataFrame with categorical columns: a DataFrame with the training columns
            and dtypes (each category the most probable one).

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
        Z = check_array(X, dtype=_FLOAT_DTYPES, input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but {type(self).__name__} decodes codes of "
                f"n_components={self.n_components} columns. Pass the output of transform()."
            )
        X_hat = map_batches(self._decode, Z, self._device)
        return self._to_input_space(X_hat.astype(Z.dtype, copy=False))

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        return decoder_mean(self._module.decode(z), self.reconstruction_loss, self.groups_)

    def score_samples(self, X):
        """Per-row score: higher means the model explains the row better.

        :class:`VAETransformer`: the ELBO of each row in nats (see its Notes).
        :class:`AutoencoderTransformer`: minus the mean per-feature reconstruction loss
        (``-mean((x - x_hat)**2)`` for ``"mse"``, ``-mean(BCE)`` for ``"bce"``).
        Deterministic, and independent of the other rows in the call.

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
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAETransformer
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAETransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
        ...                      max_epochs=2, random_state=0).fit(X)
        >>> scores = vae.score_samples(X)
        >>> scores.shape
        (100,)
        >>> bool((scores < 0).all())  # a Bernoulli ELBO is a log-probability bound
        True
        >>> np.allclose(vae.score_samples(X[:5]), scores[:5])  # deterministic per row
        True
        """
        check_is_fitted(self)
        X = self._data(X)
        self._check_range(X)
        return map_batches(self._score_rows, X, self._device).astype(np.float64)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over the rows of ``X`` (higher is better).

        This is what :class:`~sklearn.model_selection.GridSearchCV` uses when no
        ``scoring`` is given.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like the training ones.
        y : None
            Ignored.

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
        return float(np.mean(self.score_samples(X)))

    def _decode_codes(self, Z):
        X_hat = map_batches(self._decode, Z, self._device).astype(np.float64)
        return self._to_input_space(X_hat)

    def _to_input_space(self, X_hat):
        """A DataFrame like the training one when fitted on one with categorical columns."""
        if getattr(self, "layout_", None) is None:
            return X_hat
        return self.layout_.inverse_transform(X_hat)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _positive_ints(value, name, example) -> tuple:
    """``value`` (an int or a sequence of ints) as a tuple of positive ints, or a clear error."""
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {value!r}. Use e.g. {example}.")
    return tuple(int(s) for s in sizes)


def evenly_spaced_rows(X, max_rows: int):
    """At most ``max_rows`` rows of ``X``, evenly spaced (deterministic, no RNG).

    Used to fit small post-training summaries (the AE's code density, the VAE's
    likelihood variance) at a bounded cost on large data.

    >>> import numpy as np
    >>> evenly_spaced_rows(np.arange(10)[:, None], 4).ravel()
    array([0, 3, 6, 9])
    """
    if len(X) <= max_rows:
        return X
    return X[np.linspace(0, len(X) - 1, max_rows).round().astype(int)]


def warn_long_warmup(kl_warmup, max_epochs):
    """Warn when a KL warm-up never reaches the full weight within ``max_epochs``."""
    if kl_warmup > max_epochs:
        warnings.warn(
            f"kl_warmup={kl_warmup} is longer than max_epochs={max_epochs}: the KL weight "
            f"only reaches {max_epochs / kl_warmup:.2f} * beta. Lower kl_warmup or raise "
            "max_epochs.",
            UserWarning,
            stacklevel=5,
        )
