"""The tutorials' models with the library defaults: do the defaults carry the quality?

Each model sets only what a newcomer from the notebooks would: ``n_components``,
``max_epochs``, ``batch_size`` (MNIST: 10 epochs of 128 rows), ``reconstruction_loss=
"bce"`` for VAEs on pixels, and ``architecture`` / ``image_shape`` for the conv ones.
Everything else (hidden widths, KL warm-up, learning rate, initialisation) is skvae's.

* MNIST: AE(32) and Fashion-MNIST AE(32) held-out MSE against PCA(32); VAE(20)
  ``-score``; the 2-D VAE's 5-NN accuracy and trustworthiness on all 10,000 test digits
  (the first 5,000 are the harder half: 5-NN 0.73 there against 0.77 on all).
* Conv VAE, 2-D, all of MNIST: each latent dimension's KL on the test digits
  (:func:`skvae.metrics.kl_per_dimension`), 5-NN, trustworthiness; the same with the
  notebook's 16-unit dense layer. Conv against dense VAEs at 16 and 32 dimensions.
* Olivetti faces (the gallery's settings: 150 epochs of 32 faces, ``lr=3e-3``): the
  shallow (linear) AE(16) against PCA(16); the 2-D VAE's KL per dimension and the pixel
  variance of its decoded 15 x 15 grid against PCA(2)'s, each grid spanning the 5% to
  95% quantiles of the method's own training codes.
* Digits: fit time of the defaults against the former ones (``hidden_layer_sizes=
  (256, 128)``, ``kl_warmup=0``), side by side.

    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_defaults.py [--parts ...]
    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_defaults.py --smoke

Threads: torch and BLAS are pinned to ``--threads`` (2) threads; run with
``OMP_WAIT_POLICY=PASSIVE``. Writes ``benchmarks/results/defaults-<device>.json`` and
``.md`` with a "must hold" section checked against the numbers just measured.
``--smoke`` (one epoch, a few hundred rows) skips the data sets ``SKVAE_DATA_HOME`` lacks.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, skip, write
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_fashion_mnist, load_mnist, load_olivetti_faces
from skvae.metrics import kl_per_dimension, knn_accuracy, reconstruction_mse, trustworthiness

PARTS = ("mnist", "fashion", "conv", "olivetti", "digits")
FILES = {"mnist": "mnist.npz", "fashion": "fashion_mnist.npz", "conv": "mnist.npz",
         "olivetti": "olivetti_faces.npz"}
SMOKE = dict(epochs=1, face_epochs=1, train_rows=300, test_rows=60)
FACES = dict(batch_size=32, lr=3e-3)
CONV = dict(architecture="conv", image_shape=(1, 28, 28), reconstruction_loss="bce")


def hidden(est) -> str:
    """The hidden widths the model was built with ("auto" resolved)."""
    return str(est.net_.get_params()["module__hidden_layer_sizes"])


def fit(est, X):
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    collapse = [str(w.message)[:80] for w in caught if "collapse" in str(w.message)]
    return est, time.perf_counter() - start, collapse


def mnist_like(loader, args):
    d = loader()
    return (d.X_train[:args.train_rows], d.X_test[:args.test_rows], d.y_train[:args.train_rows],
            d.y_test[:args.test_rows])


def pca_row(name, k, X_train, X_test):
    pca = PCA(k, random_state=0).fit(X_train)
    return {"part": name, "model": f"PCA({k})", "test_mse": reconstruction_mse(pca, X_test)}


def ae_row(name, k, X_train, X_test, **params):
    est, seconds, _ = fit(AutoencoderTransformer(k, random_state=0, **params), X_train)
    return {"part": name, "model": f"AE({k})", "hidden": hidden(est),
            "test_mse": reconstruction_mse(est, X_test), "fit_s": seconds}


def vae_row(name, label, k, data, **params):
    """The row of a VAE fitted on ``data``'s training rows, and the fitted VAE."""
    X_train, X_test, y_train, y_test = data
    est, seconds, collapse = fit(VAETransformer(k, random_state=0, **params), X_train)
    row = {"part": name, "model": label, "hidden": hidden(est),
           "neg_score": -est.score(X_test), "fit_s": seconds,
           "kl_test": kl_per_dimension(est, X_test).round(3).tolist(),
           "collapse_warning": collapse[0] if collapse else ""}
    if k == 2:
        Z_train, Z_test = est.transform(X_train), est.transform(X_test)
        row["knn5"] = knn_accuracy(Z_train, y_train, Z_test, y_test)
        row["trustworthiness"] = float(trustworthiness(X_test, Z_test, n_neighbors=5))
    return row, est


