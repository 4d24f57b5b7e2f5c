"""Outlier detection: skvae's OutlierDetector against PyOD, IsolationForest and PCA.

Contenders, each scoring rows by how abnormal they look (higher = more abnormal):

* ``skvae AE``: ``OutlierDetector(AutoencoderTransformer(16, max_epochs=40))``, library
  defaults otherwise (hidden layers (512, 256) for 784 pixels, squared error): the
  detector's default score, the model's ``score_samples``;
* ``skvae VAE``: ``OutlierDetector(VAETransformer(16, max_epochs=40))`` (the sigma-VAE:
  Gaussian likelihood with a fitted variance; the score is the ELBO);
* ``... per-feature`` and ``... pathway``: the same fitted detectors scored with
  ``scoring="per_feature"`` (each feature's squared error in units of its training
  residual variance) and ``scoring="pathway"`` (the encoder's activations of the row
  against those of its reconstruction, RAPP); on house prices also
  ``... per-feature, max column``: each row's largest column score
  (``feature_scores(X).max(axis=1)``, the user guide's recipe for single-cell errors);
* ``PyOD AutoEncoder`` and ``PyOD VAE``: PyOD's torch models with their defaults
  (``verbose=0``; PyOD standardises the features itself), scored by
  ``decision_function`` (skipped when PyOD is not installed: ``pip install pyod``);
* ``IsolationForest``: scikit-learn's, defaults, ``random_state=0``;
* ``PCA``: scikit-learn's ``PCA(16)``, scored by each row's squared reconstruction error.

Images, one class at a time (the usual one-class protocol): train on the training
images of one class, score all 10,000 test images, outliers = the other 9 classes;
10 tasks each for MNIST and Fashion-MNIST (pixels / 255). ROC AUC and average
precision of the outlier scores (outliers positive), fit and score seconds, and
``normal_flagged``: the share of the normal test rows scoring above the 90%
quantile of the training rows' scores, the threshold ``predict`` uses at
``contamination=0.1`` (skvae's and PyOD's): how many new normal rows an in-sample
threshold flags.

House prices (``train.csv``, 80/20 split, ``random_state=0``): every contender trains
on the 1,168 training houses (skvae on the DataFrame itself, with ``n_components=8``
and 100 epochs; the others on scikit-learn's encoding: median-imputed, standardised
numbers and one-hot categories with a "missing" category). In each of 5 rounds, 20%
of the 292 test houses, chosen at random, are corrupted in one column each, chosen at
random: half get a categorical column's value swapped for another of that column's
training categories (uniformly among the others), half get a numeric column with a
non-zero value multiplied by 10 or by 0.1 (a unit or keying error). The outliers are
the corrupted houses. Also reported for skvae: how often the corrupted column is the
top (and among the top 3) of the row's ``feature_scores``.

The image bars are checked on one configuration, ``skvae AE pathway`` with 40 epochs
(``CHOSEN``), chosen before this script ran on the test images, on validation rows:
train on one class of the first 50,000 training images, score the last 10,000
(mean ROC AUC over the 10 classes; AE(16), library defaults otherwise):

=================================  ======  =============
score                              MNIST   Fashion-MNIST
=================================  ======  =============
estimator, 40 epochs               0.9759  0.9198
per-feature, 20 / 40 epochs        --      0.9247 / 0.9265
pathway (LedoitWolf), 40 epochs    0.9778  0.9317
=================================  ======  =============

Threads: torch 2 (``torch.set_num_threads``), BLAS at its default (2), and
``OMP_WAIT_POLICY=PASSIVE`` expected in the environment.

    SKVAE_DATA_HOME=../shared/data OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_outliers.py
    python benchmarks/bench_outliers.py --smoke --results-dir DIR   # seconds: does it run?

Writes ``benchmarks/results/outliers-<device>.json`` and ``.md`` (``--results-dir``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, skip, write
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skvae import AutoencoderTransformer, OutlierDetector, VAETransformer
from skvae.datasets import load_fashion_mnist, load_house_prices, load_mnist
from skvae.tabular import is_categorical

#: The skvae configuration the image bars are checked on, chosen on validation rows
#: (see the docstring) before this script ran on the test images.
CHOSEN = "skvae AE pathway"
#: The training share whose scores set the threshold for ``normal_flagged``.
CONTAMINATION = 0.1
SMOKE = dict(classes=[0], train_rows=300, test_rows=500, epochs=1, pyod_epochs=1,
             house_rounds=1, house_epochs=1, datasets=["mnist", "house_prices"])


class PCAError:
    """PCA's squared reconstruction error of each row: the linear baseline."""

    def __init__(self, n_components):
        self.pca = PCA(n_components, random_state=0)

    def fit(self, X):
        self.pca.fit(X)
        return self

    def outlier_score(self, X):
        return ((X - self.pca.inverse_transform(self.pca.transform(X))) ** 2).sum(axis=1)


def scored(scoring):
    """Minus a fitted detector's ``score_samples`` with ``scoring`` (no refit: ``fit``
    fits what every scoring needs)."""
    return lambda m, X: -m.set_params(scoring=scoring).score_samples(X)


