"""Metrics."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from skvae import AutoencoderTransformer
from skvae.comparison import default_estimators
from skvae.metrics import (
    TRANSDUCTIVE_NOTE,
    compare,
    knn_accuracy,
    knn_r2,
    reconstruction_mse,
    trustworthiness,
)


def test_reconstruction_mse_of_pca_equals_the_discarded_variance():
    X = np.random.RandomState(0).randn(500, 5) * [3, 2, 1, 0.5, 0.1]
    pca = PCA(n_components=3).fit(X)
    discarded = pca.explained_variance_  # kept components
    total = np.var(X, axis=0, ddof=1).sum()
    expected = (total - discarded.sum()) * (len(X) - 1) / len(X) / X.shape[1]
    assert reconstruction_mse(pca, X) == pytest.approx(expected, rel=1e-6)


def test_knn_accuracy_separates_clusters_and_fails_on_noise():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 50)
    Z = rng.randn(100, 2) + 6 * y[:, None]
    assert knn_accuracy(Z[::2], y[::2], Z[1::2], y[1::2]) == 1.0
    noise = rng.randn(100, 2)
    assert knn_accuracy(noise[::2], y[::2], noise[1::2], y[1::2]) < 0.75


def test_knn_r2_is_one_for_a_faithful_embedding_and_low_for_noise():
    rng = np.random.RandomState(0)
    target = rng.uniform(0, 10, 200)
    faithful = np.c_[target, rng.randn(200) * 0.01]
    assert knn_r2(faithful[:150], target[:150], faithful[150:], target[150:]) > 0.99
    noise = rng.randn(200, 2)
    assert knn_r2(noise[:150], target[:150], noise[150:], target[150:]) < 0.2


@pytest.fixture(scope="module")
def digit_comparison(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    estimators = {
        "PCA": PCA(2),
        "t-SNE": TSNE(2, random_state=0),
        "AE": AutoencoderTransformer(2, max_epochs=60, random_state=0),
    }
    table, fitted = compare(estimators, X_train, y_train, X_test=X_test, y_test=y_test,
                            return_estimators=True)
    return estimators, table, fitted


def test_compare_returns_one_measured_row_per_method(digit_comparison):
    _, table, _ = digit_comparison
    assert list(table.columns) == [
        "method", "n_components", "fit_s", "transform_s", "test_mse", "trustworthiness",
        "knn_accuracy", "note"]
    assert table["method"].tolist() == ["PCA", "t-SNE", "AE"]
    assert table["n_components"].tolist() == [2, 2, 2]
    assert (table["fit_s"] > 0).all()
    rows = table.set_index("method")
    # the network beats PCA on every held-out measure
    assert rows.loc["AE", "test_mse"] < rows.loc["PCA", "test_mse"]
    assert rows.loc["AE", "trustworthiness"] > rows.loc["PCA", "trustworthiness"]
    assert rows.loc["AE", "knn_accuracy"] > rows.loc["PCA", "knn_accuracy"] + 0.1


def test_compare_says_tsne_cannot_transform(digit_comparison):
    _, table, _ = digit_comparison
    tsne = table.set_index("method").loc["t-SNE"]
    assert np.isnan(tsne["transform_s"]) and np.isnan(tsne["test_mse"])
    assert tsne["note"] == TRANSDUCTIVE_NOTE and "fit_transform" in tsne["note"]
    assert (table.set_index("method").drop("t-SNE")["note"] == "").all()


def test_compare_measures_the_rows_it_says(digit_comparison, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    _, table, fitted = digit_comparison
    pca = fitted["PCA"]
    Z_test = pca.transform(X_test)
    row = table.set_index("method").loc["PCA"]
    assert row["test_mse"] == pytest.approx(reconstruction_mse(pca, X_test))
    assert row["trustworthiness"] == pytest.approx(trustworthiness(X_test, Z_test, n_neighbors=5))
    assert row["knn_accuracy"] == pytest.approx(
        knn_accuracy(pca.transform(X_train), y_train, Z_test, y_test))
    # t-SNE embedded the training rows followed by the test rows
    assert fitted["t-SNE"].embedding_.shape == (len(X_train) + len(X_test), 2)


def test_compare_fits_clones_and_leaves_the_given_estimators_alone(digit_comparison):
    estimators, _, fitted = digit_comparison
    for name, estimator in estimators.items():
        assert fitted[name] is not estimator
        assert not hasattr(estimator, "n_features_in_")


def test_compare_splits_itself_and_scores_a_continuous_target_with_r2():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5) * [5, 1, 1, 1, 1]
    y = X[:, 0] + rng.randn(200) * 0.1
    table = compare([PCA(2), PCA(3)], X, y, test_size=0.25)
    assert "knn_r2" in table.columns and "knn_accuracy" not in table.columns
    assert table["method"].tolist() == ["PCA", "PCA (1)"]
    assert (table["knn_r2"] > 0.8).all()  # PCA keeps the dominant first feature
    assert "knn_r2" not in compare([PCA(2)], X).columns  # no y, no k-NN column


def test_compare_rejects_non_numeric_rows_with_the_fix():
    X = np.array([["a", 1.0], ["b", 2.0]] * 10, dtype=object)
    with pytest.raises(TypeError, match=r"X must be numeric.*TableLayout.*OneHotEncoder"):
        compare([PCA(1)], X)
    with pytest.raises(TypeError, match=r"compare\(\) needs the data"):
        compare([PCA(1)])


def test_default_estimators_are_the_four_methods_with_shared_settings():
    methods = default_estimators(3, max_epochs=7, device="cpu", verbose=0)
    assert list(methods) == ["PCA", "t-SNE", "AE", "VAE"]
    assert {m.n_components for m in methods.values()} == {3}
    assert methods["VAE"].max_epochs == methods["AE"].max_epochs == 7
    assert methods["t-SNE"].method == "barnes_hut"
    assert default_estimators(4)["t-SNE"].method == "exact"  # Barnes-Hut allows 3 at most


def test_default_estimators_moved_to_comparison_with_a_deprecation_alias():
    import skvae.comparison
    import skvae.metrics

    with pytest.warns(DeprecationWarning, match="moved to skvae.comparison.default_estimators"):
        alias = skvae.metrics.default_estimators
    assert alias is skvae.comparison.default_estimators
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        skvae.metrics.no_such_name  # noqa: B018


def test_one_naming_rule_for_lists_of_methods():
    from sklearn.manifold import Isomap

    from skvae.metrics import name_estimators

    assert list(name_estimators([PCA(2), Isomap(), PCA(3), PCA(4)])) == [
        "PCA", "Isomap", "PCA (1)", "PCA (2)"]
    pca = PCA(2)
    assert name_estimators(pca) == {"PCA": pca}


def test_compare_returns_the_test_codes_of_every_method(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    table, fitted, codes = compare(
        {"PCA": PCA(2), "t-SNE": TSNE(2, random_state=0)}, X_train[:300], y_train[:300],
        X_test=X_test, y_test=y_test, return_estimators=True, return_codes=True)
    np.testing.assert_allclose(codes["PCA"], fitted["PCA"].transform(X_test))
    # t-SNE's codes of the test rows: its embedding of train + test rows, test part
    np.testing.assert_allclose(codes["t-SNE"], fitted["t-SNE"].embedding_[300:])
    assert table["method"].tolist() == ["PCA", "t-SNE"]
