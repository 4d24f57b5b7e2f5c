"""Bigger than memory: streaming ``partial_fit``, bounded-memory ``fit`` of memmaps, Dask inference.

Every training configuration runs in a fresh child process, which reports its wall
time and its peak resident memory (``VmHWM`` from ``/proc/self/status``, which counts
the memory-mapped file's pages it touched; see :func:`peak_rss_mb` for why not
``ru_maxrss``) and its RSS just before training (after importing torch, with the
``torch._dynamo`` that torch's optimisers import on first use, ~67 MB, and opening the
memmap: the baseline):

1. **MNIST as a uint8 memmap** (60,000 x 784, 47 MB on disk; a float32 copy is 188 MB):
   ``fit`` with 10 epochs against ``partial_fit`` over 6 chunks of the memmap for 10
   passes, the same dense AE (32-D, default layers, MSE on the raw 0-255 values). Test
   MSE on MNIST's 10,000 test rows (in units of [0, 1] pixels).
2. **Cost against rows**: one pass of ``fit(max_epochs=1)`` and of ``partial_fit`` over
   100,000-row chunks of a uint8 memmap of 10k ... 1,000,000 rows (MNIST rows tiled,
   each copy shifted by one pixel so rows differ; written to a temporary file, 784 MB
   at 1M rows; a float32 copy would be 3.1 GB).
3. **Inference on Dask**: ``transform`` and ``score_samples`` of 200,000 rows in this
   process against ``skvae.dask`` on a ``LocalCluster(n_workers=2,
   threads_per_worker=1)``, rows/s, bitwise equality and the workers that ran blocks.

Threads: every child pins torch to 2 threads (``torch.set_num_threads``) and BLAS to 2
(threadpoolctl); Dask workers use 1 each. Set ``OMP_WAIT_POLICY=PASSIVE``. Writes
``scale-<device>.json`` / ``.md`` and ``scale-<device>.png`` (time and peak memory
against rows).

    SKVAE_DATA_HOME=../shared/data OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --smoke      # digits, tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, write

SMOKE = dict(sizes="2000,6000", chunk_rows=2000, passes=2, infer_rows=4000)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """This process's resident memory now (MiB)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's peak resident memory (MiB): Linux's ``VmHWM``, where available.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries it across ``execve``, so a child
    started by a big parent reports the parent's size (seen here: 1.2 GB for every
    child of a parent that had written the memmap).
    """
    peak = _status_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def images(smoke: bool):
    """(train, test) uint8 image rows: MNIST, or digits scaled to 0-255 for smoke runs."""
    if data_file("mnist.npz") is not None and not smoke:
        from skvae.datasets import load_mnist
        data = load_mnist()
        train, test = data.X_train, data.X_test
    else:
        from sklearn.datasets import load_digits
        X = load_digits().data / 16
        train, test = X[:1500], X[1500:]
    return [np.rint(part * 255).astype(np.uint8) for part in (train, test)]


def write_memmap(path: Path, source: np.ndarray, rows: int) -> None:
    """``rows`` rows on disk: ``source`` tiled, each copy rolled by one more pixel."""
    disk = np.memmap(path, dtype=np.uint8, mode="w+", shape=(rows, source.shape[1]))
    for start in range(0, rows, len(source)):
        count = min(len(source), rows - start)
        disk[start:start + count] = np.roll(source[:count], start // len(source), axis=1)
    disk.flush()
    del disk


def child(args) -> None:
    """One training configuration in this (fresh) process; prints a JSON record."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(2)
    threadpool_limits(limits=2)
    from skvae import AutoencoderTransformer

    meta = json.loads(args.child)
    X = np.memmap(meta["path"], dtype=np.uint8, mode="r", shape=(meta["rows"], meta["width"]))
    ae = AutoencoderTransformer(32, random_state=0, device=args.device,
                                max_epochs=meta["epochs"])
    # torch imports torch._dynamo (~1,000 modules, ~67 MB) when the first optimiser is
    # made, in fit and partial_fit alike: an import, so it belongs to the baseline
    importlib.import_module("torch._dynamo")
    baseline = rss_mb()
    start = time.perf_counter()
    if meta["mode"] == "fit":
        ae.fit(X)
    else:
        for _ in range(meta["epochs"]):
            for first in range(0, meta["rows"], meta["chunk_rows"]):
                ae.partial_fit(X[first:first + meta["chunk_rows"]])
    seconds = time.perf_counter() - start
    record = {"seconds": seconds, "baseline_rss_mb": baseline, "peak_rss_mb": peak_rss_mb(),
              "n_iter": ae.n_iter_}  # the peak of training, before the evaluation below
    if meta.get("test"):
        test = np.load(meta["test"])
        decoded = ae.inverse_transform(ae.transform(test))
        record["test_mse"] = float(np.mean((decoded / 255 - test / 255) ** 2))
    print(json.dumps(record))


