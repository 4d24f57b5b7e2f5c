"""The ``skvae`` command.

``skvae compare`` fits PCA, an autoencoder and a VAE on scikit-learn's digits
(bundled with scikit-learn: no download) and prints, for held-out rows, the
reconstruction error, the 5-NN accuracy of the codes and their trustworthiness.
"""

from __future__ import annotations

import argparse
import sys

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from . import AutoencoderTransformer, VAETransformer, __version__
from .metrics import evaluate


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skvae", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"skvae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare", help="compare PCA, an autoencoder and a VAE on the digits data",
        description="Fit PCA, AutoencoderTransformer and VAETransformer on scikit-learn's "
                    "digits (80/20 split) and print held-out metrics.")
    compare.add_argument("--n-components", type=_positive_int, default=2,
                         help="latent dimensions (default: 2)")
    compare.add_argument("--epochs", type=_positive_int, default=100,
                         help="training epochs of each network (default: 100)")
    compare.add_argument("--device", default="auto",
                         help="'auto' (CUDA when available), 'cpu' or 'cuda' (default: auto)")
    compare.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    return parser


def compare(n_components=2, epochs=100, device="auto", random_state=0) -> list[dict]:
    """Fit the three models on digits and return one result row per model."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.2, random_state=random_state)
    nets = dict(max_epochs=epochs, device=device, random_state=random_state)
    models = {
        "PCA": PCA(n_components=n_components, random_state=random_state),
        "AutoencoderTransformer": AutoencoderTransformer(n_components, **nets),
        "VAETransformer": VAETransformer(n_components, **nets),
    }
    return [{"method": name, **evaluate(model, X_train, X_test, y_train, y_test)}
            for name, model in models.items()]


def format_table(rows: list[dict]) -> str:
    header = f"{'method':<24}{'fit s':>8}{'test MSE':>10}{'5-NN acc':>10}{'trust':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['method']:<24}{r['fit_s']:>8.1f}{r['test_mse']:>10.4f}"
                     f"{r['knn5_acc']:>10.3f}{r['trustworthiness']:>8.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rows = compare(args.n_components, args.epochs, args.device, args.random_state)
    except ValueError as exc:
        print(f"skvae: error: {exc}", file=sys.stderr)
        return 2
    print(f"digits (1437 train / 360 test rows, 64 pixels), n_components={args.n_components}")
    print(format_table(rows))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
