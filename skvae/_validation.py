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
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import check_array, check_random_state, check_scalar
from sklearn.utils.validation import validate_data

from ._posterior import BOUNDS, PosteriorDraws
from .exceptions import PosteriorCollapseWarning
from .images import as_image_shape
from .layers import auto_hidden_layer_sizes
from .losses import feature_layout
from .tabular import TableLayout, has_categorical_columns

#: The float dtypes skvae computes in (float32 on the device, either at the API).
FLOAT_DTYPES = (np.float64, np.float32)

#: NumPy kinds kept as they are by the input checks (bool, integers, float16): they are
#: converted to float32 batch by batch, so a uint8 array or memmap is never copied whole.
KEPT_KINDS = "biu"

#: Sparse formats accepted as they are (others are converted by scikit-learn).
SPARSE_FORMATS = ("csr", "csc")

#: Values scanned at once by the input checks (bounded temporary memory).
SCAN_CHUNK_VALUES = 2**20

#: Rows ``fit`` needs: an autoencoder's code density (for ``sample``) needs two codes.
MIN_TRAINING_ROWS = 2

#: The largest magnitude that survives the conversion to float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------------- rows
def validate_training_rows(estimator, X):
    """``(features, layout, groups)`` of the training data ``X``.

    A DataFrame with categorical columns is encoded by a new
    :class:`~skvae.tabular.TableLayout` (whose one-hot blocks become the groups);
    anything else must be numeric, with ``categorical_groups`` checked against it.
    """
    check_frame_columns(X)
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
    if len(X) < MIN_TRAINING_ROWS:
        raise ValueError(f"Found {len(X)} row(s) while a minimum of {MIN_TRAINING_ROWS} is "
                         f"required by {type(estimator).__name__}. Pass more rows.")
    _warn_numbers_as_categories(X)
    layout = TableLayout().fit(X)
    return layout.transform(X), layout, layout.groups_


def validate_rows(estimator, X):
    """Rows for a fitted estimator: through its table layout when it has one."""
    layout = getattr(estimator, "layout_", None)
    check_frame_columns(X)
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
    """``validate_data`` for numeric rows (arrays, DataFrames, CSR/CSC matrices), with a
    clear error for non-numeric input. NaN and ``pd.NA`` are missing values (kept as
    NaN); infinities and values beyond float32 are errors (:func:`check_values`).
    Arrays of bool, integer or float16 values (a ``np.memmap`` too) keep their dtype and
    memory: they become float32 a batch at a time (see :data:`KEPT_KINDS`)."""
    kept = isinstance(X, np.ndarray) and (X.dtype.kind in KEPT_KINDS or X.dtype == np.float16)
    try:
        return validate_data(estimator, X, dtype=None if kept else FLOAT_DTYPES, reset=reset,
                             accept_sparse=SPARSE_FORMATS, ensure_all_finite=False,
                             ensure_min_samples=MIN_TRAINING_ROWS if reset else 1)
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


def _warn_numbers_as_categories(X) -> None:
    """An object column holding only numbers is probably a number column read as text."""
    for column in X.columns:
        if not pd.api.types.is_object_dtype(X[column].dtype):
            continue
        values = X[column].dropna()
        if len(values) and all(isinstance(v, (int, float, np.number)) and not isinstance(
                v, (bool, np.bool_)) for v in values):
            warn_user(
                f"Column {column!r} has dtype object but holds only numbers: it is one-hot "
                f"encoded as {values.nunique()} categories. If it is a number, convert it "
                f"first (X[{column!r}] = pd.to_numeric(X[{column!r}])); if it is a category, "
                "make that explicit (X[col].astype('category')) to silence this warning."
            )


def check_streamable(estimator) -> None:
    """``partial_fit`` trains on every row it gets: no held-out split, no early stopping."""
    for name in ("validation_fraction", "n_iter_no_change"):
        value = getattr(estimator, name)
        if value is not None:
            raise ValueError(
                f"partial_fit trains one pass on every row it is given, so {name}={value!r} "
                "(a held-out split or early stopping within a call) does not apply. Set "
                f"{name}=None for partial_fit, and score a held-out chunk yourself "
                "(estimator.score(X_valid)) to decide when to stop."
            )