def part_mnist(args):
    data = mnist_like(load_mnist, args)
    mnist = dict(max_epochs=args.epochs, batch_size=128)
    return [pca_row("mnist", 32, *data[:2]), ae_row("mnist", 32, *data[:2], **mnist),
            vae_row("mnist", "VAE(20)", 20, data, reconstruction_loss="bce", **mnist)[0],
            vae_row("mnist", "VAE(2)", 2, data, reconstruction_loss="bce", **mnist)[0]]


def part_fashion(args):
    X_train, X_test = mnist_like(load_fashion_mnist, args)[:2]
    return [pca_row("fashion", 32, X_train, X_test),
            ae_row("fashion", 32, X_train, X_test, max_epochs=args.epochs, batch_size=128)]


def part_conv(args):
    data = mnist_like(load_mnist, args)
    mnist = dict(max_epochs=args.epochs, batch_size=128)
    rows = [vae_row("conv", "conv VAE(2)", 2, data, **CONV, **mnist)[0],
            vae_row("conv", "conv VAE(2), dense (16,)", 2, data, hidden_layer_sizes=(16,),
                    **CONV, **mnist)[0]]
    for k in (16, 32):
        rows.append(vae_row("conv", f"conv VAE({k})", k, data, **CONV, **mnist)[0])
        rows.append(vae_row("conv", f"VAE({k})", k, data, reconstruction_loss="bce", **mnist)[0])
    return rows


def grid_variance(decode, codes, n=15):
    """Mean pixel variance over an n x n grid spanning the codes' 5% to 95% quantiles."""
    low, high = np.percentile(codes, [5, 95], axis=0)
    u, v = np.linspace(low[0], high[0], n), np.linspace(low[1], high[1], n)
    return float(decode(np.array([[a, b] for b in v for a in u])).var(axis=0).mean())


def part_olivetti(args):
    faces = load_olivetti_faces(mirror=True)
    X_train, X_test, y_train, y_test = train_test_split(
        faces.data, faces.target, test_size=0.2, stratify=faces.target, random_state=0)
    X_train, y_train = X_train[:args.train_rows], y_train[:args.train_rows]
    epochs = dict(max_epochs=args.face_epochs)
    rows = [pca_row("olivetti", 16, X_train, X_test),
            ae_row("olivetti", 16, X_train, X_test, hidden_layer_sizes=(), **FACES, **epochs)]
    rows[-1]["model"] = "shallow AE(16)"
    vae, model = vae_row("olivetti", "VAE(2)", 2, (X_train, X_test, y_train, y_test), **FACES,
                         **epochs)
    pca = PCA(2, random_state=0).fit(X_train)
    vae["grid_pixel_variance"] = grid_variance(model.inverse_transform, model.transform(X_train))
    vae["pca_grid_pixel_variance"] = grid_variance(pca.inverse_transform, pca.transform(X_train))
    return [*rows, vae]


def part_digits(args):
    X = load_digits().data / 16
    rows = []
    for label, params in [("defaults", {}),
                          ("former defaults", dict(hidden_layer_sizes=(256, 128), kl_warmup=0))]:
        seconds = [fit(VAETransformer(2, max_epochs=args.digit_epochs, random_state=seed,
                                      **params), X)[1] for seed in range(3)]
        rows.append({"part": "digits", "model": f"VAE(2) {label}", "fit_s": min(seconds)})
    rows[0]["time_ratio"] = rows[0]["fit_s"] / rows[1]["fit_s"]
    return rows


def find(rows, part, model):
    return next(r for r in rows if r["part"] == part and r["model"] == model)


