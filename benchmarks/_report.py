"""Shared by the benchmark scripts: environment facts and writing JSON + markdown results."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

import sklearn
import skorch
import torch

RESULTS = Path(__file__).parent / "results"


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


def write(name: str, env: dict, rows: list[dict], notes: str = "",
          extra: dict | None = None) -> Path:
    """Write ``results/<name>.json`` and ``results/<name>.md``; return the markdown path.

    ``extra`` goes into the JSON only (the markdown shows it through ``notes``).
    """
    RESULTS.mkdir(exist_ok=True)
    record = {"env": env, **(extra or {}), "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2))
    columns = list(rows[0])
    lines = [f"# {name}", "", *(f"- {k}: {v}" for k, v in env.items()), ""]
    if notes:
        lines += [notes, ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else "" if v is None else str(v)
                 for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
