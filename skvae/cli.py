"""The ``skvae`` command: argument parsing; ``skvae compare`` is the main job.

``skvae compare`` fits PCA, t-SNE, an autoencoder and a VAE on one data set, prints the
held-out metrics (:func:`skvae.metrics.compare`) and writes a report folder: ``report.md``
with the table and the figures (:mod:`skvae.plotting`) as PNG files. The default data set
is scikit-learn's digits, bundled with scikit-learn, so it needs no download.

Data sets (``--dataset``): ``digits``; ``mnist``, ``fashion-mnist`` and ``olivetti``
(found in ``--data-home`` or ``SKVAE_DATA_HOME``, else downloaded, see
:mod:`skvae.datasets`); ``house-prices`` (the Kaggle table, coloured by log SalePrice);
or a path to a CSV file (its ``--target`` column is held back and used only to colour
and score the embeddings; other non-numeric columns are categorical).

The data and the ``--out`` folder are checked before any training. Ctrl-C stops the
run at once (exit status 130) and leaves ``--out`` as it was: the report is drawn in a
hidden folder and moved into ``--out`` only when complete.

The work is done elsewhere: :mod:`skvae.comparison` loads and runs the comparison,
:mod:`skvae.report` writes the report.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
import signal
import sys
import textwrap
import threading
import warnings

from . import __version__, plotting
from .comparison import CSV_PATH, DATASETS, DEFAULT_MAX_ROWS, load_comparison, run_compare
from .exceptions import TrainingInterruptedWarning
from .report import check_report_folder, format_table, write_report

__all__ = ["build_parser", "main"]

#: Exit status after Ctrl-C, as shells report a process that SIGINT ended (128 + 2).
INTERRUPTED = 130


class _Interrupted(BaseException):
    """Ctrl-C outside training. Not a ``KeyboardInterrupt``, which skorch's fit loop swallows."""


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


def _plain(rest: str) -> str:
    """``--help`` text from reST: ``literal`` and :role:`~target` become plain words."""
    rest = re.sub(r"``([^`]+)``", r"\1", re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", rest))
    return "\n\n".join(textwrap.fill(" ".join(paragraph.split()), 88, break_on_hyphens=False)
                       for paragraph in rest.strip().split("\n\n"))


def build_parser() -> argparse.ArgumentParser:
    """The ``skvae`` command's argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        With the ``compare`` sub-command and its options.

    Examples
    --------
    >>> from skvae.cli import build_parser
    >>> args = build_parser().parse_args(["compare", "--dataset", "mnist", "--epochs", "5"])
    >>> args.dataset, args.epochs, args.n_components
    ('mnist', 5, 2)
    """
    parser = argparse.ArgumentParser(
        prog="skvae", description="scikit-learn autoencoders and VAEs: compare them with "
                                  "PCA and t-SNE on your data.")
    parser.add_argument("--version", action="version", version=f"skvae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    compare_parser = commands.add_parser(
        "compare", help="fit PCA, t-SNE, an autoencoder and a VAE; write a report",
        description=_plain(__doc__.split("\n\n", 1)[1]),
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
        printed to stderr, before any training), 130 after Ctrl-C (nothing is
        written). Malformed options exit through argparse.

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
    status = _interruptible(_compare, args)
    if argv is None:  # the command's own process, about to exit: spare the interpreter's
        gc.freeze()   # final collections of torch's objects (about 1 s of each exit)
    return status


def _interruptible(command, args) -> int:
    """Run ``command(args)``; after Ctrl-C, say so in one line and return 130."""
    try:
        with _stop_on_sigint(), warnings.catch_warnings():
            # a fit that Ctrl-C stopped warns as it ends: raise there, skipping its
            # follow-up work (e.g. the AE's code density) and the measures
            warnings.filterwarnings("error", category=TrainingInterruptedWarning)
            return command(args)
    except (_Interrupted, KeyboardInterrupt, TrainingInterruptedWarning):
        print("skvae compare: interrupted, nothing written", file=sys.stderr, flush=True)
        return INTERRUPTED


def _compare(args) -> int:
    """``skvae compare``: check, load, fit and measure, then write the report."""
    try:
        _check_can_report(args.out)
        data = load_comparison(args.dataset, target=args.target, max_rows=args.max_rows,
                               data_home=args.data_home, random_state=args.random_state)
        print(f"skvae compare: {data.name}, {data.description}; "
              f"n_components={args.n_components}", flush=True)
        result = run_compare(data, n_components=args.n_components, epochs=args.epochs,
                             device=args.device, random_state=args.random_state,
                             verbose=0 if args.quiet else 1, settings=vars(args))
    except (ImportError, ValueError, OSError) as exc:
        print(f"skvae: error: {exc}", file=sys.stderr)
        return 2
    print(format_table(result.table))
    written = write_report(args.out, result)
    print(f"wrote {len(written)} files to {args.out}/: {', '.join(written)}")
    return 0


def _check_can_report(out_dir):
    """Fail before any training when the report could not be written."""
    check_report_folder(out_dir, option="--out")
    plotting.pyplot()  # a clear ImportError naming the [plot] extra without matplotlib


@contextlib.contextmanager
def _stop_on_sigint():
    """Make Ctrl-C (SIGINT) end the run at once, wherever it is; restore the handler after.

    During a network's training the estimator's own handler takes over (it stops at
    the end of the current step and sets ``interrupted_``, which
    :func:`~skvae.comparison.run_compare` turns into a ``KeyboardInterrupt``). Only
    the main thread can set signal handlers; elsewhere Ctrl-C is left as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        raise _Interrupted

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
