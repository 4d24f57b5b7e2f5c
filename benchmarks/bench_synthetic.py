"""Synthetic tables: skvae's ``VAETransformer.sample`` against SDV's TVAE.

Per table (house prices: 1460 rows x 80 columns with ``SalePrice``; penguins: 344 x 8)
and per seed, both models are fitted on the same 75% of the rows for the same number of
epochs, and 10,000 rows are sampled from each. Scored against the held-out 25% of real
rows:

* sdmetrics' single-table ``QualityReport`` (overall score, "Column Shapes", "Column
  Pair Trends", and each column's shape score), with the metadata SDV detects on the
  training rows, each column's sdtype set to "numerical" or "categorical" by its dtype
  (detection alone took ``3SsnPorch`` for a social security number, and TVAE then
  generated fake ones), the same for both models;
* train-on-synthetic, test-on-real (TSTR): a ``HistGradientBoosting`` model fitted on
  the synthetic rows predicts the held-out real rows' target (house prices: R^2 of
  log ``SalePrice``; penguins: accuracy and one-vs-rest ROC AUC of ``species``), beside
  the same model fitted on the real training rows;
* the samples' form against the training rows: ``same_dtypes`` (the columns and dtypes
  of the training frame), ``integers`` (integer columns hold whole numbers),
  ``absent_categories`` (categories with >= 1% of the training rows that never appear)
  and ``max_missing_gap`` (the largest difference of a column's missing share, in
  points), with the column it occurs in;
* fit and sample wall time; and fit time measured side by side: ``--timing-repeats``
  pairs of fits per table (default 3), skvae and TVAE alternating which goes first,
  with the median of the pairs' ratios (one fit each on a shared machine is noise).

skvae runs ``VAETransformer(n_components=16)`` on the DataFrame as it is (text columns
become categorical heads) and samples with its defaults for DataFrames (``mode="draw"``,
``latent="fitted"``). TVAE
runs with its defaults except ``epochs``. Threads: torch 2, BLAS 2 (threadpoolctl); set
``OMP_WAIT_POLICY=PASSIVE``. Needs ``sdv`` (a dev-only dependency; it pins pandas < 3,
so run this in an environment of its own, e.g. ``python -m venv --system-site-packages
.venv-sdv && .venv-sdv/bin/pip install sdv``). Writes ``synthetic-<device>.json`` / ``.md``.

    SKVAE_DATA_HOME=../shared/data OMP_WAIT_POLICY=PASSIVE .venv-sdv/bin/python \\
        benchmarks/bench_synthetic.py
    python benchmarks/bench_synthetic.py --smoke   # penguins, 2 epochs, 500 rows
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _report import data_file, environment, parse_args, skip, write

SMOKE = dict(epochs=2, seeds="0", n_samples=500, tables="penguins", timing_repeats=1)


def tables(names):
    """``{name: (frame, target column, task)}`` for the tables asked for."""
    from skvae.datasets import load_house_prices, load_penguins

    found = {}
    if "house_prices" in names:
        frame = load_house_prices().frame.drop(columns="Id")
        found["house_prices"] = (frame, "SalePrice", "regression")
    if "penguins" in names:
        found["penguins"] = (load_penguins().frame, "species", "classification")
    return found


def split(frame, target, task, seed=0):
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task == "classification" else None
    return train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)


def tstr(synthetic, test, target, task):
    """Scores on the real ``test`` rows of a model trained on ``synthetic`` (whose
    columns are read with the real table's kinds: text columns as categories)."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    text = [c for c in test.columns if c != target
            and not pd.api.types.is_numeric_dtype(test[c])]

    def features(frame):
        X = frame.drop(columns=target)
        return X.astype({c: object for c in text} | {c: float for c in X if c not in text})

    synthetic = synthetic[test.columns].dropna(subset=[target])
    X, y, X_test = features(synthetic), synthetic[target], features(test)
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                        encoded_missing_value=np.nan), text),
        remainder="passthrough", verbose_feature_names_out=False)
    mask = [True] * len(text) + [False] * (X.shape[1] - len(text))
    if task == "regression":
        model = make_pipeline(encode, HistGradientBoostingRegressor(
            categorical_features=mask, random_state=0))
        # a synthetic price <= 0 (out of the data's range) counts as 1
        model.fit(X, np.log(y.astype(float).clip(lower=1)))
        predicted = model.predict(X_test)
        return {"tstr_r2": r2_score(np.log(test[target].astype(float)), predicted)}
    model = make_pipeline(encode, HistGradientBoostingClassifier(
        categorical_features=mask, random_state=0))
    model.fit(X, y.astype(str))
    y_test = test[target].astype(str)
    proba = pd.DataFrame(model.predict_proba(X_test), columns=model.classes_)
    proba = proba.reindex(columns=sorted(y_test.unique()), fill_value=0.0)
    proba = proba.div(proba.sum(axis=1).replace(0, 1), axis=0)
    return {"tstr_accuracy": accuracy_score(y_test, model.predict(X_test)),
            "tstr_auc": roc_auc_score(y_test, proba.to_numpy(), multi_class="ovr",
                                      labels=list(proba.columns))}


