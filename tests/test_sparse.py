"""Sparse input (CSR/CSC): scikit-learn's OneHotEncoder output, pipelines, search.

Rows are densified batch by batch on the device (``skvae._data.SparseRows``), so a
sparse matrix gives the model a dense one would -- the same codes -- without ever
being dense as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skvae import AutoencoderTransformer, VAETransformer

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, random_state=0)


def categories(n=300, seed=0):
    """Four categorical columns driven by one hidden factor (as the house-prices notebook)."""
    rng = np.random.RandomState(seed)
    t = rng.rand(n)
    return pd.DataFrame({
        "zone": np.where(t > 0.6, "A", np.where(t > 0.3, "B", "C")),
        "kind": np.where(t + rng.normal(0, 0.2, n) > 0.5, "house", "flat"),
        "roof": rng.choice(["tile", "slate", "metal"], n),
        "size": np.where(t > 0.5, "big", "small"),
    })


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, VAETransformer])
def test_default_one_hot_pipeline_matches_the_dense_one(Estimator):
    X = categories()
    sparse = Pipeline([("ohe", OneHotEncoder()), ("model", Estimator(**FAST))]).fit(X)
    dense = Pipeline([("ohe", OneHotEncoder(sparse_output=False)),
                      ("model", Estimator(**FAST))]).fit(X)
    assert sp.issparse(sparse[0].transform(X))  # the default really is sparse
    np.testing.assert_allclose(sparse.transform(X), dense.transform(X), rtol=0, atol=1e-6)
    assert sparse.score(X) == pytest.approx(dense.score(X), abs=1e-6)
    unseen = categories(20, seed=1).assign(roof="straw")  # handle_unknown="ignore" is not set:
    with pytest.raises(ValueError, match="unknown categor"):  # scikit-learn's own error
        sparse.transform(unseen)


def test_grid_search_over_a_sparse_pipeline():
    X = categories()
    pipe = Pipeline([("ohe", OneHotEncoder(handle_unknown="ignore")),
                     ("vae", VAETransformer(**FAST))])
    grid = GridSearchCV(pipe, {"vae__n_components": [1, 2]}, cv=3).fit(X)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_estimator_.transform(X).shape == (300, grid.best_params_["vae__n_components"])


def house_prep(sparse: bool) -> ColumnTransformer:
    """The house-prices notebook's preprocessing, with sparse or dense output."""
    return ColumnTransformer([
        ("numbers", StandardScaler(), make_column_selector(dtype_include="number")),
        ("categories", OneHotEncoder(handle_unknown="ignore"),
         make_column_selector(dtype_include=object)),
    ], sparse_threshold=1.0 if sparse else 0.0)


def test_house_prices_column_transformer_with_sparse_output():
    rng = np.random.RandomState(0)
    X = categories().assign(area=rng.rand(300) * 200, year=rng.randint(1900, 2020, 300))
    assert sp.issparse(house_prep(sparse=True).fit_transform(X))
    sparse = make_pipeline(house_prep(True), VAETransformer(2, beta=0.005, **FAST)).fit(X)
    dense = make_pipeline(house_prep(False), VAETransformer(2, beta=0.005, **FAST)).fit(X)
    np.testing.assert_allclose(sparse.transform(X), dense.transform(X), rtol=0, atol=1e-6)
    assert sparse.score(X) == pytest.approx(dense.score(X), abs=1e-6)
    grid = GridSearchCV(sparse, {"vaetransformer__beta": [0.005, 1.0]}, cv=3).fit(X)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_any_sparse_format_and_numeric_dtype(fmt, dtype):
    rng = np.random.RandomState(0)
    dense = (rng.rand(80, 12) < 0.2) * rng.randint(1, 4, (80, 12))
    X = sp.random(80, 12, density=0.2, format=fmt, random_state=0) if dtype != np.int64 \
        else getattr(sp, f"{fmt}_matrix")(dense)
    X = X.astype(dtype)
    est = AutoencoderTransformer(**FAST, validation_fraction=0.25).fit(X)
    np.testing.assert_array_equal(est.transform(X), est.transform(X.toarray()))
    np.testing.assert_array_equal(est.score_samples(X), est.score_samples(X.toarray()))
    assert "valid_loss" in est.history_[-1]


def test_sparse_training_equals_dense_training():
    X = sp.random(120, 10, density=0.3, format="csr", random_state=0)
    sparse = VAETransformer(**FAST).fit(X)
    dense = VAETransformer(**FAST).fit(X.toarray())
    np.testing.assert_array_equal(sparse.transform(X), dense.transform(X.toarray()))


def test_categorical_groups_on_one_hot_csr():
    X = OneHotEncoder().fit_transform(categories())  # 3 + 2 + 3 + 2 columns
    groups = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]]
    est = VAETransformer(categorical_groups=groups, reconstruction_loss="bce", **FAST).fit(X)
    X_hat = est.inverse_transform(est.transform(X))
    np.testing.assert_allclose(X_hat[:, 0:3].sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match=r"categorical_groups entry \[0, 3\] is not one-hot"):
        VAETransformer(categorical_groups=[[0, 3]], **FAST).fit(X)
