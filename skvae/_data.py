"""The batched data path: whole-array tensors, batches as slices, inference in chunks.

skorch's default path builds every batch from per-sample ``Dataset.__getitem__``
calls and ``DataLoader`` collation. For the small models skvae trains, that host
work costs more than the arithmetic, so instead:

* the training array becomes **one tensor**, moved to the training device once per
  fit (:class:`RowDataset`);
* each training epoch draws one permutation (from torch's RNG, which the
  estimator seeds from ``random_state``) and yields **tensor slices** of it
  (:class:`BatchIterator`); evaluation batches are contiguous views;
* inference runs in large batches under :func:`torch.inference_mode` and gathers
  the result once (:func:`map_batches`).

These plug into skorch through its extension points (``dataset``,
``train_split``, ``get_iterator``): skorch still runs the training loop.
"""

from __future__ import annotations

import warnings

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


#: Share of the free device memory the training tensor may take; above it the data
#: stays in pinned host memory and each batch is copied to the device on the fly.
DEVICE_MEMORY_SHARE = 0.5


def as_float_tensor(X, device) -> torch.Tensor:
    """``X`` as a float32 tensor on ``device``; shares memory when ``X`` is float32 on the CPU.

    skvae never writes to its input tensors, so sharing a read-only array is safe.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X).to(device)


def training_tensor(X, device: torch.device) -> torch.Tensor:
    """The training array as one float32 tensor, on ``device`` when it fits there.

    On a GPU whose free memory cannot comfortably hold the data (see
    :data:`DEVICE_MEMORY_SHARE`), the tensor stays in pinned host memory instead and
    :class:`BatchIterator` copies each batch over asynchronously.
    """
    if device.type == "cuda":
        free_bytes, _ = torch.cuda.mem_get_info(device)
        if np.asarray(X).size * 4 > DEVICE_MEMORY_SHARE * free_bytes:
            return as_float_tensor(X, "cpu").pin_memory()  # pin_memory copies
    return as_float_tensor(X, device)


class RowDataset(torch.utils.data.Dataset):
    """All rows of an unsupervised data set as one tensor; each row is its own target.

    Unlike :class:`torch.utils.data.TensorDataset`, item ``i`` is the pair
    ``(X[i], X[i])``: an autoencoder reconstructs its input. ``__getitem__`` exists
    so that code expecting a ``Dataset`` still works; training never calls it (see
    :class:`BatchIterator`).
    """

    def __init__(self, X: torch.Tensor):
        self.X = X

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.X[i]

    def subset(self, index) -> RowDataset:
        """Rows ``index`` as a new dataset (one gather on the device)."""
        return RowDataset(self.X[torch.as_tensor(index, device=self.X.device)])


class BatchIterator:
    """Iterate over ``(X_batch, X_batch)`` pairs of a :class:`RowDataset`.

    Parameters
    ----------
    dataset : RowDataset
    batch_size : int
    shuffle : bool
        Draw a fresh permutation each time iteration starts (each epoch).

    device : torch.device or str or None
        Where batches go; ``None`` leaves them where the data lives. Only differs from
        the data's device when the data is streamed from pinned host memory.
    """

    def __init__(self, dataset: RowDataset, batch_size: int, shuffle: bool, device=None):
        self.X = dataset.X
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = self.X.device if device is None else torch.device(device)
        # Streamed: the data sits in (pinned) host memory, batches go to an accelerator.
        # Compared by type: "cuda" and "cuda:0" (or "cpu" and "cpu:0") are one device
        # spelled two ways, and the data was put on the training device if it fitted.
        self.streamed = self.X.device.type != self.device.type

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n, bs = len(self.X), self.batch_size
        order = torch.randperm(n, device=self.X.device) if self.shuffle else None
        for start in range(0, n, bs):
            xb = self.X[start:start + bs] if order is None else self.X[order[start:start + bs]]
            if self.streamed:
                xb = xb.pin_memory().to(self.device, non_blocking=True)
            yield xb, xb


class HoldoutSplit:
    """skorch ``train_split`` that holds out a fixed, pre-drawn set of rows.

    The estimator draws ``valid_index`` from its ``random_state``, so the split is
    reproducible and never hidden: it only exists when ``validation_fraction`` is set.
    """

    def __init__(self, valid_index: np.ndarray):
        self.valid_index = np.asarray(valid_index)

    def __call__(self, dataset: RowDataset, y=None, **fit_params):
        mask = np.ones(len(dataset), dtype=bool)
        mask[self.valid_index] = False
        return dataset.subset(np.flatnonzero(mask)), dataset.subset(self.valid_index)


def map_batches(fn, X, device, batch_size: int = INFERENCE_BATCH_SIZE) -> np.ndarray:
    """Apply ``fn`` (row-wise, tensor -> tensor) to ``X`` in chunks; return one float32 array.

    ``X`` is converted to float32 once (no copy when it already is, see
    :func:`as_float_tensor`); chunks are zero-copy views on the CPU and move to
    ``device`` one at a time. Every chunk has exactly ``batch_size`` rows (the last
    one zero-padded, see :data:`INFERENCE_BATCH_SIZE`). Outputs stay on the device
    and are concatenated and copied to the host once.
    """
    X_all = as_float_tensor(X, "cpu")
    n = len(X_all)
    outputs = []
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            chunk = X_all[start:start + batch_size].to(device, non_blocking=True)
            rows = len(chunk)
            if rows < batch_size:
                padding = chunk.new_zeros((batch_size - rows, *chunk.shape[1:]))
                chunk = torch.cat([chunk, padding])
            outputs.append(fn(chunk)[:rows])
        return torch.cat(outputs).cpu().numpy()


def evenly_spaced_rows(X, max_rows: int):
    """At most ``max_rows`` rows of ``X``, evenly spaced (deterministic, no RNG).

    Used to fit small post-training summaries (the AE's code density, the VAE's
    likelihood variance) at a bounded cost on large data.

    >>> import numpy as np
    >>> evenly_spaced_rows(np.arange(10)[:, None], 4).ravel()
    array([0, 3, 6, 9])
    """
    if len(X) <= max_rows:
        return X
    return X[np.linspace(0, len(X) - 1, max_rows).round().astype(int)]