def run_child(args, **meta) -> dict:
    command = [sys.executable, __file__, "--child", json.dumps(meta), "--device", args.device]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the child for {meta} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def streaming_rows(args, folder: Path) -> list[dict]:
    train, test = images(args.smoke)
    path, test_path = folder / "train.u8", folder / "test.npy"
    write_memmap(path, train, len(train))
    np.save(test_path, test)
    float32_mb = train.size * 4 / 2**20
    chunk = -(-len(train) // 6)
    rows = []
    for mode in ("fit", "partial_fit"):
        record = run_child(args, path=str(path), rows=len(train), width=train.shape[1],
                           mode=mode, epochs=args.passes, chunk_rows=chunk, test=str(test_path))
        rows.append({"part": "MNIST memmap", "mode": mode, "rows": len(train),
                     "passes": args.passes, "chunks": 1 if mode == "fit" else 6,
                     **record, "float32_copy_mb": float32_mb,
                     "peak_over_baseline_mb": record["peak_rss_mb"] - record["baseline_rss_mb"]})
    return rows


def cost_rows(args, folder: Path) -> list[dict]:
    train, _ = images(args.smoke)
    sizes = [int(s) for s in str(args.sizes).split(",")]
    path = folder / "big.u8"
    write_memmap(path, train, max(sizes))
    rows = []
    for n in sizes:
        for mode in ("fit", "partial_fit"):
            record = run_child(args, path=str(path), rows=n, width=train.shape[1], mode=mode,
                               epochs=1, chunk_rows=args.chunk_rows)
            rows.append({"part": "cost vs rows", "mode": mode, "rows": n, "passes": 1,
                         "chunks": 1 if mode == "fit" else -(-n // args.chunk_rows), **record,
                         "float32_copy_mb": n * train.shape[1] * 4 / 2**20,
                         "peak_over_baseline_mb": record["peak_rss_mb"]
                         - record["baseline_rss_mb"],
                         "rows_per_s": n / record["seconds"]})
    return rows


def inference_rows(args) -> list[dict]:
    import dask.array as da
    import distributed

    from skvae import AutoencoderTransformer
    from skvae import dask as skvae_dask

    torch.set_num_threads(2)
    train, _ = images(args.smoke)
    ae = AutoencoderTransformer(32, max_epochs=1, random_state=0).fit(train[:20000])
    X = np.resize(train, (args.infer_rows, train.shape[1]))
    rows = []
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
    with distributed.Client(cluster) as client:
        dX = da.from_array(X, chunks=(max(1, args.infer_rows // 8), -1))
        for method in ("transform", "score_samples"):
            start = time.perf_counter()
            local = getattr(ae, method)(X)
            local_s = time.perf_counter() - start
            lazy = getattr(skvae_dask, method)(ae, dX)
            client.compute(getattr(skvae_dask, method)(ae, dX[:8]), sync=True)  # warm up
            with distributed.get_task_stream(client) as tasks:
                start = time.perf_counter()
                remote = client.compute(lazy, sync=True)
                dask_s = time.perf_counter() - start
            rows.append({"part": "inference", "mode": method, "rows": len(X),
                         "in_process_rows_per_s": len(X) / local_s,
                         "dask_2_workers_rows_per_s": len(X) / dask_s,
                         "bitwise_equal": bool(np.array_equal(local, remote)),
                         "workers_used": len({t["worker"] for t in tasks.data}),
                         "output_chunks": str(lazy.chunks[0][:2]) + "...",
                         "dtype": str(remote.dtype)})
    cluster.close()
    return rows


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, marker in (("fit", "o"), ("partial_fit", "s")):
        part = [r for r in rows if r["part"] == "cost vs rows" and r["mode"] == mode]
        n = [r["rows"] for r in part]
        left.plot(n, [r["seconds"] for r in part], marker=marker, label=mode)
        right.plot(n, [r["peak_rss_mb"] for r in part], marker=marker, label=f"{mode} peak RSS")
    n = [r["rows"] for r in rows if r["part"] == "cost vs rows" and r["mode"] == "fit"]
    right.plot(n, [r["float32_copy_mb"] for r in rows
                   if r["part"] == "cost vs rows" and r["mode"] == "fit"],
               linestyle="--", color="grey", label="a float32 copy of the data")
    for ax, label in ((left, "seconds for one pass"), (right, "MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows (uint8 memmap, 784 columns)")
        ax.set_ylabel(label)
        ax.legend()
    left.set_title("time: linear in rows")
    right.set_title("peak memory: bounded")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000,300000,1000000")
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--infer-rows", type=int, default=200_000)
    parser.add_argument("--device", default=default_device())
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parse_args(parser, SMOKE)
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = streaming_rows(args, Path(tmp))
        rows += cost_rows(args, Path(tmp))
    rows += inference_rows(args)
    tag = f"scale-{device_tag(args.device)}"
    notes = ("Peak RSS (VmHWM) of a fresh process per row (it includes torch's own "
             "~300 MB and the memmap pages read); baseline: RSS after imports (torch._dynamo "
             "included, which torch's first optimiser imports: ~67 MB) and opening the "
             "memmap. test_mse in [0, 1] pixel units on MNIST's test rows. Plot: "
             f"{tag}.png.")
    path = write(tag, environment(args.device), rows, notes, results_dir=args.results_dir,
                 smoke=args.smoke)
    plot(rows, path.with_suffix(".png"))
    print(path.read_text())


if __name__ == "__main__":
    main()