def check_code_width(estimator, n_features) -> None:
    """More latent dimensions than features: a warning (nothing is compressed)."""
    if estimator.n_components > n_features:
        warn_user(
            f"n_components={estimator.n_components} is larger than the number of features "
            f"({n_features}): the codes are wider than the data, so nothing is compressed "
            "and an autoencoder can learn the identity. Use n_components <= "
            f"{n_features}."
        )


def check_frame_columns(X) -> None:
    """DataFrame columns skvae cannot learn from, or cannot tell apart: clear errors."""
    if not isinstance(X, pd.DataFrame):
        return
    duplicated = X.columns[X.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(
            f"X has duplicate column names {duplicated}: each column must have its own name. "
            "Rename them, e.g. X.columns = [...] or pd.io.common.dedup_names."
        )
    for column in X.columns:
        dtype = X[column].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
                dtype) or isinstance(dtype, pd.PeriodDtype):
            raise TypeError(
                f"Column {column!r} holds dates or durations ({dtype}), which skvae cannot "
                "model directly. Convert it to numbers first, e.g. X[col].dt.year, "
                "(X[col] - X[col].min()).dt.days, or X[col].dt.total_seconds(), or drop it."
            )


def check_values(X) -> bool:
    """Scan ``X`` in chunks for values skvae cannot use; return whether it has NaN.

    NaN are missing values (allowed); +-inf and finite values beyond float32's range
    (which would become inf on the device) are errors naming the value.
    """
    values = X.data if sp.issparse(X) else X
    has_nan = False
    for chunk in _row_blocks(values):
        with np.errstate(invalid="ignore"):
            biggest = np.nanmax(np.abs(chunk), initial=0.0)
        has_nan = has_nan or bool(np.isnan(chunk).any())
        if not biggest <= FLOAT32_MAX:
            raise ValueError(
                f"X holds the value {_extreme(chunk)!r}, beyond float32's range "
                f"(|x| <= {FLOAT32_MAX:.4g}), in which skvae computes. Scale the data first "
                "(e.g. StandardScaler, np.log1p), or replace infinities with NaN: NaN "
                "marks a missing value."
            )
    return has_nan


def output_dtype(X) -> np.dtype:
    """The dtype of results computed from ``X``: float32 or float64 as ``X`` is, float64
    for bool, integer and float16 input (as scikit-learn converts them)."""
    return X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)


def finite_output(result, what: str, X):
    """``result`` when finite; else a clear error: the inputs overflow the model in float32."""
    bad = ~np.isfinite(result.reshape(len(result), -1)).all(axis=1)
    if bad.any():
        values = X.data if sp.issparse(X) else np.asarray(X)
        with np.errstate(invalid="ignore"):
            biggest = float(np.nanmax(np.abs(values), initial=0.0))
        raise ValueError(
            f"The model computed non-finite {what} for {int(bad.sum())} row(s) (e.g. row "
            f"{int(np.flatnonzero(bad)[0])}): their values overflow float32 inside the "
            f"network (largest |value| in X: {biggest:.4g}). Scale X as the training data "
            "was scaled (e.g. the same StandardScaler), or clip extreme values."
        )
    return result


