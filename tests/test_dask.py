"""skvae on a ``dask.distributed`` LocalCluster of 2 worker processes: hyperparameter
search through joblib's Dask backend, and inference on Dask arrays and DataFrames.

Skipped when dask / distributed are not installed (``pip install skvae[dask]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skvae import AutoencoderTransformer, VAETransformer

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
from skvae import dask as skvae_dask  # noqa: E402  (after the skips)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16).astype(np.float32)


def test_a_grid_search_runs_its_fits_on_the_workers_with_the_same_scores(client, digits):
    import joblib

    grid = {"n_components": [2, 4], "lr": [1e-3, 3e-3]}
    est = VAETransformer(hidden_layer_sizes=(32,), max_epochs=3, random_state=0)
    search = GridSearchCV(est, grid, cv=2)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_config("dask"):
        search.fit(digits)
    ran_on = {t["worker"] for t in tasks.data}
    assert ran_on == set(client.scheduler_info()["workers"])  # both workers, not the client
    threads = client.run(lambda: __import__("torch").get_num_threads())
    assert set(threads.values()) == {1}  # Dask pins OMP_NUM_THREADS=1 in its workers
    import torch

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # float results depend on the thread count: as the workers
    try:
        local = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(digits)
    finally:
        torch.set_num_threads(torch_threads)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(search.cv_results_[key], local.cv_results_[key])
    assert search.best_params_ == local.best_params_


def test_successive_halving_over_epochs_runs_on_the_workers(client, digits):
    import joblib
    import torch
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    est = AutoencoderTransformer(hidden_layer_sizes=(32,), random_state=0)
    space = {"n_components": [2, 4, 8], "lr": [1e-3, 3e-3, 1e-2]}

    def search(**extra):
        return HalvingRandomSearchCV(est, space, resource="max_epochs", min_resources=1,
                                     max_resources=4, factor=2, cv=2, random_state=0, **extra)

    with distributed.get_task_stream(client) as tasks, joblib.parallel_config("dask"):
        remote = search().fit(digits)
    assert len({t["worker"] for t in tasks.data}) == 2
    assert list(remote.n_resources_) == [1, 2, 4]  # epochs per round
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = search(n_jobs=1).fit(digits)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


def test_transform_and_score_samples_of_a_dask_array_equal_in_process_results(client, digits):
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32,), max_epochs=2,
                                random_state=0).fit(digits)
    X = np.tile(digits, (12, 1))  # 21,564 rows in 8 blocks
    dX = da.from_array(X, chunks=(2700, 32))  # column-chunked too: rechunked to rows
    with distributed.get_task_stream(client) as tasks:
        Z, scores = client.compute([skvae_dask.transform(ae, dX),
                                    skvae_dask.score_samples(ae, dX)], sync=True)
    np.testing.assert_array_equal(Z, ae.transform(X))
    np.testing.assert_array_equal(scores, ae.score_samples(X))
    assert Z.dtype == np.float32 and scores.dtype == np.float64
    assert len({t["worker"] for t in tasks.data}) == 2  # the blocks ran on both workers
    lazy = skvae_dask.transform(ae, dX)
    assert lazy.chunks == ((2700,) * 7 + (len(X) - 7 * 2700,), (4,))
    decoded = skvae_dask.inverse_transform(ae, da.from_array(Z, chunks=(5000, 4)))
    np.testing.assert_array_equal(decoded.compute(), ae.inverse_transform(Z))


def test_a_dataframe_model_embeds_a_dask_dataframe(client):
    import pandas as pd

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.rand(600), "colour": rng.choice(["r", "g", "b"], 600),
                          "count": rng.poisson(3, 600).astype(float)})
    vae = VAETransformer(2, hidden_layer_sizes=(16,), max_epochs=3, random_state=0).fit(frame)
    parts = dd.from_pandas(frame, npartitions=4)
    codes = skvae_dask.transform(vae, parts)
    assert list(codes.columns) == list(vae.get_feature_names_out())
    computed = client.compute(codes, sync=True)
    np.testing.assert_array_equal(computed.to_numpy(), vae.transform(frame))
    assert computed.index.equals(frame.index)
    scores = client.compute(skvae_dask.score_samples(vae, parts), sync=True)
    np.testing.assert_array_equal(scores.to_numpy(), vae.score_samples(frame))


def test_inputs_it_cannot_map_get_clear_errors(digits):
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_epochs=1).fit(digits)
    with pytest.raises(TypeError, match=r"takes a 2-D dask.array.Array or a "
                                        r"dask.dataframe.DataFrame; got ndarray"):
        skvae_dask.transform(ae, digits)
    with pytest.raises(TypeError, match=r"got Array of 1 dimensions"):
        skvae_dask.transform(ae, da.zeros(10))
