"""Missing values in every flow: masked training, encoding and scoring rows with gaps,
imputation (single and multiple), and the imputer in a Pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skvae import AutoencoderTransformer, VAETransformer
from skvae.impute import AutoencoderImputer, impute

ESTIMATORS = [AutoencoderTransformer, VAETransformer]


def with_gaps(X, share, seed=0):
    rng = np.random.RandomState(seed)
    hidden = rng.rand(*X.shape) < share
    gaps = X.astype(np.float64, copy=True)
    gaps[hidden] = np.nan
    return gaps, hidden


@pytest.fixture(scope="module")
def digits_gaps(digits_split):
    X_train, X_test = digits_split[0], digits_split[1]
    train, _ = with_gaps(X_train, 0.3, seed=0)
    test, hidden = with_gaps(X_test, 0.3, seed=1)
    return X_train, X_test, train, test, hidden


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_arrays_with_gaps_fit_transform_and_score(Estimator, digits_gaps):
    _, _, train, test, _ = digits_gaps
    est = Estimator(8, hidden_layer_sizes=(64,), max_epochs=5, random_state=0).fit(train)
    assert est.net_.criterion_.missing  # the masked loss is on
    assert np.isfinite(est.history_[:, "train_loss"]).all()
    assert np.isfinite(est.transform(test)).all() and np.isfinite(est.score_samples(test)).all()
    empty = np.full((1, train.shape[1]), np.nan)  # no observed value: the training means
    assert np.isfinite(est.transform(empty)).all()


def test_an_autoencoder_scores_the_observed_entries_only(digits_gaps):
    _, _, train, test, _ = digits_gaps
    ae = AutoencoderTransformer(8, hidden_layer_sizes=(64,), max_epochs=5,
                                random_state=0).fit(train)
    X_hat = ae.inverse_transform(ae.transform(test))
    observed = ~np.isnan(test)
    expected = [-np.mean((X_hat[i, observed[i]] - test[i, observed[i]]) ** 2)
                for i in range(len(test))]
    np.testing.assert_allclose(ae.score_samples(test), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["mse", "bce"])
def test_the_masked_likelihood_is_the_likelihood_of_the_observed_entries(kind):
    """A row with gaps scores as the same row with its missing columns deleted."""
    import torch

    from skvae.losses import ELBOLoss, ReconstructionLoss

    rng = np.random.RandomState(0)
    x = torch.tensor(rng.rand(3, 6), dtype=torch.float32)
    x_hat = torch.tensor(rng.normal(size=(3, 6)), dtype=torch.float32)
    mu, logvar = torch.zeros(3, 2), torch.zeros(3, 2)
    x_gaps = x.clone()
    x_gaps[0, [1, 4]] = float("nan")
    x_gaps[2, 0] = float("nan")
    for row, keep in [(0, [0, 2, 3, 5]), (1, list(range(6))), (2, [1, 2, 3, 4, 5])]:
        elbo = ELBOLoss(kind, noise_variance=0.3, missing=True)
        masked = elbo.terms((x_hat, mu, logvar), x_gaps)["recon"][row]
        plain = ELBOLoss(kind, noise_variance=0.3).terms(
            (x_hat[row:row + 1, keep], mu[:1], logvar[:1]), x[row:row + 1, keep])["recon"][0]
        torch.testing.assert_close(masked, plain)
        ae_masked = ReconstructionLoss(kind, missing=True).terms((x_hat, None), x_gaps)
        ae_plain = ReconstructionLoss(kind).terms((x_hat[row:row + 1, keep], None),
                                                  x[row:row + 1, keep])
        torch.testing.assert_close(ae_masked["recon"][row], ae_plain["recon"][0])


def test_training_with_gaps_learns_from_the_observed_entries(digits_gaps):
    X_train, X_test, train, test, hidden = digits_gaps
    nets = dict(hidden_layer_sizes=(128,), max_epochs=60, random_state=0,
                reconstruction_loss="bce")
    with_holes = AutoencoderTransformer(16, **nets).fit(train)
    complete = AutoencoderTransformer(16, **nets).fit(X_train)

    def observed_mse(model):
        X_hat = model.inverse_transform(model.transform(test))
        return np.mean((X_hat - test)[~np.isnan(test)] ** 2)

    assert observed_mse(with_holes) < 1.2 * observed_mse(complete)
    # and its imputations beat the column means on the hidden pixels
    filled = impute(with_holes, test)
    mean_filled = SimpleImputer().fit(train).transform(test)
    rmse = np.sqrt(np.mean((filled[hidden] - X_test[hidden]) ** 2))
    mean_rmse = np.sqrt(np.mean((mean_filled[hidden] - X_test[hidden]) ** 2))
    assert rmse < 0.8 * mean_rmse, (rmse, mean_rmse)
    assert np.array_equal(filled[~hidden], X_test[~hidden].astype(np.float64))


def test_multiple_imputation_varies_only_the_gaps(digits_gaps):
    _, _, train, test, hidden = digits_gaps
    vae = VAETransformer(4, hidden_layer_sizes=(64,), max_epochs=10, random_state=0).fit(train)
    draws = impute(vae, test[:50], n_draws=3, random_state=0)
    assert len(draws) == 3
    assert not np.allclose(draws[0][hidden[:50]], draws[1][hidden[:50]])
    np.testing.assert_array_equal(draws[0][~hidden[:50]], draws[2][~hidden[:50]])
    again = impute(vae, test[:50], n_draws=3, random_state=0)
    np.testing.assert_array_equal(again[1], draws[1])
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(16,), max_epochs=1).fit(train)
    with pytest.raises(ValueError, match=r"n_draws=3 needs a VAETransformer.*Use n_draws=None"):
        impute(ae, test, n_draws=3)


def test_frames_with_gaps_are_imputed_with_known_categories():
    rng = np.random.RandomState(0)
    t = rng.rand(400)
    frame = pd.DataFrame({"area": 50 + 100 * t + rng.normal(0, 3, 400),
                          "rooms": pd.array(np.round(1 + 4 * t).astype(int), dtype="Int64"),
                          "zone": np.where(t > 0.5, "A", "B")})
    gaps = frame.copy()
    gaps.loc[::5, "area"] = np.nan
    gaps.loc[1::5, "zone"] = np.nan
    gaps.loc[2::5, "rooms"] = pd.NA
    vae = VAETransformer(2, hidden_layer_sizes=(32,), max_epochs=60, random_state=0).fit(gaps)
    filled = impute(vae, gaps)
    assert filled.notna().all().all() and filled.dtypes.to_dict() == frame.dtypes.to_dict()
    assert set(filled["zone"]) == {"A", "B"}  # never the "missing" category
    pd.testing.assert_series_equal(filled.loc[3::5, "area"], frame.loc[3::5, "area"])
    hit_rate = (filled.loc[1::5, "zone"] == frame.loc[1::5, "zone"]).mean()
    assert hit_rate > 0.8  # the zone follows the area and rooms
    area_error = (filled.loc[::5, "area"] - frame.loc[::5, "area"]).abs().mean()
    assert area_error < 0.5 * (frame["area"] - frame["area"].mean()).abs().mean()


def test_the_imputer_in_a_pipeline(digits_gaps, digits_split):
    _, _, train, test, _ = digits_gaps
    y_train, y_test = digits_split[2], digits_split[3]
    imputer = AutoencoderImputer(AutoencoderTransformer(8, hidden_layer_sizes=(64,),
                                                        max_epochs=20, random_state=0))
    pipe = make_pipeline(imputer, Ridge()).fit(train, y_train)
    assert pipe.score(test, y_test) > 0.3
    assert pipe[0].get_feature_names_out().shape == (train.shape[1],)
    assert not np.isnan(pipe[0].transform(test)).any()


def test_a_warm_start_on_data_with_gaps_turns_the_mask_on(digits_gaps):
    X_train, _, train, _, _ = digits_gaps
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2, warm_start=True,
                                 random_state=0).fit(X_train)
    assert not est.net_.criterion_.missing
    est.fit(train)
    assert est.net_.criterion_.missing and np.isfinite(est.history_[:, "train_loss"]).all()


def test_a_model_with_gaps_pickles_without_device_tensors(digits_gaps):
    """Only skorch's device-handled attributes may hold tensors: any other CUDA tensor in
    the pickle breaks loading on a machine without CUDA (found with a GPU-trained model)."""
    import pickle

    import torch

    train = digits_gaps[2]
    est = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2, random_state=0).fit(train)
    est.transform(train)  # fills the per-device cache
    state = est.net_.__getstate__()
    tensors = [key for key, value in state.items() if torch.is_tensor(value)]
    assert tensors == []
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(train), est.transform(train))


def test_a_missing_indicator_model_encodes_scores_imputes_and_saves(digits_gaps, tmp_path):
    from skvae.persistence import load_model, save_model

    _, X_test, train, test, hidden = digits_gaps
    vae = VAETransformer(8, hidden_layer_sizes=(64,), max_epochs=5, random_state=0,
                         missing_indicator=True, noise="mask", noise_level=0.2).fit(train)
    assert vae.net_.module_.encoder[0].in_features == 2 * 64  # values and their mask
    Z = vae.transform(test)
    assert Z.shape == (len(test), 8) and np.isfinite(Z).all()
    assert np.isfinite(vae.score_samples(test)).all()
    filled = impute(vae, test)
    assert not np.isnan(filled).any() and np.array_equal(filled[~hidden], X_test[~hidden])
    # complete rows go through the same mask input (all observed)
    assert np.isfinite(vae.transform(X_test)).all()
    save_model(vae, tmp_path / "model.skvae")
    loaded = load_model(tmp_path / "model.skvae", device=vae.net_.device)  # same device
    np.testing.assert_array_equal(loaded.transform(test), Z)


def test_a_warm_start_cannot_add_a_missing_indicator(digits_gaps):
    train = digits_gaps[2]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(16,), max_epochs=1, random_state=0,
                                warm_start=True).fit(train)
    with pytest.raises(ValueError, match=r"missing_indicator=True \(fitted: False\) changed it"):
        ae.set_params(missing_indicator=True).fit(train)
