"""Every benchmark script runs: its ``--smoke`` mode (tiny data, one epoch), end to end.

The full-size benchmarks take minutes to most of an hour and are run by hand; a smoke
run takes seconds and exercises the same code, so an API change that breaks a
benchmark fails here instead of on the next person who runs it. The scripts must use
skvae's public API only, which ``test_benchmarks_use_public_api`` checks statically.
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(path.stem for path in BENCHMARKS.glob("bench_*.py"))
#: What a smoke run prints, and exits 0 after, when SKVAE_DATA_HOME lacks its data.
SKIPPED = "skipped: needs "


def smoke_env() -> dict:
    """The environment of a smoke run: quiet OpenMP threads on shared machines, and
    ``SKVAE_DATA_HOME`` made absolute (the subprocess may resolve it elsewhere)."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if env.get("SKVAE_DATA_HOME"):
        env["SKVAE_DATA_HOME"] = str(Path(env["SKVAE_DATA_HOME"]).expanduser().resolve())
    return env


def numbers(rows):
    """Every int or float cell of the result rows (booleans are flags, not numbers)."""
    return [value for row in rows for value in row.values()
            if isinstance(value, (int, float)) and not isinstance(value, bool)]


def committed_results() -> dict:
    """The committed result files and their contents: a smoke run must not touch them."""
    return {path.name: path.read_bytes() for path in (BENCHMARKS / "results").glob("*")}


def test_scripts_are_found():
    """The smoke tests are parametrised by a glob; an empty glob would test nothing."""
    assert {"bench_compare", "bench_digits", "bench_images", "bench_speed",
            "bench_tabular"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_smoke_run(script, tmp_path):
    before = committed_results()
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{script}.py"), "--smoke",
         "--results-dir", str(tmp_path)],
        cwd=BENCHMARKS.parent, env=smoke_env(), capture_output=True, text=True, timeout=600,
        check=False)
    # a launcher's summary can push a rank's own error out of the tail: list error lines too
    causes = [line for line in done.stderr.splitlines()
              if any(word in line for word in ("rror", "terminate", "bort", "corrupt"))][:20]
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}\nerror lines:\n" + "\n".join(causes)
    assert committed_results() == before
    if done.stdout.startswith(SKIPPED):  # documented: the data files are not there
        assert not list(tmp_path.glob("*.json"))
        pytest.skip(done.stdout.strip())
    (result,) = tmp_path.glob("*.json")
    record = json.loads(result.read_text())
    assert record["smoke"] is True
    assert record["rows"], f"{result.name} holds no rows"
    assert all(numbers([row]) for row in record["rows"]), "a row without numbers"
    assert all(math.isfinite(value) for value in numbers(record["rows"]))
    assert result.with_suffix(".md").read_text().count("Smoke run") == 1


def private_uses(path: Path) -> list[str]:
    """Imports of ``skvae._*`` modules and calls of ``_private`` methods in a script."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "skvae":
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names if alias.name.startswith("skvae.")]
        else:
            modules = []
        found += [f"import {m}" for m in modules
                  if any(part.startswith("_") for part in m.split("."))]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr.startswith("_") and not node.func.attr.startswith("__")):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
    return found


@pytest.mark.parametrize("script", [*SCRIPTS, "_report"])
def test_benchmarks_use_public_api(script):
    assert private_uses(BENCHMARKS / f"{script}.py") == []
