"""Figures for latent spaces, reconstructions, samples and training curves (matplotlib).

The pictures tutorial notebooks draw by hand, as one call each:

* :func:`plot_latent` -- 2-D scatter of codes, coloured by class (legend) or by a
  continuous value (colour bar).
* :func:`plot_manifold` -- decode a grid over two latent dimensions: a mosaic of images,
  or, for tables, a heat map of one column.
* :func:`plot_reconstructions` -- originals above each model's reconstructions.
* :func:`plot_samples` -- generated images, or a generated column against the data.
* :func:`plot_history` -- training (and validation) loss, reconstruction and KL per epoch.
* :func:`plot_embeddings` -- side-by-side panels for any set of fitted transformers or
  code arrays (e.g. PCA(X), t-SNE(X), AE(X), VAE(X)).

matplotlib is imported when a function is called, not with skvae; install it with the
``plot`` extra (``pip install "skvae[plot]"``). Every function takes ``ax=None`` (draw on
a new figure) or the axes to draw on, and returns the axes (an array of axes for the
multi-panel ones); ``ax.figure`` is the figure to save.

Images: ``image_shape="auto"`` takes the estimator's ``image_shape`` when set, else a
square image when the number of features is a perfect square (8x8 digits, 28x28 MNIST,
64x64 faces); pass ``(height, width)`` or ``(channels, height, width)`` otherwise, or
``None`` for tables.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd

__all__ = [
    "image_mosaic", "plot_embeddings", "plot_history", "plot_latent", "plot_manifold",
    "plot_reconstructions", "plot_samples",
]

#: Most classes that get a legend entry (and a qualitative colour map) each.
MAX_LEGEND_CLASSES = 20


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "skvae.plotting needs matplotlib, which is not installed. Install it with "
            "pip install 'skvae[plot]' (or pip install matplotlib)."
        ) from None
    return plt


def _new_axes(n_panels=1, ncols=None, panel_size=4.0, aspect=1.0):
    """A new figure with ``n_panels`` axes; a single Axes or a flat array of them.

    Panels are ``panel_size`` inches wide and ``aspect`` times as high.
    """
    plt = _pyplot()
    ncols = min(n_panels, ncols or n_panels)
    nrows = math.ceil(n_panels / ncols)
    size = (panel_size * ncols, panel_size * aspect * nrows)
    _, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    axes = axes.ravel()
    for extra in axes[n_panels:]:
        extra.remove()
    return axes[0] if n_panels == 1 else axes[:n_panels]


def _given_axes(ax, n_panels, what):
    """``ax`` as a flat array of ``n_panels`` axes, or a clear error."""
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) != n_panels:
        raise ValueError(
            f"{what} draws {n_panels} panel(s), but ax holds {len(axes)} axes. Pass "
            f"{n_panels} axes (e.g. plt.subplots(1, {n_panels})[1]) or ax=None."
        )
    return axes


# ---------------------------------------------------------------------- images
def resolve_image_shape(estimator, n_features, image_shape="auto"):
    """``(channels, height, width)`` of the rows, or ``None`` when they are not images."""
    if image_shape is None:
        return None
    if isinstance(image_shape, str) and image_shape == "auto":
        image_shape = getattr(estimator, "image_shape", None)
        if image_shape is None:
            side = math.isqrt(n_features)
            return (1, side, side) if side > 1 and side * side == n_features else None
    shape = tuple(int(s) for s in image_shape)
    shape = (1, *shape) if len(shape) == 2 else shape
    if len(shape) != 3 or math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} does not describe rows of {n_features} features: "
            "give (height, width) or (channels, height, width) whose product is "
            f"{n_features}, or image_shape=None for tabular data."
        )
    return shape


def image_mosaic(rows, image_shape, ncols, pad=1):
    """Tile flat image rows into one array, ``ncols`` per row, ``pad`` NaN pixels apart.

    Parameters
    ----------
    rows : array-like of shape (n_images, n_features)
        Flattened images, one per row (``images.reshape(n, -1)``, C order).
    image_shape : tuple
        ``(channels, height, width)`` (or ``(height, width)``) of one row.
    ncols : int
        Images per mosaic row; the last row is filled with NaN (drawn blank).
    pad : int, default=1
        NaN pixels between neighbouring images.

    Returns
    -------
    mosaic : ndarray of shape (r * (h + pad) - pad, ncols * (w + pad) - pad[, channels])
        ``r = ceil(n_images / ncols)``; the channel axis is last and only for 2+ channels.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.plotting import image_mosaic
    >>> image_mosaic(np.arange(8).reshape(2, 4), (2, 2), ncols=2)
    array([[ 0.,  1., nan,  4.,  5.],
           [ 2.,  3., nan,  6.,  7.]])
    >>> image_mosaic(np.zeros((5, 64)), (8, 8), ncols=3).shape  # 2 rows of 3 images
    (17, 26)
    """
    c, h, w = (1, *image_shape) if len(image_shape) == 2 else image_shape
    images = np.asarray(rows, dtype=np.float64).reshape(-1, c, h, w).transpose(0, 2, 3, 1)
    nrows = math.ceil(len(images) / ncols)
    mosaic = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), np.nan)
    for k, image in enumerate(images):
        top, left = (k // ncols) * (h + pad), (k % ncols) * (w + pad)
        mosaic[top:top + h, left:left + w] = image
    return mosaic[..., 0] if c == 1 else mosaic


def _show_mosaic(ax, mosaic, cmap="gray", value_range=None):
    """Draw a mosaic; ``value_range=(low, high)`` fixes the grey scale (else the data's)."""
    low, high = value_range or (np.nanmin(mosaic), np.nanmax(mosaic))
    if mosaic.ndim == 3:  # colour images: imshow wants values in [0, 1]
        mosaic, low, high = np.clip((mosaic - low) / (high - low or 1.0), 0, 1), None, None
    # "antialiased": nearest when enlarging, smoothing when shrinking (no aliasing)
    ax.imshow(mosaic, cmap=cmap, interpolation="antialiased", vmin=low, vmax=high)
    ax.set_xticks([])
    ax.set_yticks([])


def _label_rows(ax, names, tile_height):
    ax.set_yticks([(i + 0.5) * tile_height for i in range(len(names))], labels=names)
    ax.tick_params(axis="y", length=0)


# ---------------------------------------------------------------------- latent scatter
def _codes(Z, X):
    """Codes from an array, or from a fitted transformer and ``X``."""
    if hasattr(Z, "transform"):
        if X is None:
            raise ValueError(
                f"Pass X to encode with the fitted {type(Z).__name__}, or pass the "
                "codes themselves (an array)."
            )
        return np.asarray(Z.transform(X), dtype=np.float64)
    if hasattr(Z, "embedding_"):  # a fitted TSNE: no transform, only its embedding
        return np.asarray(Z.embedding_, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(
            f"plot_latent draws 2-D codes, but got an array of shape {Z.shape}. Pass codes "
            "of shape (n_samples, 2) or more (the first two are drawn)."
        )
    return Z


def _is_discrete(labels) -> bool:
    labels = pd.Series(labels)
    if not pd.api.types.is_numeric_dtype(labels) or pd.api.types.is_bool_dtype(labels):
        return True
    integral = pd.api.types.is_integer_dtype(labels) or bool(
        np.all(np.mod(labels.dropna(), 1) == 0))
    return integral and labels.nunique() <= MAX_LEGEND_CLASSES * 3


def plot_latent(Z, labels=None, *, X=None, dims=(0, 1), ax=None, title=None,
                label_name=None, s=8, alpha=0.8, cmap=None):
    """Scatter of 2-D codes, coloured by class labels or by a continuous value.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components), or a fitted transformer
        Codes, or a fitted transformer whose ``transform(X)`` gives them (a fitted
        ``TSNE`` gives its ``embedding_``).
    labels : array-like of shape (n_samples,), default=None
        Class labels (a legend for up to 20 classes) or a continuous value such as a
        log price (a colour bar).
    X : array-like, default=None
        Rows to encode when ``Z`` is a transformer.
    dims : (int, int), default=(0, 1)
        The two code dimensions drawn.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.
    title, label_name : str, default=None
        Axes title; name of the labels (legend title or colour-bar label).
    s, alpha : float
        Marker size and opacity.
    cmap : str, default=None
        Colour map; ``tab10`` / ``tab20`` for classes and ``viridis`` for values by default.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae.plotting import plot_latent
    >>> ax = plot_latent(np.random.RandomState(0).randn(50, 2), labels=np.arange(50) % 3)
    >>> len(ax.collections), len(ax.get_legend().get_texts())
    (1, 3)
    """
    codes = _codes(Z, X)[:, list(dims)]
    ax = _new_axes() if ax is None else ax
    ax.set_xlabel(f"z{dims[0]}")
    ax.set_ylabel(f"z{dims[1]}")
    if title is not None:
        ax.set_title(title)
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=s, alpha=alpha, color="C0")
        return ax
    labels = np.asarray(labels)
    if len(labels) != len(codes):
        raise ValueError(
            f"labels has {len(labels)} values but there are {len(codes)} codes; pass one "
            "label per row."
        )
    if _is_discrete(labels):
        _scatter_classes(ax, codes, labels, s, alpha, cmap, label_name)
    else:
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels.astype(np.float64), s=s,
                            alpha=alpha, cmap=cmap or "viridis")
        ax.figure.colorbar(points, ax=ax, label=label_name)
    return ax


