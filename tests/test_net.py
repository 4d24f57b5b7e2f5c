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
