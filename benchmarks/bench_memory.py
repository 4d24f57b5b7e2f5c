"""Memory of inference and sparse training: peak and retained RSS beyond the input.

Each case runs in a fresh process. It builds its data, fits a small model (for the
inference cases, on the first 10,000 rows; for the fit case a warm-up on 64 rows),
then reads the resident set size (RSS, ``/proc/self/statm``) as the baseline, runs
the measured call while a thread samples RSS every millisecond, and reads RSS again
after the result is deleted:

* ``peak_above_input_mib``: the highest sample minus the baseline (what the call needs
  beyond the data already in memory, including its own output);
* ``retained_mib``: RSS after the call returned and its output was deleted, minus the
  baseline (memory kept by the allocator or caches).

Cases: ``transform`` of 1,000,000 x 100 float64 rows (the issue's bar: peak <= 64 MiB,
nothing retained), the same in float32 and as a Fortran-ordered (non-contiguous row)
array, ``score_samples`` of the VAE on 200,000 x 100 rows, and ``fit`` on a 100,000 x
5,000 CSR matrix of 1% density (bar: peak below the matrix's dense float32 size, 1.9 GiB).
``--python`` runs the cases with another interpreter/checkout (``PYTHONPATH``) for a
before/after comparison.

    python benchmarks/bench_memory.py
    python benchmarks/bench_memory.py --smoke --results-dir DIR

Threads: torch 2 (``torch.set_num_threads``); run with ``OMP_WAIT_POLICY=PASSIVE``.
Writes ``benchmarks/results/memory-<device>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

MIB = 2**20
CASES = {
    # name: (rows, features, dtype/layout, call, bar in MiB or None)
    "transform float64": (1_000_000, 100, "float64", "transform", 64),
    "transform float32": (1_000_000, 100, "float32", "transform", 64),
    "transform float64 Fortran-ordered": (1_000_000, 100, "fortran", "transform", 64),
    "score_samples VAE float64": (200_000, 100, "float64", "score_samples", None),
    "fit CSR 1% density": (100_000, 5_000, "csr", "fit", None),
}
SMOKE = dict(scale=0.01)


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Sampler(threading.Thread):
    """Samples RSS every millisecond until stopped; ``peak`` is the highest sample."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = rss(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(0.001)

    def stop(self):
        self.running = False
        self.join()
        self.peak = max(self.peak, rss())


def make_data(rows, features, kind, rng):
    import scipy.sparse as sp

    if kind == "csr":
        return sp.random(rows, features, density=0.01, format="csr", random_state=rng,
                         dtype=np.float32)
    X = rng.standard_normal((rows, features))
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "fortran":
        X = np.asfortranarray(X)
    return X


def run_case(name, scale):
    """Measure one case in this process; print its row as JSON."""
    import torch

    from skvae import AutoencoderTransformer, VAETransformer

    torch.set_num_threads(2)
    rows, features, kind, call, bar = CASES[name]
    rows = max(2000, int(rows * scale))
    X = make_data(rows, features, kind, np.random.RandomState(0))
    Estimator = VAETransformer if "VAE" in name else AutoencoderTransformer
    est = Estimator(2, hidden_layer_sizes=(64,), max_epochs=1, batch_size=512, random_state=0,
                    device="cpu")
    # inference: the model to measure; fit: a warm-up on a few dense rows, so torch's
    # one-time allocations (kernels, allocator pools) are in the baseline, not the peak
    est.fit(X[:10_000] if call != "fit" else X[:64].toarray())
    gc.collect()
    baseline = rss()
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    out = getattr(est, call)(X)
    seconds = time.perf_counter() - start
    sampler.stop()
    del out
    gc.collect()
    input_mib = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if kind == "csr"
                 else X.nbytes) / MIB
    row = {"case": name, "rows": rows, "features": features, "input_mib": input_mib,
           "dense_float32_mib": rows * features * 4 / MIB,
           "peak_above_input_mib": (sampler.peak - baseline) / MIB,
           "retained_mib": (rss() - baseline) / MIB, "seconds": seconds,
           "bar_mib": bar if bar is not None else (rows * features * 4 / MIB
                                                   if call == "fit" else None)}
    row["holds"] = None if row["bar_mib"] is None else bool(
        row["peak_above_input_mib"] <= row["bar_mib"] and row["retained_mib"] <= row["bar_mib"])
    print(json.dumps(row), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help="share of each case's rows")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter to run the cases with (default: this one)")
    parser.add_argument("--label", default="this checkout", help="name of the code measured")
    from _report import default_device, device_tag, environment, parse_args, write

    args = parse_args(parser, SMOKE)
    if args.case:
        run_case(args.case, args.scale)
        return
    rows = []
    for name in CASES:
        done = subprocess.run([args.python, __file__, "--case", name, "--scale", str(args.scale)],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
        row = {"code": args.label, **json.loads(done.stdout.strip().splitlines()[-1])}
        print(row, flush=True)
        rows.append(row)
    notes = ("RSS sampled every millisecond in a fresh process per case (see the script's "
             "docstring); `holds`: peak and retained within `bar_mib`.")
    device = default_device()
    path = write(f"memory-{device_tag(device)}", environment(device), rows, notes,
                 results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