def _scatter_classes(ax, codes, labels, s, alpha, cmap, label_name):
    """One scatter for all classes: class k gets colour k of ``tab10`` / ``tab20``."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    classes, index = np.unique(labels, return_inverse=True)
    if cmap is None and len(classes) <= MAX_LEGEND_CLASSES:
        palette = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20").colors
        colours = np.asarray(palette)[: len(classes)]
    else:  # many classes: spread them over a continuous map
        colours = plt.get_cmap(cmap or "nipy_spectral")(np.linspace(0, 1, len(classes)))
    ax.scatter(codes[:, 0], codes[:, 1], color=colours[index], s=s, alpha=alpha)
    if len(classes) <= MAX_LEGEND_CLASSES:
        handles = [Line2D([], [], marker="o", linestyle="", color=colour) for colour in colours]
        ax.legend(handles, [str(c) for c in classes], title=label_name, fontsize="small",
                  loc="best")


# ---------------------------------------------------------------------- manifold
def latent_grid(estimator, n=15, extent=None, dims=(0, 1)):
    """The grid values along two latent dimensions for :func:`plot_manifold`.

    ``extent=(low, high)`` gives evenly spaced values. By default a VAE uses the 5% to
    95% quantiles of its N(0, 1) prior (evenly spaced in probability, as in the Keras
    tutorials); an autoencoder uses the 2nd to 98th percentiles of its
    ``latent_density_`` (codes drawn with a fixed seed).
    """
    if extent is not None:
        low, high = extent
        values = np.linspace(low, high, n)
        return values, values
    from .vae import VAETransformer

    if isinstance(estimator, VAETransformer):  # a standard normal prior
        from scipy.stats import norm

        values = norm.ppf(np.linspace(0.05, 0.95, n))
        return values, values
    density = getattr(estimator, "latent_density_", None)
    if density is None:
        raise ValueError(
            f"plot_manifold cannot tell the latent range of a {type(estimator).__name__}: "
            "pass extent=(low, high)."
        )
    density = copy.copy(density)
    density.random_state = 0  # the same grid on every call
    codes = density.sample(5000)[0]
    low, high = np.percentile(codes[:, list(dims)], [2, 98], axis=0)
    return np.linspace(low[0], high[0], n), np.linspace(low[1], high[1], n)


def plot_manifold(estimator, *, n=15, extent=None, dims=(0, 1), fixed=None,
                  image_shape="auto", column=None, ax=None, cmap=None):
    """Decode an ``n`` x ``n`` grid over two latent dimensions.

    Images are drawn as a mosaic (the "manifold" of the Keras VAE tutorial: high
    ``z{dims[1]}`` at the top); for tables, ``column`` picks one numeric output column,
    drawn as a heat map over the grid with a colour bar.

    Parameters
    ----------
    estimator : fitted AutoencoderTransformer or VAETransformer
        Or anything with ``inverse_transform`` and ``n_components`` (pass ``extent``).
    n : int, default=15
        Grid points per dimension.
    extent : (float, float), default=None
        Latent range of both axes; see :func:`latent_grid` for the default.
    dims : (int, int), default=(0, 1)
        The two latent dimensions varied (x, y).
    fixed : array-like of shape (n_components,), default=None
        Values of the other dimensions (zeros, the VAE prior's mean, by default).
    image_shape : "auto", tuple or None, default="auto"
        See the module docstring; ignored when ``column`` is given.
    column : int or str, default=None
        Output column to map (an index, or a name when the estimator was fitted on a
        DataFrame).
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.
    cmap : str, default=None
        ``gray`` for images, ``viridis`` for a column.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> from skvae.plotting import plot_manifold
    >>> X = load_digits().data[:100] / 16
    >>> vae = VAETransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
    ...                      max_epochs=2, random_state=0).fit(X)
    >>> ax = plot_manifold(vae, n=5)  # 5 x 5 decoded 8 x 8 images, 1 pixel apart
    >>> len(ax.images), ax.images[0].get_array().shape
    (1, (44, 44))
    >>> ax.get_xlabel()
    'z0: -1.6 to 1.6'
    """
    u, v = latent_grid(estimator, n, extent, dims)
    Z = np.zeros((n * n, estimator.n_components)) if fixed is None else np.tile(
        np.asarray(fixed, dtype=np.float64), (n * n, 1))
    rows_v, cols_u = np.meshgrid(v[::-1], u, indexing="ij")  # top row: the highest v
    Z[:, dims[0]], Z[:, dims[1]] = cols_u.ravel(), rows_v.ravel()
    decoded = estimator.inverse_transform(Z)
    if ax is None:
        ax = _new_axes(panel_size=4.0 if column is not None else max(4.0, 0.45 * n))
    if column is not None:
        values = _column_values(estimator, decoded, column).reshape(n, n)
        shown = ax.imshow(values, extent=(u[0], u[-1], v[0], v[-1]), aspect="auto",
                          cmap=cmap or "viridis", interpolation="nearest")
        ax.figure.colorbar(shown, ax=ax, label=str(column))
    else:
        shape = resolve_image_shape(estimator, np.shape(decoded)[1], image_shape)
        if shape is None:
            raise ValueError(
                "plot_manifold draws images, but the estimator's rows are not images "
                f"({np.shape(decoded)[1]} features): pass column=<name or index> to map one "
                "column over the grid, or image_shape=(height, width)."
            )
        _show_mosaic(ax, image_mosaic(decoded, shape, ncols=n), cmap or "gray")
    ax.set_xlabel(f"z{dims[0]}: {u[0]:.2g} to {u[-1]:.2g}")
    ax.set_ylabel(f"z{dims[1]}: {v[0]:.2g} to {v[-1]:.2g}")
    return ax


def _column_values(estimator, decoded, column) -> np.ndarray:
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


# ---------------------------------------------------------------------- reconstructions
def _as_named(estimators) -> dict:
    if isinstance(estimators, dict):
        return estimators
    if isinstance(estimators, (list, tuple)):
        return {type(e).__name__: e for e in estimators}
    return {type(estimators).__name__: estimators}


def _encoded(estimator, X) -> np.ndarray:
    """Numeric rows as the estimator sees them (one-hot for DataFrame categories)."""
    layout = getattr(estimator, "layout_", None)
    if layout is not None and not isinstance(X, np.ndarray):
        return layout.transform(X)
    return np.asarray(X, dtype=np.float64)


def plot_reconstructions(estimators, X, *, n=10, image_shape="auto", ax=None, cmap=None):
    """The first ``n`` rows of ``X`` above each model's reconstruction of them.

    Images are drawn as a mosaic with one row of originals and one row per model;
    other data as a heat map of the rows (features across, one block per model).

    Parameters
    ----------
    estimators : fitted transformer, or a list or dict (name to estimator) of them
        Anything with ``transform`` and ``inverse_transform`` (PCA too).
    X : array-like of shape (n_samples, n_features)
        Rows to reconstruct (a DataFrame for estimators fitted on one).
    n : int, default=10
        Number of rows shown.
    image_shape : "auto", tuple or None, default="auto"
        See the module docstring.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.
    cmap : str, default=None
        ``gray`` for images, ``coolwarm`` for tables.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skvae import AutoencoderTransformer
    >>> from skvae.plotting import plot_reconstructions
    >>> X = load_digits().data[:100] / 16
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
    ...                             random_state=0).fit(X)
    >>> ax = plot_reconstructions({"PCA": PCA(2).fit(X), "AE": ae}, X, n=4)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['original', 'PCA', 'AE']
    >>> ax.images[0].get_array().shape  # 3 rows of 4 images of 8 x 8
    (26, 35)
    """
    models = _as_named(estimators)
    first = next(iter(models.values()))
    rows = X.iloc[:n] if hasattr(X, "iloc") else np.asarray(X)[:n]
    blocks = [_encoded(first, rows)]
    for model in models.values():
        blocks.append(_encoded(model, model.inverse_transform(model.transform(rows))))
    names = ["original", *models]
    shape = resolve_image_shape(first, blocks[0].shape[1], image_shape)
    if ax is None:
        width = max(4.0, 0.8 * len(blocks[0]))
        ax = _new_axes(panel_size=width, aspect=len(blocks) / len(blocks[0]) if shape else 0.6)
    if shape is not None:
        # the originals' grey scale for all rows: a decoder's small negative values
        # must not wash out the originals' black background
        _show_mosaic(ax, image_mosaic(np.vstack(blocks), shape, ncols=len(blocks[0])),
                     cmap or "gray", (blocks[0].min(), blocks[0].max()))
        _label_rows(ax, names, shape[1] + 1)
    else:
        gap = np.full((1, blocks[0].shape[1]), np.nan)
        stacked = np.vstack([part for block in blocks for part in (block, gap)][:-1])
        limit = np.nanpercentile(np.abs(stacked), 99) or 1.0
        shown = ax.imshow(stacked, aspect="auto", cmap=cmap or "coolwarm", vmin=-limit,
                          vmax=limit, interpolation="nearest")
        ax.figure.colorbar(shown, ax=ax)
        _label_rows(ax, names, len(blocks[0]) + 1)
        ax.set_xlabel("feature")
    return ax


# ---------------------------------------------------------------------- samples
def plot_samples(estimator, n=64, *, image_shape="auto", column=None, X=None, ncols=None,
                 random_state=0, ax=None, cmap="gray"):
    """Draw rows generated by ``estimator.sample``: an image mosaic, or a column's histogram.

    Parameters
    ----------
    estimator : fitted AutoencoderTransformer or VAETransformer
        The generative model.
    n : int, default=64
        Number of samples.
    image_shape : "auto", tuple or None, default="auto"
        See the module docstring; ignored when ``column`` is given.
    column : int or str, default=None
        For tables: the column whose generated values are drawn as a histogram (next
        to the same column of ``X`` when given).
    X : array-like, default=None
        Real rows to compare with (tables).
    ncols : int, default=None
        Images per mosaic row (about ``sqrt(n)`` by default).
    random_state : int, default=0
        Seeds ``sample``.
    ax : matplotlib Axes, default=None
        Axes to draw on; None draws on a new figure.
    cmap : str, default="gray"
        Colour map of the images.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> from skvae.plotting import plot_samples
    >>> X = load_digits().data[:100] / 16
    >>> vae = VAETransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
    ...                      max_epochs=2, random_state=0).fit(X)
    >>> ax = plot_samples(vae, 16)  # a 4 x 4 mosaic of 8 x 8 images
    >>> ax.images[0].get_array().shape
    (35, 35)
    >>> ax = plot_samples(vae, 200, column=36, X=X)  # one pixel: samples against data
    >>> len(ax.patches), [text.get_text() for text in ax.get_legend().get_texts()]
    (60, ['data', 'samples'])
    """
    generated = estimator.sample(n, random_state=random_state)
    ax = _new_axes() if ax is None else ax
    if column is None:
        shape = resolve_image_shape(estimator, np.shape(generated)[1], image_shape)
        if shape is None:
            raise ValueError(
                "plot_samples draws images, but the rows are not images: pass "
                "column=<name or index> to compare one generated column with X."
            )
        _show_mosaic(ax, image_mosaic(generated, shape, ncols or math.ceil(math.sqrt(n))), cmap)
        return ax
    values = _column_values(estimator, generated, column)
    data = None if X is None else _column_values(estimator, X, column)
    bins = np.histogram_bin_edges(values if data is None else np.r_[values, data], bins=30)
    if data is not None:
        ax.hist(data, bins=bins, density=True, alpha=0.5, label="data")
    ax.hist(values, bins=bins, density=True, alpha=0.5, label="samples")
    ax.set_xlabel(str(column))
    ax.set_ylabel("density")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- history
def plot_history(estimator, *, keys=None, ax=None):
    """Loss curves per epoch: training and, when recorded, validation.

    Parameters
    ----------
    estimator : fitted AutoencoderTransformer or VAETransformer, or a skorch History
        The trained model (its ``history_``) or the history itself.
    keys : list of str, default=None
        Which terms, without the ``train_`` / ``valid_`` prefix. By default all of
        ``loss``, ``recon`` and ``kl`` that were recorded (the VAE has all three).
    ax : matplotlib Axes or array of them, default=None
        One axes per key.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One per key.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skvae import VAETransformer
    >>> from skvae.plotting import plot_history
    >>> X = np.random.RandomState(0).rand(40, 4)
    >>> vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=3, validation_fraction=0.25,
    ...                      random_state=0).fit(X)
    >>> axes = plot_history(vae)
    >>> [ax.get_title() for ax in axes]
    ['loss', 'recon', 'kl']
    >>> [len(line.get_xdata()) for line in axes[0].lines]  # train and valid, 3 epochs
    [3, 3]
    """
    history = getattr(estimator, "history_", estimator)
    recorded = set(history[0]) if len(history) else set()
    keys = keys or [k for k in ("loss", "recon", "kl") if f"train_{k}" in recorded]
    missing = [k for k in keys if f"train_{k}" not in recorded]
    if missing:
        terms = sorted(k[6:] for k in recorded if k.startswith("train_")
                       and not k.endswith(("_best", "_count")))
        raise ValueError(
            f"The history has no train_{missing[0]}; recorded terms are {terms}."
        )
    axes = _new_axes(len(keys), panel_size=3.5) if ax is None else ax
    axes = _given_axes(axes, len(keys), "plot_history")
    epochs = np.arange(1, len(history) + 1)
    for axis, key in zip(axes, keys, strict=True):
        for prefix in ("train", "valid"):
            name = f"{prefix}_{key}"
            if name in recorded:
                axis.plot(epochs, history[:, name], label=prefix)
        axis.set_xlabel("epoch")
        axis.set_title(key)
        axis.legend()
    return axes


# ---------------------------------------------------------------------- side by side
def plot_embeddings(embeddings, labels=None, *, X=None, ax=None, ncols=None,
                    label_name=None, s=6):
    """Side-by-side :func:`plot_latent` panels, one per method.

    Parameters
    ----------
    embeddings : dict of str to array or fitted transformer
        Codes (``(n_samples, k)`` arrays) or fitted transformers applied to ``X``. Codes
        with more than two columns are projected on their first two principal
        components, and the title says so (``PCA(AE)``).
    labels : array-like of shape (n_samples,), default=None
        Colours, as in :func:`plot_latent`.
    X : array-like, default=None
        Rows to encode for the transformers in ``embeddings``.
    ax : array of matplotlib Axes, default=None
        One per method.
    ncols : int, default=None
        Panels per figure row (all in one row by default).
    label_name : str, default=None
        Name of the labels (legend title or colour-bar label).
    s : float, default=6
        Marker size.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One per method.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skvae.plotting import plot_embeddings
    >>> X, y = load_digits(return_X_y=True)
    >>> codes = np.random.RandomState(0).randn(len(X), 3)  # e.g. an AE's 3-D codes
    >>> axes = plot_embeddings({"PCA": PCA(2).fit(X), "AE": codes}, y, X=X,
    ...                        label_name="digit")
    >>> [ax.get_title() for ax in axes]  # 3-D codes are shown by their first 2 PCs
    ['PCA', 'PCA(AE)']
    >>> len(axes[0].get_legend().get_texts())
    10
    """
    axes = _new_axes(len(embeddings), ncols=ncols) if ax is None else ax
    axes = _given_axes(axes, len(embeddings), "plot_embeddings")
    for axis, (name, value) in zip(axes, embeddings.items(), strict=True):
        codes = _codes(value, X)
        if codes.shape[1] > 2:
            from sklearn.decomposition import PCA

            codes, name = PCA(2).fit_transform(codes), f"PCA({name})"
        plot_latent(codes, labels, ax=axis, title=name, label_name=label_name, s=s)
    return axes
