"""Latent-space figures: code scatters, side-by-side embeddings, decoded latent grids."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..images import image_mosaic
from ..vae import VAETransformer
from ._figure import column_values, given_axes, pyplot, resolve_image_shape, show_mosaic, subplots

#: Most classes that get a legend entry (and a qualitative colour map) each.
MAX_LEGEND_CLASSES = 20


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
    ax = subplots() if ax is None else ax
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

    plt = pyplot()
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


def latent_grid(estimator, n=15, extent=None, dims=(0, 1)):
    """The grid values along two latent dimensions for :func:`plot_manifold`.

    Parameters
    ----------
    estimator : fitted transformer
        A VAE, an autoencoder, or anything else when ``extent`` is given.
    n : int, default=15
        Values per dimension.
    extent : (float, float), default=None
        Evenly spaced values from ``low`` to ``high``. By default a VAE uses the 5% to
        95% quantiles of its N(0, 1) prior (evenly spaced in probability, as in the
        Keras tutorials); an autoencoder uses the 2nd to 98th percentiles of its
        ``latent_density_`` (codes drawn with a fixed seed).
    dims : (int, int), default=(0, 1)
        The two latent dimensions.

    Returns
    -------
    u, v : ndarray of shape (n,)
        The values along ``dims[0]`` and ``dims[1]``.

    Examples
    --------
    >>> from skvae.plotting import latent_grid
    >>> u, v = latent_grid(None, n=3, extent=(-1, 1))
    >>> u.tolist()
    [-1.0, 0.0, 1.0]
    """
    if extent is not None:
        low, high = extent
        values = np.linspace(low, high, n)
        return values, values
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


def latent_center(estimator) -> np.ndarray:
    """The centre of a model's codes: where :func:`plot_manifold` holds the other dimensions.

    Parameters
    ----------
    estimator : fitted transformer
        A VAE (the centre of its N(0, I) prior), an autoencoder (the mean of its
        ``latent_density_``), or anything with ``n_components`` (zeros).

    Returns
    -------
    center : ndarray of shape (n_components,)
        A point of the latent space.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> from skvae.plotting import latent_center
    >>> X = load_digits().data[:100] / 16
    >>> ae = AutoencoderTransformer(3, hidden_layer_sizes=(16,), max_epochs=2,
    ...                             random_state=0).fit(X)
    >>> np.allclose(latent_center(ae), ae.transform(X).mean(axis=0), atol=1e-3)
    True
    """
    density = getattr(estimator, "latent_density_", None)
    if density is None:
        return np.zeros(estimator.n_components)
    return density.weights_ @ density.means_


def plot_manifold(estimator, *, n=15, extent=None, dims=(0, 1), fixed=None,
                  image_shape="auto", column=None, ax=None, cmap=None):
    """Decode an ``n`` x ``n`` grid over two latent dimensions.

    Images are drawn as a mosaic without gaps (the "manifold" of the Keras VAE
    tutorial), ticked with the latent values of the tiles: ``z{dims[0]}`` grows left to
    right, ``z{dims[1]}`` bottom to top; for tables, ``column`` picks one numeric output column,
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
        Values of the other dimensions (zeros, the VAE prior's mean, by default;
        :func:`latent_center` gives the middle of an autoencoder's codes).
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
    >>> ax = plot_manifold(vae, n=5)  # 5 x 5 decoded 8 x 8 images, side by side
    >>> len(ax.images), ax.images[0].get_array().shape
    (1, (40, 40))
    >>> ax.get_xlabel(), [tick.get_text() for tick in ax.get_xticklabels()]
    ('z0', ['-1.6', '-0.6', '0', '0.6', '1.6'])
    """
    u, v = latent_grid(estimator, n, extent, dims)
    Z = np.zeros((n * n, estimator.n_components)) if fixed is None else np.tile(
        np.asarray(fixed, dtype=np.float64), (n * n, 1))
    rows_v, cols_u = np.meshgrid(v[::-1], u, indexing="ij")  # top row: the highest v
    Z[:, dims[0]], Z[:, dims[1]] = cols_u.ravel(), rows_v.ravel()
    decoded = estimator.inverse_transform(Z)
    if ax is None:
        ax = subplots(panel_size=4.0 if column is not None else max(4.0, 0.45 * n))
    if column is not None:
        values = column_values(estimator, decoded, column).reshape(n, n)
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
        # no gaps in the image: 1-pixel gaps shrunk to screen pixels are drawn unevenly;
        # thin lines between the tiles, drawn as lines, stay even at any size
        show_mosaic(ax, image_mosaic(decoded, shape, ncols=n, pad=0), cmap or "gray")
        _grid_ticks(ax, u, v, shape[-1], shape[-2])
        for k in range(1, n):
            ax.axvline(k * shape[-1] - 0.5, color="white", linewidth=0.5)
            ax.axhline(k * shape[-2] - 0.5, color="white", linewidth=0.5)
    ax.set_xlabel(f"z{dims[0]}")
    ax.set_ylabel(f"z{dims[1]}")
    return ax


def _grid_ticks(ax, u, v, width, height, most=7):
    """Tick the mosaic's tiles with their latent values: x left to right, y bottom to top;
    at most ``most`` labelled ticks per axis (every ``step``-th tile, the centre included)."""
    u, v = (np.round(np.asarray(a, dtype=float), 8) + 0.0 for a in (u, v))  # -1e-16 -> 0
    step = -(-len(u) // most)
    centre = len(u) // 2
    picked = [j for j in range(len(u)) if (j - centre) % step == 0]
    ax.set_xticks([(j + 0.5) * width - 0.5 for j in picked], [f"{u[j]:.2g}" for j in picked])
    # the top row is the highest v
    ax.set_yticks([(len(v) - 1 - j + 0.5) * height - 0.5 for j in picked],
                  [f"{v[j]:.2g}" for j in picked])



def plot_embeddings(embeddings, labels=None, *, X=None, ax=None, ncols=None,
                    label_name=None, s=6):
    """Side-by-side :func:`plot_latent` panels, one per method.

    Classes get one legend, to the right of the last panel.

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
    >>> len(axes[1].get_legend().get_texts()), axes[0].get_legend()  # one, beside the last
    (10, None)
    """
    axes = subplots(len(embeddings), ncols=ncols) if ax is None else ax
    axes = given_axes(axes, len(embeddings), "plot_embeddings")
    for axis, (name, value) in zip(axes, embeddings.items(), strict=True):
        codes = _codes(value, X)
        if codes.shape[1] > 2:
            from sklearn.decomposition import PCA

            codes, name = PCA(2).fit_transform(codes), f"PCA({name})"
        plot_latent(codes, labels, ax=axis, title=name, label_name=label_name, s=s)
    _one_legend(axes)
    return axes


def _one_legend(axes) -> None:
    """Keep one class legend for all panels, beside the last one (not over the points)."""
    legend = axes[-1].get_legend()
    if legend is None:
        return
    for axis in axes[:-1]:
        axis.get_legend().remove()
    handles, texts = legend.legend_handles, [text.get_text() for text in legend.get_texts()]
    title = legend.get_title().get_text() or None
    legend.remove()
    axes[-1].legend(handles, texts, title=title, fontsize="small", loc="upper left",
                    bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
