"""Imputation: skvae's masked-likelihood models against scikit-learn's imputers.

MNIST (pixels in [0, 1]): 30% of the pixels hidden completely at random in the
training rows and in held-out test rows. Each imputer is fitted on the training rows
with their gaps and fills the test rows' gaps; RMSE over the hidden test pixels.
Contenders: ``SimpleImputer`` (column means), ``KNNImputer`` (5 neighbours),
``IterativeImputer`` (BayesianRidge, 5 rounds, the 100 nearest features per column:
the full 783 is hours on 2 cores), and skvae's dense AE and VAE (30 epochs) and a conv
AE (60 epochs, 64-D code) whose encoder reads the missing-pixel mask
(``missing_indicator=True``) and which hides another 20% of the observed pixels in
training (``noise="mask"``), all with ``reconstruction_loss="bce"`` and missing pixels
masked out of the loss (:func:`skvae.impute.impute` fills the gaps).

Also on MNIST: the same skvae models trained on the *complete* training rows, to check
that training with 30% missing costs little: reconstruction MSE over the observed pixels
of the test rows with gaps, trained-with-gaps over trained-complete (must be <= 1.15).

House prices (train.csv, 80/20): 20% of the observed cells of every column hidden in
both parts; RMSE over hidden numeric cells (in units of each column's training standard
deviation) and accuracy over hidden categorical cells (of the categories, not "missing").
Contenders: ``SimpleImputer`` (mean / most frequent) and skvae's AE and VAE on the
DataFrame (softmax heads), over ``--seeds`` seeds of the hiding and the models.

    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_impute.py
    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_impute.py --smoke --results-dir DIR

Threads: torch uses 2 (``torch.set_num_threads``); numpy's BLAS is limited to 2 with
threadpoolctl; set ``OMP_WAIT_POLICY=PASSIVE``. Writes
``benchmarks/results/impute-<device>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, skip, write
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_house_prices, load_mnist
from skvae.impute import impute

MNIST_HIDDEN, HOUSE_HIDDEN = 0.3, 0.2
CONV = "skvae conv AE (mask channel, mask noise)"
MNIST_MODELS = ("skvae AE", "skvae VAE", CONV)
#: What ``--smoke`` changes.
SMOKE = dict(mnist_train=300, mnist_test=100, epochs=1, conv_epochs=1, house_epochs=1, seeds=1,
             iterative_rounds=1)


def hide(X, share, rng):
    """A copy of float array ``X`` with ``share`` of its entries set to NaN, and the mask."""
    hidden = rng.rand(*X.shape) < share
    X = X.astype(np.float64, copy=True)
    X[hidden] = np.nan
    return X, hidden


def skvae_models(epochs, conv_epochs, seed, device, **extra):
    nets = dict(random_state=seed, device=device, **extra)
    return {"skvae AE": AutoencoderTransformer(32, hidden_layer_sizes=(512, 256),
                                               max_epochs=epochs, **nets),
            "skvae VAE": VAETransformer(32, hidden_layer_sizes=(512, 256), max_epochs=epochs,
                                        **nets),
            # the encoder reads the missing-value mask, and "mask" noise hides another 20%
            # of the observed pixels the way missing ones look: trained to fill gaps
            CONV: AutoencoderTransformer(64, architecture="conv", image_shape=(1, 28, 28),
                                         hidden_layer_sizes=(256,), missing_indicator=True,
                                         noise="mask", noise_level=0.2, max_epochs=conv_epochs,
                                         **nets)}


def observed_mse(model, X_gaps):
    """Reconstruction MSE of rows with gaps over their observed entries."""
    X_hat = model.inverse_transform(model.transform(X_gaps))
    observed = ~np.isnan(X_gaps)
    return float(np.mean((X_hat[observed] - X_gaps[observed]) ** 2))


def bench_mnist(args, device):
    mnist = load_mnist()
    X_train, X_test = mnist.X_train[:args.mnist_train], mnist.X_test[:args.mnist_test]
    rng = np.random.RandomState(0)
    train_gaps, _ = hide(X_train, MNIST_HIDDEN, rng)
    test_gaps, hidden = hide(X_test, MNIST_HIDDEN, rng)
    rows, truth = [], X_test[hidden]
    imputers = {"SimpleImputer (mean)": SimpleImputer(),
                "KNNImputer (k=5)": KNNImputer(n_neighbors=5),
                "IterativeImputer": IterativeImputer(max_iter=args.iterative_rounds,
                                                     n_nearest_features=100, random_state=0)}
    for name, imputer in imputers.items():
        start = time.perf_counter()
        filled = imputer.fit(train_gaps).transform(test_gaps)
        rows.append(mnist_row(name, filled, hidden, truth, time.perf_counter() - start))
    with_gaps = skvae_models(args.epochs, args.conv_epochs, 0, device, reconstruction_loss="bce")
    complete = skvae_models(args.epochs, args.conv_epochs, 0, device, reconstruction_loss="bce")
    for name, model in with_gaps.items():
        start = time.perf_counter()
        filled = impute(model.fit(train_gaps), test_gaps)
        row = mnist_row(name, filled, hidden, truth, time.perf_counter() - start)
        complete[name].fit(X_train)
        row["observed_mse_trained_with_gaps"] = observed_mse(model, test_gaps)
        row["observed_mse_trained_complete"] = observed_mse(complete[name], test_gaps)
        row["with_gaps_over_complete"] = (row["observed_mse_trained_with_gaps"]
                                          / row["observed_mse_trained_complete"])
        rows.append(row)
    for row in rows:
        print(row, flush=True)
    return rows


def mnist_row(name, filled, hidden, truth, seconds):
    rmse = float(np.sqrt(np.mean((filled[hidden] - truth) ** 2)))
    return {"data": "MNIST", "method": name, "seed": 0, "hidden_rmse": rmse,
            "categorical_accuracy": None, "fit_and_impute_s": seconds}


def hide_cells(frame, share, rng):
    """``frame`` with ``share`` of its observed cells set to missing, and the hidden mask."""
    hidden = (rng.rand(*frame.shape) < share) & frame.notna().to_numpy()
    gaps = frame.copy()
    for j, column in enumerate(frame.columns):
        gaps.loc[hidden[:, j], column] = np.nan
    return gaps, hidden


def simple_fill(train, test):
    """Means for numbers, most frequent categories, from the training rows with gaps."""
    filled = test.copy()
    for column in test.columns:
        values = train[column]
        fill = (values.mean() if pd.api.types.is_numeric_dtype(values)
                else values.mode(dropna=True).iloc[0])
        filled[column] = filled[column].fillna(fill)
    return filled


def house_scores(filled, truth, hidden, train):
    """(RMSE in training standard deviations over hidden numbers, accuracy over hidden
    categories)."""
    errors, hits = [], []
    for j, column in enumerate(truth.columns):
        cells = hidden[:, j]
        if not cells.any():
            continue
        guess, real = filled[column].to_numpy()[cells], truth[column].to_numpy()[cells]
        if pd.api.types.is_numeric_dtype(truth[column]):
            scale = train[column].std() or 1.0
            errors.append(((guess.astype(float) - real.astype(float)) / scale) ** 2)
        else:
            hits.append(guess == real)
    return float(np.sqrt(np.mean(np.concatenate(errors)))), float(np.mean(np.concatenate(hits)))


def bench_houses(args, device):
    data = load_house_prices().data
    rows = []
    for seed in range(args.seeds):
        train, test = train_test_split(data, test_size=0.2, random_state=seed)
        rng = np.random.RandomState(seed)
        train_gaps, _ = hide_cells(train, HOUSE_HIDDEN, rng)
        test_gaps, hidden = hide_cells(test, HOUSE_HIDDEN, rng)
        nets = dict(hidden_layer_sizes=(256, 128), batch_size=64, max_epochs=args.house_epochs,
                    random_state=seed, device=device)
        methods = {"SimpleImputer (mean / most frequent)": None,
                   "skvae AE": AutoencoderTransformer(8, **nets),
                   "skvae VAE": VAETransformer(8, **nets)}
        for name, model in methods.items():
            start = time.perf_counter()
            filled = (simple_fill(train_gaps, test_gaps) if model is None
                      else impute(model.fit(train_gaps), test_gaps))
            rmse, accuracy = house_scores(filled, test, hidden, train_gaps)
            rows.append({"data": "house prices", "method": name, "seed": seed,
                         "hidden_rmse": rmse, "categorical_accuracy": accuracy,
                         "fit_and_impute_s": time.perf_counter() - start})
            print(rows[-1], flush=True)
    return rows


def checks(rows):
    """The issue's bars, each (text, holds)."""
    def value(data, method, key):
        return float(np.mean([r[key] for r in rows if r["data"] == data
                              and r["method"] == method]))
    found = []
    best_mnist = min(value("MNIST", m, "hidden_rmse") for m in MNIST_MODELS)
    found.append((f"MNIST hidden-pixel RMSE: best skvae {best_mnist:.4f} < IterativeImputer "
                  f"{value('MNIST', 'IterativeImputer', 'hidden_rmse'):.4f}",
                  best_mnist < value("MNIST", "IterativeImputer", "hidden_rmse")))
    for m in MNIST_MODELS:
        ratio = value("MNIST", m, "with_gaps_over_complete")
        found.append((f"MNIST {m}: observed-entry MSE trained with 30% missing / complete = "
                      f"{ratio:.3f} <= 1.15", ratio <= 1.15))
    simple = "SimpleImputer (mean / most frequent)"
    for m in ("skvae AE", "skvae VAE"):
        rmse, acc = (value("house prices", m, k) for k in ("hidden_rmse", "categorical_accuracy"))
        base_rmse, base_acc = (value("house prices", simple, k)
                               for k in ("hidden_rmse", "categorical_accuracy"))
        found.append((f"house prices {m}: numeric RMSE {rmse:.4f} < {base_rmse:.4f} and "
                      f"categorical accuracy {acc:.4f} > {base_acc:.4f} (SimpleImputer)",
                      rmse < base_rmse and acc > base_acc))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-train", type=int, default=10000)
    parser.add_argument("--mnist-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=30, help="MNIST epochs (dense models)")
    parser.add_argument("--conv-epochs", type=int, default=60, help="MNIST epochs (conv AE)")
    parser.add_argument("--house-epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3, help="house prices seeds")
    parser.add_argument("--iterative-rounds", type=int, default=5,
                        help="IterativeImputer's max_iter")
    args = parse_args(parser, SMOKE)
    if data_file("mnist.npz") is None or data_file("house_prices/train.csv.gz") is None:
        skip("mnist.npz and house_prices/train.csv.gz in SKVAE_DATA_HOME")
    device = default_device()
    torch.set_num_threads(2)
    with threadpool_limits(limits=2):
        rows = bench_mnist(args, device) + bench_houses(args, device)
    found = checks(rows)
    notes = "\n".join(["Must hold:", *(f"- {'yes' if ok else 'NO'}: {text}"
                                       for text, ok in found),
                       "", f"MNIST: {args.mnist_train} training rows, {args.mnist_test} test "
                       f"rows, {args.epochs} epochs (conv AE: {args.conv_epochs}); house prices: "
                       f"{args.house_epochs} epochs, {args.seeds} seed(s)."])
    path = write(f"impute-{device_tag(device)}", environment(device), rows, notes,
                 {"checks": [{"check": t, "holds": ok} for t, ok in found]},
                 results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
