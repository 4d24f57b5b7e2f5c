"""Streaming: ``partial_fit`` over chunks, and bounded-memory ``fit`` of integer arrays
and memory-mapped files (converted to float32 batch by batch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import Callback

from skvae import AutoencoderTransformer, TrainingDivergedError, VAETransformer, _data
from skvae._stream import RowStream

ESTIMATORS = [AutoencoderTransformer, VAETransformer]


@pytest.fixture(scope="module")
def digits():
    X = (load_digits().data / 16).astype(np.float32)
    return X[:1400], X[1400:]


def small(cls, **params):
    return cls(8, hidden_layer_sizes=(32,), random_state=0, **params)


def same_weights(a, b) -> bool:
    return all(torch.equal(v, w) for v, w in zip(a.net_.module_.state_dict().values(),
                                                   b.net_.module_.state_dict().values(),
                                                   strict=True))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_first_partial_fit_trains_as_fit_with_one_epoch(cls, digits):
    X, _ = digits
    streamed = small(cls).partial_fit(X)
    assert same_weights(streamed, small(cls, max_epochs=1).fit(X))
    assert streamed.n_iter_ == 1 and streamed.stream_.rows_seen == len(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_passes_over_chunks_train_about_as_well_as_fit(cls, digits):
    X, X_test = digits
    fitted = small(cls, max_epochs=10).fit(X)
    streamed = small(cls)
    for _ in range(10):
        for chunk in np.array_split(X, 4):
            streamed.partial_fit(chunk)
    assert streamed.n_iter_ == 40 and len(streamed.history_) == 40
    # same rows, same passes: held-out quality within 10% of fit's (chunks are shuffled
    # within themselves only)
    assert streamed.score(X_test) >= fitted.score(X_test) * 1.10
    assert streamed.stream_.rows_seen == 10 * len(X)


def test_the_stream_keeps_a_seeded_uniform_sample_of_every_chunk():
    stream, other = RowStream(1, capacity=500), RowStream(1, capacity=500)
    for start in range(0, 10_000, 1000):
        chunk = np.arange(start, start + 1000, dtype=float)[:, None]
        stream = stream.updated(chunk, seed=start)
        other = other.updated(chunk, seed=start)
    np.testing.assert_array_equal(stream.sample, other.sample)  # seeded
    values = stream.sample.ravel()
    assert len(values) == 500 and len(np.unique(values)) == 500
    assert np.all(np.diff(values) > 0)  # in the order the rows came
    per_chunk = np.bincount((values // 1000).astype(int), minlength=10)
    assert per_chunk.min() >= 25 and per_chunk.max() <= 75  # ~50 from each chunk
    assert stream.fill_values()[0] == pytest.approx(4999.5)


def test_summaries_come_from_all_streamed_rows(digits):
    X, _ = digits
    vae = small(VAETransformer)
    for chunk in np.array_split(X, 4):
        vae.partial_fit(chunk)
    assert vae.stream_.sample.shape == (len(X), X.shape[1])  # under the 4096 bound
    assert np.isfinite(vae.noise_variance_) and vae.noise_variance_ > 0
    ae = small(AutoencoderTransformer)
    for chunk in np.array_split(X, 4):
        ae.partial_fit(chunk)
    assert "_latent_density" not in vars(ae)  # fitted lazily, on first use
    first = ae.sample(5, random_state=0)
    np.testing.assert_array_equal(ae.sample(5, random_state=0), first)
    assert ae.latent_density_.means_.shape[1] == 8


def test_streamed_models_save_and_load(digits, tmp_path):
    from skvae.persistence import load_model, save_model

    X, X_test = digits
    ae = small(AutoencoderTransformer)
    for chunk in np.array_split(X, 3):
        ae.partial_fit(chunk)
    save_model(ae, tmp_path / "ae.skvae")
    loaded = load_model(tmp_path / "ae.skvae", device=ae.net_.device)
    np.testing.assert_array_equal(loaded.sample(4, random_state=1), ae.sample(4, random_state=1))
    loaded.partial_fit(X_test)  # continues the loaded model
    assert loaded.n_iter_ == 4


def test_partial_fit_continues_a_fit_and_fit_starts_again(digits):
    X, X_test = digits
    ae = small(AutoencoderTransformer, max_epochs=2).fit(X)
    fill = ae.fill_values_.copy()
    ae.partial_fit(X_test)
    assert ae.n_iter_ == 3 and not ae.stream_.owns_fill_values
    np.testing.assert_array_equal(ae.fill_values_, fill)  # from fit's rows
    ae.fit(X)
    assert ae.n_iter_ == 2 and not hasattr(ae, "stream_")


def test_partial_fit_needs_the_same_features_and_keeps_the_model_on_error(digits):
    X, _ = digits
    ae = small(AutoencoderTransformer).partial_fit(X)
    before = {k: v.clone() for k, v in ae.net_.module_.state_dict().items()}
    stream = ae.stream_
    with pytest.raises(ValueError, match=r"X has 10 features, but AutoencoderTransformer is "
                                         r"expecting 64 features as input"):
        ae.partial_fit(X[:, :10])
    assert ae.stream_ is stream and stream.calls == 1 and ae.n_iter_ == 1
    for key, value in ae.net_.module_.state_dict().items():
        assert torch.equal(value, before[key])


class FailAtBatch(Callback):
    """Raises at the end of training batch ``batch`` of the next pass (0: never)."""

    def __init__(self, batch=0):
        self.batch = batch

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self.seen_ = getattr(self, "seen_", 0) + 1
        if self.seen_ == self.batch:
            raise RuntimeError("a failure in the middle of a pass")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_partial_fit_that_fails_mid_pass_leaves_the_model_as_it_was(cls, digits):
    # trained in place, so what the failed pass changed must be put back: weights,
    # optimiser moments, history, callback state; the next call then trains exactly
    # as if the failed one had never been made
    X, X_test = digits
    failing = small(cls, callbacks=[("fail", FailAtBatch())]).partial_fit(X)
    clean = small(cls, callbacks=[("fail", FailAtBatch())]).partial_fit(X)
    stream, history = failing.stream_, len(failing.history_)
    fail = dict(failing.net_.callbacks_)["fail"]
    fail.batch = fail.seen_ + 3
    with pytest.raises(RuntimeError, match="a failure in the middle of a pass"):
        failing.partial_fit(X_test)
    assert same_weights(failing, clean)
    assert failing.stream_ is stream and len(failing.history_) == history == failing.n_iter_
    dict(failing.net_.callbacks_)["fail"].batch = 0
    failing.partial_fit(X_test)
    clean.partial_fit(X_test)
    assert same_weights(failing, clean) and failing.n_iter_ == clean.n_iter_ == 2
    np.testing.assert_array_equal(failing.transform(X_test), clean.transform(X_test))


def test_a_diverging_partial_fit_keeps_the_finite_weights(digits):
    X, _ = digits
    ae = small(AutoencoderTransformer).partial_fit(X)
    Z = ae.transform(X)
    with pytest.raises(TrainingDivergedError):
        ae.partial_fit(X * 1e20)
    np.testing.assert_array_equal(ae.transform(X), Z)
    assert ae.n_iter_ == 1 and ae.stream_.rows_seen == len(X)


@pytest.mark.parametrize("param, value", [("validation_fraction", 0.1),
                                          ("n_iter_no_change", 3)])
def test_partial_fit_refuses_a_holdout_split_or_early_stopping(digits, param, value):
    with pytest.raises(ValueError, match=rf"partial_fit trains one pass on every row it is "
                                         rf"given, so {param}={value!r}.*Set {param}=None"):
        small(AutoencoderTransformer, **{param: value}).partial_fit(digits[0])


def test_integer_arrays_are_not_copied_and_train_as_their_float32_values(digits, tmp_path):
    X, _ = digits
    counts = np.rint(X * 16).astype(np.uint8)
    path = tmp_path / "rows.u8"
    disk = np.memmap(path, dtype=np.uint8, mode="w+", shape=counts.shape)
    disk[:] = counts
    disk.flush()
    mapped = np.memmap(path, dtype=np.uint8, mode="r", shape=counts.shape)
    assert _data.needs_lazy_rows(mapped) and not _data.needs_lazy_rows(counts)
    lazy = small(AutoencoderTransformer, max_epochs=2).fit(mapped)
    eager = small(AutoencoderTransformer, max_epochs=2).fit(counts.astype(np.float32))
    assert same_weights(lazy, eager)  # batch by batch: the same values, the same training
    Z = lazy.transform(mapped)
    assert Z.dtype == np.float64  # integers in, float64 out (as scikit-learn converts)
    np.testing.assert_array_equal(Z, lazy.transform(counts.astype(np.float32)))


def test_a_big_integer_array_is_converted_batch_by_batch(digits, monkeypatch):
    X, _ = digits
    counts = np.rint(X * 16).astype(np.int16)
    seen = []
    original = _data.HostRows.__getitem__

    def spy(self, index):
        batch = original(self, index)
        seen.append(len(batch))
        return batch

    monkeypatch.setattr(_data.HostRows, "__getitem__", spy)
    monkeypatch.setattr(_data, "COPY_MAX_BYTES", counts.size * 4 - 1)  # just too big
    lazy = small(VAETransformer, max_epochs=1, batch_size=100).fit(counts)
    assert max(seen) == 100 and sum(seen) >= len(counts)
    monkeypatch.undo()
    eager = small(VAETransformer, max_epochs=1, batch_size=100).fit(counts)
    assert same_weights(lazy, eager)


def test_host_rows_index_like_a_float32_tensor():
    X = np.random.RandomState(0).randint(0, 255, size=(20, 3)).astype(np.uint8)
    rows, tensor = _data.HostRows(X), torch.from_numpy(X.astype(np.float32))
    index = torch.tensor([7, 2, 19, 2])
    assert torch.equal(rows[index], tensor[index]) and torch.equal(rows[3:9], tensor[3:9])
    part = rows.subset(np.arange(5, 15))
    assert len(part) == 10 and torch.equal(part[torch.tensor([9, 0])], tensor[[14, 5]])
    assert rows[index].dtype == torch.float32 and rows.device.type == "cpu"


def test_partial_fit_over_parquet_files(tmp_path, digits):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, _ = digits
    columns = [f"pixel{i}" for i in range(X.shape[1])]
    for i, chunk in enumerate(np.array_split(X, 3)):
        pd.DataFrame(chunk, columns=columns).to_parquet(tmp_path / f"part{i}.parquet")
    ae = small(AutoencoderTransformer)
    for _ in range(3):
        for path in sorted(tmp_path.glob("*.parquet")):
            ae.partial_fit(pd.read_parquet(path))
    assert ae.n_iter_ == 9 and list(ae.feature_names_in_) == columns
    in_memory = small(AutoencoderTransformer)
    for _ in range(3):
        for chunk in np.array_split(X, 3):
            in_memory.partial_fit(chunk)
    assert same_weights(ae, in_memory)  # the files' rows, trained as the arrays are


def test_dask_ml_incremental_streams_the_blocks_of_a_dask_array(digits):
    da = pytest.importorskip("dask.array")
    incremental = pytest.importorskip("dask_ml.wrappers").Incremental
    X, _ = digits
    chunks = da.from_array(X, chunks=(350, X.shape[1]))
    model = incremental(small(AutoencoderTransformer), shuffle_blocks=False).fit(chunks)
    ae = model.estimator_
    assert ae.n_iter_ == 4 and ae.stream_.rows_seen == len(X)
    reference = small(AutoencoderTransformer)
    for start in range(0, len(X), 350):
        reference.partial_fit(X[start:start + 350])
    assert same_weights(ae, reference)


def test_training_hands_freed_heap_memory_back_every_100_batches_and_at_the_end(digits,
                                                                             monkeypatch):
    from skvae import _net

    calls = []
    monkeypatch.setattr(_net, "release_freed_memory", lambda: calls.append(1))
    X, _ = digits
    small(AutoencoderTransformer, max_epochs=1, batch_size=4).fit(X[:1000])  # 250 batches
    assert len(calls) == 3  # after batches 100 and 200, and when training ends
    _data.release_freed_memory()  # the real one: a no-op or glibc's malloc_trim, no error