def must_hold(rows):
    """The issue's bars against this run's numbers: (claim, value, bar, holds)."""
    parts, checks = {r["part"] for r in rows}, []
    if "mnist" in parts:
        ratio = (find(rows, "mnist", "AE(32)")["test_mse"]
                 / find(rows, "mnist", "PCA(32)")["test_mse"])
        vae20, vae2 = find(rows, "mnist", "VAE(20)"), find(rows, "mnist", "VAE(2)")
        checks += [("0a. MNIST AE(32) test MSE / PCA(32)", ratio, "<= 0.55", ratio <= 0.55),
                   ("0b. MNIST VAE(20) -score, nats", vae20["neg_score"], "<= 104",
                    vae20["neg_score"] <= 104),
                   ("0c. MNIST 2-D VAE 5-NN", vae2["knn5"], ">= 0.75", vae2["knn5"] >= 0.75),
                   ("0d. MNIST 2-D VAE trustworthiness", vae2["trustworthiness"], ">= 0.92",
                    vae2["trustworthiness"] >= 0.92)]
    if "fashion" in parts:
        ratio = (find(rows, "fashion", "AE(32)")["test_mse"]
                 / find(rows, "fashion", "PCA(32)")["test_mse"])
        checks.append(("0e. Fashion-MNIST AE(32) / PCA(32)", ratio, "<= 0.70", ratio <= 0.70))
    if "digits" in parts:
        ratio = find(rows, "digits", "VAE(2) defaults")["time_ratio"]
        checks.append(("0f. digits fit time, defaults / former", ratio, "<= 1.1", ratio <= 1.1))
    if "conv" in parts:
        conv, narrow = find(rows, "conv", "conv VAE(2)"), find(rows, "conv",
                                                               "conv VAE(2), dense (16,)")
        checks += [("1a. conv VAE(2) least KL per dimension on test, nats", min(conv["kl_test"]),
                    ">= 0.5", min(conv["kl_test"]) >= 0.5),
                   ("1b. conv VAE(2) 5-NN", conv["knn5"], ">= 0.78", conv["knn5"] >= 0.78),
                   ("1c. conv VAE(2) trustworthiness", conv["trustworthiness"], ">= 0.92",
                    conv["trustworthiness"] >= 0.92),
                   ("1d. conv VAE(2) with (16,): least KL per dimension", min(narrow["kl_test"]),
                    ">= 0.5", min(narrow["kl_test"]) >= 0.5)]
        for k in (16, 32):
            c, d = find(rows, "conv", f"conv VAE({k})"), find(rows, "conv", f"VAE({k})")
            checks.append((f"2. conv VAE({k}) -score minus dense VAE({k})'s, nats",
                           c["neg_score"] - d["neg_score"], "<= 0",
                           c["neg_score"] <= d["neg_score"]))
    if "olivetti" in parts:
        shallow = find(rows, "olivetti", "shallow AE(16)")["test_mse"]
        ratio = shallow / find(rows, "olivetti", "PCA(16)")["test_mse"]
        vae = find(rows, "olivetti", "VAE(2)")
        grid = vae["grid_pixel_variance"] / vae["pca_grid_pixel_variance"]
        checks += [("3a. Olivetti VAE(2) least KL per dimension on test", min(vae["kl_test"]),
                    ">= 0.5", min(vae["kl_test"]) >= 0.5),
                   ("3b. Olivetti VAE(2) grid pixel variance / PCA(2) grid's", grid, ">= 1",
                    grid >= 1),
                   ("3c. Olivetti shallow AE(16) test MSE / PCA(16)", ratio, "<= 1.1",
                    ratio <= 1.1)]
    return checks


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--epochs", type=int, default=10, help="MNIST epochs")
    parser.add_argument("--face-epochs", type=int, default=150, help="Olivetti epochs")
    parser.add_argument("--digit-epochs", type=int, default=30, help="digits epochs")
    parser.add_argument("--train-rows", type=int, default=None)
    parser.add_argument("--test-rows", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parse_args(parser, {**SMOKE, "digit_epochs": 1})
    args.parts = [p for p in args.parts if p not in FILES or data_file(FILES[p])]
    if not args.parts:
        skip("the data files in SKVAE_DATA_HOME")
    return args


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    env = environment(default_device())
    env["threads"] = f"torch {args.threads}, BLAS {args.threads} (threadpoolctl)"
    rows = []
    with threadpool_limits(args.threads):
        for part in args.parts:
            for row in globals()[f"part_{part}"](args):
                print(row, flush=True)
                rows.append(row)
    checks = must_hold(rows)
    notes = "\n".join(["## Must hold", "", "| claim | value | bar | holds |", "|---|---|---|---|"]
                      + [f"| {c} | {v:.4g} | {b} | {'yes' if ok else 'NO'} |"
                         for c, v, b, ok in checks])
    print(notes)
    write(f"defaults-{device_tag(default_device())}", env, rows, notes=notes,
          results_dir=args.results_dir, smoke=args.smoke)


if __name__ == "__main__":
    main()
