"""Inputs users bring that we did not curate: each gets a clear error, a warning or a
documented conversion (issue 13's probes, each with its message pinned)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import EpochScoring

from skvae import AutoencoderTransformer, VAETransformer

ESTIMATORS = [AutoencoderTransformer, VAETransformer]
FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)


def frame(n=40, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({"size": rng.rand(n) * 100, "rooms": rng.randint(1, 6, n),
                         "kind": rng.choice(["flat", "house"], n)})


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("column, dtype_text", [
    (pd.date_range("2020-01-01", periods=40), "datetime64"),
    (pd.date_range("2020-01-01", periods=40, tz="Europe/Paris"), "datetime64.*Europe/Paris"),
    (pd.to_timedelta(np.arange(40), unit="D"), "timedelta64"),
])
@pytest.mark.parametrize("with_categories", [True, False])
def test_date_and_duration_columns_are_named(Estimator, column, dtype_text, with_categories):
    X = frame() if with_categories else frame().drop(columns="kind")
    X["when"] = column
    with pytest.raises(TypeError, match=rf"Column 'when' holds dates or durations \({dtype_text}"
                                        r".*\)\.dt\.days"):
        Estimator(**FAST).fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_duplicate_column_names_are_an_error(Estimator):
    X = pd.DataFrame(np.random.RandomState(0).rand(20, 3), columns=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"X has duplicate column names \['a'\]"):
        Estimator(**FAST).fit(X)


def test_a_fitted_model_rejects_duplicate_columns_and_stays_usable():
    X = pd.DataFrame(np.random.RandomState(0).rand(20, 3), columns=["a", "b", "c"])
    est = AutoencoderTransformer(**FAST).fit(X)
    Z = est.transform(X)
    with pytest.raises(ValueError, match="duplicate column names"):
        est.transform(X.set_axis(["a", "b", "b"], axis=1))
    np.testing.assert_array_equal(est.transform(X), Z)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_one_row_is_a_clear_error(Estimator):
    with pytest.raises(ValueError, match=r"Found array with 1 sample\(s\).*minimum of 2 is "
                                         f"required by {Estimator.__name__}"):
        Estimator(**FAST).fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"Found 1 row\(s\) while a minimum of 2"):
        Estimator(**FAST).fit(frame(1))


def test_two_rows_train_and_sample():
    ae = AutoencoderTransformer(**FAST).fit(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert np.isfinite(ae.sample(3, random_state=0)).all()


def test_values_beyond_float32_are_rejected_at_transform_too():
    est = AutoencoderTransformer(**FAST).fit(np.random.RandomState(0).rand(20, 3))
    X = np.zeros((2, 3))
    X[1, 2] = -3e38 * 10
    with pytest.raises(ValueError, match=r"X holds the value -3e\+39, beyond float32's range"):
        est.transform(X)


def test_an_object_column_of_numbers_warns():
    X = frame()
    X["price"] = pd.Series(np.random.RandomState(0).rand(40) * 1000, dtype=object)
    with pytest.warns(UserWarning, match=r"Column 'price' has dtype object but holds only "
                                         r"numbers: it is one-hot encoded as 40 categories"):
        AutoencoderTransformer(**FAST).fit(X)


def test_more_latent_dimensions_than_features_warns():
    with pytest.warns(UserWarning, match=r"n_components=5 is larger than the number of "
                                         r"features \(3\)"):
        AutoencoderTransformer(5, **FAST).fit(np.random.RandomState(0).rand(20, 3))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("change, text", [
    (dict(n_components=3), r"n_components=3 \(fitted: 2\)"),
    (dict(hidden_layer_sizes=(16, 4)), r"hidden_layer_sizes=\(16, 4\) \(fitted: \(8,\)\)"),
    (dict(architecture="conv", image_shape=(1, 2, 2)), r"architecture='conv' \(fitted: 'dense'\)"),
    (dict(reconstruction_loss="bce"), r"reconstruction_loss='bce' \(fitted: 'mse'\)"),
])
def test_warm_start_refuses_a_changed_architecture(Estimator, change, text):
    X = np.random.RandomState(0).rand(30, 4)
    est = Estimator(**FAST, warm_start=True).fit(X)
    Z = est.transform(X)
    est.set_params(**change)
    with pytest.raises(ValueError, match=rf"warm_start=True continues training the fitted "
                                         rf"network, but {text}.*Set warm_start=False"):
        est.fit(X)
    np.testing.assert_array_equal(est.transform(X), Z)  # the fitted model is intact
    est.set_params(warm_start=False).fit(X)  # the documented fix trains a new network
    assert est.transform(X).shape[1] == est.n_components


def test_warm_start_may_change_training_parameters(small_X):
    est = AutoencoderTransformer(**FAST, warm_start=True).fit(small_X)
    est.set_params(lr=1e-4, max_epochs=1, batch_size=7).fit(small_X)
    assert est.n_iter_ == 3


@pytest.mark.parametrize("callbacks, shown", [
    (["x"], r"callbacks\[0\] is 'x' \(str\), not a skorch callback"),
    ([EpochScoring("neg_mean_squared_error"), 3], r"callbacks\[1\] is 3 \(int\)"),
    ([("name", "x")], r"callbacks\[0\] is \('name', 'x'\) \(tuple\)"),
])
def test_bad_callbacks_are_named(callbacks, shown):
    with pytest.raises(TypeError, match=shown + ".*Pass instances of skorch.callbacks.Callback"):
        AutoencoderTransformer(**FAST, callbacks=callbacks).fit(
            np.random.RandomState(0).rand(20, 3))


def test_an_unavailable_device_is_a_clear_error():
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ValueError, match=r"device='mps' was requested but torch has no usable "
                                         r"'mps' backend"):
        AutoencoderTransformer(**FAST, device="mps").fit(np.random.RandomState(0).rand(20, 3))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nullable_dtypes_round_trip(Estimator):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({
        "count": pd.array(rng.randint(0, 9, 60), dtype="Int64"),
        "amount": pd.array(rng.rand(60) * 10, dtype="Float64"),
        "flag": pd.array(rng.rand(60) > 0.5, dtype="boolean"),
        "label": pd.Series(rng.choice(["a", "b", "c"], 60), dtype="string"),
    })
    X.loc[3, "count"] = pd.NA
    X.loc[5, "amount"] = pd.NA
    est = Estimator(**FAST).fit(X)
    for out in (est.inverse_transform(est.transform(X)), est.sample(200, random_state=0)):
        assert out.dtypes.to_dict() == X.dtypes.to_dict()
        # missing (pd.NA) only in the columns that had some (their "missing" state,
        # which this barely trained model has not learned is rare)
        assert out[["flag", "label"]].notna().all().all()
        assert set(out["label"]) <= {"a", "b", "c"}


def test_a_numeric_frame_with_nullable_gaps_fits():
    X = pd.DataFrame({"a": pd.array([1, 2, None, 4] * 10, dtype="Int64"),
                      "b": pd.array([0.5, None, 1.5, 2.0] * 10, dtype="Float64")})
    est = VAETransformer(**FAST).fit(X)
    assert np.isfinite(est.transform(X)).all() and np.isfinite(est.score_samples(X)).all()
