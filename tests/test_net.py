"""The private skorch net: losses read once per epoch, skorch's contract, stock callbacks."""

import sys

import numpy as np
import pytest
import torch
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    ProgressBar,
)
from torch.optim.lr_scheduler import StepLR

from skvae import AutoencoderTransformer, VAETransformer

#: Devices the exact-equality tests run on: the CPU, and the GPU where there is one.
DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def test_batch_history_matches_skorchs_layout(small_X):
    vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=2, batch_size=16,
                         random_state=0).fit(small_X)
    batches = vae.history_[-1, "batches"]
    assert [b["train_batch_size"] for b in batches] == [16, 16, 16, 12]
    losses = np.array([b["train_loss"] for b in batches])
    sizes = np.array([b["train_batch_size"] for b in batches])
    # skorch's PassthroughScoring turns the batch records into the epoch loss
    assert vae.history_[-1, "train_loss"] == pytest.approx((losses * sizes).sum() / sizes.sum())
    assert vae.history_[-1, "train_batch_count"] == 4


def test_no_host_sync_per_batch(small_X, monkeypatch):
    """Per-batch losses stay on the device; reading them back happens once per epoch.

    skorch's own ``run_single_epoch`` calls ``loss.item()`` after every batch; ours must
    not (torch's CPU Adam reads its CPU step counter, which is no device sync).
    """
    callers = []
    original = torch.Tensor.item

    def item(self):
        callers.append(sys._getframe(1).f_code.co_filename)
        return original(self)

    monkeypatch.setattr(torch.Tensor, "item", item)
    VAETransformer(hidden_layer_sizes=(8,), max_epochs=3, batch_size=8,
                   random_state=0).fit(small_X)
    assert [c for c in callers if "skorch" in c or "skvae" in c] == []
    assert any("optim" in c for c in callers)  # the spy works


def hand_written_training(X, seed, batch_size, epochs, device="cpu"):
    """The reference loop: one tensor, randperm slices, Adam, same module and loss."""
    from skvae.losses import ReconstructionLoss
    from skvae.modules import Autoencoder

    with torch.random.fork_rng(devices=[0] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max)))
        module = Autoencoder(X.shape[1], 2, hidden_layer_sizes=(8,))
        mean = X.mean(axis=0, dtype=np.float64).astype(np.float32)
        module.init_from_mean(mean, output=mean)  # centred input, output starts at the mean
        module = module.to(device)
        criterion = ReconstructionLoss("mse")
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        data = torch.tensor(X, dtype=torch.float32, device=device)
        # the shuffle's own generator, seeded from torch's RNG once the module is built
        shuffle = torch.Generator(device=device).manual_seed(int(torch.randint(2**62, (1,))))
        for _ in range(epochs):
            order = torch.randperm(len(data), device=device, generator=shuffle)
            for start in range(0, len(data), batch_size):
                xb = data[order[start:start + batch_size]]
                optimizer.zero_grad()
                criterion(module(xb), xb).backward()
                optimizer.step()
    return module


@pytest.mark.parametrize("device", DEVICES)
def test_fast_path_trains_exactly_like_a_hand_written_loop(small_X, device):
    """The batched data path changes speed, not results: same seed, same weights."""
    ae = AutoencoderTransformer(hidden_layer_sizes=(8,), batch_size=16, max_epochs=4,
                                device=device, random_state=3).fit(small_X)
    reference = hand_written_training(small_X, seed=3, batch_size=16, epochs=4, device=device)
    for ours, theirs in zip(ae.net_.module_.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_data_too_large_for_the_gpu_streams_from_pinned_memory(small_X, monkeypatch):
    from skvae import _data

    monkeypatch.setattr(_data, "DEVICE_MEMORY_SHARE", 0.0)
    assert _data.training_tensor(small_X, torch.device("cuda")).is_pinned()
    streamed = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=3, device="cuda",
                                      random_state=0).fit(small_X)
    monkeypatch.setattr(_data, "DEVICE_MEMORY_SHARE", 0.5)
    resident = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=3, device="cuda",
                                      random_state=0).fit(small_X)
    # batch orders differ (CPU vs CUDA permutation), so compare the training, not the bits
    streamed_loss = streamed.history_[:, "train_loss"]
    resident_loss = resident.history_[:, "train_loss"]
    assert streamed_loss[-1] < streamed_loss[0]
    assert streamed_loss[-1] == pytest.approx(resident_loss[-1], rel=0.05)


def test_no_tensors_outside_skorchs_device_mapped_state(small_X):
    """skorch maps module, criterion and optimizer to the CPU when unpickling without
    CUDA; any other tensor left on the net (e.g. a loss accumulator) would fail there."""
    import io
    import pickle

    vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=4, validation_fraction=0.25,
                         n_iter_no_change=1, random_state=0).fit(small_X)
    state = vae.net_.__getstate__()
    state.pop("__cuda_dependent_attributes__")
    found = []

    class TensorSpy(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, torch.Tensor):
                found.append(obj.shape)
            return None

    TensorSpy(io.BytesIO()).dump(state)
    assert found == []
    # the spy does see tensors where they are expected
    TensorSpy(io.BytesIO()).dump(vae.net_.module_.state_dict())
    assert found


# ---------------------------------------------------------------- skorch's contract
def test_training_steps_go_through_infer(small_X, monkeypatch):
    """A user's ``infer`` override (skorch's extension point) sees every step."""
    from skvae._net import AutoencoderNet

    calls = []
    original = AutoencoderNet.infer

    def infer(self, x, **fit_params):
        calls.append((len(x), self.module_.training))
        return original(self, x, **fit_params)

    monkeypatch.setattr(AutoencoderNet, "infer", infer)
    VAETransformer(hidden_layer_sizes=(8,), max_epochs=2, batch_size=16,
                   validation_fraction=0.25, random_state=0).fit(small_X)
    # per epoch: 45 training rows in batches of 16, then 15 validation rows in one batch
    assert calls == [(16, True), (16, True), (13, True), (15, False)] * 2


