"""Streaming training (``partial_fit``): per-call seeds, running fill values and a
bounded, seeded sample of the rows seen so far.

``partial_fit`` sees the data a chunk at a time and never all of it, but the fitted
summaries (the autoencoder's code density, the VAE's noise variance) and the values
that fill missing entries are statistics of *all* the rows. :class:`RowStream` keeps
what they need in bounded memory:

* per-column sums and counts of the observed values (the running column means that
  fill missing entries, as :class:`~sklearn.preprocessing.StandardScaler`'s
  ``partial_fit`` keeps running moments);
* a uniform sample without replacement of up to ``capacity`` rows of everything seen
  (priority sampling: each row gets a random key, the smallest keys are kept), drawn
  from the call's seed, so the same chunks with the same ``random_state`` give the
  same sample. The summaries are computed from it, as ``fit`` computes them from up
  to the same number of its rows.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._validation import column_sums

#: Largest int32: the range of the seeds skvae draws.
_SEED_RANGE = np.iinfo(np.int32).max


def call_seed(random_state, calls: int) -> int:
    """The seed of ``partial_fit`` call number ``calls`` (0: the seed ``fit`` would draw,
    so a first call trains as ``fit`` with ``max_epochs=1``).

    An int ``random_state`` gives a fixed sequence of seeds, a ``RandomState`` draws a
    new one per call, None draws from NumPy's global generator.
    """
    base = int(check_random_state(random_state).randint(_SEED_RANGE))
    if calls == 0 or not isinstance(random_state, (int, np.integer)):
        return base
    return int(np.random.SeedSequence([base, calls]).generate_state(1)[0] % _SEED_RANGE)


class RowStream:
    """What ``partial_fit`` keeps of the rows it has seen (see the module docstring).

    Parameters
    ----------
    n_features : int
    capacity : int
        Rows kept in :attr:`sample`.
    owns_fill_values : bool, default=True
        Whether the running means are the model's fill values (False when the stream
        continues a model fitted by ``fit``, whose fill values come from its rows).

    Examples
    --------
    >>> import numpy as np
    >>> stream = RowStream(n_features=1, capacity=3)
    >>> for start in (0, 10, 20):
    ...     stream = stream.updated(np.arange(start, start + 10, dtype=float)[:, None], seed=start)
    >>> stream.rows_seen, stream.sample.shape, float(stream.fill_values()[0])
    (30, (3, 1), 14.5)
    """

    def __init__(self, n_features: int, capacity: int, owns_fill_values: bool = True):
        self.capacity = capacity
        self.owns_fill_values = owns_fill_values
        self.rows_seen = 0
        self.calls = 0
        self.seed = None  # the seed of the last call
        self.sums = np.zeros(n_features)
        self.counts = np.zeros(n_features, dtype=np.int64)
        self.sample = None
        self._keys = np.empty(0)

    def updated(self, X, seed: int) -> RowStream:
        """This stream with the rows ``X`` (an array or sparse matrix of validated
        features) added, as a new stream: this one stays as it was, so that a failed
        ``partial_fit`` keeps its stream without a copy of it being made first."""
        new = copy.copy(self)
        sums, counts = column_sums(X)
        new.sums = self.sums + sums
        new.counts = self.counts + counts
        keys = np.concatenate([self._keys, np.random.default_rng(seed).random(X.shape[0])])
        keep = np.arange(len(keys))
        if len(keys) > self.capacity:  # the smallest keys, in the order the rows came
            keep = np.sort(np.argpartition(keys, self.capacity - 1)[:self.capacity])
        held = len(self._keys)
        staying, entering = keep[keep < held], keep[keep >= held] - held
        rows = X[entering]  # only the rows that enter are read (a copy)
        if sp.issparse(rows):
            rows = rows.tocsr()
        if self.sample is not None:
            rows = (sp.vstack([self.sample[staying], rows], format="csr") if sp.issparse(rows)
                    else np.concatenate([self.sample[staying],
                                         rows.astype(self.sample.dtype, copy=False)]))
        new.sample = rows
        new._keys = keys[keep]
        new.rows_seen = self.rows_seen + X.shape[0]
        new.calls = self.calls + 1
        new.seed = seed
        return new

    def fill_values(self) -> np.ndarray:
        """Each feature's mean over its observed values so far (0 where none yet)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(self.counts > 0, self.sums / np.maximum(self.counts, 1), 0.0)
        return means.astype(np.float32)
