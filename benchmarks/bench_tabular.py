"""House prices (Kaggle train.csv): PCA vs AE vs VAE on 79 mixed-type columns, side by side.

The 1460 rows are split 80/20 (``random_state=0``). Every model reconstructs the
held-out rows through the same table layout (:class:`skvae.tabular.TableLayout`'s
defaults: numeric columns quantile-normalised, with state blocks for their zeros and
missing values (missing numbers: masked by the estimators, the mean for PCA), each
categorical column one-hot):

* ``pca``: PCA on that layout's matrix, decoded by the layout;
* ``ae`` / ``vae``: the estimators fitted directly on the DataFrame (softmax heads for
  categorical columns, a Gaussian head for numeric ones);
* ``vae-plain``: the VAE on the same matrix with every column a plain Gaussian feature
  (what a ColumnTransformer + OneHotEncoder pipeline gives).

Metrics on the held-out rows: categorical accuracy (most probable category per column,
"missing" being a category as in ``OneHotEncoder``, averaged over the 43 columns),
numeric MSE in standard deviations of each column, in its own units (non-missing
cells), and R^2 of a 10-NN regressor
predicting log(SalePrice) from the codes (fitted on the training rows' codes; the models
never see SalePrice).

    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_tabular.py [--epochs 100] [--seeds 3]
    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_tabular.py --smoke --results-dir DIR

Writes ``benchmarks/results/tabular-<device>.json`` and ``.md`` (``--results-dir``).
``--smoke`` (one seed, one epoch) skips (exit 0) when ``SKVAE_DATA_HOME`` lacks
``house_prices/train.csv.gz`` or ``test.csv.gz``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _report import data_file, default_device, device_tag, environment, parse_args, skip, write
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_house_prices
from skvae.tabular import TableLayout

N_COMPONENTS = (2, 8)
#: Shared network settings (plus random_state = the seed).
NETS = dict(hidden_layer_sizes=(256, 128), batch_size=64, lr=1e-3)
#: KL weights: the true ELBO, and the users' notebook's 0.005 (whose loss had another scale).
VAE_BETA, NOTEBOOK_BETA = 1.0, 0.005
#: The data (in ``SKVAE_DATA_HOME``); and what ``--smoke`` changes: one seed, one epoch.
FILES = ("house_prices/train.csv.gz", "house_prices/test.csv.gz")
SMOKE = dict(epochs=1, seeds=1)


class LayoutPCA:
    """PCA on the layout's matrix, decoding back to a DataFrame (a baseline with our API)."""

    def __init__(self, n_components):
        self.n_components = n_components

    def fit(self, frame):
        self.layout_ = TableLayout().fit(frame)
        self.model_ = PCA(self.n_components, random_state=0).fit(self.matrix(frame))
        return self

    def matrix(self, frame):
        """The layout's matrix; PCA needs it complete: a missing number is the mean (0)."""
        return np.nan_to_num(self.layout_.transform(frame))

    def transform(self, frame):
        return self.model_.transform(self.matrix(frame))

    def inverse_transform(self, Z):
        return self.layout_.inverse_transform(self.model_.inverse_transform(Z))


class PlainVAE(LayoutPCA):
    """The VAE on the layout's matrix with no categorical heads (missing numbers masked)."""

    def __init__(self, n_components, epochs, seed):
        self.n_components, self.epochs, self.seed = n_components, epochs, seed

    def fit(self, frame):
        self.layout_ = TableLayout().fit(frame)
        self.model_ = VAETransformer(self.n_components, beta=VAE_BETA, max_epochs=self.epochs,
                                   random_state=self.seed, **NETS)
        self.model_.fit(self.layout_.transform(frame))
        return self

    def matrix(self, frame):
        return self.layout_.transform(frame)


def reconstruction_scores(model, layout, frame):
    """(mean categorical accuracy, numeric MSE in each column's standard deviations).

    A missing categorical value is a category of its own (the layout models it); the
    numeric MSE skips missing numeric cells (the layout imputes them).
    """
    back = model.inverse_transform(model.transform(frame))
    accuracies = []
    for column in layout.categorical_:
        truth, guess = frame[column].reset_index(drop=True), back[column]
        same = (guess.astype(object) == truth.astype(object)) | (guess.isna() & truth.isna())
        accuracies.append(same.mean())
    truth = frame[layout.numeric_].to_numpy(dtype=float)
    guess = back[layout.numeric_].to_numpy(dtype=float)
    errors = ((guess - truth) / layout.scale_) ** 2
    return float(np.mean(accuracies)), float(np.nanmean(errors))


def price_r2(model, train, test, y_train, y_test):
    knn = KNeighborsRegressor(n_neighbors=10).fit(model.transform(train), np.log(y_train))
    return float(knn.score(model.transform(test), np.log(y_test)))


def contenders(n_components, epochs, seed):
    nets = dict(max_epochs=epochs, random_state=seed, **NETS)
    return {
        "pca": LayoutPCA(n_components),
        "ae": AutoencoderTransformer(n_components, **nets),
        "vae": VAETransformer(n_components, beta=VAE_BETA, **nets),
        f"vae-beta{NOTEBOOK_BETA}": VAETransformer(n_components, beta=NOTEBOOK_BETA, **nets),
        "vae-plain": PlainVAE(n_components, epochs, seed),
    }


