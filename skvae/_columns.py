"""How one DataFrame column is read into a :class:`~skvae.tabular.TableLayout` and
restored from it: checks, categories, numbers, and dtypes stored as plain descriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes


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