def skvae_scorers(name, table):
    """The scores of one fitted ``OutlierDetector``: its default (``scoring="estimator"``:
    the model's own ``score_samples``), per feature, pathway, and on tables the row's
    largest per-feature column score."""
    scorers = {name: scored("estimator"), f"{name} per-feature": scored("per_feature"),
               f"{name} pathway": scored("pathway")}
    if table:
        scorers[f"{name} per-feature, max column"] = lambda m, X: (
            m.set_params(scoring="per_feature").feature_scores(X).max(axis=1).to_numpy())
    return scorers


def contenders(args, n_components, epochs, device, table=False):
    """name -> (factory, scorers): a fresh model, and its outlier scores (higher = worse)
    by row name."""
    def detector(model):
        return lambda: OutlierDetector(model(n_components, max_epochs=epochs, random_state=0,
                                             device=device), scoring="pathway")

    models = {
        "skvae AE": (detector(AutoencoderTransformer), skvae_scorers("skvae AE", table)),
        "skvae VAE": (detector(VAETransformer), skvae_scorers("skvae VAE", table)),
        "IsolationForest": (lambda: IsolationForest(random_state=0),
                            {"IsolationForest": lambda m, X: -m.score_samples(X)}),
        "PCA": (lambda: PCAError(n_components), {"PCA": lambda m, X: m.outlier_score(X)}),
    }
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE
    except ImportError:
        print("PyOD is not installed: its models are left out (pip install pyod)")
        return models
    pyod_epochs = {} if args.pyod_epochs is None else {"epoch_num": args.pyod_epochs}
    models["PyOD AutoEncoder"] = (
        lambda: AutoEncoder(verbose=0, device=device, **pyod_epochs),
        {"PyOD AutoEncoder": lambda m, X: m.decision_function(X)})
    models["PyOD VAE"] = (lambda: VAE(verbose=0, device=device, **pyod_epochs),
                          {"PyOD VAE": lambda m, X: m.decision_function(X)})
    return models


def run(factory, scorers, X_train, X_test, y_outlier):
    """Fit one model; a row per scorer (the fit time is the model's)."""
    t = time.perf_counter()
    model = factory().fit(X_train)
    fit_s = time.perf_counter() - t
    rows = []
    for name, scorer in scorers.items():
        t = time.perf_counter()
        score = np.asarray(scorer(model, X_test), dtype=np.float64)
        score_s = time.perf_counter() - t
        # the in-sample threshold of contamination=0.1 (what predict uses)
        threshold = np.quantile(np.asarray(scorer(model, X_train)), 1 - CONTAMINATION)
        rows.append(dict(model=name, roc_auc=roc_auc_score(y_outlier, score),
                         average_precision=average_precision_score(y_outlier, score),
                         normal_flagged=float((score[y_outlier == 0] > threshold).mean()),
                         fit_s=fit_s, score_s=score_s))
    return model, rows


def one_class_tasks(data_name, bunch, args, device):
    rows = []
    X_test = bunch.X_test[:args.test_rows]
    for digit in args.classes:
        X_train = bunch.X_train[bunch.y_train == digit][:args.train_rows]
        y_outlier = (bunch.y_test[:args.test_rows] != digit).astype(int)
        for factory, scorers in contenders(args, 16, args.epochs, device).values():
            for row in run(factory, scorers, X_train, X_test, y_outlier)[1]:
                rows.append(dict(data=data_name, normal_class=int(digit), **row))
                print(rows[-1], flush=True)
    return rows


def corrupt(test, train, rng, share=0.2):
    """``test`` with ``share`` of its rows corrupted in one column each; which rows and
    columns (see the module docstring)."""
    test = test.copy()
    categorical = [c for c in train.columns if is_categorical(train[c])]
    numeric = [c for c in train.columns if c not in categorical]
    rows = rng.choice(len(test), size=round(share * len(test)), replace=False)
    changed = {}
    for i, row in enumerate(rows):
        if i % 2 == 0:
            column = rng.choice(categorical)
            others = [v for v in train[column].dropna().unique() if v != test.iloc[row][column]]
            test.iloc[row, test.columns.get_loc(column)] = rng.choice(others)
        else:
            values = test.iloc[row][numeric]
            column = rng.choice([c for c in numeric if pd.notna(values[c]) and values[c] != 0])
            test.iloc[row, test.columns.get_loc(column)] = values[column] * rng.choice([10, 0.1])
        changed[test.index[row]] = column
    return test, changed


def encoding(train):
    categorical = [c for c in train.columns if is_categorical(train[c])]
    numeric = [c for c in train.columns if c not in categorical]
    return make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        (make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                       OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
         categorical)).fit(train)


