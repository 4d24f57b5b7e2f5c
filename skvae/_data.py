"""The batched data path: whole-array tensors, batches as slices, inference in chunks.

skorch's default path builds every batch from per-sample ``Dataset.__getitem__``
calls and ``DataLoader`` collation. For the small models skvae trains, that host
work costs more than the arithmetic, so instead:

* the training array becomes **one tensor**, moved to the training device once per
  fit (:class:`TensorDataset`);
* each training epoch draws one permutation (from torch's RNG, which the
  estimator seeds from ``random_state``) and yields **tensor slices** of it
  (:class:`BatchIterator`); evaluation batches are contiguous views;
* inference runs in large batches under :func:`torch.inference_mode` and gathers
  the result once (:func:`map_batches`).

These plug into skorch through its extension points (``dataset``,
``train_split``, ``get_iterator``): skorch still runs the training loop.
"""

from __future__ import annotations

import numpy as np
import torch

#: Rows per forward pass at inference time: large enough to amortise per-call
#: overhead, small enough to keep activations of wide models in memory. Every
#: inference pass has exactly this many rows (the last chunk is zero-padded):
#: BLAS libraries pick kernels, blockings and thread splits by matrix shape, so
#: float32 results for a row could otherwise change in the last bit with the
#: number of other rows in the call. A fixed shape makes each row's output a
#: function of that row alone (scikit-learn's subset-invariance check).
INFERENCE_BATCH_SIZE = 1024


def as_float_tensor(X, device) -> torch.Tensor:
    """Copy a 2-D array to ``device`` as float32 (a copy, so read-only inputs are safe)."""
    return torch.tensor(np.asarray(X), dtype=torch.float32, device=device)


class TensorDataset(torch.utils.data.Dataset):
    """All rows of an unsupervised data set as one tensor.

    ``__getitem__`` exists so that code expecting a ``Dataset`` still works;
    training never calls it (see :class:`BatchIterator`).
    """

    def __init__(self, X: torch.Tensor):
        self.X = X

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.X[i]

    def subset(self, index) -> TensorDataset:
        """Rows ``index`` as a new dataset (one gather on the device)."""
        return TensorDataset(self.X[torch.as_tensor(index, device=self.X.device)])


class BatchIterator:
    """Iterate over ``(X_batch, X_batch)`` pairs of a :class:`TensorDataset`.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    shuffle : bool
        Draw a fresh permutation each time iteration starts (each epoch).
    """

    def __init__(self, dataset: TensorDataset, batch_size: int, shuffle: bool):
        self.X = dataset.X
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n, bs = len(self.X), self.batch_size
        if self.shuffle:
            order = torch.randperm(n, device=self.X.device)
            for start in range(0, n, bs):
                xb = self.X[order[start:start + bs]]
                yield xb, xb
        else:
            for start in range(0, n, bs):
                xb = self.X[start:start + bs]
                yield xb, xb


class HoldoutSplit:
    """skorch ``train_split`` that holds out a fixed, pre-drawn set of rows.

    The estimator draws ``valid_index`` from its ``random_state``, so the split is
    reproducible and never hidden: it only exists when ``validation_fraction`` is set.
    """

    def __init__(self, valid_index: np.ndarray):
        self.valid_index = np.asarray(valid_index)

    def __call__(self, dataset: TensorDataset, y=None, **fit_params):
        mask = np.ones(len(dataset), dtype=bool)
        mask[self.valid_index] = False
        return dataset.subset(np.flatnonzero(mask)), dataset.subset(self.valid_index)


def map_batches(fn, X, device, batch_size: int = INFERENCE_BATCH_SIZE) -> np.ndarray:
    """Apply ``fn`` (row-wise, tensor -> tensor) to ``X`` in chunks; return one float32 array.

    Chunks of exactly ``batch_size`` rows (the last one zero-padded, see
    :data:`INFERENCE_BATCH_SIZE`) move to ``device`` one at a time; outputs stay
    on the device and are concatenated and copied to the host once.
    """
    X = np.asarray(X)
    n = len(X)
    outputs = []
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            chunk = as_float_tensor(X[start:start + batch_size], device)
            rows = len(chunk)
            if rows < batch_size:
                padding = chunk.new_zeros((batch_size - rows, *chunk.shape[1:]))
                chunk = torch.cat([chunk, padding])
            outputs.append(fn(chunk)[:rows])
        return torch.cat(outputs).cpu().numpy()
