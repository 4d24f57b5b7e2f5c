"""Mixed-type tables: how a DataFrame's columns become model features, and back.

:class:`TableLayout` is fitted on the training DataFrame. Each numeric column becomes
a Gaussian feature (a Gaussian / MSE head): by default mapped through its own
empirical distribution to a normal, then standardised (``numeric="quantile"``), or
only standardised (``numeric="standard"``). A numeric column whose values are often
exactly zero ("0 for none": money amounts, counts), or that has missing values, also
gets a *state block*: a one-hot block of its states ``value`` / ``zero`` / ``missing``
that the model decodes with a softmax head, the Gaussian feature then holding only
the ordinary values. Each categorical column (object, ``category``, ``string`` or
bool dtype) becomes a one-hot block with a softmax (cross-entropy) head. The block
positions are the ``groups`` the losses use (:mod:`skvae.losses`);
:meth:`TableLayout.get_feature_names_out` names every feature (``LotArea``,
``MiscVal:zero``, ``Street=Pave``).

scikit-learn does the work (a ColumnTransformer of QuantileTransformer +
StandardScaler, and OneHotEncoder with ``handle_unknown="ignore"``); this module adds
the column kinds, the numeric states, the categories of ``category`` columns in their
own order, clear errors, and the original dtypes on the way back. Why quantiles and
states by default (real numbers are skewed and zero-inflated: standardised, they draw
negative prices and no exact zeros) is measured in the user guide's "Tables" section.

Missing values and unseen categories:

* a missing numeric value is NaN in the Gaussian feature (the estimators leave it out
  of the loss; the encoder sees the training mean, about 0 once transformed) and, when
  the training column had missing values, the ``missing`` state of its state block:
  ``sample`` then generates missing values at the rate the model learned;
* a missing categorical value is a category of its own when the training column
  has missing values (as ``OneHotEncoder`` treats NaN; a missing ``PoolQC`` means "no
  pool", worth modelling);
* a category not seen in training (including "missing" in a column that had none)
  becomes an all-zero block: it contributes nothing to the loss and the encoder
  sees "none of the known categories".

``inverse_transform`` returns a DataFrame with the original columns and dtypes
(nullable ``Int64`` / ``Float64`` / ``boolean`` and ``string`` too): numeric values
mapped back (rounded for integer columns; with a state block, NaN where ``missing``
is the most probable state, else the expected value over the observed states), each
categorical column the most probable training category. The dtypes are stored as
plain descriptions, so a pickled layout loads where pandas lacks the training
machine's optional backends (e.g. pyarrow-backed strings).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler

from ._columns import (
    _as_numbers,
    _as_objects,
    _categories,
    _check_column,
    _merge_states,
    _numeric_states,
    _plain,
    _portable_dtype,
    _rebuild_dtype,
    _restore_numeric,
    _split_states,
    has_categorical_columns,
    is_categorical,
)

__all__ = ["TableLayout", "has_categorical_columns", "is_categorical"]

#: The numeric transforms of :class:`TableLayout`.
NUMERIC_TRANSFORMS = ("standard", "quantile")
#: Most quantiles a ``numeric="quantile"`` layout keeps per column (scikit-learn's default).
N_QUANTILES = 1000
#: The share of exact zeros from which a numeric column gets a zero state (see
#: :class:`TableLayout`).
ZERO_SHARE = 0.05


class TableLayout:
    """Fitted mapping between a mixed-type DataFrame and a float32 feature matrix.

    Features are the transformed numeric columns first, then one one-hot block per
    categorical column (in column order), then the state blocks of numeric columns
    (:attr:`states_`); :attr:`groups_` lists each block's feature indices and
    :meth:`get_feature_names_out` names the features.

    Parameters
    ----------
    numeric : {"quantile", "standard"}, default="quantile"
        How numeric columns become features: ``"quantile"`` maps each column's ordinary
        values through their empirical distribution to a standard normal
        (:class:`~sklearn.preprocessing.QuantileTransformer`, up to 1,000 quantiles), then
        standardises them: skewed and heavy-tailed columns become Gaussian-like
        features that decode within the training range. ``"standard"`` subtracts the
        mean and divides by the standard deviation
        (:class:`~sklearn.preprocessing.StandardScaler`): decoded means closer in the
        columns' own units, draws that can leave the range (negative prices).
    zero_share : float in (0, 1] or None, default=0.05
        A numeric column whose exact zeros make at least this share of its observed
        values (and not all of them) gets a ``zero`` state; None: no zero states.
        Columns with missing values get a ``missing`` state either way.

    Attributes
    ----------
    columns_ : list of str
        The training columns, in order.
    numeric_, categorical_ : list of str
        The numeric columns and the categorical ones.
    categories_ : dict of str to ndarray
        The categories of each categorical column (NaN last when it had missing values).
    states_ : dict of str to tuple of str
        The numeric columns with a state block and their states, in block order
        (``("value", "zero", "missing")`` or a part of it).
    mean_, scale_ : ndarray of shape (n_numeric,)
        Mean and standard deviation of each numeric column (over its non-missing
        values), in the column's units.
    min_, max_ : ndarray of shape (n_numeric,)
        Each numeric column's training range (``inverse_transform(..., clip=True)``).
    groups_ : tuple of tuples of int
        The feature indices of each one-hot block: the categorical columns', then the
        state blocks.
    n_features_ : int
        The width of the feature matrix.
    transformer_ : sklearn.compose.ColumnTransformer
        The fitted scikit-learn transformer doing the encoding.

    Examples
    --------
    >>> import pandas as pd
    >>> from skvae.tabular import TableLayout
    >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
    >>> layout = TableLayout(numeric="standard").fit(df)
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

    #: Layouts pickled before ``numeric`` existed standardised their numbers.
    numeric = "standard"

    #: ... and had no state blocks.
    zero_share = None

    def __init__(self, numeric="quantile", zero_share=ZERO_SHARE):
        if numeric not in NUMERIC_TRANSFORMS:
            raise ValueError(f"numeric={numeric!r} is not one of {NUMERIC_TRANSFORMS}: use "
                             "'standard' (the default) or 'quantile'.")
        if zero_share is not None and not 0 < zero_share <= 1:
            raise ValueError(f"zero_share={zero_share!r} is not in (0, 1]: it is the share of "
                             "exact zeros from which a numeric column gets a zero state "
                             "(e.g. 0.05); None turns zero states off.")
        self.numeric = numeric
        self.zero_share = zero_share

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
        (['size', 'rooms'], ['kind'], ((2, 3, 4), (5, 6)))
        >>> layout.categories_["kind"].tolist()  # missing is a category of its own
        ['flat', 'house', nan]
        >>> layout.states_  # ... and a state of a numeric column
        {'size': ('value', 'missing')}
        >>> layout.get_feature_names_out().tolist()
        ['size', 'rooms', 'kind=flat', 'kind=house', 'kind=nan', 'size:value', 'size:missing']
        """
        for column in df.columns:
            _check_column(df[column], column)
        self.columns_ = list(df.columns)
        self.dtypes_ = {c: _portable_dtype(df[c].dtype) for c in df.columns}
        self.numeric_ = [c for c in df.columns if not is_categorical(df[c])]
        self.categorical_ = [c for c in df.columns if is_categorical(df[c])]
        self.categories_ = {c: _categories(df[c]) for c in self.categorical_}
        prepared = self._prepared(df)
        numbers = prepared[self.numeric_].to_numpy(dtype=np.float64)
        self.states_ = {c: states for c, states in (
            (c, _numeric_states(numbers[:, j], self.zero_share))
            for j, c in enumerate(self.numeric_)) if states}
        self.transformer_ = self._transformer(len(df)).fit(self._split(prepared)[0])
        moments = StandardScaler().fit(numbers) if self.numeric_ else None
        self.mean_ = moments.mean_ if moments else np.zeros(0)
        self.scale_ = moments.scale_ if moments else np.ones(0)
        self.min_, self.max_ = (np.nanmin(numbers, axis=0), np.nanmax(numbers, axis=0)) \
            if self.numeric_ else (np.zeros(0), np.zeros(0))
        return self._finish()

    def _split(self, prepared):
        """The prepared frame with only ordinary values in columns that have states,
        and those columns' state blocks (see :attr:`states_`)."""
        prepared, blocks = prepared.copy(), []
        for column, states in self.states_.items():
            prepared[column], block = _split_states(prepared[column].to_numpy(), states)
            blocks.append(block)
        return prepared, blocks

    def _finish(self) -> TableLayout:
        """The attributes derived from the fitted transformer."""
        sizes = [len(self.categories_[c]) for c in self.categorical_]
        sizes += [len(states) for states in self.states_.values()]
        ends = np.cumsum([len(self.numeric_), *sizes])
        self.groups_ = tuple(tuple(range(a, b)) for a, b in itertools.pairwise(ends))
        self.n_features_ = int(ends[-1])
        return self

    def to_dict(self) -> dict:
        """The fitted layout as plain JSON-able data (see :meth:`from_dict`).

        Returns
        -------
        state : dict
            Columns, dtype descriptions, categories (missing as None), the numeric
            columns' means and scales and the numeric transform's fitted statistics.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> layout = TableLayout().fit(pd.DataFrame({"x": [1.0, 3.0], "c": ["a", None]}))
        >>> copy = TableLayout.from_dict(json.loads(json.dumps(layout.to_dict())))
        >>> rows = pd.DataFrame({"x": [2.0, 0.5], "c": ["a", None]})
        >>> bool((copy.transform(rows) == layout.transform(rows)).all())
        True
        """
        return {
            "columns": [_plain(c) for c in self.columns_],
            "dtypes": [self.dtypes_[c] for c in self.columns_],
            "categorical": [c in self.categorical_ for c in self.columns_],
            "categories": [[None if pd.isna(v) else _plain(v) for v in self.categories_[c]]
                           for c in self.categorical_],
            "numeric": self.numeric,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "min": self.min_.tolist(),
            "max": self.max_.tolist(),
            "zero_share": self.zero_share,
            "states": [[_plain(c), list(states)] for c, states in self.states_.items()],
            "steps": [{key: np.asarray(getattr(step, key)).tolist()
                       for key in _STEP_STATE[type(step).__name__]}
                      for step in self._numeric_steps()],
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
        layout = cls(numeric=state.get("numeric", "standard"),  # before 0.2: standard,
                     zero_share=state.get("zero_share"))  # and no state blocks
        layout.states_ = {c: tuple(states) for c, states in state.get("states", [])}
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
        layout.transformer_ = layout._transformer(rows).fit(layout._prepared(frame))
        # before skvae 0.2: one StandardScaler's statistics under "scaler"
        steps = state.get("steps", [state.get("scaler")] if state.get("scaler") else [])
        for step, values in zip(layout._numeric_steps(), steps, strict=True):
            for key, value in values.items():
                setattr(step, key, np.asarray(value) if isinstance(value, list) else value)
            if isinstance(step, QuantileTransformer):
                step.n_quantiles_ = len(step.references_)
        plain = layout._numeric_steps()[-1] if layout.numeric_ else None
        layout.mean_ = np.asarray(state.get("mean", plain.mean_ if plain else []), dtype=float)
        layout.scale_ = np.asarray(state.get("scale", plain.scale_ if plain else []),
                                   dtype=float)
        layout.min_, layout.max_ = (np.asarray(state.get(key, np.full(len(layout.numeric_),
                                                                      np.nan)), dtype=float)
                                    for key in ("min", "max"))
        layout._finish()
        return layout

    def _transformer(self, n_rows: int) -> ColumnTransformer:  # module-level helpers only:
        # it is pickled. NaN are ignored when fitting, kept by transform, in both.
        numbers = StandardScaler() if self.numeric == "standard" else make_pipeline(
            QuantileTransformer(n_quantiles=max(1, min(N_QUANTILES, n_rows)),
                                output_distribution="normal", subsample=None),
            StandardScaler())
        categories = OneHotEncoder(
            categories=[self.categories_[c] for c in self.categorical_],
            handle_unknown="ignore", sparse_output=False,
            feature_name_combiner=_one_hot_name)
        return ColumnTransformer(
            [("numeric", numbers, self.numeric_), ("categorical", categories, self.categorical_)],
            sparse_threshold=0, verbose_feature_names_out=False)

    def _numeric_steps(self) -> list:
        """The fitted steps of the numeric transform, first to last (none without numbers)."""
        if not self.numeric_:
            return []
        numbers = self.transformer_.named_transformers_["numeric"]
        return [step for _, step in numbers.steps] if hasattr(numbers, "steps") else [numbers]

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
            The transformed numbers (NaN where missing, or in another state), the
            categorical columns' one-hot blocks, then the state blocks, in float32.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, 0.0], "kind": ["flat", "house", "flat"]})
        >>> layout = TableLayout(numeric="standard", zero_share=0.3).fit(df)
        >>> layout.transform(pd.DataFrame({"kind": ["house", "castle"], "size": [70.0, 0.0]}))
        array([[ 1.,  0.,  1.,  1.,  0.],
               [nan,  0.,  0.,  0.,  1.]], dtype=float32)
        """
        prepared, blocks = self._split(self._prepared(df))
        return np.hstack([self.transformer_.transform(prepared), *blocks]).astype(np.float32)

    def inverse_transform(self, features: np.ndarray, clip=False) -> pd.DataFrame:
        """Decode feature rows (decoder means or draws) to a DataFrame.

        Parameters
        ----------
        features : array-like of shape (n_samples, ``n_features_``)
            Rows in the layout of :meth:`transform`; each one-hot block may hold
            probabilities (the most probable category is taken). A numeric column's state
            block (:attr:`states_`) gives NaN where "missing" is its most probable state,
            else the expected value over its observed states (exactly 0 for a one-hot
            zero state).
        clip : bool, default=False
            Clip each numeric column to its training range (:attr:`min_`, :attr:`max_`).

        Returns
        -------
        df : pandas.DataFrame
            The training columns, in their order and with their dtypes.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, 70.0, 90.0], "kind": ["flat", "house", "flat"]})
        >>> layout = TableLayout(numeric="standard").fit(df)
        >>> back = layout.inverse_transform([[1.0, 0.2, 0.8], [-1.0, 0.9, 0.1]])
        >>> back["size"].round(3).tolist(), back["kind"].tolist()
        ([86.33, 53.67], ['house', 'flat'])
        """
        features = np.asarray(features, dtype=np.float64)
        n_numeric, n_categorical = len(self.numeric_), sum(map(len, self.categories_.values()))
        blocks = dict(zip(self.states_, self.groups_[len(self.categorical_):], strict=True))
        out = {}
        if self.numeric_:
            numbers = self.transformer_.named_transformers_["numeric"].inverse_transform(
                features[:, :n_numeric])
            if clip:
                numbers = np.clip(numbers, self.min_, self.max_)
            for j, column in enumerate(self.numeric_):
                if column in blocks:
                    numbers[:, j] = _merge_states(numbers[:, j], features[:, blocks[column]],
                                                  self.states_[column])
                out[column] = _restore_numeric(numbers[:, j], self._dtype(column))
        if self.categorical_:
            encoder = self.transformer_.named_transformers_["categorical"]
            values = encoder.inverse_transform(features[:, n_numeric:n_numeric + n_categorical])
            for j, column in enumerate(self.categorical_):
                out[column] = pd.Series(values[:, j]).astype(self._dtype(column))
        return pd.DataFrame(out)[self.columns_]

    def missing_features(self) -> list:
        """Find the features that stand for "missing" (which imputation must not choose).

        The NaN category of a categorical column, the ``missing`` state of a numeric one.

        Returns
        -------
        indices : list of int
            Feature indices, in feature order.

        Examples
        --------
        >>> import pandas as pd
        >>> from skvae.tabular import TableLayout
        >>> df = pd.DataFrame({"size": [50.0, None], "kind": ["flat", None]})
        >>> layout = TableLayout().fit(df)
        >>> [layout.get_feature_names_out()[i] for i in layout.missing_features()]
        ['kind=nan', 'size:missing']
        """
        n_categorical = len(self.categorical_)
        blocks = zip(self.groups_, [self.categories_[c] for c in self.categorical_]
                     + [np.asarray(s, dtype=object) for s in self.states_.values()], strict=True)
        return [block[-1] for i, (block, values) in enumerate(blocks)
                if (pd.isna(values[-1]) if i < n_categorical else values[-1] == "missing")]

    def _dtype(self, column):
        """The training dtype of ``column``, rebuilt from its stored description."""
        return _rebuild_dtype(self.dtypes_[column], self.categories_.get(column))

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
        states = [f"{c}:{s}" for c, column_states in self.states_.items()
                  for s in column_states]
        return np.concatenate([self.transformer_.get_feature_names_out(), states]).astype(object)


#: What :meth:`TableLayout.to_dict` keeps of each step of the numeric transform.
_STEP_STATE = {"StandardScaler": ("mean_", "var_", "scale_", "n_samples_seen_"),
               "QuantileTransformer": ("quantiles_", "references_")}


def _one_hot_name(column, category) -> str:
    """The feature name of one category's indicator: ``"column=category"``."""
    return f"{column}={category}"