def sample_check(vae, train):
    """Share of sampled categorical cells that are training categories, and of numeric
    cells inside [min - 3 sd, max + 3 sd] of training (in both, missing counts where
    training had missing values)."""
    samples = vae.sample(500, random_state=0)
    layout = vae.layout_
    known = np.mean([(samples[c].isin(train[c].dropna().unique())
                      | (samples[c].isna() & train[c].isna().any())).mean()
                     for c in layout.categorical_])
    numbers = train[layout.numeric_]
    low, high = numbers.min() - 3 * numbers.std(), numbers.max() + 3 * numbers.std()
    inside = ((samples[layout.numeric_] >= low) & (samples[layout.numeric_] <= high)
              | (samples[layout.numeric_].isna() & numbers.isna().any()))
    return float(known), float(inside.to_numpy().mean())


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    args = parse_args(parser, SMOKE)
    missing = [name for name in FILES if data_file(name) is None]
    if args.smoke and missing:  # a smoke run never downloads
        skip(" and ".join(missing) + " in SKVAE_DATA_HOME")
    return args


def fit_all(train, test, y_train, y_test, layout, args):
    """Fit and measure every contender at every size and seed: (rows, fitted models)."""
    rows, fitted = [], {}
    for seed in range(args.seeds):
        for n_components in N_COMPONENTS:
            for name, model in contenders(n_components, args.epochs, seed).items():
                if name == "pca" and seed > 0:
                    continue  # deterministic
                start = time.perf_counter()
                model.fit(train)
                fit_s = time.perf_counter() - start
                accuracy, mse = reconstruction_scores(model, layout, test)
                rows.append({"model": name, "n_components": n_components, "seed": seed,
                             "fit_s": fit_s, "cat_accuracy": accuracy, "num_mse": mse,
                             "log_price_r2_10nn": price_r2(model, train, test, y_train,
                                                           y_test)})
                fitted[name, n_components, seed] = model
                print(rows[-1], flush=True)
    return rows, fitted


def main():
    args = parse()
    houses = load_house_prices()
    train, test, y_train, y_test = train_test_split(houses.data, houses.target, test_size=0.2,
                                                    random_state=0)
    layout = TableLayout().fit(train)
    device = default_device()
    rows, fitted = fit_all(train, test, y_train, y_test, layout, args)
    known, inside = sample_check(fitted["vae", 8, 0], train)
    unseen = fitted["vae", 8, 0].transform(houses.test)
    checks = must_hold(rows, known, inside, bool(np.isfinite(unseen).all()))
    notes = [f"train.csv, train_test_split(test_size=0.2, random_state=0): {len(train)} / "
             f"{len(test)} rows. Networks: `{NETS}`, max_epochs={args.epochs}, "
             f"random_state = seed in 0..{args.seeds - 1}; VAE beta={VAE_BETA}. Bars "
             "1 and 2 are checked on the worst seed; 3 and 4 on the seed-0 VAE(8).",
             "", "## Must hold", "",
             "| claim | value | bar | holds |", "| --- | --- | --- | --- |"]
    notes += [f"| {claim} | {value:.4g} | {bar} | {'yes' if ok else 'NO'} |"
              for claim, value, bar, ok in checks]
    notes += ["", "## All models", ""]
    extra = {"checks": [dict(zip(("claim", "value", "bar", "holds"), c, strict=True))
                        for c in checks]}
    path = write(f"tabular-{device_tag(device)}", environment(device), rows,
                 "\n".join(notes), extra,
                 results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


def must_hold(rows, known, inside, unseen_ok):
    def get(model, k, key):
        return np.array([r[key] for r in rows if r["model"] == model and r["n_components"] == k])

    gain = float(np.min(get("vae", 8, "cat_accuracy")) - get("pca", 8, "cat_accuracy")[0])
    ratio = float(np.max(get("vae", 8, "num_mse")) / get("pca", 8, "num_mse")[0])
    r2 = float(np.min(get("vae", 2, "log_price_r2_10nn")))
    return [
        ("1a. VAE(8) categorical accuracy - PCA(8)'s", gain, ">= 0.03", bool(gain >= 0.03)),
        ("1b. VAE(8) numeric MSE / PCA(8)'s", ratio, "<= 1.15", bool(ratio <= 1.15)),
        ("2. 2-D VAE: 10-NN R^2 of log SalePrice (held out)", r2, ">= 0.6", bool(r2 >= 0.6)),
        ("3a. sample(500): share of categorical cells seen in training", known, "= 1",
         bool(known == 1)),
        ("3b. sample(500): share of numeric cells in [min - 3 sd, max + 3 sd]", inside, "= 1",
         bool(inside == 1)),
        ("4. test.csv (unseen categories, NaN) transforms to finite codes", float(unseen_ok),
         "= 1", unseen_ok),
    ]


if __name__ == "__main__":
    main()
