"""Data-parallel ``fit`` (torch.distributed, gloo on CPUs): 1 process against 2 processes.

Each configuration fits the same dense autoencoder on the same MNIST rows with the same
``batch_size`` (the global batch) and ``random_state``:

* 1 process, 2 torch threads (what one process does with this machine's 2 cores);
* 1 process, 1 torch thread;
* 2 processes started by ``torchrun --standalone --nproc_per_node 2``, 1 torch thread
  each, ``distributed=True`` (gloo).

Reported: epoch time (median over epochs after the first), rows per second, the final
training loss, and whether the 2-process loss curve equals the 1-process one (it should
to float32 rounding: the same optimisation). Writes ``distributed-<device>.json`` / ``.md``
and ``distributed-<device>.png`` (the loss curves overlaid). Honest about the machine:
on 2 cores, 2 processes share the cores one process had; the point is the overhead of
the all-reduces and the equality of the runs, not a speed-up.

    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_distributed.py
    python benchmarks/bench_distributed.py --smoke      # digits, 1 epoch

With ``--device cuda`` on a GPU machine the processes use NCCL when there is a GPU per
rank; on one GPU the two ranks share it over gloo (skvae's choice, as for users).
Set ``OMP_WAIT_POLICY=PASSIVE``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, write

SMOKE = dict(rows=600, epochs=1)
CONFIGS = [("1 process, 2 threads", 0, 2), ("1 process, 1 thread", 0, 1),
           ("2 processes (torchrun), 1 thread each", 2, 1)]


def worker(args):
    """One rank (or the only process): fit, then rank 0 writes what it measured."""
    torch.set_num_threads(args.threads)
    from skvae import AutoencoderTransformer

    if data_file("mnist.npz") is not None and not args.smoke:
        from skvae.datasets import load_mnist
        X = load_mnist().X_train[:args.rows]
    else:
        from sklearn.datasets import load_digits
        X = load_digits().data[:args.rows] / 16
    launched = "RANK" in os.environ  # distributed=True: NCCL, or gloo where ranks share a GPU
    ae = AutoencoderTransformer(32, hidden_layer_sizes=(512, 256), batch_size=args.batch_size,
                                max_epochs=args.epochs, random_state=0, device=args.device,
                                reconstruction_loss="bce", distributed=launched)
    ae.fit(X)
    if int(os.environ.get("RANK", 0)) == 0:
        durations = list(ae.history_[:, "dur"])
        record = {"rows": len(X), "durations": durations, "threads": torch.get_num_threads(),
                  "train_loss": list(ae.history_[:, "train_loss"]),
                  "world_size": torch.distributed.get_world_size() if launched else 1,
                  "backend": torch.distributed.get_backend() if launched else "-"}
        Path(args.worker_out).write_text(json.dumps(record))
    if launched:
        torch.distributed.destroy_process_group()


def run_config(args, n_procs, threads, out):
    command = [sys.executable, __file__, "--worker-out", str(out), "--threads", str(threads),
               "--rows", str(args.rows), "--epochs", str(args.epochs), "--device", args.device,
               "--batch-size", str(args.batch_size)] + (["--smoke"] if args.smoke else [])
    if n_procs:
        command[1:1] = ["-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={n_procs}"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run(command, check=True, env=env, timeout=3600)
    return json.loads(Path(out).read_text())


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for (name, _, _), record in results:
        epochs = np.arange(1, len(record["train_loss"]) + 1)
        ax.plot(epochs, record["train_loss"], marker="o", label=name,
                linestyle="--" if record["world_size"] > 1 else "-")
    ax.set_xticks(epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (BCE nats per pixel, mean)")
    ax.set_title("1 process vs 2 data-parallel processes: the same optimisation")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=default_device())
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", default=None, help=argparse.SUPPRESS)
    args = parse_args(parser, SMOKE)
    if args.worker_out:
        worker(args)
        return
    results, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, n_procs, threads) in enumerate(CONFIGS):
            record = run_config(args, n_procs, threads, Path(tmp) / f"{i}.json")
            results.append(((name, n_procs, threads), record))
    reference = results[0][1]["train_loss"]
    for (name, _, _), record in results:
        steady = record["durations"][1:] or record["durations"]
        epoch_s = statistics.median(steady)
        rows.append({"configuration": name, "processes": record["world_size"],
                     "backend": record["backend"],
                     "threads_per_process": record["threads"], "epoch_s": epoch_s,
                     "rows_per_s": record["rows"] / epoch_s,
                     "final_train_loss": record["train_loss"][-1],
                     "max_loss_difference_vs_1_process": float(np.max(np.abs(
                         np.subtract(record["train_loss"], reference))))})
    env = environment(args.device)
    tag = f"distributed-{device_tag(args.device)}"
    notes = (f"Dense AE (512, 256) -> 32, BCE, {args.rows} rows, {args.epochs} epochs, global "
             f"batch {args.batch_size}; epoch_s is the median epoch time after the first. "
             "Loss curves: " + tag + ".png.")
    path = write(tag, env, rows, notes, {"loss_curves": {r[0][0]: r[1]["train_loss"]
                                                         for r in results}},
                 results_dir=args.results_dir, smoke=args.smoke)
    plot(results, path.with_suffix(".png"))
    print(path.read_text())


if __name__ == "__main__":
    main()
