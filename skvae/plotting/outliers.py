"""Figures of an outlier detector: the most anomalous rows, and what makes them so.

:func:`plot_outliers` ranks the rows of ``X`` by :meth:`~skvae.OutlierDetector.score_samples`
and draws the lowest-scoring ones with their :meth:`~skvae.OutlierDetector.feature_scores`:
for tables, a panel of the row's top features as bars (each next to that feature's
median over ``X``); for images, the image, its reconstruction and its per-pixel scores.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..images import image_mosaic
from ..outliers import score_units
from ._figure import given_axes, resolve_image_shape, show_mosaic, subplots

#: Most rows of ``X`` whose feature scores give the bars' reference (evenly spaced rows).
REFERENCE_ROWS = 1000
#: The percentile of the shown per-pixel scores at the top of the colour scale.
SCORE_PERCENTILE = 99.5


def plot_outliers(detector, X, *, n_rows=6, n_features=5, image_shape="auto", ax=None,
                  cmap="magma"):
    """Draw the rows of ``X`` with the lowest scores and the features that make them so.

    Tables (and arrays that are not images): one panel per row, most anomalous
    first, titled with the row's index (``X``'s index for a DataFrame, else its
    position) and score; horizontal bars show the row's ``n_features`` highest
    feature scores, each labelled with the row's value, and a black tick marks that
    feature's median score over ``X`` (the figure's legend says which is which).
    Images: for each row, the image, its reconstruction (decoded from its code, as
    :meth:`~skvae.OutlierDetector.feature_scores` does) and its per-pixel feature
    scores (channels summed) on one colour scale, up to the 99.5th percentile of the
    scores shown (the colour bar's arrow marks the higher ones), with one colour bar.

    Parameters
    ----------
    detector : fitted OutlierDetector
        The detector whose scores rank the rows.
    X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        Rows like the training ones; the lowest-scoring are drawn.
    n_rows : int, default=6
        Rows drawn (fewer when ``X`` has fewer).
    n_features : int, default=5
        Features per row shown as bars (tables only).
    image_shape : "auto", tuple or None, default="auto"
        See :mod:`skvae.plotting`; ``"auto"`` treats a DataFrame as a table, and None
        draws any rows as a table.
    ax : array of matplotlib Axes, default=None
        One axes per row (tables), or three per row, row by row (images); None draws
        on a new figure.
    cmap : str, default="magma"
        Colour map of the per-pixel scores (images).

    Returns
    -------
    axes : ndarray of matplotlib Axes
        Tables: one per row drawn, most anomalous first. Images: three per row drawn
        (image, reconstruction, feature scores).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae import AutoencoderTransformer, OutlierDetector
    >>> from skvae.plotting import plot_outliers
    >>> X = np.random.RandomState(0).rand(200, 5)
    >>> detector = OutlierDetector(AutoencoderTransformer(
    ...     hidden_layer_sizes=(8,), max_epochs=5, random_state=0)).fit(X)
    >>> X[7, 3] = 9.0  # the row most out of place, by its feature x3
    >>> axes = plot_outliers(detector, X, n_rows=2, n_features=3)
    >>> len(axes), axes[0].get_title().split(":")[0], axes[0].get_yticklabels()[0].get_text()
    (2, 'row 7', 'x3')
    """
    _check_count(n_rows, "n_rows", 6)
    _check_count(n_features, "n_features", 5)
    if not (isinstance(X, pd.DataFrame) or sp.issparse(X)):
        X = np.asarray(X)  # lists too
    scores = detector.score_samples(X)
    order = np.argsort(scores, kind="stable")[:n_rows]
    rows, labels = _take(X, order)
    shape = None
    if not (isinstance(X, pd.DataFrame) and isinstance(image_shape, str)):
        shape = resolve_image_shape(detector.estimator_, detector.n_features_in_, image_shape)
    units = score_units(detector)
    if shape is None:
        return _table_panels(detector, X, rows, (labels, scores[order]), n_features, units, ax)
    return _image_panels(detector, rows, (labels, scores[order]), shape, units, (ax, cmap))


def _check_count(value, name, example) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name}={value!r} is not a positive integer: it is how many are "
                         f"drawn. Pass e.g. {name}={example}.")


def _take(X, index):
    """``(rows, labels)``: the rows of ``X`` at positions ``index``, and their names."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[index], X.index[index].tolist()
    rows = X.tocsr()[index] if sp.issparse(X) else np.asarray(X)[index]
    return rows, [int(i) for i in index]


def _dense(rows) -> np.ndarray:
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows)


