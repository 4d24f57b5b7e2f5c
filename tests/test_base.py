"""Both estimators: the sklearn contract, errors, persistence, training options."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import EpochScoring

from skvae import AutoencoderTransformer, TrainingDivergedError, VAETransformer

ESTIMATORS = [AutoencoderTransformer, VAETransformer]
FAST = dict(max_epochs=3, hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda c: c.__name__)
def fitted(request, small_X):
    return request.param(**FAST).fit(small_X)


# ---------------------------------------------------------------- pipelines and tuning
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_tunes_a_vae_pipeline_by_its_elbo(digits_split, n_jobs):
    X_train = digits_split[0][:600]
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("vae", VAETransformer(n_components=2, max_epochs=30, random_state=0))])
    grid = GridSearchCV(pipe, {"vae__n_components": [2, 4], "vae__beta": [1.0, 0.01]},
                        cv=3, n_jobs=n_jobs).fit(X_train)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(np.isfinite(scores))
    # the ELBO is the scorer: a model trained on the ELBO itself (beta=1) has a better
    # held-out ELBO than one trained with a KL weight of 0.01, at either width (by 4.5
    # and 8.2 nats on the CPU). After only 10 epochs (40 steps) the models were too far
    # from trained for the order to be reliable: beta=0.01 won by 0.55 nats at 2-D.
    by_params = {(p["vae__n_components"], p["vae__beta"]): score
                 for p, score in zip(grid.cv_results_["params"], scores, strict=True)}
    for k in [2, 4]:
        assert by_params[k, 1.0] > by_params[k, 0.01] + 0.25, (k, by_params)
    assert grid.score(X_train) == pytest.approx(grid.best_estimator_.score(X_train))


def test_supervised_pipeline_tunes_the_autoencoder(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = Pipeline([("ae", AutoencoderTransformer(max_epochs=30, random_state=0)),
                     ("clf", LogisticRegression(max_iter=500))])
    grid = GridSearchCV(pipe, {"ae__n_components": [2, 8]}, cv=2).fit(X_train, y_train)
    assert grid.best_params_ == {"ae__n_components": 8}
    assert grid.score(X_test, y_test) > 0.85


# ---------------------------------------------------------------- output and dtypes
def test_transform_shape_names_and_pandas_output(fitted, small_X):
    name = type(fitted).__name__.lower()
    np.testing.assert_array_equal(fitted.get_feature_names_out(), [f"{name}0", f"{name}1"])
    Z = fitted.transform(small_X)
    assert Z.shape == (60, 2)
    frame = fitted.set_output(transform="pandas").transform(small_X)
    fitted.set_output(transform="default")
    assert list(frame.columns) == [f"{name}0", f"{name}1"]
    np.testing.assert_array_equal(frame.to_numpy(), Z)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64_give_the_same_codes(fitted, small_X, dtype):
    Z = fitted.transform(small_X.astype(dtype))
    assert Z.dtype == dtype
    np.testing.assert_allclose(Z, fitted.transform(small_X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_input_records_feature_names(Estimator, small_X):
    frame = pd.DataFrame(small_X, columns=[f"f{i}" for i in range(8)])
    est = Estimator(**FAST).fit(frame)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        Z = est.transform(small_X)
    np.testing.assert_array_equal(est.transform(frame), Z)


# ---------------------------------------------------------------- determinism and persistence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_gives_identical_codes(Estimator, small_X):
    Z1 = Estimator(**FAST).fit_transform(small_X)
    Z2 = Estimator(**FAST).fit_transform(small_X)
    np.testing.assert_array_equal(Z1, Z2)
    Z3 = Estimator(**{**FAST, "random_state": 1}).fit_transform(small_X)
    assert not np.allclose(Z1, Z3)


def test_fit_leaves_global_torch_rng_alone(small_X):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AutoencoderTransformer(**FAST).fit(small_X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_pickle_and_joblib_round_trips_transform_identically(fitted, small_X):
    Z = fitted.transform(small_X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(small_X), Z)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.transform(small_X), Z)
    np.testing.assert_array_equal(loaded.score_samples(small_X), fitted.score_samples(small_X))


def test_model_saved_with_an_absent_cuda_device_loads_on_cpu(small_X):
    """What a CPU-only machine sees when it unpickles a model trained on CUDA.

    skorch records the net's device in the pickle and maps tensors to the CPU when
    CUDA is missing; skvae must then run on the mapped device, not the recorded one.
    """
    est = VAETransformer(**FAST, device="cpu").fit(small_X)
    Z = est.transform(small_X)
    est.net_.device = "cuda"
    payload = pickle.dumps(est)
    est.net_.device = "cpu"
    if torch.cuda.is_available():
        pytest.skip("only meaningful where CUDA is missing")
    with pytest.warns(UserWarning, match="requested device"):
        loaded = pickle.loads(payload)
    np.testing.assert_array_equal(loaded.transform(small_X), Z)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_trained_model_transforms_on_cpu(small_X, tmp_path):
    est = VAETransformer(**FAST, device="cuda").fit(small_X)
    assert next(est.net_.module_.parameters()).is_cuda
    Z = est.transform(small_X)
    joblib.dump(est, tmp_path / "vae.joblib")
    # load as a CPU-only process would: every tensor mapped to the CPU
    est.net_.module_.to("cpu")
    est.net_.device = "cpu"
    np.testing.assert_allclose(est.transform(small_X), Z, rtol=1e-4, atol=1e-5)
    loaded = joblib.load(tmp_path / "vae.joblib")
    np.testing.assert_allclose(loaded.transform(small_X), Z, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- training options
def test_history_records_losses_per_epoch(small_X):
    vae = VAETransformer(**{**FAST, "max_epochs": 4}, validation_fraction=0.25).fit(small_X)
    assert vae.n_iter_ == 4 and len(vae.history_) == 4
    for key in ["train_loss", "train_recon", "train_kl", "kl_weight",
                "valid_loss", "valid_recon", "valid_kl"]:
        assert np.all(np.isfinite(vae.history_[:, key])), key
    last = vae.history_[-1]
    assert last["train_loss"] == pytest.approx(last["train_recon"] + last["train_kl"], rel=1e-5)
    assert sum(b["train_batch_size"] for b in last["batches"] if "train_batch_size" in b) == 45


def test_early_stopping_restores_the_best_epoch(digits_split):
    X_train = digits_split[0]
    ae = AutoencoderTransformer(max_epochs=400, lr=3e-3, validation_fraction=0.2,
                                n_iter_no_change=5, random_state=0).fit(X_train)
    valid = ae.history_[:, "valid_loss"]
    assert ae.n_iter_ < 400
    best = int(np.argmin(valid))
    assert best == ae.n_iter_ - 1 - 5 or valid[-5:].min() >= valid[best]
    # restored weights reproduce the best epoch's validation loss (up to the shuffle)
    rng = np.random.RandomState(ae.random_state)
    rng.randint(np.iinfo(np.int32).max)
    held_out = X_train[rng.permutation(len(X_train))[: round(0.2 * len(X_train))]]
    assert -ae.score(held_out) == pytest.approx(valid[best], rel=1e-4)


def test_warm_start_continues_training(small_X):
    ae = AutoencoderTransformer(**FAST, warm_start=True).fit(small_X)
    first_loss = ae.history_[-1, "train_loss"]
    ae.fit(small_X)
    assert ae.n_iter_ == 6
    assert ae.history_[-1, "train_loss"] < first_loss
    ae.set_params(max_epochs=2).fit(small_X)
    assert ae.n_iter_ == 8


def test_user_callbacks_run_and_are_not_mutated(small_X):
    callback = EpochScoring(lambda net, X, y: 1.0, name="constant", on_train=True)
    params_before = callback.get_params()
    ae = AutoencoderTransformer(**FAST, callbacks=[callback]).fit(small_X)
    assert ae.history_[:, "constant"] == [1.0, 1.0, 1.0]
    assert callback.get_params() == params_before and not hasattr(callback, "best_score_")


def test_verbose_0_prints_nothing(small_X, capsys):
    VAETransformer(**FAST, verbose=0).fit(small_X)
    assert capsys.readouterr() == ("", "")


def test_verbose_1_shows_a_progress_bar_with_the_losses(small_X, capsys):
    vae = VAETransformer(**FAST, verbose=1, validation_fraction=0.25).fit(small_X)
    out, err = capsys.readouterr()
    assert out == ""  # no epoch table
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("VAETransformer: 100%") and "3/3" in last
    for key in ["loss=", "valid_loss=", "recon=", "kl="]:
        assert key in last
    assert f"loss={vae.history_[-1, 'train_loss']:.4g}" in last
    assert not hasattr(vae.net_.callbacks_[-1][1], "bar_")  # closed: the model pickles
    pickle.dumps(vae)


def test_verbose_2_prints_the_epoch_table(small_X, capsys):
    AutoencoderTransformer(**FAST, verbose=2).fit(small_X)
    out, err = capsys.readouterr()
    assert "train_loss" in out and "train_recon" in out and len(out.splitlines()) == 2 + 3
    assert "%" not in err


@pytest.mark.parametrize("optimizer", ["sgd", torch.optim.AdamW])
def test_optimizer_by_name_or_class(small_X, optimizer):
    ae = AutoencoderTransformer(**FAST, optimizer=optimizer, weight_decay=0.01).fit(small_X)
    opt = ae.net_.optimizer_
    expected = torch.optim.SGD if optimizer == "sgd" else torch.optim.AdamW
    assert type(opt) is expected and opt.param_groups[0]["weight_decay"] == 0.01


def test_dropout_is_used_in_training_only(small_X):
    ae = AutoencoderTransformer(**FAST, dropout=0.5).fit(small_X)
    assert any(isinstance(m, torch.nn.Dropout) for m in ae.net_.module_.modules())
    np.testing.assert_array_equal(ae.transform(small_X), ae.transform(small_X))


def test_auto_device_is_cpu_without_cuda(fitted):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert torch.device(fitted.net_.device).type == expected


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, match", [
    (np.inf, r"X holds the value inf, beyond float32's range"),
    (-np.inf, r"X holds the value -inf, beyond float32's range"),
    (1e39, r"X holds the value 1e\+39, beyond float32's range .*replace infinities with NaN"),
])
def test_infinite_and_float32_overflowing_values_are_rejected(small_X, bad, match):
    """NaN is a missing value (tests/test_missing.py); these would become inf on the device."""
    X = small_X.astype(np.float64)
    X[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        AutoencoderTransformer(**FAST).fit(X)


def test_wrong_number_of_features_at_transform(fitted, small_X):
    name = type(fitted).__name__
    with pytest.raises(ValueError, match=f"X has 5 features, but {name} is expecting 8"):
        fitted.transform(small_X[:, :5])
    with pytest.raises(ValueError, match=f"X has 5 features, but {name} is expecting 8"):
        fitted.score(small_X[:, :5])


def test_inverse_transform_checks_the_code_width(fitted):
    with pytest.raises(ValueError, match=r"X has 3 columns, .* n_components=2 columns"):
        fitted.inverse_transform(np.zeros((4, 3)))


def test_non_numeric_arrays_are_rejected_with_the_fix():
    with pytest.raises(TypeError, match=r"needs numeric data, but X holds non-numeric values "
                                        r"\(could not convert string to float: .*'a'.*\)\. Encode "
                                        r"categorical columns first, e.g. with OneHotEncoder"
                                        r".*or pass a pandas DataFrame"):
        AutoencoderTransformer(**FAST).fit(np.array([["a", "b"], ["c", "d"]]))


def test_empty_array_is_rejected():
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        VAETransformer(**FAST).fit(np.empty((0, 4)))


def test_bce_needs_values_in_unit_interval(small_X):
    X = small_X.copy()
    X[0, 0], X[1, 1] = -0.5, 2.0
    msg = (r"'bce' needs every value in \[0, 1\], but X holds -0.5 \(its values range over "
           r"\[-0.5, 2.0\]\).*MinMaxScaler")
    with pytest.raises(ValueError, match=msg):
        VAETransformer(**FAST, reconstruction_loss="bce").fit(X)
    # a rounding error above 1 is shown as it is, not rounded away
    X = np.clip(small_X, 0, 1).astype(np.float64)
    X[2, 3] = 1.0000001
    with pytest.raises(ValueError, match=r"but X holds 1\.0000001 .*np\.clip"):
        VAETransformer(**FAST, reconstruction_loss="bce").fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(small_X):
    with pytest.raises(ValueError, match=r"device='cuda' was requested but CUDA is not "
                                         r"available.*device='auto'"):
        AutoencoderTransformer(**FAST, device="cuda").fit(small_X)


def test_unknown_device_string(small_X):
    with pytest.raises(ValueError, match=r"device='gpu0' is not a device torch knows"):
        AutoencoderTransformer(**FAST, device="gpu0").fit(small_X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "score", "sample"])
def test_methods_before_fit_raise_not_fitted(Estimator, small_X, method):
    args = () if method == "sample" else (small_X,)
    with pytest.raises(NotFittedError, match=f"This {Estimator.__name__} instance is not fitted"):
        getattr(Estimator(), method)(*args)


@pytest.mark.parametrize("params, match", [
    ({"n_components": 0}, "'n_components' parameter .* must be an int in the range"),
    ({"activation": "swish"}, "'activation' parameter .* must be a str among"),
    ({"reconstruction_loss": "l1"}, "'reconstruction_loss' parameter .* must be a str among"),
    ({"lr": -1.0}, "'lr' parameter .* must be a float in the range"),
    ({"dropout": 1.0}, "'dropout' parameter .* must be a float in the range"),
    ({"validation_fraction": 1.5}, "'validation_fraction' parameter"),
    ({"optimizer": "adagrad"}, "'optimizer' parameter .* must be a str among"),
    ({"architecture": "cnn"}, "'architecture' parameter .* must be a str among"),
    ({"noise": "poisson"}, "'noise' parameter .* must be a str among"),
    ({"noise_level": -0.1}, "'noise_level' parameter .* must be a float in the range"),
    ({"kernel_size": 0}, "'kernel_size' parameter .* must be an int in the range"),
])
def test_invalid_parameters(small_X, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        AutoencoderTransformer(**params).fit(small_X)


def test_invalid_vae_parameters(small_X):
    with pytest.raises(InvalidParameterError, match=r"'beta' parameter .* range"):
        VAETransformer(beta=-1).fit(small_X)
    with pytest.raises(InvalidParameterError, match=r"'kl_warmup' parameter .* range"):
        VAETransformer(kl_warmup=-1).fit(small_X)


def test_hidden_layer_sizes_must_be_positive(small_X):
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must hold positive integers, "
                                         r"got \(16, 0\)"):
        AutoencoderTransformer(hidden_layer_sizes=(16, 0)).fit(small_X)


@pytest.mark.parametrize("params, match", [
    ({"architecture": "conv"},
     r"architecture='conv' needs image_shape=\(channels, height, width\), e.g. "
     r"image_shape=\(1, 28, 28\) .*got image_shape=None"),
    ({"architecture": "conv", "image_shape": (1, 3, 3)},
     r"image_shape=\(1, 3, 3\) does not describe rows of 8 features: give "
     r"\(channels, height, width\) .* whose product is 8"),
    ({"image_shape": (2, 2, 2, 1)}, r"image_shape=\(2, 2, 2, 1\) does not describe rows"),
    ({"architecture": "conv", "image_shape": (2, 0, 4)},
     r"image_shape must hold positive integers, got \(2, 0, 4\)"),
    ({"architecture": "conv", "image_shape": (2, 4), "conv_channels": (8, -1)},
     r"conv_channels must hold positive integers, got \(8, -1\). Use e.g. \(32, 64\)"),
    ({"noise": "mask", "noise_level": 1.5},
     r"noise='mask' corrupts each value with probability noise_level, but "
     r"noise_level=1.5 is above 1. Use a value in \[0, 1\]"),
])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inconsistent_architecture_parameters(Estimator, small_X, params, match):
    with pytest.raises(ValueError, match=match):
        Estimator(**FAST, **params).fit(small_X)


@pytest.mark.parametrize("image_shape", [(2, 4), (1, 2, 4), [2, 4]])
def test_image_shape_of_height_and_width_means_one_channel(small_X, image_shape):
    est = AutoencoderTransformer(**FAST, architecture="conv", image_shape=image_shape,
                                 conv_channels=(3,)).fit(small_X)
    conv = est.net_.module_.encoder[1]
    assert isinstance(conv, torch.nn.Conv2d) and conv.in_channels == 1
    assert est.transform(small_X).shape == (60, est.n_components)


def test_validation_fraction_too_small_for_the_data(small_X):
    with pytest.raises(ValueError, match=r"validation_fraction=0.001 leaves 0 of 60 rows"):
        AutoencoderTransformer(**FAST, validation_fraction=0.001).fit(small_X)


def test_sample_needs_a_positive_count(fitted):
    with pytest.raises(ValueError, match="n_samples == 0, must be >= 1"):
        fitted.sample(0)


def test_diverging_training_stops_with_a_clear_error(small_X):
    with pytest.raises(TrainingDivergedError, match=r"train loss became inf in epoch 1: "
                                                   r"training diverged. Lower `lr`"):
        AutoencoderTransformer(**FAST).fit(small_X * 1e20)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_failed_fit_leaves_the_fitted_model_usable(Estimator, small_X):
    est = Estimator(**FAST).fit(small_X)
    Z, net = est.transform(small_X), est.net_
    bad = small_X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="beyond float32's range"):
        est.fit(np.c_[bad, bad])
    with pytest.raises(TrainingDivergedError):
        est.fit(small_X * 1e20)
    assert est.net_ is net and est.n_features_in_ == 8
    np.testing.assert_array_equal(est.transform(small_X), Z)


def test_failed_warm_start_fit_keeps_the_old_weights(small_X):
    ae = AutoencoderTransformer(**FAST, warm_start=True).fit(small_X)
    Z = ae.transform(small_X)
    with pytest.raises(TrainingDivergedError):
        ae.fit(small_X * 1e20)
    np.testing.assert_array_equal(ae.transform(small_X), Z)
    assert ae.n_iter_ == 3
