"""Figures for tables: real against synthetic columns.

:func:`plot_synthetic_columns` draws one panel per column: the real and the synthetic
distribution side by side (histograms on shared bins for numbers, shares of the most
frequent categories for the others, missing values as a category of their own), and
labels shares of missing values and of zeros (when there are 5% or more), and
titles each panel with the column's shape score as sdmetrics computes it for its
"Column Shapes" (1 - the Kolmogorov-Smirnov statistic of the numbers, 1 - the total
variation distance of the categories; scipy computes the statistic). It takes any two
DataFrames, so a TVAE's samples can be drawn beside skvae's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..tabular import is_categorical
from ._figure import given_axes, subplots

#: Label of the missing values' bar.
MISSING = "(missing)"


def column_shape(real: pd.Series, synthetic: pd.Series) -> float:
    """Score how alike two columns' distributions are, as sdmetrics' "Column Shapes".

    ``1 - KS`` (the Kolmogorov-Smirnov statistic) for numbers, missing values left
    out; ``1 - TV`` (the total variation distance of the category shares, missing
    values a category) otherwise.

    Parameters
    ----------
    real, synthetic : pandas.Series
        The real column and the generated one.

    Returns
    -------
    score : float
        From 0 (no overlap) to 1 (the same distribution).

    Examples
    --------
    >>> import pandas as pd
    >>> column_shape(pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([1.0, 2.0, 3.0, 9.0]))
    0.75
    >>> column_shape(pd.Series(["a", "a", "b", None]), pd.Series(["a", "b", "b", "b"]))
    0.5
    """
    if is_categorical(real):
        shares = _share_table(real, synthetic)
        return float(1 - 0.5 * (shares["real"] - shares["synthetic"]).abs().sum())
    real, synthetic = (pd.to_numeric(s, errors="coerce").dropna().to_numpy(float)
                       for s in (real, synthetic))
    if not len(real) or not len(synthetic):
        return float(len(real) == len(synthetic))
    return float(1 - stats.ks_2samp(real, synthetic).statistic)


def _shares(series: pd.Series) -> pd.Series:
    """Category shares, missing values as :data:`MISSING`."""
    return series.astype(object).where(series.notna(), MISSING).value_counts(normalize=True)


def _share_table(real: pd.Series, synthetic: pd.Series) -> pd.DataFrame:
    """Both columns' category shares side by side (``real``, ``synthetic``; 0 if absent)."""
    return _shares(real).to_frame("real").join(_shares(synthetic).rename("synthetic"),
                                                how="outer").fillna(0.0)


def plot_synthetic_columns(real, synthetic, columns=None, *, ncols=4, max_categories=8,
                           bins=30, ax=None):
    """Draw each column's real and synthetic distributions, titled with its shape score.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The real rows and the generated ones (e.g. ``VAETransformer.sample``), with
        the same columns.
    columns : list of str, default=None
        The columns to draw, in order; None: every column of ``real``.
    ncols : int, default=4
        Panels per row.
    max_categories : int, default=8
        Categories drawn per categorical column: the most frequent in ``real`` (and
        missing values, if any); the rest are summed as "(other)".
    bins : int, default=30
        Histogram bins of a numeric column, over the range of both.
    ax : array of matplotlib Axes, default=None
        One axes per column; None draws on a new figure.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One per column; the figure (``axes[0].figure``) holds one legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skvae.plotting import plot_synthetic_columns
    >>> rng = np.random.RandomState(0)
    >>> real = pd.DataFrame({"price": rng.lognormal(12, 0.4, 500),
    ...                      "kind": rng.choice(["flat", "house"], 500)})
    >>> fake = pd.DataFrame({"price": rng.lognormal(12, 0.5, 500),
    ...                      "kind": rng.choice(["flat", "house"], 500, p=[0.3, 0.7])})
    >>> axes = plot_synthetic_columns(real, fake)
    >>> [a.get_title() for a in axes]
    ['price\\nshape 0.92', 'kind\\nshape 0.85']
    """
    columns = list(real.columns if columns is None else columns)
    unknown = [c for c in columns if c not in real.columns or c not in synthetic.columns]
    if unknown:
        raise ValueError(f"Column(s) {unknown} are not in both real and synthetic. Pass "
                         "columns both DataFrames hold, e.g. columns=list(real.columns).")
    axes = (subplots(len(columns), ncols=ncols, panel_size=3.2, aspect=0.75) if ax is None
            else given_axes(ax, len(columns), "plot_synthetic_columns"))
    axes = np.atleast_1d(axes)
    for axis, column in zip(axes, columns, strict=True):
        if is_categorical(real[column]):
            _category_bars(axis, real[column], synthetic[column], max_categories)
        else:
            _histograms(axis, real[column], synthetic[column], bins)
        axis.set_title(f"{column}\nshape {column_shape(real[column], synthetic[column]):.2f}")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="outside upper center", ncols=2)
    return axes


def _histograms(ax, real, synthetic, bins):
    real, synthetic = (pd.to_numeric(s, errors="coerce").to_numpy(float)
                       for s in (real, synthetic))
    both = np.r_[real, synthetic]
    edges = np.histogram_bin_edges(both[~np.isnan(both)], bins=bins)
    for values, label in ((real, "real"), (synthetic, "synthetic")):
        ax.hist(values[~np.isnan(values)], bins=edges, density=True, alpha=0.5, label=label)
    ax.set_ylabel("density")
    shares = {"missing": (np.isnan(real).mean(), np.isnan(synthetic).mean()),
              "zeros": (np.mean(real == 0), np.mean(synthetic == 0))}
    shown = {what: pair for what, pair in shares.items()
             if max(pair) >= (0.05 if what == "zeros" else 1e-12)}
    ax.set_xlabel("value" + "".join(f"\n({what}: real {a:.0%}, synthetic {b:.0%})"
                                    for what, (a, b) in shown.items()))


def _category_bars(ax, real, synthetic, max_categories):
    shares = _share_table(real, synthetic).sort_values("real", ascending=False)
    kept = shares.index[:max_categories].union([MISSING] if MISSING in shares.index else [],
                                               sort=False)
    shown = shares.loc[kept]
    if len(kept) < len(shares):
        shown = pd.concat([shown, shares.drop(kept).sum().to_frame("(other)").T])
    positions = np.arange(len(shown))
    ax.bar(positions - 0.2, shown["real"], width=0.4, alpha=0.7, label="real")
    ax.bar(positions + 0.2, shown["synthetic"], width=0.4, alpha=0.7, label="synthetic")
    ax.set_xticks(positions, [str(c) for c in shown.index], rotation=45, ha="right",
                  fontsize="small")
    ax.set_ylabel("share of rows")


__all__ = ["column_shape", "plot_synthetic_columns"]
