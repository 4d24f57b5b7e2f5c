"""Mixed-type tables: how a DataFrame's columns become model features, and back.

:class:`TableLayout` is fitted on the training DataFrame. Numeric columns become
standardised features (a Gaussian / MSE head); each categorical column (object,
``category``, ``string`` or bool dtype) becomes a one-hot block that the model
decodes with a softmax (cross-entropy) head. The block positions are the
``groups`` the losses use (:mod:`skvae.losses`).

Missing values and unseen categories, the way scikit-learn's
``SimpleImputer(strategy="mean")`` and ``OneHotEncoder(handle_unknown="ignore")``
treat them:

* a missing numeric value is replaced by the training mean (0 once standardised);
* a missing categorical value is a category of its own when the training column
  has missing values (as ``OneHotEncoder`` treats NaN): in the house prices data a
  missing ``PoolQC`` means "no pool", which is worth modelling, and ``sample`` then
  generates missing values at their training rate;
* a category not seen in training (including "missing" in a column that had none)
  becomes an all-zero block: it contributes nothing to the loss and the encoder
  sees "none of the known categories".

``inverse_transform`` returns a DataFrame with the original columns and dtypes:
numeric values un-standardised (rounded for integer columns), each categorical
column the most probable training category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["TableLayout", "has_categorical_columns", "is_categorical"]


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


class TableLayout:
    """Fitted mapping between a mixed-type DataFrame and a float32 feature matrix.

    Features are the standardised numeric columns first, then one one-hot block per
    categorical column (in column order); :attr:`groups_` lists each block's feature
    indices.

    Examples
    --------
    >>> import pandas as pd
    >>> from skvae.tabular import TableLayout
    >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
    >>> layout = TableLayout().fit(df)
    >>> layout.transform(df).round(3)
    array([[-1.225,  1.   ,  0.   ],
           [ 0.   ,  0.   ,  1.   ],
           [ 1.225,  1.   ,  0.   ]], dtype=float32)
    >>> layout.groups_
    [[1, 2]]
    >>> back = layout.inverse_transform(layout.transform(df))
    >>> back["kind"].tolist(), back["size"].round(3).tolist()
    (['flat', 'house', 'flat'], [50.0, 70.0, 90.0])
    """

    def fit(self, df: pd.DataFrame) -> TableLayout:
        """Learn the columns, numeric means and scales, and the categories of ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            The training table; no column may be entirely missing.

        Returns
        -------
        self : TableLayout
            The fitted layout.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, np.nan], "kind": ["flat", "house", None],
        ...                    "rooms": [2, 3, 4]})
        >>> layout = TableLayout().fit(df)
        >>> layout.numeric_, layout.categorical_, layout.groups_
        (['size', 'rooms'], ['kind'], [[2, 3, 4]])
        >>> layout.categories_["kind"].tolist()  # missing is a category of its own
        ['flat', 'house', nan]
        """
        self.columns_ = list(df.columns)
        self.dtypes_ = df.dtypes.copy()
        self.numeric_ = [c for c in df.columns if not is_categorical(df[c])]
        self.categorical_ = [c for c in df.columns if is_categorical(df[c])]
        for column in df.columns:
            _check_column(df[column], column)
        numbers = df[self.numeric_].astype(np.float64)
        self.mean_ = numbers.mean().to_numpy()
        scale = numbers.std(ddof=0).to_numpy()
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.min_, self.max_ = numbers.min().to_numpy(), numbers.max().to_numpy()
        self.categories_ = {c: _categories(df[c]) for c in self.categorical_}
        start = len(self.numeric_)
        self.groups_ = []
        for column in self.categorical_:
            size = len(self.categories_[column])
            self.groups_.append(list(range(start, start + size)))
            start += size
        self.n_features_ = start
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Encode ``df`` (the training columns, any order, extra columns ignored).

        Parameters
        ----------
        df : pandas.DataFrame
            Rows with every training column.

        Returns
        -------
        features : ndarray of shape (n_samples, ``n_features_``)
            Standardised numeric columns (a missing value becomes 0, the mean), then a
            one-hot block per categorical column, in float32.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
        >>> layout = TableLayout().fit(df)
        >>> layout.transform(pd.DataFrame({"kind": ["house", "castle"], "size": [70.0, None]}))
        array([[0., 0., 1.],
               [0., 0., 0.]], dtype=float32)
        """
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise ValueError(
                f"X is missing the column(s) {missing} seen during fit. Pass a DataFrame "
                f"with every training column: {self.columns_}."
            )
        numbers = np.empty((len(df), len(self.numeric_)), dtype=np.float64)
        for j, column in enumerate(self.numeric_):
            numbers[:, j] = _as_numbers(df[column], column)
        numbers = (numbers - self.mean_) / self.scale_
        numbers[np.isnan(numbers)] = 0.0
        blocks = [_one_hot(df[c], self.categories_[c]) for c in self.categorical_]
        return np.hstack([numbers, *blocks]).astype(np.float32)

    def inverse_transform(self, features: np.ndarray) -> pd.DataFrame:
        """Decode feature rows (decoder means: values and probabilities) to a DataFrame.

        Parameters
        ----------
        features : array-like of shape (n_samples, ``n_features_``)
            Rows in the layout of :meth:`transform`; each one-hot block may hold
            probabilities (the most probable category is taken).

        Returns
        -------
        df : pandas.DataFrame
            The training columns, in their order and with their dtypes.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
        >>> layout = TableLayout().fit(df)
        >>> back = layout.inverse_transform([[1.0, 0.2, 0.8], [-1.0, 0.9, 0.1]])
        >>> back["size"].round(3).tolist(), back["kind"].tolist()
        ([86.33, 53.67], ['house', 'flat'])
        """
        features = np.asarray(features, dtype=np.float64)
        out = {}
        numbers = features[:, :len(self.numeric_)] * self.scale_ + self.mean_
        for j, column in enumerate(self.numeric_):
            out[column] = _restore_numeric(numbers[:, j], self.dtypes_[column])
        for column, group in zip(self.categorical_, self.groups_, strict=True):
            values = self.categories_[column][features[:, group].argmax(axis=1)]
            out[column] = pd.Series(values).astype(self.dtypes_[column])
        return pd.DataFrame(out)[self.columns_]


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


def _one_hot(series, categories) -> np.ndarray:
    values = series.astype(object).where(series.notna(), np.nan)
    codes = pd.Index(categories, dtype=object).get_indexer(values)
    block = np.zeros((len(series), len(categories)))
    rows = np.flatnonzero(codes >= 0)  # -1: a category fit never saw -> all zeros
    block[rows, codes[rows]] = 1.0
    return block


def _as_numbers(series, column) -> np.ndarray:
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise TypeError(
            f"Column {column!r} was numeric during fit but now holds non-numeric values "
            f"(dtype {series.dtype}). Pass the same kind of data as in fit."
        ) from None


def _restore_numeric(values, dtype):
    if ptypes.is_integer_dtype(dtype):
        return np.round(values).astype(dtype if isinstance(dtype, np.dtype) else "Int64")
    return values.astype(dtype)
