"""How one DataFrame column is read into a :class:`~skvae.tabular.TableLayout` and
restored from it: its kind, checks, categories, numbers and their states (zero,
missing), and dtypes stored as plain descriptions.

:func:`is_categorical` and :func:`has_categorical_columns` are public as
``skvae.tabular.is_categorical`` and ``skvae.tabular.has_categorical_columns``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes


def is_categorical(series: pd.Series) -> bool:
    """Tell whether a column gets a softmax head: object, category, string or bool dtype.

    Parameters
    ----------
    series : pandas.Series
        One column of a DataFrame.

    Returns
    -------
    categorical : bool
        True for an object, category, string or bool column; False for numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from skvae.tabular import is_categorical
    >>> is_categorical(pd.Series(["flat", "house"])), is_categorical(pd.Series([1.5, 2.0]))
    (True, False)
    >>> is_categorical(pd.Series([True, False]))
    True
    """
    dtype = series.dtype
    return (isinstance(dtype, pd.CategoricalDtype) or ptypes.is_bool_dtype(dtype)
            or ptypes.is_object_dtype(dtype) or ptypes.is_string_dtype(dtype))


def has_categorical_columns(X) -> bool:
    """Tell whether ``X`` is a DataFrame holding at least one categorical column.

    Parameters
    ----------
    X : object
        Any input; only a :class:`pandas.DataFrame` can have categorical columns.

    Returns
    -------
    has_categorical : bool
        True when :func:`is_categorical` holds for one of the columns of a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skvae.tabular import has_categorical_columns
    >>> has_categorical_columns(pd.DataFrame({"size": [50.0], "kind": ["flat"]}))
    True
    >>> has_categorical_columns(pd.DataFrame({"size": [50.0]})), has_categorical_columns(
    ...     np.zeros((2, 2)))
    (False, False)
    """
    return isinstance(X, pd.DataFrame) and any(is_categorical(X[c]) for c in X.columns)


def _check_column(series, column):
    if series.isna().all():
        raise ValueError(
            f"Column {column!r} holds only missing values: nothing can be learned from it. "
            "Drop it before fitting (e.g. X.drop(columns=[...]))."
        )
    if ptypes.is_object_dtype(series.dtype):
        kinds = {type(v).__name__ for v in series.dropna()}
        if len(kinds) > 1 and not kinds <= {"str", "bool"}:
            raise TypeError(
                f"Column {column!r} mixes value types {sorted(kinds)}: a column must hold "
                "either numbers or categories. Convert it, e.g. X[col].astype(str) for "
                "categories or pd.to_numeric(X[col]) for numbers."
            )


def _categories(series) -> np.ndarray:
    """The column's categories, sorted, then NaN when the column has missing values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        known = list(series.cat.categories)
    else:
        known = sorted(series.dropna().unique(), key=str)
    missing = [np.nan] if series.isna().any() else []
    return np.asarray(known + missing, dtype=object)


def _as_objects(series) -> pd.Series:
    """Categories as Python objects, every kind of missing value as NaN (what
    ``OneHotEncoder`` matches against a NaN category)."""
    return series.astype(object).where(series.notna(), np.nan)


def _as_numbers(series, column) -> np.ndarray:
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TypeError(
            f"Column {column!r} was numeric during fit but now holds non-numeric values "
            f"(dtype {series.dtype}). Pass the same kind of data as in fit."
        ) from None
    with np.errstate(invalid="ignore"):
        too_big = np.abs(values) > np.finfo(np.float32).max
    if too_big.any():
        raise ValueError(
            f"Column {column!r} holds the value {values[too_big][0]!r}, beyond float32's range, "
            "in which skvae computes. Scale it first (e.g. np.log1p), or replace infinities "
            "with NaN: NaN marks a missing value."
        )
    return values


def _restore_numeric(values, dtype):
    """Decoded numbers in the column's training dtype (integers rounded; nullable
    extension dtypes such as ``Int64`` and ``Float64`` kept)."""
    if ptypes.is_integer_dtype(dtype):
        values = np.round(values)
    if isinstance(dtype, np.dtype):
        return values.astype(dtype)
    return pd.array(values, dtype=dtype)


