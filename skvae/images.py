"""Rows that are images: the one image-shape rule, and mosaics of image rows.

scikit-learn passes data as 2-D arrays, so skvae keeps images as flat rows
(``images.reshape(n, -1)``, C order) and carries their shape separately. Every
part of skvae that needs to know how a row is laid out -- the estimators'
``image_shape`` parameter, the convolutional modules, the plots -- asks
:func:`as_image_shape`, so the rule and its error message live here only.
NumPy only: the torch modules use it without importing scikit-learn.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

__all__ = ["as_image_shape", "image_mosaic", "square_image_shape"]


def as_image_shape(image_shape, n_features: int) -> tuple[int, int, int]:
    """Check that ``image_shape`` describes rows of ``n_features`` values; return it as (c, h, w).

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``, or ``(height, width)`` for one channel.
    n_features : int
        Values per row.

    Returns
    -------
    shape : tuple of int
        ``(channels, height, width)``.

    Raises
    ------
    ValueError
        When an entry is not a positive integer, or the shape does not multiply to
        ``n_features``.

    Examples
    --------
    >>> from skvae.images import as_image_shape
    >>> as_image_shape((28, 28), 784)
    (1, 28, 28)
    >>> as_image_shape([3, 4, 5], 60)
    (3, 4, 5)
    """
    sizes = () if image_shape is None else tuple(image_shape)
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(
            f"image_shape must hold positive integers, got {image_shape!r}. "
            "Use e.g. (1, 28, 28)."
        )
    shape = tuple(int(s) for s in ((1, *sizes) if len(sizes) == 2 else sizes))
    if len(shape) != 3 or math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} does not describe rows of {n_features} features: "
            "give (channels, height, width) (or (height, width) for one channel) whose "
            f"product is {n_features}, in the order the pixels are flattened "
            "(images.reshape(n, -1))."
        )
    return shape


def square_image_shape(n_features: int) -> tuple[int, int, int] | None:
    """``(1, side, side)`` when ``n_features`` is a perfect square (but not 1), else None.

    Parameters
    ----------
    n_features : int
        Values per row.

    Returns
    -------
    shape : tuple of int or None
        A one-channel square image shape, or None when the rows cannot be one.

    Examples
    --------
    >>> from skvae.images import square_image_shape
    >>> square_image_shape(64), square_image_shape(10)
    ((1, 8, 8), None)
    """
    side = math.isqrt(n_features)
    return (1, side, side) if side > 1 and side * side == n_features else None


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
    >>> from skvae.images import image_mosaic
    >>> image_mosaic(np.arange(8).reshape(2, 4), (2, 2), ncols=2)
    array([[ 0.,  1., nan,  4.,  5.],
           [ 2.,  3., nan,  6.,  7.]])
    >>> image_mosaic(np.zeros((5, 64)), (8, 8), ncols=3).shape  # 2 rows of 3 images
    (17, 26)
    """
    rows = np.asarray(rows, dtype=np.float64)
    c, h, w = as_image_shape(image_shape, rows.shape[1])
    images = rows.reshape(-1, c, h, w).transpose(0, 2, 3, 1)
    nrows = math.ceil(len(images) / ncols)
    mosaic = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), np.nan)
    for k, image in enumerate(images):
        top, left = (k // ncols) * (h + pad), (k % ncols) * (w + pad)
        mosaic[top:top + h, left:left + w] = image
    return mosaic[..., 0] if c == 1 else mosaic
