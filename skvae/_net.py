"""Private skorch ``NeuralNet`` subclass that trains skvae's modules.

Only skorch's small hooks are overridden (``get_iterator``, ``get_loss``,
``run_single_epoch``); ``fit`` and ``fit_loop`` stay skorch's, so callbacks,
history and checkpointing work as skorch users expect.

* ``get_iterator`` returns :class:`skvae._data.BatchIterator` (tensor slices).
* ``train_step_single`` skips skorch's per-step mode switch and batch conversion
  (the mode is set once per epoch; batches already are tensors on the device).
* ``get_loss`` reconstructs ``X`` (the target is the input itself) and adds the
  per-row loss terms (reconstruction, KL) to on-device running sums.
* ``run_single_epoch`` keeps per-batch losses on the device and reads them back
  **once per epoch** (skorch's version calls ``.item()`` after every batch, a
  host sync), then writes them to the batch history as skorch would, and
  records the epoch means of the terms (``train_recon``, ``train_kl``, ...).
  A non-finite epoch loss stops training with an error.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet

from ._data import BatchIterator


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    Raised by ``fit`` at the end of the epoch whose loss is not finite; the estimator
    keeps the state it had before ``fit``. A subclass of :class:`ValueError`.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import AutoencoderTransformer, TrainingDivergedError
    >>> X = np.full((10, 4), 1e30)  # squared errors overflow float32
    >>> try:
    ...     AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2).fit(X)
    ... except TrainingDivergedError as error:
    ...     print(str(error).split(":")[0])
    The train loss became inf in epoch 1
    """


class AutoencoderNet(NeuralNet):
    """skorch net whose target is its input; see the module docstring."""

    def get_iterator(self, dataset, training=False):
        return BatchIterator(dataset, self.batch_size, shuffle=training, device=self.device)

    def train_step_single(self, batch, **fit_params):
        # skorch's version also re-sets train mode and converts the batch on every
        # step; here the mode is set once per epoch and batches are device tensors
        Xi = batch[0]
        y_pred = self.module_(Xi, **fit_params)
        loss = self.get_loss(y_pred, Xi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        terms = self.criterion_.terms(y_pred, X)
        for key, values in terms.items():
            total = values.detach().sum()
            self._term_sums[key] = self._term_sums.get(key, 0) + total
        return self.criterion_.combine(terms, training=training)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        self._term_sums = {}
        self._set_training(training)
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self._record_epoch(prefix, losses, sizes)

    def _record_epoch(self, prefix, losses, sizes):
        keys = list(self._term_sums)
        # the epoch's only device -> host transfer
        values = torch.stack(losses + [self._term_sums[k] for k in keys]).tolist()
        # no device tensors may outlive the epoch: a pickled net must load without CUDA
        self._term_sums = {}
        batch_rows = self.history[-1]["batches"][-len(losses):]
        for row, loss, size in zip(batch_rows, values, sizes, strict=False):
            row[prefix + "_loss"] = loss
            row[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(losses))
        n_rows = sum(sizes)
        for key, total in zip(keys, values[len(losses):], strict=True):
            self.history.record(f"{prefix}_{key}", total / n_rows)
        epoch_loss = sum(v * s for v, s in zip(values, sizes, strict=False)) / n_rows
        if not math.isfinite(epoch_loss):
            raise TrainingDivergedError(
                f"The {prefix} loss became {epoch_loss} in epoch {len(self.history)}: "
                "training diverged. Lower `lr`, scale the input features "
                "(e.g. StandardScaler or MinMaxScaler), or lower `beta`."
            )
