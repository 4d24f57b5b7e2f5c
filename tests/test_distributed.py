"""Data-parallel ``fit`` on torch.distributed: 2 gloo processes against 1 process.

Each test starts real processes with a launcher (``torchrun``, i.e.
``python -m torch.distributed.run --standalone --nproc_per_node 2``) running
``tests/distributed_worker.py``; the reference is the same scenario in one process
(no process group). A launch that hangs fails the test through a timeout.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skvae.distributed import World, choose_backend, init_from_environment, resolve_world

WORKER = Path(__file__).with_name("distributed_worker.py")
LAUNCH_TIMEOUT_S = 240

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(),
                                reason="torch.distributed is not available")


def launch(scenario, out_dir, n_procs=2, env=None):
    """Run ``scenario`` on ``n_procs`` ranks (0: one process, no launcher); one result
    dict per rank."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        env.pop(name, None)
    command = [sys.executable, str(WORKER), scenario, str(out_dir)]
    if n_procs:
        command[1:1] = ["-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={n_procs}"]
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=LAUNCH_TIMEOUT_S, cwd=WORKER.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    results = []
    for rank in range(max(n_procs, 1)):
        with open(out_dir / f"rank{rank}.pkl", "rb") as f:
            results.append(pickle.load(f))
    return results


@pytest.fixture(scope="module")
def ae_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ae")
    return launch("ae", root / "one", n_procs=0)[0], launch("ae", root / "two")


def test_two_processes_train_the_model_one_process_trains(ae_runs):
    one, (rank0, _) = ae_runs
    for key, weight in one["weights"].items():
        torch.testing.assert_close(rank0["weights"][key], weight, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(np.round(rank0["train_loss"], 5), np.round(one["train_loss"], 5))
    assert rank0["n_iter"] == one["n_iter"] == 3


def test_both_ranks_end_with_the_identical_plain_estimator(ae_runs):
    _, (rank0, rank1) = ae_runs
    assert rank0["fingerprint"].keys() == rank1["fingerprint"].keys()
    different = [key for key, value in rank0["fingerprint"].items()
                 if rank1["fingerprint"][key] != value]
    assert different == []
    assert rank0["ddp_left"] == rank1["ddp_left"] == (False, None)  # no DDP wrapper kept
    est = pickle.loads(rank0["estimator"])  # a plain single-process model, here
    assert est.transform(np.zeros((2, 64))).shape == (2, 8)
    assert rank0["score"] == rank1["score"]


def test_destroying_the_process_group_ends_gloos_threads(ae_runs):
    # DDP imports torch.distributed.nn, whose default arguments captured the process
    # group when imported after init_process_group: destroy_process_group could not free
    # it, and a rank whose gloo threads still ran at exit sometimes aborted
    # ("terminate called without an active exception"); skvae.distributed imports it first
    _, ranks = ae_runs
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("thread names are read from Linux's /proc")
    for result in ranks:
        assert result["threads_after_destroy"], "no thread names were read"
        assert not [name for name in result["threads_after_destroy"] if "gloo" in name]


def test_each_rank_trains_on_half_of_every_batch(ae_runs):
    one, (rank0, rank1) = ae_runs
    assert rank0["pid"] != rank1["pid"]
    assert len(rank0["rows"]) == len(rank1["rows"]) == len(one["rows"]) == 3 * 12
    np.testing.assert_array_equal(np.add(rank0["rows"], rank1["rows"]), one["rows"])
    assert set(rank0["rows"]) == set(rank1["rows"]) == {50}  # 100-row batches, halved


def test_uneven_and_empty_shards_neither_hang_nor_change_the_model(tmp_path):
    one = launch("uneven", tmp_path / "one", n_procs=0)[0]
    rank0, rank1 = launch("uneven", tmp_path / "two")
    assert rank0["rows"][12] == 1 and rank1["rows"][12] == 0  # the 1-row batch
    for key, weight in one["weights"].items():
        torch.testing.assert_close(rank0["weights"][key], weight, rtol=0, atol=1e-5)
    np.testing.assert_allclose(rank0["train_loss"], one["train_loss"], rtol=1e-6)


def test_a_warm_start_continues_data_parallel_as_in_one_process(tmp_path):
    one = launch("warm_start", tmp_path / "one", n_procs=0)[0]
    rank0, rank1 = launch("warm_start", tmp_path / "two")
    assert one["n_iter"] == rank0["n_iter"] == 4  # 2 + 2 epochs
    for key, weight in one["weights"].items():
        torch.testing.assert_close(rank0["weights"][key], weight, rtol=0, atol=1e-5)
    assert rank0["fingerprint"] == rank1["fingerprint"]


@pytest.mark.slow
def test_a_two_process_vae_is_as_good_as_single_process_seeds(tmp_path):
    singles = [launch("vae", tmp_path / f"one{seed}", n_procs=0,
                      env={"SKVAE_TEST_SEED": str(seed)})[0]["score"] for seed in range(3)]
    rank0, rank1 = launch("vae", tmp_path / "two")
    assert rank0["score"] == rank1["score"]
    spread = max(singles) - min(singles)
    assert min(singles) - spread <= rank0["score"] <= max(singles) + spread, (rank0["score"],
                                                                             singles)


def test_early_stopping_stops_every_rank_on_the_same_epoch(tmp_path):
    one = launch("early_stopping", tmp_path / "one", n_procs=0)[0]
    rank0, rank1 = launch("early_stopping", tmp_path / "two")
    stops = rank0["n_iter"], rank1["n_iter"], one["n_iter"]
    assert stops[0] == stops[1] == stops[2] < 200, stops


def test_divergence_raises_on_every_rank_without_hanging(tmp_path):
    rank0, rank1 = launch("diverge", tmp_path)  # a hang fails through the launch timeout
    for result in (rank0, rank1):
        assert result["error"].startswith("TrainingDivergedError"), result


@pytest.mark.parametrize("scenario", ["conv", "frame"])
def test_conv_and_dataframe_models_train_on_two_ranks(tmp_path, scenario):
    rank0, rank1 = launch(scenario, tmp_path)
    assert "error" not in rank0, rank0.get("error")
    assert rank0["fingerprint"] == rank1["fingerprint"]
    assert np.isfinite(rank0["score"])


def test_no_process_group_means_one_process():
    assert resolve_world("auto", "cpu") is None
    assert resolve_world(False, "cpu") is None


def test_distributed_true_without_a_launcher_says_how_to_start_one(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not "
                                         r"set\. Start the script with a launcher"):
        init_from_environment("cpu")


@pytest.mark.parametrize("gpus, ranks_here, device, backend", [
    (0, 2, "cpu", "gloo"), (2, 2, "cuda", "nccl"), (4, 2, "cuda:1", "nccl"),
    (1, 2, "cuda", "gloo"),  # NCCL refuses two ranks on one GPU
])
def test_nccl_only_when_every_rank_has_a_gpu_of_its_own(monkeypatch, gpus, ranks_here,
                                                         device, backend):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(ranks_here))
    assert choose_backend(device) == backend


