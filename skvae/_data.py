"""The batched data path: whole-array tensors, batches as slices, inference in chunks.

skorch's default path builds every batch from per-sample ``Dataset.__getitem__``
calls and ``DataLoader`` collation. For the small models skvae trains, that host
work costs more than the arithmetic, so instead:

* the training array becomes **one tensor**, moved to the training device once per
  fit (:class:`RowDataset`), unless a float32 copy would be too big or the array is a
  memory-mapped file: then batches are converted as they are drawn (:class:`HostRows`);
* each training epoch draws one permutation (from torch's RNG, which the
  estimator seeds from ``random_state``) and yields **tensor slices** of it
  (:class:`BatchIterator`); evaluation batches are contiguous views;
* inference runs in large batches under :func:`torch.inference_mode` and gathers
  the result once (:func:`map_batches`).

These plug into skorch through its extension points (``dataset``,
``train_split``, ``get_iterator``): skorch still runs the training loop.
"""

from __future__ import annotations

import ctypes
import functools
import warnings

import numpy as np
import scipy.sparse as sp
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

#: Inference outputs kept on the device before they are copied into the (preallocated)
#: host result: few transfers, and bounded device memory for any number of rows.
OUTPUT_FLUSH_BYTES = 64 * 2**20


def as_float_tensor(X, device) -> torch.Tensor:
    """``X`` as a float32 tensor on ``device``; shares memory when ``X`` is float32 on the CPU.

    skvae never writes to its input tensors, so sharing a read-only array is safe.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X).to(device)


def training_tensor(X, device: torch.device):
    """The training rows on ``device`` when they fit there: a float32 tensor, or
    :class:`SparseRows` for a sparse matrix (densified batch by batch).

    On a GPU whose free memory cannot comfortably hold the data (see
    :data:`DEVICE_MEMORY_SHARE`), the rows stay in (pinned) host memory instead and
    :class:`BatchIterator` copies each batch over asynchronously. Rows that would need
    a float32 copy of more than :data:`COPY_MAX_BYTES`, or that live in a memory-mapped
    file, are never copied whole: :class:`HostRows` converts each batch as it is drawn.
    """
    if not sp.issparse(X) and needs_lazy_rows(X):
        return HostRows(X)
    n_bytes = SparseRows.nbytes(X) if sp.issparse(X) else np.asarray(X).size * 4
    fits = True
    if device.type == "cuda":
        fits = n_bytes <= DEVICE_MEMORY_SHARE * torch.cuda.mem_get_info(device)[0]
    if sp.issparse(X):
        return SparseRows(X, device if fits else "cpu")
    if not fits:
        return as_float_tensor(X, "cpu").pin_memory()  # pin_memory copies
    return as_float_tensor(X, device)


#: The largest float32 copy of the training rows ``fit`` makes (1 GiB); beyond it, and
#: for memory-mapped files, batches are converted one at a time (:class:`HostRows`).
COPY_MAX_BYTES = 2**30


def is_memory_mapped(X) -> bool:
    """Whether ``X`` (or the array it is a view of) is a :class:`numpy.memmap`."""
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return True
        X = X.base
    return False


def needs_lazy_rows(X) -> bool:
    """Whether the rows ``X`` should stay as they are (:class:`HostRows`) instead of
    becoming one float32 tensor: a float32 copy would be needed and be too big
    (:data:`COPY_MAX_BYTES`), or ``X`` is a memory-mapped file that is not float32."""
    X = np.asarray(X)
    needs_copy = X.dtype != np.float32 or not X.flags.c_contiguous
    return needs_copy and (X.size * 4 > COPY_MAX_BYTES or is_memory_mapped(X))


#: Training batches between two :func:`release_freed_memory` calls (each takes
#: microseconds to a millisecond; every 100 batches, one epoch of 300,000 MNIST rows grows
#: RSS by 122 MB instead of 306 MB).
RELEASE_EVERY_BATCHES = 100


def release_freed_memory() -> None:
    """Give memory that is free but still held by glibc's heap back to the system.

    A training epoch frees and reallocates activations every batch while small Python
    objects live on between them; glibc's heap then keeps the freed space (measured:
    +290 MB of RSS over one epoch of 300,000 rows, 210 MB of it returned by this call),
    and peak memory grows with the rows of an epoch. ``malloc_trim`` returns it, as
    Dask's workers do. A no-op where the C library is not glibc.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library is not glibc."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


