"""The ``skvae`` command: ``skvae compare`` is the main job.

``skvae compare`` fits PCA, t-SNE, an autoencoder and a VAE on one data set, prints the
held-out metrics (:func:`skvae.metrics.compare`) and writes a report folder: ``report.md``
with the table and the figures (:mod:`skvae.plotting`) as PNG files. The default data set
is scikit-learn's digits, bundled with scikit-learn, so it needs no download.

Data sets (``--dataset``): ``digits``; ``mnist``, ``fashion-mnist`` and ``olivetti``
(found in ``--data-home`` or ``SKVAE_DATA_HOME``, else downloaded, see
:mod:`skvae.datasets`); ``house-prices`` (the Kaggle table, coloured by log SalePrice);
or a path to a CSV file (its ``--target`` column is held back and used only to colour
and score the embeddings; other non-numeric columns are categorical).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from . import __version__, datasets
from .metrics import _is_classification, compare, default_estimators
from .tabular import TableLayout, is_categorical

__all__ = ["load_comparison", "main"]

DATASETS = ("digits", "mnist", "fashion-mnist", "olivetti", "house-prices")
#: Epochs per data set kind when --epochs is not given.
DEFAULT_EPOCHS = {"digits": 100, "mnist": 20, "fashion-mnist": 20, "olivetti": 300,
                  "table": 100}
#: Rows used from MNIST-sized sets when --max-rows is not given (t-SNE's cost sets it).
DEFAULT_MAX_ROWS = 5000
TEST_SIZE = 0.2
#: What --dataset accepts as a CSV file (pandas reads the compressed ones too).
CSV_PATH = re.compile(r"\.csv(\.(gz|bz2|zip|xz|zst))?$", re.IGNORECASE)


@dataclass
class Comparison:
    """One data set, split and described, ready for :func:`skvae.metrics.compare`."""

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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _dataset(text: str) -> str:
    if text in DATASETS or CSV_PATH.search(text):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown data set {text!r}: choose one of {', '.join(DATASETS)}, or give the path "
        "of a .csv (or .csv.gz) file"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skvae", description="scikit-learn autoencoders and VAEs: compare them with "
                                  "PCA and t-SNE on your data.")
    parser.add_argument("--version", action="version", version=f"skvae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    compare_parser = commands.add_parser(
        "compare", help="fit PCA, t-SNE, an autoencoder and a VAE; write a report",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    options = compare_parser.add_argument
    options("--dataset", type=_dataset, default="digits", metavar="NAME|PATH.csv",
            help=f"{' | '.join(DATASETS)} | PATH.csv (default: digits)")
    options("--target", metavar="COLUMN",
            help="CSV only: column used to colour and score the embeddings, never to fit")
    options("--n-components", type=_positive_int, default=2, metavar="K",
            help="latent dimensions of every method (default: 2); t-SNE above 3 uses "
                 "its exact method, which takes minutes on thousands of rows")
    options("--epochs", type=_positive_int, metavar="N",
            help="training epochs of each network (default: digits 100, mnist and "
                 "fashion-mnist 20, olivetti 300, tables 100)")
    options("--max-rows", type=_positive_int, metavar="N",
            help=f"use the first N rows (default: {DEFAULT_MAX_ROWS} for mnist and "
                 "fashion-mnist, all rows otherwise); t-SNE's time grows fastest with N")
    options("--device", default="auto",
            help="'auto' (CUDA when available), 'cpu' or 'cuda' (default: auto)")
    options("--out", default="skvae-report", metavar="DIR",
            help="folder for report.md and the PNG figures (default: ./skvae-report)")
    options("--data-home", metavar="DIR",
            help="folder of the data files (default: $SKVAE_DATA_HOME, else download)")
    options("--random-state", type=int, default=0, metavar="SEED",
            help="seed of the split and every model (default: 0)")
    options("--quiet", action="store_true", help="no progress bars")
    return parser


# ---------------------------------------------------------------------- data sets
def load_comparison(dataset="digits", *, target=None, max_rows=None, data_home=None,
                    random_state=0) -> Comparison:
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
    data : Comparison
        The training and test rows and labels, the image shape (images) or the column
        to draw (tables), a description, and the networks' extra parameters.

    Examples
    --------
    >>> from skvae.cli import load_comparison
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


def _images(name, max_rows, data_home, random_state) -> Comparison:
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
    return Comparison(
        name, X_train, X_test, y_train, y_test, label_name="class",
        image_shape=bunch.image_shape,
        description=f"{len(X)} images of {height}x{width} pixels in [0, 1], "
                    f"{len(np.unique(y))} classes")


def _csv(path, target, max_rows, random_state) -> Comparison:
    if not os.path.isfile(path):
        raise ValueError(f"--dataset {path!r}: no such file. Give the path of a CSV file.")
    frame = pd.read_csv(path)
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


def _table(name, frame, y, label_name, max_rows, random_state) -> Comparison:
    """Split, then encode with a :class:`TableLayout` fitted on the training rows only."""
    frame = frame.iloc[:max_rows]
    y = None if y is None else np.asarray(y)[:max_rows]
    if y is None:
        train, test = train_test_split(frame, test_size=TEST_SIZE, random_state=random_state)
        y_train = y_test = None
    else:
        train, test, y_train, y_test = train_test_split(
            frame, y, test_size=TEST_SIZE, random_state=random_state,
            stratify=y if _is_classification(y) else None)
    layout = TableLayout().fit(train)
    names = list(layout.numeric_) + [f"{c}={v}" for c in layout.categorical_
                                     for v in layout.categories_[c]]
    X_train, X_test = (pd.DataFrame(layout.transform(part), columns=names)
                       for part in (train, test))
    return Comparison(
        name, X_train, X_test, y_train, y_test, label_name=label_name,
        column=_column_to_draw(train, layout.numeric_, y_train),
        description=f"{len(frame)} rows: {len(layout.numeric_)} numeric columns "
                    f"(standardised) and {len(layout.categorical_)} categorical ones "
                    f"(one-hot, {len(names) - len(layout.numeric_)} features)",
        net_params=dict(categorical_groups=layout.groups_, batch_size=64))


def _column_to_draw(train, numeric, y):
    """The numeric column most correlated with the target (else the first one)."""
    if not numeric:
        return None
    if y is None or not pd.api.types.is_numeric_dtype(np.asarray(y)):
        return numeric[0]
    corr = train[numeric].astype(float).corrwith(pd.Series(np.asarray(y, float),
                                                           index=train.index)).abs()
    return corr.idxmax() if corr.notna().any() else numeric[0]


# ---------------------------------------------------------------------- main
def run_compare(data: Comparison, *, n_components=2, epochs=None, device="auto",
                random_state=0, verbose=1):
    """Fit the four methods on ``data``; return the metrics table and the fitted models."""
    kind = data.name if data.name in DEFAULT_EPOCHS else "table"
    estimators = default_estimators(
        n_components, max_epochs=epochs or DEFAULT_EPOCHS[kind], random_state=random_state,
        device=device, verbose=verbose, **data.net_params)
    return compare(estimators, data.X_train, data.y_train, X_test=data.X_test,
                   y_test=data.y_test, random_state=random_state, return_estimators=True)


def main(argv=None) -> int:
    """Run the ``skvae`` command, e.g. ``skvae compare --dataset digits``.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after ``skvae``; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 when the data or an option cannot be used (the error is
        printed to stderr). Malformed options exit through argparse.

    Examples
    --------
    >>> import contextlib
    >>> import io
    >>> import os
    >>> import tempfile
    >>> from skvae.cli import main
    >>> with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(
    ...         io.StringIO()) as log:
    ...     status = main(["compare", "--max-rows", "60", "--epochs", "2", "--quiet",
    ...                    "--out", out])
    ...     files = sorted(os.listdir(out))
    >>> status, files[:3]
    (0, ['embeddings.png', 'history.png', 'manifold_ae.png'])
    >>> log.getvalue().splitlines()[0]
    'skvae compare: digits, 60 images of 8x8 pixels in [0, 1], 10 classes; n_components=2'
    >>> main(["compare", "--dataset", "no-such-file.csv"])  # the error goes to stderr
    2
    """
    args = build_parser().parse_args(argv)
    try:
        _check_can_report(args.out)
        data = load_comparison(args.dataset, target=args.target, max_rows=args.max_rows,
                               data_home=args.data_home, random_state=args.random_state)
        print(f"skvae compare: {data.name}, {data.description}; "
              f"n_components={args.n_components}", flush=True)
        table, fitted = run_compare(data, n_components=args.n_components, epochs=args.epochs,
                                    device=args.device, random_state=args.random_state,
                                    verbose=0 if args.quiet else 1)
    except (ImportError, ValueError, OSError) as exc:
        print(f"skvae: error: {exc}", file=sys.stderr)
        return 2
    from .report import format_table, write_report

    print(format_table(table))
    written = write_report(args.out, data, table, fitted, vars(args))
    print(f"wrote {len(written)} files to {args.out}/: {', '.join(written)}")
    return 0


def _check_can_report(out_dir):
    """Fail before any training when the report could not be written."""
    from .plotting import _pyplot

    _pyplot()  # a clear ImportError naming the [plot] extra when matplotlib is missing
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out {out_dir!r} is a file; give a folder for the report.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
