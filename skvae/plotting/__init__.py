"""Figures for latent spaces, reconstructions, samples and training curves (matplotlib).

The pictures tutorial notebooks draw by hand, as one call each:

* :func:`plot_latent` -- 2-D scatter of codes, coloured by class (legend) or by a
  continuous value (colour bar).
* :func:`plot_manifold` -- decode a grid over two latent dimensions: a mosaic of images,
  or, for tables, a heat map of one column.
* :func:`plot_reconstructions` -- originals above each model's reconstructions.
* :func:`plot_samples` -- generated images, or a generated column against the data.
* :func:`plot_history` -- training (and validation) loss, reconstruction and KL per epoch.
* :func:`plot_filters` -- the encoder's first-layer weights as images.
* :func:`plot_embeddings` -- side-by-side panels for any set of fitted transformers or
  code arrays (e.g. PCA(X), t-SNE(X), AE(X), VAE(X)).
* :func:`plot_synthetic_columns` -- real against synthetic distributions of a table's
  columns, each titled with its shape score (:func:`column_shape`).
* :func:`plot_outliers` -- the rows an :class:`~skvae.OutlierDetector` scores lowest,
  with their top features (bars), or, for images, reconstructions and per-pixel scores.

Helpers for laying out your own figures: :func:`subplots`, :func:`pyplot`,
:func:`latent_grid` / :func:`latent_center` (where a model's codes live),
:func:`image_mosaic` and :func:`resolve_image_shape`. The code is split by what
is drawn: ``latent.py`` (codes and latent grids), ``outputs.py`` (reconstructions,
samples, training curves), ``tables.py`` (synthetic tables), ``outliers.py``
(outlier detectors), ``_figure.py`` (the plumbing).

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

from ..images import image_mosaic
from ._figure import pyplot, resolve_image_shape, subplots
from .latent import latent_center, latent_grid, plot_embeddings, plot_latent, plot_manifold
from .outliers import plot_outliers
from .outputs import plot_filters, plot_history, plot_reconstructions, plot_samples
from .tables import column_shape, plot_synthetic_columns

__all__ = [
    "column_shape", "image_mosaic", "latent_center", "latent_grid", "plot_embeddings",
    "plot_filters", "plot_history", "plot_latent", "plot_manifold", "plot_outliers",
    "plot_reconstructions", "plot_samples", "plot_synthetic_columns", "pyplot",
    "resolve_image_shape", "subplots",
]
