"""Checks of the data, and of parameters against the data, for skvae's estimators.

scikit-learn's ``_parameter_constraints`` check each parameter on its own when
``fit`` starts. What depends on the data or on several parameters together is
checked here: numeric arrays or DataFrames with categorical columns, declared
one-hot blocks, the value range a Bernoulli likelihood needs, the shape of
latent codes, the validation split, and the module's architecture. Each error
names the problem, the value received and the fix.
"""

from __future__ import annotations

import sys
import warnings
from numbers import Integral

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from .images import as_image_shape
from .losses import feature_layout
from .tabular import TableLayout, has_categorical_columns

#: The float dtypes skvae computes in (float32 on the device, either at the API).
FLOAT_DTYPES = (np.float64, np.float32)


# ---------------------------------------------------------------------- rows
def validate_training_rows(estimator, X):
    """``(features, layout, groups)`` of the training data ``X``.

    A DataFrame with categorical columns is encoded by a new
    :class:`~skvae.tabular.TableLayout` (whose one-hot blocks become the groups);
    anything else must be numeric, with ``categorical_groups`` checked against it.
    """
    if not has_categorical_columns(X):
        X = validate_numeric(estimator, X, reset=True)
        names = list(getattr(estimator, "feature_names_in_", []))
        return X, None, declared_groups(estimator.categorical_groups, X, names)
    if estimator.categorical_groups is not None:
        raise ValueError(
            "categorical_groups is for numeric arrays holding one-hot blocks, but X "
            "is a DataFrame with categorical columns, which get softmax heads "
            "anyway. Drop categorical_groups, or one-hot encode X yourself."
        )
    validate_data(estimator, X, skip_check_array=True, reset=True)
    layout = TableLayout().fit(X)
    return layout.transform(X), layout, layout.groups_


def validate_rows(estimator, X):
    """Rows for a fitted estimator: through its table layout when it has one."""
    layout = getattr(estimator, "layout_", None)
    if layout is None:
        return validate_numeric(estimator, X)
    if not hasattr(X, "columns"):
        raise TypeError(
            f"{type(estimator).__name__} was fitted on a DataFrame with categorical "
            f"columns; got {type(X).__name__}. Pass a DataFrame with the training columns "
            f"{list(estimator.feature_names_in_)}."
        )
    return layout.transform(X)


def validate_numeric(estimator, X, reset=False):
    """``validate_data`` for numeric rows, with a clear error for non-numeric input."""
    try:
        return validate_data(estimator, X, dtype=FLOAT_DTYPES, reset=reset)
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        where = ""
        if hasattr(X, "select_dtypes"):
            where = f" in columns {list(X.select_dtypes(exclude='number').columns)}"
        raise TypeError(
            f"{type(estimator).__name__} needs numeric data, but X holds non-numeric values"
            f"{where} ({exc}). Encode categorical columns first, e.g. with OneHotEncoder "
            "inside a ColumnTransformer, or pass a pandas DataFrame: its categorical "
            "columns then get softmax heads."
        ) from None


def declared_groups(categorical_groups, X, names) -> tuple:
    """``categorical_groups`` as tuples of column indices, checked against ``X``.

    ``names`` are ``X``'s column names (a group may name its columns).
    """
    if categorical_groups is None:
        return ()
    groups, seen = [], set()
    for group in categorical_groups:
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


def check_unit_range(X, reconstruction_loss, groups):
    """A Bernoulli likelihood (``"bce"``) needs the plain features in [0, 1]."""
    if reconstruction_loss != "bce" or X.size == 0:
        return
    if groups:  # one-hot blocks have their own (softmax) likelihood
        X = X[:, feature_layout(groups, X.shape[1])[0]]
        if X.size == 0:
            return
    low, high = float(X.min()), float(X.max())
    if low < 0 or high > 1:
        raise ValueError(
            "reconstruction_loss='bce' needs every value in [0, 1], but X has values in "
            f"[{low:.4g}, {high:.4g}]. Scale the data first (e.g. MinMaxScaler), or use "
            "reconstruction_loss='mse'."
        )


def validate_codes(estimator, Z):
    """Latent codes for ``inverse_transform``: float rows of ``n_components`` columns."""
    Z = check_array(Z, dtype=FLOAT_DTYPES, input_name="X")
    if Z.shape[1] != estimator.n_components:
        raise ValueError(
            f"X has {Z.shape[1]} columns, but {type(estimator).__name__} decodes codes of "
            f"n_components={estimator.n_components} columns. Pass the output of transform()."
        )
    return Z


def validation_rows(validation_fraction, n_samples, rng):
    """The held-out row indices (drawn from ``rng``), or None without a fraction."""
    if validation_fraction is None:
        return None
    n_valid = round(validation_fraction * n_samples)
    if not 1 <= n_valid < n_samples:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves {n_valid} of "
            f"{n_samples} rows for validation; at least one row must go to each side. "
            "Use a larger fraction, more data, or validation_fraction=None."
        )
    return rng.permutation(n_samples)[:n_valid]


# ---------------------------------------------------------------------- architecture
def module_params(estimator, n_features) -> dict:
    """The module's keyword arguments, checked against each other and the data."""
    return dict(
        hidden_layer_sizes=positive_ints(
            estimator.hidden_layer_sizes, "hidden_layer_sizes",
            "(256, 128), or () for a linear model",
        ),
        activation=estimator.activation,
        dropout=estimator.dropout,
        architecture=estimator.architecture,
        image_shape=_image_shape(estimator, n_features),
        conv_channels=positive_ints(estimator.conv_channels, "conv_channels", "(32, 64)"),
        kernel_size=estimator.kernel_size,
        noise=estimator.noise,
        noise_level=_noise_level(estimator.noise, estimator.noise_level),
    )


def _image_shape(estimator, n_features):
    if estimator.image_shape is not None:
        return as_image_shape(estimator.image_shape, n_features)
    if estimator.architecture == "conv":
        raise ValueError(
            "architecture='conv' needs image_shape=(channels, height, width), e.g. "
            "image_shape=(1, 28, 28) for MNIST rows of 784 pixels; got image_shape=None."
        )
    return None


def _noise_level(noise, noise_level):
    if noise in ("mask", "salt_pepper") and noise_level > 1:
        raise ValueError(
            f"noise={noise!r} corrupts each value with probability noise_level, "
            f"but noise_level={noise_level} is above 1. Use a value in [0, 1]."
        )
    return noise_level


def positive_ints(value, name, example) -> tuple:
    """``value`` (an int or a sequence of ints) as a tuple of positive ints, or a clear error."""
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {value!r}. Use e.g. {example}.")
    return tuple(int(s) for s in sizes)


# ---------------------------------------------------------------------- warnings
def warn_user(message, category=UserWarning):
    """Warn, pointing at the first caller outside skvae and scikit-learn's fit wrapper.

    A fixed ``stacklevel`` breaks whenever the call depth inside skvae changes;
    walking the stack keeps the warning on the user's own line.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and _is_internal(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _is_internal(frame) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module == "skvae" or module.startswith("skvae.") or module == "sklearn.base"