def fit_skvae(train, args, seed):
    from skvae import VAETransformer

    model = VAETransformer(n_components=16, max_epochs=args.epochs, random_state=seed,
                           **({} if args.batch_size is None else {"batch_size": args.batch_size}))
    start = time.perf_counter()
    model.fit(train)
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(args.n_samples, random_state=seed)
    return synthetic, fitted, time.perf_counter() - start


def fit_tvae(train, metadata, args, seed):
    from sdv.single_table import TVAESynthesizer

    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (SDV draws from NumPy's global generator)
    model = TVAESynthesizer(metadata, epochs=args.epochs)
    start = time.perf_counter()
    model.fit({"table": train})
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(args.n_samples)
    synthetic = synthetic["table"] if isinstance(synthetic, dict) else synthetic
    return synthetic, fitted, time.perf_counter() - start


def form(train, synthetic):
    """How the samples' columns, dtypes, integers, categories and missing shares
    compare with the training rows'."""
    numeric = [c for c in train if pd.api.types.is_numeric_dtype(train[c])
               and not pd.api.types.is_bool_dtype(train[c])]
    integers = [c for c in numeric if pd.api.types.is_integer_dtype(train[c])]
    values = synthetic[integers].to_numpy(dtype=float)
    absent = 0
    for column in (c for c in train if c not in numeric):
        shares = train[column].value_counts(normalize=True)
        absent += len(set(shares[shares >= 0.01].index) - set(synthetic[column].dropna()))
    gaps = (synthetic[train.columns].isna().mean() - train.isna().mean()).abs()
    same = list(synthetic.columns) == list(train.columns) and bool(
        (synthetic.dtypes == train.dtypes).all())
    return {"same_dtypes": same, "integers": bool(np.all(values[~np.isnan(values)] % 1 == 0)),
            "absent_categories": absent, "max_missing_gap": 100 * float(gaps.max()),
            "gap_column": gaps.idxmax()}


def fit_times(name, train, metadata, args):
    """Fit wall times measured side by side: ``--timing-repeats`` pairs of fits (seed 0,
    the order alternating), their medians and the median of the pairs' ratios."""
    pairs = []
    for repeat in range(args.timing_repeats):
        order = ("skvae", "tvae") if repeat % 2 == 0 else ("tvae", "skvae")
        times = {model: (fit_skvae(train, args, 0) if model == "skvae"
                         else fit_tvae(train, metadata, args, 0))[1] for model in order}
        pairs.append(times)
    skvae, tvae = (np.array([p[m] for p in pairs]) for m in ("skvae", "tvae"))
    return {"table": name, "repeats": len(pairs), "skvae_fit_s": float(np.median(skvae)),
            "tvae_fit_s": float(np.median(tvae)),
            "skvae_over_tvae": float(np.median(skvae / tvae)),
            "ratio_min": float(np.min(skvae / tvae)), "ratio_max": float(np.max(skvae / tvae))}


def quality(test, synthetic, metadata_dict):
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(test, synthetic[test.columns], metadata_dict, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes").set_index("Column")["Score"]
    return {"quality": report.get_score(), "shapes": properties["Column Shapes"],
            "pair_trends": properties["Column Pair Trends"]}, shapes.to_dict()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--tables", default="house_prices,penguins")
    parser.add_argument("--models", default="skvae,tvae")
    parser.add_argument("--timing-repeats", type=int, default=3,
                        help="interleaved fit pairs timed per table (0: none)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="skvae's batch_size (default: skvae's default, 128; TVAE's is 500)")
    args = parse_args(parser, SMOKE)
    try:
        from sdv.metadata import Metadata
    except ImportError:
        skip("sdv (pip install sdv; see the docstring)")
    names = args.tables.split(",")
    if any(data_file(f"{name}/{'train' if name == 'house_prices' else name}.csv.gz") is None
           for name in names):
        skip(f"the {names} files under SKVAE_DATA_HOME")
    torch.set_num_threads(2)
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=2)
    warnings.filterwarnings("ignore", category=FutureWarning)
    rows, columns, timings = [], [], []
    for name, (frame, target, task) in tables(names).items():
        train, test = split(frame, target, task)
        metadata = Metadata.detect_from_dataframes({"table": train})
        for column in train.columns:  # detection took e.g. 3SsnPorch for a social security
            numeric = pd.api.types.is_numeric_dtype(train[column])  # number and faked them
            metadata.update_column(column, table_name="table",
                                   sdtype="numerical" if numeric else "categorical")
        metadata_dict = metadata.to_dict()["tables"]["table"]
        real = {"table": name, "model": "real rows", **tstr(train, test, target, task)}
        rows.append(real | quality(test, train, metadata_dict)[0])
        for seed in (int(s) for s in args.seeds.split(",")):
            for model in args.models.split(","):
                synthetic, fit_s, sample_s = (
                    fit_skvae(train, args, seed) if model == "skvae"
                    else fit_tvae(train, metadata, args, seed))
                scores, shapes = quality(test, synthetic, metadata_dict)
                rows.append({"table": name, "model": model, "seed": seed,
                             **tstr(synthetic, test, target, task), **scores,
                             **form(train, synthetic), "fit_s": fit_s, "sample_s": sample_s})
                columns += [{"table": name, "model": model, "seed": seed, "column": c,
                             "shape": v} for c, v in shapes.items()]
                print(rows[-1], flush=True)
        if args.timing_repeats and set(args.models.split(",")) == {"skvae", "tvae"}:
            timings.append(fit_times(name, train, metadata, args))
            print(timings[-1], flush=True)
    per_column = (pd.DataFrame(columns).groupby(["table", "column", "model"])["shape"].mean()
                  .unstack("model").reset_index())
    means = (pd.DataFrame([r for r in rows if r["model"] != "real rows"])
             .drop(columns="seed").groupby(["table", "model"]).mean(numeric_only=True)
             .reset_index())
    summary = [{**r, "seed": "mean"} for r in means.to_dict("records")]
    notes = (f"{args.epochs} epochs for both, {args.n_samples} rows sampled, scored against "
             "the held-out 25% of real rows. 'real rows': the training rows themselves in "
             "place of synthetic ones (a ceiling). Per-column shape scores (mean over seeds) "
             "are in the JSON (`per_column`) and in the second table below. Fit times: "
             "see the interleaved timing table at the end (`fit_s` per row is one fit on "
             "a shared machine).")
    path = write("synthetic-cpu", environment("cpu"), rows + summary, notes,
                 extra={"per_column": per_column.to_dict("records"), "epochs": args.epochs,
                        "fit_times": timings},
                 results_dir=args.results_dir, smoke=args.smoke)
    table = per_column.to_markdown(index=False, floatfmt=".3f")
    text = path.read_text() + "\n## Column shapes (mean over seeds)\n\n" + table + "\n"
    if timings:
        text += ("\n## Fit time, measured side by side\n\n" + f"{args.timing_repeats} pairs "
                 "of fits per table (seed 0), skvae and TVAE alternating which goes first; "
                 "medians, and the median of the pairs' ratios.\n\n"
                 + pd.DataFrame(timings).to_markdown(index=False, floatfmt=".3g") + "\n")
    path.write_text(text)


if __name__ == "__main__":
    main()
