"""Quality on scikit-learn's digits (pixels / 16, 80/20 split): PCA vs AE vs VAE, over seeds.

The unit tests pin single-seed bars; this script reports the spread over seeds.
Documented defaults plus only ``max_epochs`` and ``batch_size``, as in the tests.

    python benchmarks/bench_digits.py [--seeds 5] [--epochs 100]
    python benchmarks/bench_digits.py --smoke --results-dir DIR   # seconds: does it run?

Writes ``benchmarks/results/digits-<device>.json`` and ``.md`` (``--results-dir``).
"""

from __future__ import annotations

import argparse

import numpy as np
from _report import default_device, device_tag, environment, parse_args, write
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skvae import AutoencoderTransformer, VAETransformer
from skvae.metrics import evaluate

#: What ``--smoke`` changes: one seed, one epoch.
SMOKE = dict(seeds=1, epochs=1)


def measure(model, data):
    """skvae.metrics.evaluate, plus the VAE's held-out ELBO and noise-detection AUC."""
    X_train, X_test, y_train, y_test = data
    row = evaluate(model, X_train, X_test, y_train, y_test)
    if isinstance(model, VAETransformer):
        noise = np.random.RandomState(0).uniform(size=X_test.shape)
        scores = np.r_[model.score_samples(X_test), model.score_samples(noise)]
        row["elbo"] = model.score(X_test)
        row["noise_auc"] = roc_auc_score(np.r_[np.ones(len(X_test)), np.zeros(len(noise))], scores)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    args = parse_args(parser, SMOKE)
    X, y = load_digits(return_X_y=True)
    data = train_test_split(X / 16.0, y, test_size=0.2, random_state=0)
    device = default_device()
    rows = []
    for seed in range(args.seeds):
        nets = dict(n_components=2, max_epochs=args.epochs, batch_size=128, random_state=seed)
        pca = measure(PCA(n_components=2), data)
        ae = measure(AutoencoderTransformer(**nets), data)
        vae = measure(VAETransformer(**nets), data)
        vae1 = VAETransformer(**{**nets, "max_epochs": 1}).fit(data[0]).score(data[1])
        rows.append({
            "seed": seed,
            "pca_mse": pca["test_mse"], "ae_mse": ae["test_mse"],
            "ae_mse_over_pca": ae["test_mse"] / pca["test_mse"],
            "pca_knn5": pca["knn5_acc"], "ae_knn5": ae["knn5_acc"], "vae_knn5": vae["knn5_acc"],
            "pca_trust": pca["trustworthiness"], "ae_trust": ae["trustworthiness"],
            "vae_trust": vae["trustworthiness"],
            "vae_elbo": vae["elbo"], "vae_1epoch_elbo": vae1, "vae_noise_auc": vae["noise_auc"],
            "ae_fit_s": ae["fit_s"], "vae_fit_s": vae["fit_s"],
        })
        print(rows[-1])
    notes = (f"load_digits / 16, train_test_split(test_size=0.2, random_state=0); "
             f"n_components=2, max_epochs={args.epochs}, batch_size=128, other parameters default.")
    path = write(f"digits-{device_tag(device)}", environment(device), rows, notes,
                 results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
