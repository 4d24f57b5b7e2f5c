"""The documentation builds: ``sphinx-build -W`` with the gallery executed at reduced size.

Runs what CI needs from the docs in one go: the user guide, the API pages generated from
the docstrings, and every gallery example (``SKVAE_DOCS_QUICK=1``: fewer rows and
epochs). Skipped without the ``docs`` extra or without the shared data files the
examples read (``SKVAE_DATA_HOME``).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for module in ["sphinx", "numpydoc", "sphinx_gallery", "myst_parser"]:
    pytest.importorskip(module, reason="needs the docs extra: pip install -e '.[docs]'")

DOCS = Path(__file__).resolve().parents[1] / "docs"
DATA = Path(os.environ.get("SKVAE_DATA_HOME", "/nonexistent"))
NEEDED = ["mnist.npz", "fashion_mnist.npz", "olivetti_faces.npz", "house_prices/train.csv.gz"]
EXAMPLES = sorted(p.stem for p in (DOCS / "examples").glob("plot_*.py"))

pytestmark = [
    pytest.mark.slow,  # builds the whole site and runs every gallery example
    pytest.mark.skipif(not all((DATA / name).is_file() for name in NEEDED),
                       reason="the gallery reads the shared data files: set SKVAE_DATA_HOME"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # a fresh copy of the sources: sphinx-gallery skips examples whose output it finds
    # next to them, and a reduced-size build must not leave its figures in docs/
    source = tmp_path_factory.mktemp("docs") / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst"))
    out = tmp_path_factory.mktemp("html")
    # absolute: sphinx-gallery runs each example from its own folder
    env = {**os.environ, "SKVAE_DOCS_QUICK": "1", "MPLBACKEND": "Agg",
           "SKVAE_DATA_HOME": str(DATA.resolve())}
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(source), str(out)],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return out


def test_the_site_builds_without_warnings(site):
    for page in ["index", "install", "user_guide", "api", "auto_examples/index"]:
        assert (site / f"{page}.html").is_file(), page


#: Figures each example draws (sphinx-gallery saves one PNG per matplotlib figure).
FIGURES = {"plot_1_mnist_latent": 3, "plot_2_fashion_mnist": 4, "plot_3_house_prices": 3,
           "plot_4_conv_vae_mnist": 2, "plot_5_olivetti_faces": 6, "plot_6_grid_search": 1,
           "plot_7_synthetic_table": 2, "plot_8_outliers": 5}


def test_every_example_ran_and_drew_its_figures(site):
    assert EXAMPLES == sorted(FIGURES)
    for name, count in FIGURES.items():
        html = (site / "auto_examples" / f"{name}.html").read_text(encoding="utf-8")
        figures = set(re.findall(r"sphx_glr_" + name + r"_\d+\.png", html))
        assert len(figures) == count, (name, sorted(figures))


def test_every_public_object_has_an_api_page(site):
    for name in ["skvae.AutoencoderTransformer", "skvae.VAETransformer",
                 "skvae.OutlierDetector", "skvae.metrics.compare",
                 "skvae.plotting.plot_manifold", "skvae.plotting.plot_outliers",
                 "skvae.datasets.load_house_prices", "skvae.callbacks.KLWarmup"]:
        page = site / "generated" / f"{name}.html"
        assert page.is_file(), name
        assert "Examples" in page.read_text(encoding="utf-8"), name


def test_the_quick_start_snippet_runs_and_saves_its_figures(tmp_path, monkeypatch):
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    lines = index.split(".. code-block:: python\n", 1)[1].splitlines()
    end = next(i for i, line in enumerate(lines) if line and not line.startswith("   "))
    code = "\n".join(line[3:] for line in lines[:end])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(code, "index.rst", "exec"), {})
    for name in ["latent.png", "manifold.png"]:
        assert (tmp_path / name).stat().st_size > 10_000, name
