"""One comparison run, as ``skvae compare`` does it: load a data set, fit the methods, measure.

* :func:`load_comparison` -- a data set by name (or a CSV path), split 80/20 and
  described (:class:`ComparisonData`); tables are encoded with a
  :class:`~skvae.tabular.TableLayout` fitted on the training rows.
* :func:`default_estimators` -- PCA, t-SNE, an autoencoder and a VAE.
* :func:`run_compare` -- fit and measure them (:func:`skvae.metrics.compare`) and
  return a plain :class:`ComparisonResult`, which :func:`skvae.report.write_report`
  turns into a report.

Data sets: ``digits`` (bundled with scikit-learn, so it needs no download);
``mnist``, ``fashion-mnist`` and ``olivetti`` (found in ``data_home`` or
``SKVAE_DATA_HOME``, else downloaded, see :mod:`skvae.datasets`); ``house-prices``
(the Kaggle table, coloured by log SalePrice); or a path to a CSV file (its
``target`` column is held back and used only to colour and score the embeddings;
other non-numeric columns are categorical).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split

from . import datasets
from .autoencoder import AutoencoderTransformer
from .metrics import compare, is_classification, name_estimators
from .tabular import TableLayout, is_categorical
from .vae import VAETransformer

__all__ = ["ComparisonData", "ComparisonResult", "default_estimators", "load_comparison",
           "run_compare"]

DATASETS = ("digits", "mnist", "fashion-mnist", "olivetti", "house-prices")
#: Epochs per data set kind when ``epochs`` is not given.
DEFAULT_EPOCHS = {"digits": 100, "mnist": 20, "fashion-mnist": 20, "olivetti": 300,
                  "table": 100}
#: Rows used from MNIST-sized sets when ``max_rows`` is not given (t-SNE's cost sets it).
DEFAULT_MAX_ROWS = 5000
TEST_SIZE = 0.2
#: What counts as a CSV file (pandas reads the compressed ones too).
CSV_PATH = re.compile(r"\.csv(\.(gz|bz2|zip|xz|zst))?$", re.IGNORECASE)


@dataclass
class ComparisonData:
    """One data set, split and described, ready for :func:`run_compare`.

    Parameters
    ----------
    name : str
        The data set's name.
    X_train, X_test : array-like
        Training and held-out rows (numeric: tables are already encoded).
    y_train, y_test : array-like or None, default=None
        Labels or a target, used only to colour and score the embeddings.
    label_name : str or None, default=None
        What the labels are (legend title, colour-bar label).
    image_shape : tuple or None, default=None
        ``(channels, height, width)`` when the rows are images.
    column : str or None, default=None
        Tables: the column the manifold and sample figures draw.
    description : str, default=""
        A one-line description.
    net_params : dict, default={}
        Extra parameters of the networks (e.g. ``categorical_groups``).
    layout : skvae.tabular.TableLayout or None, default=None
        Tables: the layout that encoded the rows, so that figures can show ``column``
        in its original units.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae.comparison import ComparisonData
    >>> rng = np.random.RandomState(0)
    >>> data = ComparisonData("noise", rng.rand(80, 5), rng.rand(20, 5),
    ...                       description="uniform noise")
    >>> data.X_train.shape, data.y_train is None
    ((80, 5), True)
    """

    name: str
    X_train: object
    X_test: object
    y_train: object = None
    y_test: object = None
    label_name: str | None = None
    image_shape: tuple | None = None
    column: str | None = None  # tables: the column drawn by manifold and sample plots
    description: str = ""
    net_params: dict = field(default_factory=dict)
    layout: object = None  # tables: the TableLayout that encoded X_train and X_test


def default_estimators(n_components=2, *, max_epochs=100, random_state=0, **net_params) -> dict:
    """Build PCA, t-SNE, an autoencoder and a VAE with ``n_components`` dimensions.

    ``net_params`` (e.g. ``device``, ``verbose``, ``hidden_layer_sizes``) go to both
    networks. t-SNE uses scikit-learn's defaults (``init="pca"``, perplexity 30) and,
    above 3 components, its exact method (Barnes-Hut allows 3 at most), whose time grows
    with the square of the rows: about a minute for digits' 1797 rows on 2 CPU cores.

    Parameters
    ----------
    n_components : int, default=2
        Dimensions of every method's embedding.
    max_epochs : int, default=100
        Training epochs of the two networks.
    random_state : int, default=0
        Seed of every method.
    **net_params : dict
        Other parameters of :class:`~skvae.AutoencoderTransformer` and
        :class:`~skvae.VAETransformer`.

    Returns
    -------
    estimators : dict of str to estimator
        Unfitted estimators named ``PCA``, ``t-SNE``, ``AE`` and ``VAE``, ready for
        :func:`run_compare` or :func:`skvae.metrics.compare`. Adding a method to
        ``skvae compare`` is one more entry here: the report draws every method by
        what it can do (``transform``, ``inverse_transform``, ``sample``).

    Examples
    --------
    >>> from skvae.comparison import default_estimators
    >>> estimators = default_estimators(2, max_epochs=5, hidden_layer_sizes=(32,))
    >>> list(estimators)
    ['PCA', 't-SNE', 'AE', 'VAE']
    >>> estimators["VAE"].max_epochs, estimators["AE"].hidden_layer_sizes
    (5, (32,))
    """
    nets = dict(max_epochs=max_epochs, random_state=random_state, **net_params)
    return {
        "PCA": PCA(n_components=n_components, random_state=random_state),
        "t-SNE": TSNE(n_components=n_components, random_state=random_state,
                      method="barnes_hut" if n_components <= 3 else "exact"),
        "AE": AutoencoderTransformer(n_components, **nets),
        "VAE": VAETransformer(n_components, **nets),
    }


def load_comparison(dataset="digits", *, target=None, max_rows=None, data_home=None,
                    random_state=0) -> ComparisonData:
    """Load ``dataset`` (a name in :data:`DATASETS` or a CSV path) and split it 80/20.

    Tables (house prices, CSV files) are encoded with a :class:`skvae.tabular.TableLayout`
    fitted on the training rows only.

    Parameters
    ----------
    dataset : str, default="digits"
        One of :data:`DATASETS`, or the path of a ``.csv`` (or compressed) file.
    target : str or None, default=None
        CSV only: the label column, held back from ``X`` (used to colour and score).
    max_rows : int or None, default=None
        Use the first rows only (MNIST-sized sets: 5000 by default).
    data_home : str or None, default=None
        Folder of the data files (see :mod:`skvae.datasets`).
    random_state : int, default=0
        Seed of the split (stratified when the labels are classes).

    Returns
    -------
    data : ComparisonData
        The training and test rows and labels, the image shape (images) or the column
        to draw (tables), a description, and the networks' extra parameters.

    Examples
    --------
    >>> from skvae.comparison import load_comparison
    >>> data = load_comparison("digits", max_rows=100)
    >>> data.X_train.shape, data.X_test.shape, data.image_shape
    ((80, 64), (20, 64), (1, 8, 8))
    >>> data.description
    '100 images of 8x8 pixels in [0, 1], 10 classes'
    """
    is_csv = CSV_PATH.search(dataset) is not None
    if target is not None and not is_csv:
        raise ValueError(
            f"--target picks the label column of a CSV file; {dataset!r} has its own "
            "labels. Drop --target, or pass --dataset PATH.csv."
        )
    if dataset == "house-prices":
        bunch = datasets.load_house_prices(data_home=data_home)
        return _table("house-prices", bunch.data, np.log(bunch.target), "log SalePrice",
                      max_rows, random_state)
    if is_csv:
        return _csv(dataset, target, max_rows, random_state)
    return _images(dataset, max_rows, data_home, random_state)


def _images(name, max_rows, data_home, random_state) -> ComparisonData:
    if name == "digits":
        bunch = datasets.load_digits()
        X, y = bunch.data, bunch.target
    else:
        loader = {"mnist": datasets.load_mnist, "fashion-mnist": datasets.load_fashion_mnist,
                  "olivetti": datasets.load_olivetti_faces}[name]
        bunch = loader(data_home=data_home)
        X, y = bunch.get("X_train", bunch.get("data")), bunch.get("y_train", bunch.get("target"))
        max_rows = max_rows or (DEFAULT_MAX_ROWS if "mnist" in name else None)
    X, y = X[:max_rows], y[:max_rows]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=random_state, stratify=y)
    _, height, width = bunch.image_shape
    return ComparisonData(
        name, X_train, X_test, y_train, y_test, label_name="class",
        image_shape=bunch.image_shape,
        description=f"{len(X)} images of {height}x{width} pixels in [0, 1], "
                    f"{len(np.unique(y))} classes")


def _csv(path, target, max_rows, random_state) -> ComparisonData:
    if not os.path.isfile(path):
        raise ValueError(f"--dataset {path!r}: no such file. Give the path of a CSV file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"--dataset {path!r} cannot be read as a CSV file ({exc}). Give a "
                         "comma-separated, UTF-8 file with a header row.") from None
    y, label_name = None, None
    if target is not None:
        if target not in frame.columns:
            raise ValueError(
                f"--target {target!r} is not a column of {path}; its columns are "
                f"{list(frame.columns)}."
            )
        y, label_name = frame.pop(target).to_numpy(), target
        if not is_categorical(pd.Series(y)) and not pd.api.types.is_numeric_dtype(y):
            y = y.astype(str)
    return _table(os.path.basename(path), frame, y, label_name, max_rows, random_state)


def _table(name, frame, y, label_name, max_rows, random_state) -> ComparisonData:
    """Split, then encode with a :class:`TableLayout` fitted on the training rows only."""
    frame = frame.iloc[:max_rows]
    y = None if y is None else np.asarray(y)[:max_rows]
    if y is None:
        train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=random_state)
        y_train = y_test = None
    else:
        train, test, y_train, y_test = train_test_split(
            frame, y, test_size=TEST_SIZE, random_state=random_state,
            stratify=y if is_classification(y) else None)
    layout = TableLayout().fit(train)
    _check_has_numbers(name, layout, label_name)
    names = layout.get_feature_names_out()
    # PCA, t-SNE and the distance-based measures need complete rows: a missing number
    # (or one in its zero state) gets the training mean (0 once transformed)
    X_train, X_test = (pd.DataFrame(layout.transform(part), columns=names).fillna(0.0)
                       for part in (train, test))
    return ComparisonData(
        name, X_train, X_test, y_train, y_test, label_name=label_name,
        column=_column_to_draw(train, layout.numeric_, y_train),
        description=f"{len(frame)} rows: {len(layout.numeric_)} numeric columns "
                    f"(quantile-normalised; {len(layout.states_)} with zero/missing "
                    f"states) and {len(layout.categorical_)} categorical ones (one-hot; "
                    f"{len(names) - len(layout.numeric_)} one-hot features in all)",
        net_params=dict(categorical_groups=[list(g) for g in layout.groups_], batch_size=64),
        layout=layout)


def _check_has_numbers(name, layout, label_name):
    """A table without numeric columns leaves the report nothing to draw: say so now."""
    if layout.numeric_:
        return
    held_back = f" (besides the --target column {label_name!r})" if label_name else ""
    raise ValueError(
        f"--dataset {name!r} has no numeric column{held_back}: its columns "
        f"{list(layout.categorical_)} all hold text, read as categories. skvae compare "
        "draws a numeric column in its figures: add one, or write the numbers of a column "
        "read as text plainly (no units, thousands separators or quotes).")


def _column_to_draw(train, numeric, y):
    """The numeric column most correlated with the target (else the first one)."""
    if not numeric:
        return None
    if y is None or not pd.api.types.is_numeric_dtype(np.asarray(y)):
        return numeric[0]
    corr = train[numeric].astype(float).corrwith(pd.Series(np.asarray(y, float),
                                                           index=train.index)).abs()
    return corr.idxmax() if corr.notna().any() else numeric[0]


@dataclass
class ComparisonResult:
    """What :func:`run_compare` measured, for :func:`skvae.report.write_report`.

    Parameters
    ----------
    data : ComparisonData
        The data set.
    table : pandas.DataFrame
        :func:`skvae.metrics.compare`'s table, one row per method.
    fitted : dict of str to estimator
        The fitted methods, in the table's order.
    codes : dict of str to ndarray
        Each method's codes of the held-out rows.
    settings : dict, default={}
        How the run was asked for (the command's options), written into the report.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skvae.comparison import load_comparison, run_compare
    >>> result = run_compare(load_comparison("digits", max_rows=100), {"PCA": PCA(2)})
    >>> list(result.fitted), result.codes["PCA"].shape, list(result.table["method"])
    (['PCA'], (20, 2), ['PCA'])
    """

    data: ComparisonData
    table: pd.DataFrame
    fitted: dict
    codes: dict
    settings: dict = field(default_factory=dict)


def run_compare(data, estimators=None, *, n_components=2, epochs=None, device="auto",
                random_state=0, verbose=1, settings=None) -> ComparisonResult:
    """Fit the methods on ``data`` and measure them on its held-out rows.

    Parameters
    ----------
    data : ComparisonData
        From :func:`load_comparison`.
    estimators : dict or list of estimators, default=None
        The methods; None means :func:`default_estimators` (PCA, t-SNE, an autoencoder
        and a VAE) with ``n_components``, ``epochs`` (per data set by default),
        ``device``, ``random_state`` and ``verbose``.
    n_components : int, default=2
        Latent dimensions of the default methods.
    epochs : int or None, default=None
        Training epochs of the default networks (None: per data set, e.g. 100 for
        digits, 20 for MNIST).
    device : str, default="auto"
        Device of the default networks.
    random_state : int, default=0
        Seed of the default methods and of the measures.
    verbose : int, default=1
        Progress output of the default networks (1: a progress bar each).
    settings : dict, default=None
        Recorded in the result (the report writes them out).

    Returns
    -------
    result : ComparisonResult
        The table, the fitted methods and their test codes.

    Raises
    ------
    KeyboardInterrupt
        As soon as a method's training was stopped by Ctrl-C (its ``interrupted_``
        is True): the methods are fitted one at a time, and the run ends at the first
        one cut short rather than report a half-trained model.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.manifold import Isomap
    >>> from skvae.comparison import load_comparison, run_compare
    >>> data = load_comparison("digits", max_rows=100)
    >>> result = run_compare(data, [PCA(2), Isomap(n_components=2)])
    >>> result.table["method"].tolist(), result.codes["Isomap"].shape
    (['PCA', 'Isomap'], (20, 2))
    """
    if estimators is None:
        kind = data.name if data.name in DEFAULT_EPOCHS else "table"
        estimators = default_estimators(
            n_components, max_epochs=epochs or DEFAULT_EPOCHS[kind],
            random_state=random_state, device=device, verbose=verbose, **data.net_params)
    named = name_estimators(estimators)
    if not named:
        raise ValueError("run_compare got no estimators: give at least one method, or "
                         "None for the default ones.")
    rows, fitted, codes = [], {}, {}
    for name, estimator in named.items():  # one at a time: see Raises
        table, fitted[name], codes[name] = _compare_one(name, estimator, data, random_state)
        rows += table.to_dict("records")
    table = pd.DataFrame(rows, columns=table.columns)
    return ComparisonResult(data, table, fitted, codes, dict(settings or {}))


def _compare_one(name, estimator, data, random_state):
    """:func:`~skvae.metrics.compare` of one method: ``(table, fitted, codes)``.

    Stops the run (``KeyboardInterrupt``) when Ctrl-C cut its training short.
    """
    table, fitted, codes = compare(
        {name: estimator}, data.X_train, data.y_train, X_test=data.X_test,
        y_test=data.y_test, random_state=random_state, return_estimators=True,
        return_codes=True)
    steps = [step for _, step in getattr(fitted[name], "steps", [])]  # pipelines
    if any(getattr(model, "interrupted_", False) for model in [fitted[name], *steps]):
        raise KeyboardInterrupt(f"{name}: training was interrupted (Ctrl-C)")
    return table, fitted[name], codes[name]
