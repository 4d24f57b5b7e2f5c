"""save_model / load_model: tensors + JSON, loadable with torch.load(weights_only=True)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from skvae import AutoencoderTransformer, VAETransformer
from skvae.persistence import FORMAT_VERSION, load_model, save_model


def table(n=120, seed=0):
    rng = np.random.RandomState(seed)
    t = rng.rand(n)
    frame = pd.DataFrame({"area": 50 + 100 * t, "rooms": pd.array(np.round(1 + 4 * t).astype(int),
                                                                   dtype="Int64"),
                          "zone": np.where(t > 0.5, "A", "B"),
                          "kind": pd.Categorical(rng.choice(["flat", "house"], n))})
    frame.loc[::7, "area"] = np.nan
    frame.loc[::9, "zone"] = None
    return frame


MODELS = {
    "dense AE": (lambda: AutoencoderTransformer(3, hidden_layer_sizes=(16,), max_epochs=3,
                                                random_state=0), "digits"),
    "dense VAE bce": (lambda: VAETransformer(3, hidden_layer_sizes=(16,), max_epochs=3,
                                             reconstruction_loss="bce", random_state=0), "digits"),
    "conv VAE": (lambda: VAETransformer(2, architecture="conv", image_shape=(1, 8, 8),
                                        conv_channels=(4, 8), max_epochs=2, random_state=0),
                 "digits"),
    "DataFrame VAE": (lambda: VAETransformer(2, hidden_layer_sizes=(16,), max_epochs=3,
                                             random_state=0), "table"),
    "DataFrame AE": (lambda: AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_epochs=3,
                                                    random_state=0), "table"),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_is_bitwise(name, digits_split, tmp_path):
    make, data = MODELS[name]
    X = digits_split[0][:300] if data == "digits" else table()
    est = make().fit(X)
    save_model(est, tmp_path / "model.skvae")
    raw = torch.load(tmp_path / "model.skvae", weights_only=True)  # no code runs
    assert raw["format_version"] == FORMAT_VERSION and json.loads(raw["params"])
    loaded = load_model(tmp_path / "model.skvae", device=est.net_.device)  # same device:
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))  # bitwise
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    a, b = loaded.sample(5, random_state=1), est.sample(5, random_state=1)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)
    assert type(loaded) is type(est) and loaded.get_params() == est.get_params()
    assert loaded.n_iter_ == est.n_iter_


def test_gaps_and_versions(tmp_path):
    X = np.random.RandomState(0).rand(50, 4)
    X[::3, 1] = np.nan
    est = VAETransformer(hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(X)
    save_model(est, tmp_path / "m")
    loaded = load_model(tmp_path / "m", device=est.net_.device)
    assert loaded.net_.criterion_.missing
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    saved = torch.load(tmp_path / "m", weights_only=True)
    saved["format_version"] = FORMAT_VERSION + 1
    torch.save(saved, tmp_path / "future")
    with pytest.raises(ValueError, match=rf"has skvae model format {FORMAT_VERSION + 1} .*reads "
                                         rf"format {FORMAT_VERSION}\. Load it with the skvae "
                                         "version that wrote it, or refit"):
        load_model(tmp_path / "future")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other")
    with pytest.raises(ValueError,
                       match=r"is not a file written by skvae\.persistence\.save_model"):
        load_model(tmp_path / "other")


def test_an_optimizer_class_cannot_be_saved(tmp_path):
    est = AutoencoderTransformer(hidden_layer_sizes=(4,), max_epochs=1, optimizer=torch.optim.SGD)
    est.fit(np.random.RandomState(0).rand(20, 3))
    with pytest.raises(ValueError, match=r"optimizer=<class 'torch.optim.sgd.SGD'> is a class.*"
                                         r"Use an optimizer name"):
        save_model(est, tmp_path / "m")
    assert not (tmp_path / "m").exists()
