"""Mixed-type tables: how a DataFrame's columns become model features, and back.

:class:`TableLayout` is fitted on the training DataFrame. Numeric columns become
standardised features (a Gaussian / MSE head); each categorical column (object,
``category``, ``string`` or bool dtype) becomes a one-hot block that the model
decodes with a softmax (cross-entropy) head. The block positions are the
``groups`` the losses use (:mod:`skvae.losses`).

scikit-learn does the work: a :class:`~sklearn.compose.ColumnTransformer` of
:class:`~sklearn.preprocessing.StandardScaler` for the numbers, and
:class:`~sklearn.preprocessing.OneHotEncoder` (``handle_unknown="ignore"``) for the
categories. This module adds what they do not: telling the column kinds apart,
the categories of ``category`` columns in their own order, clear errors, and the
original dtypes on the way back. Missing values and unseen categories:

* a missing numeric value stays NaN: the estimators leave it out of the loss (the
  model learns from the observed entries) and the encoder sees the training mean
  (0 once standardised);
* a missing categorical value is a category of its own when the training column
  has missing values (as ``OneHotEncoder`` treats NaN): in the house prices data a
  missing ``PoolQC`` means "no pool", which is worth modelling, and ``sample`` then
  generates missing values at their training rate;
* a category not seen in training (including "missing" in a column that had none)
  becomes an all-zero block: it contributes nothing to the loss and the encoder
  sees "none of the known categories".

``inverse_transform`` returns a DataFrame with the original columns and dtypes
(nullable ``Int64`` / ``Float64`` / ``boolean`` and ``string`` too): numeric values
un-standardised (rounded for integer columns), each categorical column the most
probable training category. The dtypes are stored as plain descriptions, so a
pickled layout loads where pandas lacks the training machine's optional backends
(e.g. pyarrow-backed strings).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

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
    indices and :meth:`get_feature_names_out` names the features.

    Attributes
    ----------
    columns_ : list of str
        The training columns, in order.
    numeric_, categorical_ : list of str
        The numeric columns and the categorical ones.
    categories_ : dict of str to ndarray
        The categories of each categorical column (NaN last when it had missing values).
    mean_, scale_ : ndarray of shape (n_numeric,)
        Mean and standard deviation of each numeric column (over its non-missing values).
    groups_ : tuple of tuples of int
        The feature indices of each categorical column's one-hot block.
    n_features_ : int
        The width of the feature matrix.
    transformer_ : sklearn.compose.ColumnTransformer
        The fitted scikit-learn transformer doing the encoding.

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
    ((1, 2),)
    >>> layout.get_feature_names_out().tolist()
    ['size', 'kind=flat', 'kind=house']
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
        (['size', 'rooms'], ['kind'], ((2, 3, 4),))
        >>> layout.categories_["kind"].tolist()  # missing is a category of its own
        ['flat', 'house', nan]
        """
        for column in df.columns:
            _check_column(df[column], column)
        self.columns_ = list(df.columns)
        self.dtypes_ = {c: _portable_dtype(df[c].dtype) for c in df.columns}
        self.numeric_ = [c for c in df.columns if not is_categorical(df[c])]
        self.categorical_ = [c for c in df.columns if is_categorical(df[c])]
        self.categories_ = {c: _categories(df[c]) for c in self.categorical_}
        self.transformer_ = self._transformer().fit(self._prepared(df))
        return self._finish()

    def _finish(self) -> TableLayout:
        """The attributes derived from the fitted transformer."""
        numbers = self._numeric_scaler()
        self.mean_ = numbers.mean_ if numbers else np.zeros(0)
        self.scale_ = numbers.scale_ if numbers else np.ones(0)
        sizes = [len(self.categories_[c]) for c in self.categorical_]
        ends = np.cumsum([len(self.numeric_), *sizes])
        self.groups_ = tuple(tuple(range(a, b)) for a, b in itertools.pairwise(ends))
        self.n_features_ = int(ends[-1])
        return self

    def to_dict(self) -> dict:
        """The fitted layout as plain JSON-able data (see :meth:`from_dict`).

        Returns
        -------
        state : dict
            Columns, dtype descriptions, categories (missing as None) and the numeric
            scaler's statistics.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> layout = TableLayout().fit(pd.DataFrame({"x": [1.0, 3.0], "c": ["a", None]}))
        >>> copy = TableLayout.from_dict(json.loads(json.dumps(layout.to_dict())))
        >>> copy.transform(pd.DataFrame({"x": [2.0], "c": ["a"]}))
        array([[0., 1., 0.]], dtype=float32)
        """
        scaler = self._numeric_scaler()
        return {
            "columns": [_plain(c) for c in self.columns_],
            "dtypes": [self.dtypes_[c] for c in self.columns_],
            "categorical": [c in self.categorical_ for c in self.columns_],
            "categories": [[None if pd.isna(v) else _plain(v) for v in self.categories_[c]]
                           for c in self.categorical_],
            "scaler": None if scaler is None else {
                key: getattr(scaler, key).tolist() for key in ("mean_", "var_", "scale_")}
            | {"n_samples_seen_": int(np.max(scaler.n_samples_seen_))},
        }

    @classmethod
    def from_dict(cls, state: dict) -> TableLayout:
        """Rebuild a fitted layout from :meth:`to_dict`'s data (no training rows needed).

        Parameters
        ----------
        state : dict
            The output of :meth:`to_dict` (e.g. after a JSON round trip).

        Returns
        -------
        layout : TableLayout
            A fitted layout that encodes and decodes as the original did.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> state = TableLayout().fit(pd.DataFrame({"kind": ["flat", "house"]})).to_dict()
        >>> TableLayout.from_dict(state).get_feature_names_out().tolist()
        ['kind=flat', 'kind=house']
        """
        layout = cls()
        layout.columns_ = list(state["columns"])
        layout.dtypes_ = dict(zip(layout.columns_, state["dtypes"], strict=True))
        flags = dict(zip(layout.columns_, state["categorical"], strict=True))
        layout.numeric_ = [c for c in layout.columns_ if not flags[c]]
        layout.categorical_ = [c for c in layout.columns_ if flags[c]]
        layout.categories_ = {c: np.asarray([np.nan if v is None else v for v in values],
                                            dtype=object)
                              for c, values in zip(layout.categorical_, state["categories"],
                                                   strict=True)}
        rows = max([1, *(len(v) for v in layout.categories_.values())])
        frame = pd.DataFrame({c: np.resize(layout.categories_[c], rows) if flags[c]
                              else np.zeros(rows) for c in layout.columns_})
        layout.transformer_ = layout._transformer().fit(layout._prepared(frame))
        scaler = layout._numeric_scaler()
        if scaler is not None:
            for key in ("mean_", "var_", "scale_"):
                setattr(scaler, key, np.asarray(state["scaler"][key], dtype=np.float64))
            scaler.n_samples_seen_ = state["scaler"]["n_samples_seen_"]
        layout._finish()
        return layout

    def _transformer(self) -> ColumnTransformer:  # module-level helpers only: it is pickled
        numbers = StandardScaler()  # NaN are ignored when fitting, kept by transform
        categories = OneHotEncoder(
            categories=[self.categories_[c] for c in self.categorical_],
            handle_unknown="ignore", sparse_output=False,
            feature_name_combiner=_one_hot_name)
        return ColumnTransformer(
            [("numeric", numbers, self.numeric_), ("categorical", categories, self.categorical_)],
            sparse_threshold=0, verbose_feature_names_out=False)

    def _numeric_scaler(self):
        if not self.numeric_:
            return None
        return self.transformer_.named_transformers_["numeric"]

    def _prepared(self, df):
        """The training columns in order: numbers as float64, categories as objects."""
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise ValueError(
                f"X is missing the column(s) {missing} seen during fit. Pass a DataFrame "
                f"with every training column: {self.columns_}."
            )
        columns = {c: _as_numbers(df[c], c) for c in self.numeric_}
        columns |= {c: _as_objects(df[c]) for c in self.categorical_}
        return pd.DataFrame(columns, index=df.index)[self.columns_]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Encode ``df`` (the training columns, any order, extra columns ignored).

        Parameters
        ----------
        df : pandas.DataFrame
            Rows with every training column.

        Returns
        -------
        features : ndarray of shape (n_samples, ``n_features_``)
            Standardised numeric columns (a missing value stays NaN), then a
            one-hot block per categorical column, in float32.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
        >>> layout = TableLayout().fit(df)
        >>> layout.transform(pd.DataFrame({"kind": ["house", "castle"], "size": [70.0, None]}))
        array([[ 0.,  0.,  1.],
               [nan,  0.,  0.]], dtype=float32)
        """
        return self.transformer_.transform(self._prepared(df)).astype(np.float32)

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
        n_numeric = len(self.numeric_)
        out = {}
        if self.numeric_:
            numbers = self._numeric_scaler().inverse_transform(features[:, :n_numeric])
            for j, column in enumerate(self.numeric_):
                out[column] = _restore_numeric(numbers[:, j], self._dtype(column))
        if self.categorical_:
            encoder = self.transformer_.named_transformers_["categorical"]
            values = encoder.inverse_transform(features[:, n_numeric:])
            for j, column in enumerate(self.categorical_):
                out[column] = pd.Series(values[:, j]).astype(self._dtype(column))
        return pd.DataFrame(out)[self.columns_]

    def _dtype(self, column):
        """The training dtype of ``column``, rebuilt from its stored description."""
        description = self.dtypes_[column]
        if description == "category":
            known = [c for c in self.categories_[column] if not pd.isna(c)]
            return pd.CategoricalDtype(known)
        if description == "ordered category":
            known = [c for c in self.categories_[column] if not pd.isna(c)]
            return pd.CategoricalDtype(known, ordered=True)
        if description == "str":  # pandas 3's default string dtype, NaN for missing
            try:
                return pd.StringDtype(na_value=np.nan)
            except TypeError:  # pandas < 2.3
                return np.dtype(object)
        return ptypes.pandas_dtype(description)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Name the features: the numeric columns, then ``column=category`` per block.

        Parameters
        ----------
        input_features : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        names : ndarray of str
            One name per feature of :meth:`transform` (``zone=nan`` for a missing
            value's own category).

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"rooms": [2, 3], "kind": ["flat", None]})
        >>> TableLayout().fit(df).get_feature_names_out().tolist()
        ['rooms', 'kind=flat', 'kind=nan']
        """
        return self.transformer_.get_feature_names_out()


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


def _one_hot_name(column, category) -> str:
    """The feature name of one category's indicator: ``"column=category"``."""
    return f"{column}={category}"


def _plain(value):
    """A column name or category as a JSON value (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value