def house_prices(args, device):
    houses = load_house_prices().data
    numeric_int = houses.select_dtypes("integer").columns
    houses[numeric_int] = houses[numeric_int].astype(float)  # scaled values stay exact
    train, test = train_test_split(houses, test_size=0.2, random_state=0)
    encoder = encoding(train)
    rows = []
    for round_ in range(args.house_rounds):
        corrupted, changed = corrupt(test, train, np.random.default_rng(round_))
        y_outlier = test.index.isin(list(changed)).astype(int)
        for name, (factory, scorers) in contenders(args, 8, args.house_epochs, device,
                                                    table=True).items():
            skvae = name.startswith("skvae")
            X_train, X_test = (train, corrupted) if skvae else (
                encoder.transform(train), encoder.transform(corrupted))
            model, model_rows = run(factory, scorers, X_train, X_test, y_outlier)
            if skvae:  # per-feature attribution: is the corrupted column on top?
                model_rows[1].update(attribution(model, corrupted, changed))
            for row in model_rows:
                rows.append(dict(data="house_prices", normal_class=f"round {round_}", **row))
                print(rows[-1], flush=True)
    return rows


def attribution(detector, corrupted, changed):
    """How often the corrupted column tops (or is among the top 3 of) its row's
    ``feature_scores``."""
    scores = detector.set_params(scoring="per_feature").feature_scores(
        corrupted.loc[list(changed)])
    ranks = [list(scores.loc[r].sort_values(ascending=False).index).index(c)
             for r, c in changed.items()]
    return dict(top1_column=float(np.mean([r == 0 for r in ranks])),
                top3_column=float(np.mean([r < 3 for r in ranks])))


def summary(rows):
    frame = pd.DataFrame(rows)
    return (frame.groupby(["data", "model"], sort=False)
            .agg(tasks=("roc_auc", "size"), mean_roc_auc=("roc_auc", "mean"),
                 min_roc_auc=("roc_auc", "min"), mean_average_precision=("average_precision",
                                                                         "mean"),
                 mean_normal_flagged=("normal_flagged", "mean"),
                 mean_fit_s=("fit_s", "mean"), mean_score_s=("score_s", "mean"),
                 **({"top1_column": ("top1_column", "mean"), "top3_column": ("top3_column",
                                                                            "mean")}
                    if "top1_column" in frame else {}))
            .reset_index())


def checks(table):
    must = []
    for data in ("mnist", "fashion_mnist"):  # the configuration chosen on validation rows
        auc = table[table.data == data].set_index("model")["mean_roc_auc"]
        if auc.empty:
            continue
        best = auc[CHOSEN]
        pyod = [auc[m] for m in ("PyOD AutoEncoder", "PyOD VAE") if m in auc]
        bar = max(pyod) + 0.01 if pyod else float("nan")
        must.append((f"4. {data}: {CHOSEN} mean ROC AUC >= best PyOD's + 0.01", best,
                     f">= {bar:.4f}", bool(pyod) and best >= bar))
        must.append((f"4. {data}: {CHOSEN} mean ROC AUC >= IsolationForest's", best,
                     f">= {auc['IsolationForest']:.4f}", best >= auc["IsolationForest"]))
    return must


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist",
                                                          "house_prices"])
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--pyod-epochs", type=int, default=None,
                        help="PyOD's epoch_num (default: each PyOD model's own default)")
    parser.add_argument("--house-rounds", type=int, default=5)
    parser.add_argument("--house-epochs", type=int, default=100)
    parser.add_argument("--train-rows", type=int, default=None)
    parser.add_argument("--test-rows", type=int, default=None)
    parser.add_argument("--device", default=default_device())
    args = parse_args(parser, SMOKE)
    files = {"mnist": "mnist.npz", "fashion_mnist": "fashion_mnist.npz",
             "house_prices": "house_prices/train.csv.gz"}
    missing = [files[d] for d in args.datasets if data_file(files[d]) is None]
    if missing:
        skip(" and ".join(missing) + " in SKVAE_DATA_HOME")
    torch.set_num_threads(2)
    loaders = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
    rows = []
    for data in args.datasets:
        if data == "house_prices":
            rows += house_prices(args, args.device)
        else:
            rows += one_class_tasks(data, loaders[data](), args, args.device)
    table = summary(rows)
    must = checks(table)
    notes = "\n\n".join([
        "## Must hold\n\n| claim | value | bar | holds |\n| --- | --- | --- | --- |\n"
        + "\n".join(f"| {c} | {v:.4f} | {b} | {'yes' if ok else 'NO'} |"
                    for c, v, b, ok in must),
        "## Summary (mean over the tasks: 10 one-class tasks per image data set, "
        f"{args.house_rounds} corruption rounds for house prices)\n\n"
        + table.to_markdown(index=False, floatfmt=".4g"),
        "Protocols, settings and thread counts: see the script's docstring. Every task:"])
    write(f"outliers-{device_tag(args.device)}", environment(args.device), rows, notes,
          extra={"summary": table.to_dict("records"),
                 "must_hold": [dict(claim=c, value=float(v), bar=b, holds=bool(ok))
                               for c, v, b, ok in must]},
          results_dir=args.results_dir, smoke=args.smoke)


if __name__ == "__main__":
    main()
