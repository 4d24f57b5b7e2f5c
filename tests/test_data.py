"""The batched data path: slices, permutations, holdout split, fixed-shape inference."""

import warnings

import numpy as np
import pytest
import torch

from skvae import AutoencoderTransformer
from skvae._data import BatchIterator, HoldoutSplit, RowDataset, map_batches


def test_training_batches_cover_every_row_once_per_epoch():
    X = torch.arange(10, dtype=torch.float32).reshape(10, 1)
    batches = list(BatchIterator(RowDataset(X), batch_size=4, shuffle=True))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    assert all(xb is yb for xb, yb in batches)
    seen = torch.cat([xb for xb, _ in batches]).flatten()
    assert sorted(seen.tolist()) == list(range(10))


def test_shuffle_follows_the_torch_seed_and_changes_per_epoch():
    X = torch.arange(50, dtype=torch.float32).reshape(50, 1)
    it = BatchIterator(RowDataset(X), batch_size=50, shuffle=True)
    torch.manual_seed(0)
    first, second = next(iter(it))[0], next(iter(it))[0]
    torch.manual_seed(0)
    assert torch.equal(next(iter(it))[0], first) and not torch.equal(first, second)


def test_evaluation_batches_are_in_order():
    X = torch.arange(5, dtype=torch.float32).reshape(5, 1)
    batches = list(BatchIterator(RowDataset(X), batch_size=2, shuffle=False))
    assert torch.cat([b for b, _ in batches]).flatten().tolist() == [0, 1, 2, 3, 4]
    assert len(BatchIterator(RowDataset(X), batch_size=2, shuffle=False)) == 3


@pytest.mark.parametrize("spelling", ["cpu", "cpu:0"])
def test_a_device_spelled_with_an_index_is_the_same_device(spelling):
    """"cuda" vs "cuda:0" made every CUDA fit try to pin device tensors (found on an H100);
    "cpu:0" vs "cpu" is the same comparison on a machine without a GPU."""
    X = torch.arange(6, dtype=torch.float32).reshape(6, 1)
    batches = list(BatchIterator(RowDataset(X), batch_size=4, shuffle=True, device=spelling))
    assert sorted(torch.cat([b for b, _ in batches]).flatten().tolist()) == list(range(6))
    Z = AutoencoderTransformer(hidden_layer_sizes=(4,), max_epochs=2, device=spelling,
                               random_state=0).fit_transform(np.random.RandomState(0).rand(20, 3))
    assert Z.shape == (20, 2) and np.isfinite(Z).all()


def test_holdout_split_partitions_the_rows():
    X = torch.arange(8, dtype=torch.float32).reshape(8, 1)
    train, valid = HoldoutSplit(np.array([6, 1]))(RowDataset(X))
    assert valid.X.flatten().tolist() == [6, 1]
    assert train.X.flatten().tolist() == [0, 2, 3, 4, 5, 7]


def test_map_batches_is_row_independent_and_gathers_once():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3))
    X = np.random.RandomState(0).rand(2500, 16)
    full = map_batches(net, X, "cpu", batch_size=256)
    assert full.shape == (2500, 3) and full.dtype == np.float32
    for index in [[7], [3, 2000, 9], list(range(100, 1700, 3))]:
        np.testing.assert_array_equal(map_batches(net, X[index], "cpu", batch_size=256),
                                      full[index])


def test_float32_cpu_input_is_shared_not_copied_and_read_only_is_fine():
    from skvae._data import as_float_tensor

    X = np.random.RandomState(0).rand(5, 3).astype(np.float32)
    assert np.shares_memory(as_float_tensor(X, "cpu").numpy(), X)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(as_float_tensor(X, "cpu").numpy(), X)
    converted = as_float_tensor(X.astype(np.float64), "cpu")
    assert converted.dtype == torch.float32 and not np.shares_memory(converted.numpy(), X)
