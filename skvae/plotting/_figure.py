"""Figure plumbing shared by the plots: matplotlib on demand, axes, mosaics, columns.

Public through :mod:`skvae.plotting`: :func:`pyplot`, :func:`subplots` and
:func:`resolve_image_shape`, for code (such as :mod:`skvae.report`) that lays out
its own figures around skvae's plots.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..images import as_image_shape, square_image_shape


def pyplot():
    """Import and return :mod:`matplotlib.pyplot`, or say how to install it.

    Returns
    -------
    plt : module
        :mod:`matplotlib.pyplot`.

    Raises
    ------
    ImportError
        When matplotlib is not installed, naming the ``plot`` extra.

    Examples
    --------
    >>> from skvae.plotting import pyplot
    >>> pyplot().__name__
    'matplotlib.pyplot'
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "skvae.plotting needs matplotlib, which is not installed. Install it with "
            "pip install 'skvae[plot]' (or pip install matplotlib)."
        ) from None
    return plt


def subplots(n_panels=1, ncols=None, panel_size=4.0, aspect=1.0):
    """A new figure with ``n_panels`` axes: one Axes, or a flat array of them.

    Parameters
    ----------
    n_panels : int, default=1
        Number of axes.
    ncols : int, default=None
        Axes per row (all in one row by default).
    panel_size : float, default=4.0
        Width of each panel in inches.
    aspect : float, default=1.0
        Height of each panel relative to its width.

    Returns
    -------
    ax : matplotlib Axes or ndarray of Axes
        One Axes when ``n_panels`` is 1; ``ax.figure`` is the figure (constrained
        layout).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skvae.plotting import subplots
    >>> axes = subplots(5, ncols=3, panel_size=2.0)
    >>> len(axes), axes[0].figure.get_size_inches().tolist()
    (5, [6.0, 4.0])
    """
    plt = pyplot()
    ncols = min(n_panels, ncols or n_panels)
    nrows = math.ceil(n_panels / ncols)
    size = (panel_size * ncols, panel_size * aspect * nrows)
    _, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    axes = axes.ravel()
    for extra in axes[n_panels:]:
        extra.remove()
    return axes[0] if n_panels == 1 else axes[:n_panels]


def given_axes(ax, n_panels, what):
    """``ax`` as a flat array of ``n_panels`` axes, or a clear error."""
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) != n_panels:
        raise ValueError(
            f"{what} draws {n_panels} panel(s), but ax holds {len(axes)} axes. Pass "
            f"{n_panels} axes (e.g. plt.subplots(1, {n_panels})[1]) or ax=None."
        )
    return axes


def resolve_image_shape(estimator, n_features, image_shape="auto"):
    """``(channels, height, width)`` of the rows, or ``None`` when they are not images.

    Parameters
    ----------
    estimator : object
        Its ``image_shape`` attribute is used by ``"auto"`` when set.
    n_features : int
        Values per row.
    image_shape : "auto", tuple or None, default="auto"
        ``"auto"``: the estimator's ``image_shape``, else a square image when
        ``n_features`` is a perfect square; a tuple is checked; None means a table.

    Returns
    -------
    shape : tuple of int or None
        ``(channels, height, width)``, or None for tables.

    Examples
    --------
    >>> from skvae.plotting import resolve_image_shape
    >>> resolve_image_shape(None, 784), resolve_image_shape(None, 10)
    ((1, 28, 28), None)
    """
    if image_shape is None:
        return None
    if isinstance(image_shape, str) and image_shape == "auto":
        image_shape = getattr(estimator, "image_shape", None)
        if image_shape is None:
            return square_image_shape(n_features)
    return as_image_shape(image_shape, n_features)


def show_mosaic(ax, mosaic, cmap="gray", value_range=None):
    """Draw a mosaic; ``value_range=(low, high)`` fixes the grey scale (else the data's)."""
    low, high = value_range or (np.nanmin(mosaic), np.nanmax(mosaic))
    if mosaic.ndim == 3:  # colour images: imshow wants values in [0, 1]
        mosaic, low, high = np.clip((mosaic - low) / (high - low or 1.0), 0, 1), None, None
    # "antialiased": nearest when enlarging, smoothing when shrinking (no aliasing)
    ax.imshow(mosaic, cmap=cmap, interpolation="antialiased", vmin=low, vmax=high)
    ax.set_xticks([])
    ax.set_yticks([])


def label_rows(ax, names, tile_height):
    ax.set_yticks([(i + 0.5) * tile_height for i in range(len(names))], labels=names)
    ax.tick_params(axis="y", length=0)



def column_values(estimator, decoded, column) -> np.ndarray:
    """One numeric column of decoded rows, by name or index, or a clear error."""
    if isinstance(decoded, pd.DataFrame):
        names = list(decoded.columns)
        decoded = decoded.to_numpy()
    else:
        names = list(getattr(estimator, "feature_names_in_", []))
    index = column
    if isinstance(column, str):
        if column not in names:
            raise ValueError(
                f"column={column!r} is not a feature of the estimator; pass one of its "
                f"feature names ({names[:5]}...) or an index below {np.shape(decoded)[1]}."
            )
        index = names.index(column)
    if not 0 <= int(index) < np.shape(decoded)[1]:
        raise ValueError(
            f"column={column} is out of range: the rows have {np.shape(decoded)[1]} columns."
        )
    try:
        return np.asarray(decoded[:, int(index)], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"column={column!r} is categorical; plot_manifold maps a numeric column. "
            "Pick a numeric one."
        ) from None
