"""Shared by the benchmark scripts: environment facts, the common options, data files and
writing JSON + markdown results.

Every script takes ``--smoke`` (tiny data, as few epochs as the script can use: a check
that it still runs, which ``tests/test_benchmarks.py`` does in CI) and ``--results-dir``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import sklearn
import skorch
import torch

RESULTS = Path(__file__).parent / "results"

#: Put above a smoke run's markdown, so its tiny numbers are never read as results.
SMOKE_NOTE = ("**Smoke run** (`--smoke`: tiny data, one epoch or as few as the script can "
              "use): these numbers show that the benchmark runs, not what it measures; "
              "any \"must hold\" checks are reported and may well say NO.")


def default_device() -> str:
    """"cuda" when torch sees a GPU, else "cpu": what the estimators' ``device="auto"`` picks."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def parse_args(parser: argparse.ArgumentParser, smoke: dict) -> argparse.Namespace:
    """Add ``--smoke`` and ``--results-dir`` to ``parser`` and parse the command line.

    ``smoke`` holds the defaults that ``--smoke`` switches to; options given explicitly
    still win (``--smoke --epochs 3``), so a smoke run can be widened from the shell.
    """
    parser.add_argument("--smoke", action="store_true",
                        help="tiny data and one epoch: check that the script runs, in "
                             "seconds; results go to a temporary folder by default")
    parser.add_argument("--results-dir", type=Path, default=None, metavar="DIR",
                        help="folder for the JSON and markdown results (default: "
                             "benchmarks/results; with --smoke a new temporary folder)")
    if parser.parse_known_args()[0].smoke:
        parser.set_defaults(**smoke)
    return parser.parse_args()


def data_file(relative: str) -> Path | None:
    """``$SKVAE_DATA_HOME/<relative>`` when that file exists, else None.

    Smoke runs look before loading: the loaders would otherwise try to download.
    """
    home = os.environ.get("SKVAE_DATA_HOME")
    path = Path(home).expanduser() / relative if home else None
    return path if path is not None and path.is_file() else None


def skip(reason: str) -> None:
    """End a smoke run that lacks its data: exit 0 with the line the test looks for."""
    print(f"skipped: needs {reason}")
    sys.exit(0)


def device_tag(device: str) -> str:
    """The device part of a result file's name: ``cpu``, or ``cuda-<GPU name>`` (e.g.
    ``cuda-NVIDIA-H100-80GB-HBM3``), so results from different GPUs never overwrite
    each other."""
    if not device.startswith("cuda"):
        return device
    return "cuda-" + "-".join(torch.cuda.get_device_name(torch.device(device)).split())


def environment(device: str) -> dict:
    """Machine, device, date and library versions, recorded with every result."""
    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor()
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)",
        "device": f"{device}: {name or 'cpu'}",
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "skorch": skorch.__version__,
        "sklearn": sklearn.__version__,
    }


def results_folder(results_dir: Path | None, smoke: bool) -> Path:
    """Where results go: ``results_dir`` when given, else ``benchmarks/results`` -- except
    for smoke runs, which get a fresh temporary folder so they never overwrite the
    committed results."""
    if results_dir is not None:
        folder = Path(results_dir)
    elif smoke:
        folder = Path(tempfile.mkdtemp(prefix="skvae-bench-smoke-"))
    else:
        folder = RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(name: str, env: dict, rows: list[dict], notes: str = "",
          extra: dict | None = None, *, results_dir: Path | None = None,
          smoke: bool = False) -> Path:
    """Write ``<folder>/<name>.json`` and ``<folder>/<name>.md``; return the markdown path.

    The folder is :func:`results_folder`'s. ``extra`` goes into the JSON only (the
    markdown shows it through ``notes``). A smoke run says so in both files.
    """
    folder = results_folder(results_dir, smoke)
    record = {"env": env, "smoke": smoke, **(extra or {}), "rows": rows}
    (folder / f"{name}.json").write_text(json.dumps(record, indent=2))
    columns = list(dict.fromkeys(key for row in rows for key in row))  # every row's keys
    lines = [f"# {name}", "", *(f"- {k}: {v}" for k, v in env.items()), ""]
    if smoke:
        lines += [SMOKE_NOTE, ""]
    if notes:
        lines += [notes, ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else "" if v is None else str(v)
                 for v in (row.get(column) for column in columns)]
        lines.append("| " + " | ".join(cells) + " |")
    path = folder / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {folder / name}.json and .md", flush=True)
    return path
