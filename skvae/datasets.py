"""Data set loaders: local files first, scikit-learn's real fetchers second.

Each loader looks for its file in ``data_home`` (the argument), then in the folder
named by the ``SKVAE_DATA_HOME`` environment variable, and only then downloads
through scikit-learn's fetchers (:func:`~sklearn.datasets.fetch_openml`,
:func:`~sklearn.datasets.fetch_olivetti_faces`) into their usual cache. File
formats are those of the project's shared data folder:

``mnist.npz``, ``fashion_mnist.npz``
    ``x_train`` (60000, 28, 28) uint8, ``y_train``, ``x_test`` (10000, 28, 28),
    ``y_test`` -- the Keras layout.
``olivetti_faces.npz``
    ``images`` (400, 64, 64) uint8 in scikit-learn's orientation, ``target`` (400,).
``house_prices/train.csv.gz``, ``house_prices/test.csv.gz``
    Kaggle's "House Prices" CSV files, gzipped.

Pixels are returned as float32 scaled to [0, 1], images flattened to rows (an
sklearn ``X``), with ``image_shape = (channels, height, width)`` to undo it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_olivetti_faces, fetch_openml
from sklearn.datasets import load_digits as _sklearn_load_digits
from sklearn.utils import Bunch

__all__ = ["load_digits", "load_fashion_mnist", "load_house_prices", "load_mnist",
           "load_olivetti_faces", "load_penguins"]


def _local_file(filename: str, data_home) -> Path | None:
    for folder in (data_home, os.environ.get("SKVAE_DATA_HOME")):
        if folder and (Path(folder).expanduser() / filename).is_file():
            return Path(folder).expanduser() / filename
    return None


def _download(filename, data_home, fetcher_name, fetch):
    """Run ``fetch()``; if it fails, say where the file was looked for and how to fix it."""
    try:
        return fetch()
    except Exception as exc:  # network, HTTP or cache errors all mean "not available"
        raise FileNotFoundError(
            f"{filename} is not in data_home={data_home!r} nor in "
            f"SKVAE_DATA_HOME={os.environ.get('SKVAE_DATA_HOME')!r}, and downloading it "
            f"with sklearn.datasets.{fetcher_name} failed ({type(exc).__name__}: {exc}). "
            f"Put {filename} in a folder and pass data_home=<folder> or set "
            "SKVAE_DATA_HOME=<folder>, or retry with network access."
        ) from exc


def _mnist_like(filename, openml_name, data_home) -> Bunch:
    path = _local_file(filename, data_home)
    if path is not None:
        with np.load(path) as d:
            parts = d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    else:
        fetched = _download(filename, data_home, "fetch_openml", lambda: fetch_openml(
            openml_name, version=1, as_frame=False, data_home=data_home))
        X, y = fetched.data, fetched.target.astype(np.int64)
        parts = X[:60000], y[:60000], X[60000:], y[60000:]  # OpenML keeps the official order
    x_train, y_train, x_test, y_test = parts
    scale = np.float32(255.0)
    return Bunch(
        X_train=np.asarray(x_train, dtype=np.float32).reshape(len(x_train), -1) / scale,
        y_train=np.asarray(y_train, dtype=np.int64),
        X_test=np.asarray(x_test, dtype=np.float32).reshape(len(x_test), -1) / scale,
        y_test=np.asarray(y_test, dtype=np.int64),
        image_shape=(1, 28, 28),
    )


def load_mnist(data_home=None) -> Bunch:
    """Load the MNIST digits with the official 60000/10000 split, pixels in [0, 1].

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``mnist.npz``; then ``SKVAE_DATA_HOME``; then ``fetch_openml``
        ("mnist_784"), which caches under scikit-learn's data home.

    Returns
    -------
    data : Bunch
        ``X_train`` (60000, 784) float32, ``y_train`` (60000,) int64, ``X_test``
        (10000, 784), ``y_test``, ``image_shape`` ``(1, 28, 28)``.

    Examples
    --------
    >>> from skvae.datasets import load_mnist
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.X_train.shape, mnist.X_test.shape, mnist.image_shape  # doctest: +SKIP
    ((60000, 784), (10000, 784), (1, 28, 28))
    """
    return _mnist_like("mnist.npz", "mnist_784", data_home)


def load_fashion_mnist(data_home=None) -> Bunch:
    """Load Fashion-MNIST with the official 60000/10000 split, pixels in [0, 1].

    Same layout and lookup as :func:`load_mnist`, with the file ``fashion_mnist.npz``
    and the OpenML data set "Fashion-MNIST".

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``fashion_mnist.npz``; then ``SKVAE_DATA_HOME``; then
        ``fetch_openml`` ("Fashion-MNIST"), which caches under scikit-learn's data home.

    Returns
    -------
    data : Bunch
        ``X_train`` (60000, 784) float32, ``y_train`` (60000,) int64, ``X_test``
        (10000, 784), ``y_test``, ``image_shape`` ``(1, 28, 28)``.

    Examples
    --------
    >>> from skvae.datasets import load_fashion_mnist
    >>> fashion = load_fashion_mnist()  # doctest: +SKIP
    >>> fashion.X_train.shape, fashion.X_test.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))
    >>> fashion.y_test[:3]  # doctest: +SKIP
    array([9, 2, 1])
    """
    return _mnist_like("fashion_mnist.npz", "Fashion-MNIST", data_home)


def load_olivetti_faces(data_home=None, *, mirror=False) -> Bunch:
    """Load the Olivetti faces (40 subjects x 10 images, 64 x 64), grey levels in [0, 1].

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``olivetti_faces.npz``; then ``SKVAE_DATA_HOME``; then
        :func:`~sklearn.datasets.fetch_olivetti_faces`.
    mirror : bool, default=False
        Append a left-right mirrored copy of every face (as the faces tutorials do to
        double the training data). Mirror images share their original's subject:
        split by ``is_mirror`` / subject before training so no test face leaks in.

    Returns
    -------
    data : Bunch
        ``data`` (400 or 800, 4096) float32, ``target`` subject ids, ``is_mirror``
        booleans, ``image_shape`` ``(1, 64, 64)``.

    Examples
    --------
    >>> from skvae.datasets import load_olivetti_faces
    >>> faces = load_olivetti_faces(mirror=True)  # doctest: +SKIP
    >>> faces.data.shape, int(faces.is_mirror.sum()), faces.image_shape  # doctest: +SKIP
    ((800, 4096), 400, (1, 64, 64))
    """
    path = _local_file("olivetti_faces.npz", data_home)
    if path is not None:
        with np.load(path) as d:
            images, target = d["images"].astype(np.float32), d["target"]
        images /= images.max()  # scikit-learn's scaling: the file's grey levels are 0..242
    else:
        fetched = _download("olivetti_faces.npz", data_home, "fetch_olivetti_faces",
                            lambda: fetch_olivetti_faces(data_home=data_home))
        images, target = fetched.images.astype(np.float32), fetched.target
    is_mirror = np.zeros(len(images), dtype=bool)
    if mirror:
        images = np.concatenate([images, images[:, :, ::-1]])
        target = np.concatenate([target, target])
        is_mirror = np.concatenate([is_mirror, ~is_mirror])
    return Bunch(data=images.reshape(len(images), -1), target=np.asarray(target, np.int64),
                 is_mirror=is_mirror, image_shape=(1, 64, 64))


def load_house_prices(data_home=None) -> Bunch:
    """Load Kaggle's House Prices data (Ames, Iowa) as DataFrames: 79 mixed-type features.

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``house_prices/train.csv.gz`` (and ``test.csv.gz``); then
        ``SKVAE_DATA_HOME``; then ``fetch_openml("house_prices")``, which has the
        training file only.

    Returns
    -------
    data : Bunch
        ``data``: the 1460 training rows without ``Id`` and ``SalePrice`` (43 text
        columns, 36 numeric, missing values as NaN, as ``pd.read_csv`` reads them);
        ``target``: ``SalePrice``; ``test``: the 1459 rows of ``test.csv`` without
        ``Id`` (categories and missing values the training rows lack), or None when
        downloaded; ``frame``: the training file as read.

    Examples
    --------
    >>> from skvae.datasets import load_house_prices
    >>> houses = load_house_prices()  # doctest: +SKIP
    >>> houses.data.shape, houses.test.shape  # doctest: +SKIP
    ((1460, 79), (1459, 79))
    """
    import pandas as pd

    path = _local_file(os.path.join("house_prices", "train.csv.gz"), data_home)
    if path is not None:
        frame = pd.read_csv(path)
        test_path = path.with_name("test.csv.gz")
        test = pd.read_csv(test_path).drop(columns="Id") if test_path.is_file() else None
    else:
        fetched = _download("house_prices/train.csv.gz", data_home, "fetch_openml",
                            lambda: fetch_openml("house_prices", version=1, as_frame=True,
                                                 data_home=data_home))
        frame, test = fetched.frame, None
    return Bunch(data=frame.drop(columns=["Id", "SalePrice"]), target=frame["SalePrice"],
                 test=test, frame=frame)


def load_penguins(data_home=None) -> Bunch:
    """Load the Palmer penguins (344 rows: 3 species, 3 text and 5 numeric columns).

    Parameters
    ----------
    data_home : str or path-like, optional
        Folder holding ``penguins/penguins.csv.gz``; then ``SKVAE_DATA_HOME``; then
        ``fetch_openml("penguins")``.

    Returns
    -------
    data : Bunch
        ``frame``: the table as read (``species``, ``island``, ``sex`` as text, the four
        measurements as float64 with a few NaN, ``year`` int64); ``data``: the frame
        without ``species``; ``target``: ``species``.

    Examples
    --------
    >>> from skvae.datasets import load_penguins
    >>> penguins = load_penguins()  # doctest: +SKIP
    >>> penguins.frame.shape, penguins.target.nunique()  # doctest: +SKIP
    ((344, 8), 3)
    """
    import pandas as pd

    path = _local_file(os.path.join("penguins", "penguins.csv.gz"), data_home)
    if path is not None:
        frame = pd.read_csv(path)
    else:
        frame = _download("penguins/penguins.csv.gz", data_home, "fetch_openml",
                          lambda: fetch_openml("penguins", version=1, as_frame=True,
                                               data_home=data_home)).frame
    return Bunch(frame=frame, data=frame.drop(columns="species"), target=frame["species"])


def load_digits() -> Bunch:
    """Load scikit-learn's 8 x 8 digits (bundled with scikit-learn), pixels in [0, 1].

    Returns
    -------
    data : Bunch
        ``data`` (1797, 64) float32 (pixels / 16), ``target``, ``image_shape`` ``(1, 8, 8)``.

    Examples
    --------
    >>> from skvae.datasets import load_digits
    >>> digits = load_digits()
    >>> digits.data.shape, digits.data.dtype, float(digits.data.max())
    ((1797, 64), dtype('float32'), 1.0)
    >>> digits.target[:5], digits.image_shape
    (array([0, 1, 2, 3, 4]), (1, 8, 8))
    """
    digits = _sklearn_load_digits()
    return Bunch(data=(digits.data / 16.0).astype(np.float32), target=digits.target,
                 image_shape=(1, 8, 8))