class Recorder(Callback):
    """Writes down what skorch hands a callback per batch and per epoch."""

    def initialize(self):
        self.batches, self.epochs = [], []
        return self

    def on_batch_end(self, net, batch=None, training=None, loss=None, y_pred=None, **kwargs):
        row = net.history[-1, "batches", -1]
        self.batches.append((training, type(loss), row.get("train_loss", row.get("valid_loss")),
                             len(batch[0]), batch[0] is batch[1]))

    def on_epoch_end(self, net, **kwargs):
        self.epochs.append(sorted(net.history[-1]))


def test_what_callbacks_see_per_batch_and_per_epoch(small_X):
    vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                         validation_fraction=0.25, random_state=0,
                         callbacks=[("recorder", Recorder())]).fit(small_X)
    recorder = dict(vae.net_.callbacks_)["recorder"]
    # per batch: the loss tensor, its value already in the batch history (a float), X as y
    assert [(t, n, same) for t, _, _, n, same in recorder.batches] == [
        (True, 32, True), (True, 13, True), (False, 15, True)] * 2
    assert all(kind is torch.Tensor and isinstance(value, float)
               for _, kind, value, _, _ in recorder.batches)
    # per epoch, by on_epoch_end: losses, their terms, batch counts, duration, KL weight
    assert recorder.epochs[0] == [
        "batches", "dur", "epoch", "kl_weight", "train_batch_count", "train_kl",
        "train_kl_dims", "train_loss", "train_loss_best", "train_recon", "valid_batch_count",
        "valid_kl", "valid_kl_dims", "valid_loss", "valid_loss_best", "valid_recon"]


# ---------------------------------------------------------------- skorch's stock callbacks
FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)


def test_progress_bar_shows_each_batch_loss(small_X, capsys):
    class SeenProgressBar(ProgressBar):  # skorch's bar, recording what it would display
        def on_batch_end(self, net, **kwargs):
            super().on_batch_end(net, **kwargs)
            self.shown = [*getattr(self, "shown", []), self._get_postfix_dict(net)]

    ae = AutoencoderTransformer(**FAST, batch_size=16, callbacks=[("bar", SeenProgressBar())])
    ae.fit(small_X)
    bar = dict(ae.net_.callbacks_)["bar"]
    batch_losses = [b["train_loss"] for epoch in ae.history_ for b in epoch["batches"]]
    assert [shown["train_loss"] for shown in bar.shown] == batch_losses
    assert len(batch_losses) == 3 * 4 and "it/s" in capsys.readouterr().err


def test_checkpoint_saves_the_best_epochs_weights(small_X, tmp_path):
    ae = AutoencoderTransformer(**FAST, callbacks=[
        Checkpoint(monitor="train_loss_best", dirname=str(tmp_path))]).fit(small_X)
    assert ae.history_[:, "event_cp"] == [True, True, True]  # the loss fell every epoch
    saved = AutoencoderTransformer(**FAST).fit(small_X)  # same seed: the same weights
    saved.net_.load_params(f_params=str(tmp_path / "params.pt"))
    np.testing.assert_array_equal(saved.transform(small_X), ae.transform(small_X))


def test_lr_scheduler_steps_the_optimizer(small_X):
    ae = AutoencoderTransformer(**FAST, lr=1e-2, callbacks=[
        LRScheduler(policy=StepLR, step_size=1, gamma=0.5)]).fit(small_X)
    np.testing.assert_allclose(ae.history_[:, "event_lr"], [1e-2, 5e-3, 2.5e-3])
    assert ae.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1.25e-3)


def test_users_early_stopping_on_the_validation_loss(small_X):
    vae = VAETransformer(hidden_layer_sizes=(8,), max_epochs=200, lr=3e-2,
                         validation_fraction=0.25, random_state=0,
                         callbacks=[EarlyStopping(patience=2)]).fit(small_X)
    valid = vae.history_[:, "valid_loss"]
    assert vae.n_iter_ < 200
    assert min(valid[-2:]) >= min(valid[:-2])  # stopped after 2 epochs without progress


def test_epoch_scoring_on_the_reconstruction(small_X):
    ae = AutoencoderTransformer(**FAST, callbacks=[
        EpochScoring("neg_mean_squared_error", on_train=True, name="train_nmse")]).fit(small_X)
    # predict() returns decoder means, so the scorer sees the autoencoder's own loss
    np.testing.assert_allclose(ae.history_[:, "train_nmse"],
                               -np.asarray(ae.history_[:, "train_loss"]), rtol=1e-5)


@pytest.mark.parametrize("callback, reads", [
    (EarlyStopping(), "'valid_loss'"),
    (Checkpoint(dirname="unused"), "'valid_loss_best'"),
    (EpochScoring("neg_mean_squared_error"), r"the validation rows \(on_train=False\)"),
])
def test_validation_callbacks_without_a_validation_split_are_a_clear_error(
        small_X, callback, reads):
    name = type(callback).__name__
    with pytest.raises(ValueError, match=rf"callbacks\[0\] \({name}\) reads {reads}, but "
                                         r"nothing is held out for validation "
                                         r"\(validation_fraction=None\). Set "
                                         r"validation_fraction"):
        AutoencoderTransformer(**FAST, callbacks=[callback]).fit(small_X)