class HostRows:
    """Rows of a host array of any numeric dtype (a ``np.memmap`` too), converted to
    float32 only when indexed: memory stays that of the array plus one batch.

    ``rows[index]`` (an index tensor or a slice) gathers the rows in the given order
    and returns a float32 CPU tensor: the same values, in the same order, as indexing
    a float32 copy, so training is the same either way. ``subset`` keeps a row index
    instead of copying. ``len``, ``device`` (the CPU) and ``shape`` work as for a tensor.
    """

    def __init__(self, X, index=None):
        self.array = np.asarray(X)
        self.index = None if index is None else np.asarray(index)
        n = len(self.array) if self.index is None else len(self.index)
        self.shape = (n, *self.array.shape[1:])
        self.device = torch.device("cpu")

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, slice):
            rows = np.arange(*index.indices(len(self)))
        else:
            rows = torch.as_tensor(index).reshape(-1).numpy()
        if self.index is not None:
            rows = self.index[rows]
        out = np.empty((len(rows), *self.array.shape[1:]), dtype=np.float32)
        if len(rows) and isinstance(index, slice) and self.index is None \
                and index.step in (None, 1):
            np.copyto(out, self.array[rows[0]:rows[-1] + 1], casting="unsafe")  # one read
        else:
            np.copyto(out, self.array[rows], casting="unsafe")
        return torch.from_numpy(out)

    def subset(self, index) -> HostRows:
        """Rows ``index`` (positions in these rows), without copying the array."""
        index = np.asarray(index)
        return HostRows(self.array, index if self.index is None else self.index[index])


class SparseRows:
    """A sparse matrix's rows on a device; indexing gathers rows into a dense float32 tensor.

    The CSR arrays become three tensors (shared with the float32 CSR copy on the CPU,
    copied once to a GPU); ``rows[index]`` (an index tensor or a slice) scatters the
    selected rows' stored values into a zero tensor of ``(len(index), n_features)``
    on the same device, so only one batch is ever dense (as skorch densifies sparse
    input per batch). ``len``, ``device`` and ``shape`` work as for a tensor.
    """

    def __init__(self, X, device):
        self.csr = sp.csr_matrix(X, dtype=np.float32)
        if not self.csr.has_canonical_format:  # duplicate entries must add up: on a copy
            self.csr = self.csr.copy()
            self.csr.sum_duplicates()
        self.shape = self.csr.shape
        self.device = torch.device(device)
        self.crow = torch.from_numpy(self.csr.indptr.astype(np.int64)).to(self.device)
        self.col = torch.from_numpy(self.csr.indices).to(self.device)
        self.val = torch.from_numpy(self.csr.data).to(self.device)

    @staticmethod
    def nbytes(X) -> int:
        """Bytes of the tensors a sparse matrix becomes."""
        return X.nnz * 8 + (X.shape[0] + 1) * 8

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, slice):
            index = torch.arange(*index.indices(len(self)), device=self.device)
        index = torch.as_tensor(index, device=self.device).reshape(-1)
        starts = self.crow[index]
        counts = self.crow[index + 1] - starts
        rows = torch.repeat_interleave(torch.arange(len(index), device=self.device), counts)
        first = torch.cumsum(counts, 0) - counts  # where each row's entries start in the batch
        offsets = (torch.arange(len(rows), device=self.device)
                   + torch.repeat_interleave(starts - first, counts))
        dense = torch.zeros((len(index), self.shape[1]), device=self.device)
        dense[rows, self.col[offsets].long()] = self.val[offsets]
        return dense

    def subset(self, index) -> SparseRows:
        """Rows ``index`` as new sparse rows on the same device."""
        return SparseRows(self.csr[np.asarray(index)], self.device)


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
        """Rows ``index`` as a new dataset (one gather on the device; sparse stays sparse,
        host rows stay unconverted)."""
        if isinstance(self.X, (SparseRows, HostRows)):
            return RowDataset(self.X.subset(index))
        return RowDataset(self.X[torch.as_tensor(index, device=self.X.device)])