def _table_panels(detector, X, rows, ranked, n_features, units, ax):
    """One panel per row: its top features' scores as bars, their medians over ``X``."""
    contributions = detector.feature_scores(rows)
    if isinstance(contributions, pd.DataFrame):
        names, values = list(contributions.columns), rows[contributions.columns].to_numpy()
    else:
        names = list(getattr(detector, "feature_names_in_", [f"x{i}" for i in
                                                              range(detector.n_features_in_)]))
        values = _dense(rows)
    step = np.unique(np.linspace(0, X.shape[0] - 1, min(X.shape[0], REFERENCE_ROWS)).astype(int))
    reference = np.median(np.asarray(detector.feature_scores(_take(X, step)[0])), axis=0)
    contributions = np.asarray(contributions, dtype=np.float64)
    n = len(contributions)
    axes = (subplots(n, ncols=min(n, 3), panel_size=3.6, aspect=0.75) if ax is None
            else given_axes(ax, n, "plot_outliers"))
    axes = np.atleast_1d(axes)
    for k, (axis, label, score) in enumerate(zip(axes, *ranked, strict=True)):
        top = np.argsort(-contributions[k], kind="stable")[:n_features]
        positions = np.arange(len(top))
        bars = axis.barh(positions, contributions[k, top], color="tab:red", label="this row")
        axis.scatter(reference[top], positions, marker="|", s=250, color="black", zorder=3,
                     label=f"median over {len(step)} rows of X")
        axis.bar_label(bars, labels=[_value_text(values[k, i]) for i in top], padding=3,
                       fontsize="small")
        axis.set_yticks(positions, labels=[str(names[i]) for i in top])
        axis.invert_yaxis()  # the top feature on top
        axis.margins(x=0.3)
        axis.set_title(f"row {label}: score {score:.3g}")
        axis.set_xlabel(f"feature score\n({units})")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="outside upper center", ncols=2)
    return axes


def _value_text(value) -> str:
    """A row's value as a bar label: numbers to 4 significant digits, gaps as missing."""
    if pd.isna(value):
        return "= (missing)"
    if isinstance(value, (Integral, float, np.floating)) and not isinstance(value, bool):
        if float(value).is_integer() and abs(value) < 1e12:  # counts, years, prices
            return f"= {int(value):,}" if abs(value) >= 1e4 else f"= {int(value)}"
        return f"= {value:.4g}"
    return f"= {value}"


def _image_panels(detector, rows, ranked, shape, units, drawing):
    """Per row: the image, its reconstruction and its per-pixel scores (one colour bar)."""
    ax, cmap = drawing
    estimator = detector.estimator_
    images = np.asarray(_dense(rows), dtype=np.float64)
    decoded = estimator.inverse_transform(estimator.transform(rows))
    channels, height, width = shape
    maps = np.asarray(detector.feature_scores(rows), dtype=np.float64)
    maps = maps.reshape(-1, channels, height * width).sum(axis=1)
    n = len(images)
    axes = (subplots(3 * n, ncols=3, panel_size=1.8) if ax is None
            else given_axes(ax, 3 * n, "plot_outliers"))
    grey = (np.nanmin(images), np.nanmax(images))  # the inputs' scale for both images
    # a few saturated pixels must not leave the rest of the maps dark
    colour = (np.nanmin(maps), np.nanpercentile(maps, SCORE_PERCENTILE))
    for k, (label, score) in enumerate(zip(*ranked, strict=True)):
        show_mosaic(axes[3 * k], image_mosaic(images[k:k + 1], shape, 1), "gray", grey)
        show_mosaic(axes[3 * k + 1], image_mosaic(decoded[k:k + 1], shape, 1), "gray", grey)
        show_mosaic(axes[3 * k + 2], image_mosaic(maps[k:k + 1], (height, width), 1), cmap,
                    colour)
        axes[3 * k].set_title(f"row {label}\nscore {score:.3g}", fontsize="medium")
    axes[1].set_title("reconstruction\n", fontsize="medium")
    axes[2].set_title("feature scores\n", fontsize="medium")
    axes[0].figure.colorbar(axes[2].images[0], ax=list(axes[2::3]),
                            extend="max" if colour[1] < np.nanmax(maps) else "neither",
                            label=f"feature score per pixel ({units})")
    return axes


__all__ = ["plot_outliers"]