def test_shards_split_a_batch_contiguously_even_when_some_are_empty():
    index = torch.arange(5)
    shards = [World(rank, 3).shard(index).tolist() for rank in range(3)]
    assert shards == [[0, 1], [2, 3], [4]]
    assert [World(rank, 3).shard(torch.arange(1)).tolist() for rank in range(3)] == [[0], [], []]


EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "distributed_fit.py"
LAUNCHERS = {
    "one process": [sys.executable],
    "torchrun": [sys.executable, "-m", "torch.distributed.run", "--standalone",
                 "--nproc_per_node=2"],
    # accelerate's --cpu mode starts several processes only through MPI (mpirun); its
    # --multi_gpu mode goes through torch's launcher, which also runs on CPUs
    "accelerate": ["accelerate", "launch", "--multi_gpu", "--num_processes=2",
                   "--num_machines=1", "--mixed_precision=no", "--dynamo_backend=no"],
}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_the_example_script_gives_one_result_under_every_launcher(tmp_path):
    import json
    import shutil

    summaries = {}
    for name, launcher in LAUNCHERS.items():
        if name == "accelerate" and shutil.which("accelerate") is None:
            continue  # accelerate is a dev dependency; a user may not have it
        env = {k: v for k, v in os.environ.items()
               if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
        if name == "accelerate":  # its default port (29500) may be taken on a shared machine
            launcher = [*launcher, f"--main_process_port={free_port()}"]
        done = subprocess.run([*launcher, str(EXAMPLE), str(tmp_path / name)], env=env,
                              capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)
        assert done.returncode == 0, (name, done.stderr[-3000:])
        summaries[name] = json.loads((tmp_path / name / "summary.json").read_text())
    assert summaries["torchrun"]["processes"] == 2
    for name, summary in summaries.items():
        np.testing.assert_allclose(summary["train_loss"], summaries["one process"]["train_loss"],
                                   rtol=1e-5, err_msg=name)
        assert summary["held_out_score"] == pytest.approx(
            summaries["one process"]["held_out_score"], rel=1e-4)