def _row_blocks(values):
    """Row slices (views) of a 1-D or 2-D array, about :data:`SCAN_CHUNK_VALUES` values each."""
    width = values.shape[1] if values.ndim == 2 else 1
    step = max(1, SCAN_CHUNK_VALUES // max(1, width))
    return (values[start:start + step] for start in range(0, values.shape[0], step))


def _extreme(chunk) -> float:
    with np.errstate(invalid="ignore"):
        return float(chunk.reshape(-1)[np.nanargmax(np.abs(chunk).reshape(-1))])


def column_sums(X) -> tuple:
    """``(sums, counts)`` of each feature's observed (non-NaN) values (float64, int64),
    read in chunks: no float copy of ``X`` is made."""
    if sp.issparse(X):
        sums = np.nan_to_num(np.asarray(X.sum(axis=0, dtype=np.float64)).ravel())
        return sums, np.full(X.shape[1], X.shape[0], dtype=np.int64)
    sums, counts = np.zeros(X.shape[1]), np.zeros(X.shape[1], dtype=np.int64)
    for chunk in _row_blocks(X):
        sums += np.nansum(chunk, axis=0, dtype=np.float64)
        counts += (~np.isnan(chunk)).sum(axis=0) if chunk.dtype.kind == "f" else len(chunk)
    return sums, counts


def column_means(X, has_nan: bool) -> np.ndarray:
    """Each feature's mean over its observed (non-NaN) values, as float32 (0 where none)."""
    if sp.issparse(X):
        return np.nan_to_num(np.asarray(X.mean(axis=0)).ravel()).astype(np.float32)
    if not has_nan:
        return X.mean(axis=0, dtype=np.float64).astype(np.float32)
    sums, counts = column_sums(X)
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        raise ValueError(
            f"X has no observed value in column(s) {empty[:10].tolist()}: nothing can be "
            "learned from them. Drop those columns before fitting."
        )
    return (sums / counts).astype(np.float32)


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
        block = block.toarray() if sp.issparse(block) else block
        if not (np.isin(block[~np.isnan(block)], (0, 1)).all()
                and (np.nansum(block, axis=1) <= 1).all()):
            raise ValueError(
                f"categorical_groups entry {list(group)!r} is not one-hot: its columns "
                "must hold 0/1 with at most one 1 per row (all zeros for a missing "
                "value). Pass the output of OneHotEncoder or pd.get_dummies."
            )
        seen |= set(index)
        groups.append(tuple(int(i) for i in index))
    return tuple(groups)


def check_unit_range(X, reconstruction_loss, groups):
    """A Bernoulli likelihood (``"bce"``) needs the plain, observed features in [0, 1]."""
    if reconstruction_loss != "bce" or X.shape[0] * X.shape[1] == 0:
        return
    if groups:  # one-hot blocks have their own (softmax) likelihood
        X = X[:, feature_layout(groups, X.shape[1])[0]]
        if X.shape[1] == 0:
            return
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    with np.errstate(invalid="ignore"):
        bounds = dict(initial=np.inf), dict(initial=-np.inf)
        if values.dtype.kind != "f":  # integers: no NaN, and an infinite initial fails
            bounds = {}, {}
        low = float(np.nanmin(values, **bounds[0]))
        high = float(np.nanmax(values, **bounds[1]))
    if low < 0 or high > 1:
        bad = low if low < 0 else high
        raise ValueError(
            f"reconstruction_loss='bce' needs every value in [0, 1], but X holds {bad!r} "
            f"(its values range over [{low!r}, {high!r}]). Scale the data first (e.g. "
            "MinMaxScaler, or np.clip for rounding errors), or use reconstruction_loss='mse'."
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


def posterior_draws(n_draws, bound, random_state, default_draws) -> PosteriorDraws:
    """The draws ``VAETransformer.score_samples`` asked for, checked (``n_draws=None``:
    ``default_draws``; a RandomState or None gives one seed)."""
    if bound not in BOUNDS:
        raise ValueError(f"bound={bound!r} is not one of {', '.join(map(repr, BOUNDS))}. "
                         "Use 'elbo' for the evidence lower bound, 'iwae' for the "
                         "importance-weighted bound.")
    n_draws = default_draws if n_draws is None else n_draws
    check_scalar(n_draws, "n_draws", Integral, min_val=1)
    seed = random_state
    if not isinstance(random_state, Integral) or isinstance(random_state, bool):
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return PosteriorDraws(int(n_draws), bound, int(seed))


def check_sample_options(estimator, latent, clip) -> None:
    """``VAETransformer.sample``'s ``latent`` and ``clip`` against how it was fitted."""
    if latent not in ("auto", "prior", "fitted"):
        raise ValueError(f"latent={latent!r} is not one of 'auto', 'prior', 'fitted'. Use "
                         "'prior' for N(0, I), 'fitted' for the training codes' density.")
    if estimator.layout_ is None and (clip or latent == "fitted"):
        option = "clip=True clips the numeric columns" if clip else (
            "latent='fitted' draws from a density of the training codes, fitted")
        raise ValueError(f"{option} of a model fitted on a DataFrame with categorical "
                         "columns; this one was fitted on numbers. "
                         + ("Clip the result yourself, e.g. np.clip(X_new, lo, hi)."
                            if clip else "Use latent='prior'."))


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
        hidden_layer_sizes=auto_hidden_layer_sizes(n_features, estimator.architecture)
        if _is_auto(estimator.hidden_layer_sizes) else positive_ints(
            estimator.hidden_layer_sizes, "hidden_layer_sizes",
            "'auto', (256, 128), or () for a linear model",
        ),
        activation=estimator.activation,
        dropout=estimator.dropout,
        architecture=estimator.architecture,
        image_shape=_image_shape(estimator, n_features),
        conv_channels=positive_ints(estimator.conv_channels, "conv_channels", "(32, 64)"),
        kernel_size=estimator.kernel_size,
        noise=estimator.noise,
        noise_level=_noise_level(estimator.noise, estimator.noise_level),
        missing_indicator=bool(estimator.missing_indicator),
    )


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


#: What a warm start cannot change: the module's shape and its loss.
ARCHITECTURE_PARAMS = ("n_components", "hidden_layer_sizes", "activation", "dropout",
                       "architecture", "image_shape", "conv_channels", "kernel_size", "noise",
                       "noise_level", "missing_indicator")


def check_same_architecture(estimator, params) -> None:
    """A warm start continues the fitted net: its architecture parameters must not change."""
    net = estimator.net_
    built = {key: net.get_params()[f"module__{key}"] for key in ARCHITECTURE_PARAMS}
    asked = {**params, "n_components": estimator.n_components}
    changed = [f"{key}={asked[key]!r} (fitted: {built[key]!r})" for key in ARCHITECTURE_PARAMS
               if asked[key] != built[key]]
    if estimator.reconstruction_loss != net.criterion_.kind:
        changed.append(f"reconstruction_loss={estimator.reconstruction_loss!r} "
                       f"(fitted: {net.criterion_.kind!r})")
    if changed:
        raise ValueError(
            f"warm_start=True continues training the fitted network, but {', '.join(changed)} "
            "changed it. Set warm_start=False to train a new network with the new "
            "parameters, or restore the fitted values."
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
#: Mean KL (nats per row) below which a VAE's latent dimension counts as unused.
ACTIVE_KL_NATS = 0.01
#: Up to this many latent dimensions (the ones users plot), any unused one warns.
PLOTTED_DIMENSIONS = 3


def warn_on_collapse(estimator) -> None:
    """Warn (:class:`~skvae.exceptions.PosteriorCollapseWarning`) when latent dimensions
    of a fitted VAE carried less than :data:`ACTIVE_KL_NATS` in the last epoch: all of
    them, or any of up to :data:`PLOTTED_DIMENSIONS`. (Wider codes leave some unused
    as a rule, e.g. 2 of 20 on MNIST after 10 epochs: the KL term prunes what the
    decoder does not need.)"""
    kl_dims = estimator.history_[-1].get("train_kl_dims") if estimator.history_ else None
    dead = [i for i, kl in enumerate(kl_dims or ()) if kl < ACTIVE_KL_NATS]
    if not dead or (len(dead) < len(kl_dims) and len(kl_dims) > PLOTTED_DIMENSIONS):
        return
    what = ("every latent dimension" if len(dead) == len(kl_dims)
            else f"latent dimension(s) {dead} of {len(kl_dims)}")
    values = ", ".join(f"{kl_dims[i]:.3g}" for i in dead)
    warn_user(
        f"Posterior collapse: {what} carried almost no information in the last epoch "
        f"(mean KL {values} nats < {ACTIVE_KL_NATS}; see history_[-1, 'train_kl_dims']). "
        "Their codes are the prior for every row, so plots vary along the other dimensions "
        "only. To use them: lower beta, lengthen kl_warmup (the KL weight's ramp), train "
        "longer (max_epochs), or ask for fewer n_components.", PosteriorCollapseWarning)


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