def _rebuild_dtype(description, categories):
    """A training dtype from its stored description (:func:`_portable_dtype`); a
    ``category`` dtype gets the column's categories (missing left out)."""
    if description in ("category", "ordered category"):
        known = [c for c in categories if not pd.isna(c)]
        return pd.CategoricalDtype(known, ordered=description == "ordered category")
    if description == "str":  # pandas 3's default string dtype, NaN for missing
        try:
            return pd.StringDtype(na_value=np.nan)
        except TypeError:  # pandas < 2.3
            return np.dtype(object)
    return ptypes.pandas_dtype(description)


def _portable_dtype(dtype) -> str:
    """A dtype as a string that rebuilds it on any pandas (see ``TableLayout._dtype``)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordered category" if dtype.ordered else "category"
    if isinstance(dtype, pd.StringDtype):
        return "string" if dtype.na_value is pd.NA else "str"
    return str(dtype)


def _plain(value):
    """A column name or category as a JSON value (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _numeric_states(values, zero_share) -> tuple:
    """The states a numeric column's state block tells apart; () for none.

    A column gets a ``"zero"`` state when exact zeros make at least ``zero_share`` of its
    observed values (but not all of them), and a ``"missing"`` state when it has missing
    values: then the Gaussian feature models only the ordinary values.

    >>> _numeric_states(np.array([0.0, 0.0, 3.0, np.nan]), 0.05)
    ('value', 'zero', 'missing')
    >>> _numeric_states(np.array([1.0, 2.0]), 0.05), _numeric_states(np.zeros(3), 0.05)
    ((), ())
    """
    observed = values[~np.isnan(values)]
    zeros = np.mean(observed == 0)
    extra = (("zero",) if zero_share is not None and zero_share <= zeros < 1 else ()) + (
        ("missing",) if len(observed) < len(values) else ())
    return ("value", *extra) if extra else ()


def _split_states(values, states) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column as its ordinary values (NaN in the other states) and its state
    block (one-hot; all zeros for a state not seen in training, e.g. a missing value in a
    column that had none, as a category's unseen value).

    >>> values, block = _split_states(np.array([0.0, 2.0, np.nan]), ("value", "zero"))
    >>> values.tolist(), block.tolist()
    ([nan, 2.0, nan], [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    """
    state = np.where(np.isnan(values), "missing", np.where(values == 0, "zero", "value"))
    if "zero" not in states:
        state[state == "zero"] = "value"
    block = np.stack([state == s for s in states], axis=1).astype(np.float64)
    return np.where(state == "value", values, np.nan), block


def _merge_states(values, block, states) -> np.ndarray:
    """Decoded numbers from the ordinary values and the state block (see :func:`_split_states`).

    NaN where ``"missing"`` is the most probable state (as a categorical column decodes
    to its most probable category). Otherwise the expected value over the observed
    states, ``(p_value * value + p_zero * 0) / (p_value + p_zero)``: a one-hot block (a
    draw) gives exactly 0 in the zero state, probabilities (decoder means) their
    average (a NaN value with no weight, as :func:`_split_states` gives, is no
    matter). Negative entries (e.g. from a linear decoder such as PCA's) count as 0; if
    none is positive, the most probable state decides.

    >>> _merge_states(np.array([5.0, 5.0, 5.0, 5.0]),
    ...               np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.75, 0.25, 0.0],
    ...                         [-0.5, -0.1, -0.2]]),
    ...               ("value", "zero", "missing")).tolist()
    [0.0, nan, 3.75, 0.0]
    """
    best = np.asarray(states)[np.argmax(block, axis=1)]
    weight = dict(zip(states, np.clip(block, 0.0, None).T, strict=True))
    p_value, total = weight["value"], weight["value"] + weight.get("zero", 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, np.where(p_value > 0, p_value * values, 0.0) / total,
                        np.where(best == "value", values, 0.0))
    return np.where(best == "missing", np.nan, mean)
