"""The main job, timed: ``skvae compare`` as a user runs it, on each data set.

Runs the installed ``skvae`` command (a subprocess, so the time includes starting Python
and importing torch) with its defaults plus ``--dataset``, and reads back the report's
table. Checks the issue's bars: digits finishes in under 2 minutes with report.md and at
least 5 PNG files, and its AE and VAE beat PCA on trustworthiness and 5-NN accuracy.

    python benchmarks/bench_compare.py [--datasets digits mnist house-prices]
    python benchmarks/bench_compare.py --smoke --results-dir DIR   # seconds: does it run?

mnist and house-prices need ``SKVAE_DATA_HOME``. ``--smoke`` runs digits only, with
``--epochs 1 --max-rows 200``. Writes ``benchmarks/results/compare-<device>.json`` and
``.md`` (``--results-dir``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _report import default_device, device_tag, environment, parse_args, write

#: The issue's time bar for the default run, in seconds.
DIGITS_BAR_S = 120
#: metrics.csv's columns (a data set has either the accuracy or the R² one).
COLUMNS = ["method", "n_components", "fit_s", "transform_s", "test_mse", "trustworthiness",
           "knn_accuracy", "knn_r2", "note"]
#: What ``--smoke`` changes: digits only (no data files needed), one epoch, 200 rows.
SMOKE = dict(datasets=["digits"], epochs=1, max_rows=200)


def run(command, dataset, out: Path, options=()) -> dict:
    """Run ``skvae compare`` on ``dataset`` (plus ``options``); wall seconds, files
    written and the table."""
    argv = [*command, "compare", "--quiet", "--out", str(out), *options]
    if dataset != "digits":  # the default run is exactly `skvae compare`
        argv += ["--dataset", dataset]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return {"wall_s": seconds, "pngs": len(list(out.glob("*.png"))),
            "report": (out / "report.md").is_file(),
            "table": pd.read_csv(out / "metrics.csv")}


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist", "house-prices"])
    parser.add_argument("--command", default="skvae",
                        help="the skvae executable (e.g. a fresh virtualenv's bin/skvae)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="passed on as `skvae compare --epochs` (default: its own)")
    parser.add_argument("--max-rows", type=int, default=None,
                        help="passed on as `skvae compare --max-rows` (default: its own)")
    return parse_args(parser, SMOKE)


def command_line(args) -> list[str]:
    """The ``skvae`` command; ``python -m skvae`` of this interpreter when no ``skvae``
    is on the PATH (e.g. a virtualenv that is not activated)."""
    found = shutil.which(args.command)
    if found is None and args.command == "skvae":
        return [sys.executable, "-m", "skvae"]
    return [found or args.command]


def run_all(command, args) -> tuple[dict, list, list]:
    """Run every data set in a temporary folder: ({dataset: run}, table rows, the
    options passed on to ``skvae compare``)."""
    options = [token for flag, value in (("--epochs", args.epochs), ("--max-rows", args.max_rows))
               if value is not None for token in (flag, str(value))]
    runs, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            runs[dataset] = result = run(command, dataset, Path(tmp) / dataset, options)
            print(f"{dataset}: {result['wall_s']:.1f} s, {result['pngs']} PNGs", flush=True)
            for cells in result["table"].to_dict("records"):
                row = {"dataset": dataset, "wall_s": round(result["wall_s"], 1),
                       "pngs": result["pngs"], **dict.fromkeys(COLUMNS)}
                rows.append(row | {k: None if pd.isna(v) else v for k, v in cells.items()})
    return runs, rows, options


def digits_checks(digits) -> list[str]:
    """The issue's bars on the digits run (the default `skvae compare`)."""
    table = digits["table"].set_index("method")
    checks = [f"1a. `skvae compare` (digits) wall time {digits['wall_s']:.1f} s "
              f"< {DIGITS_BAR_S} s: {'yes' if digits['wall_s'] < DIGITS_BAR_S else 'NO'}",
              f"1b. report.md written and {digits['pngs']} PNGs >= 5: "
              f"{'yes' if digits['report'] and digits['pngs'] >= 5 else 'NO'}"]
    for column in ["trustworthiness", "knn_accuracy"]:
        pca = float(table.loc["PCA", column])
        nets = {m: float(table.loc[m, column]) for m in ("AE", "VAE")}
        holds = all(v > pca for v in nets.values())
        checks.append(f"1c. digits {column}: AE {nets['AE']:.4f}, VAE {nets['VAE']:.4f} "
                      f"> PCA {pca:.4f}: {'yes' if holds else 'NO'}")
    return checks


def main():
    args = parse()
    command = command_line(args)
    device = default_device()
    runs, rows, options = run_all(command, args)
    checks = digits_checks(runs["digits"]) if "digits" in runs else []
    notes = "\n".join([
        f"Each run: `{os.path.basename(command[-1])} compare --quiet --out DIR "
        f"{' '.join(options)}{' ' if options else ''}[--dataset D]` "
        "in a subprocess (wall time includes interpreter start and imports). Metrics are "
        "read from each run's metrics.csv (the same table as its report.md).",
        "", "## Must hold", "",
        *(f"- {c}" for c in checks), "", "## Reports"])
    path = write(f"compare-{device_tag(device)}", environment(device), rows, notes,
                 extra={"checks": checks}, results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