class BatchIterator:
    """Iterate over ``(X_batch, X_batch)`` pairs of a :class:`RowDataset`.

    Parameters
    ----------
    dataset : RowDataset
    batch_size : int
        Rows per (global) batch.
    shuffle : bool
        Draw a fresh permutation each time iteration starts (each epoch).
    device : torch.device or str or None
        Where batches go; ``None`` leaves them where the data lives. Only differs from
        the data's device when the data is streamed from pinned host memory.
    generator : torch.Generator or None
        Draws the permutations (on the data's device); None uses torch's global RNG.
        Every rank of a data-parallel fit seeds one identically.
    world : skvae.distributed.World or None
        With a process group: each batch of ``batch_size`` rows is split across the
        ranks and this rank gets its shard (see :meth:`global_sizes`).
    """

    def __init__(self, dataset: RowDataset, batch_size: int, shuffle: bool, device=None,
                 generator=None, world=None):
        self.X = dataset.X
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.world = world
        self.device = self.X.device if device is None else torch.device(device)
        # Streamed: the data sits in (pinned) host memory, batches go to an accelerator.
        # Compared by type: "cuda" and "cuda:0" (or "cpu" and "cpu:0") are one device
        # spelled two ways, and the data was put on the training device if it fitted.
        self.streamed = self.X.device.type != self.device.type

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def global_sizes(self) -> list[int]:
        """Rows of each (global) batch of an epoch, over all ranks."""
        n, bs = len(self.X), self.batch_size
        return [min(bs, n - start) for start in range(0, n, bs)]

    def __iter__(self):
        n, bs = len(self.X), self.batch_size
        order = (torch.randperm(n, device=self.X.device, generator=self.generator)
                 if self.shuffle else None)
        for start in range(0, n, bs):
            if self.world is not None:
                index = (order[start:start + bs] if order is not None else
                         torch.arange(start, min(start + bs, n), device=self.X.device))
                xb = self.X[self.world.shard(index)]
            else:
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

    ``X`` (an array or a sparse matrix) is converted to float32 chunk by chunk, into
    one reused buffer (float32 C-contiguous rows are used in place): memory beyond the
    input and the result stays bounded, and nothing is left behind. Every chunk has
    exactly ``batch_size`` rows (the last one zero-padded, see
    :data:`INFERENCE_BATCH_SIZE`). Outputs go into one preallocated host array: on the
    CPU at once (many small long-lived allocations would fragment the heap, which then
    keeps its memory), from an accelerator in transfers of :data:`OUTPUT_FLUSH_BYTES`.
    """
    n, device = X.shape[0], torch.device(device)
    chunks = _host_chunks(X, batch_size)
    result, pending, pending_bytes, done = None, [], 0, 0
    with torch.inference_mode():
        for start, chunk in zip(range(0, max(n, 1), batch_size), chunks, strict=False):
            rows = min(batch_size, n - start)
            out = fn(chunk.to(device, non_blocking=True))[:rows]
            if result is None:
                result = np.empty((n, *out.shape[1:]), dtype=np.float32)
            pending.append(out)
            pending_bytes += out.numel() * 4
            if device.type == "cpu" or pending_bytes >= OUTPUT_FLUSH_BYTES or start + rows >= n:
                block = torch.cat(pending).cpu().numpy() if len(pending) > 1 else \
                    pending[0].cpu().numpy()
                result[done:done + len(block)] = block
                done, pending, pending_bytes = done + len(block), [], 0
    return result


def _host_chunks(X, batch_size: int):
    """``batch_size``-row float32 CPU tensors of ``X`` (the last zero-padded): views of
    float32 C-contiguous rows when whole, else conversions into one reused buffer."""
    n = X.shape[0]
    buffer = None
    for start in range(0, max(n, 1), batch_size):
        rows = X[start:start + batch_size]
        if (not sp.issparse(rows) and rows.shape[0] == batch_size and rows.dtype == np.float32
                and rows.flags.c_contiguous):
            yield as_float_tensor(rows, "cpu")
            continue
        if buffer is None:
            buffer = np.zeros((batch_size, *X.shape[1:]), dtype=np.float32)
        count = rows.shape[0]
        np.copyto(buffer[:count], rows.toarray() if sp.issparse(rows) else rows,
                  casting="unsafe")
        buffer[count:] = 0
        yield torch.from_numpy(buffer)


def evenly_spaced_rows(X, max_rows: int):
    """At most ``max_rows`` rows of ``X``, evenly spaced (deterministic, no RNG).

    Used to fit small post-training summaries (the AE's code density, the VAE's
    likelihood variance) at a bounded cost on large data.

    >>> import numpy as np
    >>> evenly_spaced_rows(np.arange(10)[:, None], 4).ravel()
    array([0, 3, 6, 9])
    """
    if X.shape[0] <= max_rows:
        return X
    return X[np.linspace(0, X.shape[0] - 1, max_rows).round().astype(int)]
