"""The private skorch net: losses read once per epoch, history as skorch writes it."""

import sys

import numpy as np
import pytest
import torch

from skvae import VAETransformer


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


def hand_written_training(X, seed, batch_size, epochs):
    """The reference loop: one tensor, randperm slices, Adam, same module and loss."""
    from skvae.losses import ReconstructionLoss
    from skvae.modules import Autoencoder

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max)))
        module = Autoencoder(X.shape[1], 2, hidden_layer_sizes=(8,))
        criterion = ReconstructionLoss("mse")
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        data = torch.tensor(X, dtype=torch.float32)
        for _ in range(epochs):
            order = torch.randperm(len(data))
            for start in range(0, len(data), batch_size):
                xb = data[order[start:start + batch_size]]
                optimizer.zero_grad()
                criterion(module(xb), xb).backward()
                optimizer.step()
    return module


def test_fast_path_trains_exactly_like_a_hand_written_loop(small_X):
    """The batched data path changes speed, not results: same seed, same weights."""
    from skvae import AutoencoderTransformer

    ae = AutoencoderTransformer(hidden_layer_sizes=(8,), batch_size=16, max_epochs=4,
                                random_state=3).fit(small_X)
    reference = hand_written_training(small_X, seed=3, batch_size=16, epochs=4)
    for ours, theirs in zip(ae.net_.module_.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_data_too_large_for_the_gpu_streams_from_pinned_memory(small_X, monkeypatch):
    from skvae import AutoencoderTransformer, _data

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
