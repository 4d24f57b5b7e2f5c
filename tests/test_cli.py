"""The ``skvae`` command: ``skvae compare`` writes a report; bad options fail clearly."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from skorch.callbacks import Callback

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from skvae import cli, comparison
from skvae.cli import build_parser, load_comparison, main
from skvae.comparison import run_compare

FIGURES = ["embeddings.png", "manifold_ae.png", "manifold_vae.png", "reconstructions.png",
           "samples.png", "history.png"]
SHARED = Path(os.environ.get("SKVAE_DATA_HOME", "/nonexistent"))


def needs(filename):
    return pytest.mark.skipif(not (SHARED / filename).is_file(),
                              reason=f"needs {filename} in SKVAE_DATA_HOME")


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    """`skvae compare` with no options but --out (and --quiet): the main job."""
    out = tmp_path_factory.mktemp("report")
    assert main(["compare", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow  # uses the whole default `skvae compare` run
def test_the_main_job_writes_a_report_with_its_figures(default_report):
    assert sorted(os.listdir(default_report)) == sorted(["report.md", "metrics.csv", *FIGURES])
    report = (default_report / "report.md").read_text()
    for name in FIGURES:
        assert f"![{name}]({name})" in report
        image = plt.imread(default_report / name)
        assert image.shape[0] > 200 and image.shape[1] > 200
        assert image[..., :3].std() > 0.05  # a picture, not a blank canvas


@pytest.mark.slow  # uses the whole default `skvae compare` run
def test_the_main_job_shows_the_networks_beating_pca_on_digits(default_report):
    table = pd.read_csv(default_report / "metrics.csv").set_index("method")
    assert list(table.index) == ["PCA", "t-SNE", "AE", "VAE"]
    for model in ["AE", "VAE"]:
        for column in ["trustworthiness", "knn_accuracy"]:
            assert table.loc[model, column] > table.loc["PCA", column], (model, column)
        assert table.loc[model, "test_mse"] < table.loc["PCA", "test_mse"]
    assert np.isnan(table.loc["t-SNE", "test_mse"])
    # report.md shows the same numbers
    report = (default_report / "report.md").read_text()
    vae_line = next(line for line in report.splitlines() if line.startswith("| VAE "))
    assert f"{table.loc['VAE', 'trustworthiness']:.4f}" in vae_line
    assert f"{table.loc['VAE', 'knn_accuracy']:.4f}" in vae_line


@pytest.mark.slow  # uses the whole default `skvae compare` run
def test_the_report_records_its_settings(default_report):
    report = (default_report / "report.md").read_text()
    assert report.startswith("# skvae compare: digits")
    assert "1437 training / 360 test rows" in report
    assert "max_epochs=100" in report and "torch " + torch.__version__ in report


@pytest.mark.slow  # a whole `skvae compare` run
def test_main_prints_the_table(capsys, tmp_path):
    assert main(["compare", "--epochs", "2", "--n-components", "3", "--out", str(tmp_path),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "n_components=3" in out and f"wrote 8 files to {tmp_path}/" in out
    assert [line.split("|")[1].strip() for line in out.splitlines()
            if line.startswith("| ")][1:] == ["PCA", "t-SNE", "AE", "VAE"]
    assert "t-SNE(AE(X))" in (tmp_path / "report.md").read_text()  # 3-D codes: a 5th panel


@pytest.mark.slow  # a whole `skvae compare` run
def test_progress_bars_unless_quiet(capsys, tmp_path):
    main(["compare", "--epochs", "2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "AutoencoderTransformer: 100%" in err and "VAETransformer: 100%" in err


@pytest.mark.slow  # a whole `skvae compare` run
def test_a_csv_file_runs_the_tabular_flow_with_a_target(tmp_path):
    rng = np.random.RandomState(0)
    size = rng.uniform(30, 200, 240)
    frame = pd.DataFrame({
        "size": size, "rooms": (size // 30).astype(int),
        "kind": np.where(size > 100, "house", "flat"), "city": rng.choice(["a", "b"], 240),
        "price": size * 1000 + rng.randn(240) * 5000,
    })
    path = tmp_path / "homes.csv"
    frame.to_csv(path, index=False)
    data = load_comparison(str(path), target="price")
    assert list(data.X_train.columns) == ["size", "rooms", "kind=flat", "kind=house",
                                          "city=a", "city=b"]
    assert data.column == "size"  # the numeric column most correlated with the target
    assert data.net_params["categorical_groups"] == [[2, 3], [4, 5]]
    out = tmp_path / "report"
    assert main(["compare", "--dataset", str(path), "--target", "price", "--epochs", "5",
                 "--out", str(out), "--quiet"]) == 0
    report = (out / "report.md").read_text()
    assert "5-NN R²" in report and "coloured by price" in report
    assert len(list(out.glob("*.png"))) == 6


@pytest.mark.slow  # a whole `skvae compare` run
@needs("house_prices/train.csv.gz")
def test_house_prices_are_coloured_by_log_sale_price(tmp_path):
    data = load_comparison("house-prices")
    assert data.label_name == "log SalePrice"
    assert 10 < data.y_train.min() and data.y_train.max() < 14  # log dollars
    assert "SalePrice" not in data.X_train.columns
    assert main(["compare", "--dataset", "house-prices", "--epochs", "3", "--out",
                 str(tmp_path), "--quiet"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "coloured by log SalePrice" in report and "5-NN R²" in report


@pytest.mark.slow  # a whole `skvae compare` run
@needs("mnist.npz")
def test_mnist_runs_on_a_slice(tmp_path):
    data = load_comparison("mnist", max_rows=500)
    assert data.X_train.shape == (400, 784) and data.image_shape == (1, 28, 28)
    assert main(["compare", "--dataset", "mnist", "--max-rows", "500", "--epochs", "2",
                 "--out", str(tmp_path), "--quiet"]) == 0
    assert "500 images of 28x28 pixels" in (tmp_path / "report.md").read_text()


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ["--dataset", "--target", "--n-components", "--epochs", "--max-rows",
                   "--device", "--out", "--data-home", "--random-state", "--quiet",
                   "house-prices", "PATH.csv"]:
        assert option in text
    for rest in ["``", ":func:", ":mod:", "`"]:  # plain text, not the docstring's reST
        assert rest not in text
    assert "(exit status 130)" in text and "(skvae.metrics.compare)" in text


@pytest.mark.parametrize("argv, message", [
    (["compare", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["compare", "--n-components", "x"], "expected a positive integer, got 'x'"),
    (["compare", "--dataset", "cifar"], "unknown data set 'cifar': choose one of digits"),
    ([], "the following arguments are required: command"),
])
def test_bad_options_exit_non_zero_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def bad_runs(tmp_path):
    csv = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}).to_csv(csv, index=False)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    return [
        (["--target", "y"], "--target picks the label column of a CSV file"),
        (["--dataset", str(tmp_path / "none.csv")], "no such file"),
        (["--dataset", str(csv), "--target", "price"], "--target 'price' is not a column"),
        (["--out", str(a_file)], "is a file; give a folder for the report"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_bad_inputs_are_reported_before_training(capsys, tmp_path, case):
    argv, message = bad_runs(tmp_path)[case]
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skvae: error: ") and message in err


def test_missing_matplotlib_is_reported_before_training(capsys, monkeypatch, tmp_path):
    def no_matplotlib():
        raise ImportError("skvae.plotting needs matplotlib, which is not installed.")

    monkeypatch.setattr("skvae.plotting.pyplot", no_matplotlib)
    monkeypatch.setattr(cli, "run_compare", lambda *a, **k: pytest.fail("trained anyway"))
    assert main(["compare", "--out", str(tmp_path)]) == 2
    assert "needs matplotlib" in capsys.readouterr().err


@pytest.mark.slow  # a whole `skvae compare` run
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_gpu_is_reported_not_raised(capsys, tmp_path):
    assert main(["compare", "--epochs", "1", "--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_parser_defaults_are_the_documented_ones():
    args = build_parser().parse_args(["compare"])
    assert (args.dataset, args.n_components, args.device, args.out) == (
        "digits", 2, "auto", "skvae-report")
    assert args.epochs is None and args.max_rows is None  # per data set, see --help


# ---------------------------------------------------------------------- fail before training
def no_training(monkeypatch):
    """Make any training fail the test: the checks must come first."""
    monkeypatch.setattr(cli, "run_compare", lambda *a, **k: pytest.fail("trained anyway"))


def text_csv(path, with_price=False):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"kind": rng.choice(["house", "flat"], 50),
                          "city": rng.choice(["a", "b", "c"], 50)})
    if with_price:
        frame["price"] = rng.uniform(1, 2, 50)
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("target, message", [
    (None, r"--dataset 't\.csv' has no numeric column: its columns \['kind', 'city'\] all "
           r"hold text, read as categories\. skvae compare draws a numeric column in its "
           r"figures: add one, or write the numbers of a column read as text plainly"),
    ("price", r"has no numeric column \(besides the --target column 'price'\): its columns "
              r"\['kind', 'city'\]"),
], ids=["text only", "text besides the target"])
def test_a_text_only_csv_fails_at_once_before_training(capsys, monkeypatch, tmp_path,
                                                        target, message):
    no_training(monkeypatch)
    path = text_csv(tmp_path / "t.csv", with_price=target is not None)
    out = tmp_path / "report"
    argv = ["compare", "--dataset", path, "--out", str(out)]
    start = time.perf_counter()
    assert main(argv + (["--target", target] if target else [])) == 2
    assert time.perf_counter() - start < 5
    err = capsys.readouterr().err
    assert err.startswith("skvae: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_load_comparison_names_the_text_only_csv(tmp_path):
    with pytest.raises(ValueError, match=r"has no numeric column: its columns \['kind', "):
        load_comparison(text_csv(tmp_path / "t.csv"))


def test_an_unreadable_csv_is_reported_with_its_path(capsys, monkeypatch, tmp_path):
    no_training(monkeypatch)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["compare", "--dataset", str(empty), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"--dataset '{empty}' cannot be read as a CSV file (No columns to parse" in err
    assert "Give a comma-separated, UTF-8 file with a header row." in err


def test_an_out_folder_under_a_file_fails_at_once_before_training(capsys, monkeypatch,
                                                                   tmp_path):
    no_training(monkeypatch)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    start = time.perf_counter()
    assert main(["compare", "--out", str(a_file / "report")]) == 2
    assert time.perf_counter() - start < 5
    assert capsys.readouterr().err == (
        f"skvae: error: --out '{a_file / 'report'}' cannot be created: '{a_file}' is a "
        "file. Give a folder path for the report (an existing folder or a new one).\n")


def test_an_unwritable_out_folder_fails_at_once_before_training(capsys, monkeypatch,
                                                                 tmp_path):
    def read_only(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    no_training(monkeypatch)
    monkeypatch.setattr(os, "mkdir", read_only)  # as a read-only disk or folder would
    start = time.perf_counter()
    assert main(["compare", "--out", str(tmp_path / "new" / "report")]) == 2
    assert time.perf_counter() - start < 5
    assert capsys.readouterr().err == (
        f"skvae: error: --out '{tmp_path / 'new' / 'report'}' is not writable: cannot "
        f"create anything in '{tmp_path}' (Permission denied). Give a folder you can "
        "write to.\n")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="needs POSIX permissions that apply (not root)")
def test_a_read_only_out_folder_fails_before_training(capsys, monkeypatch, tmp_path):
    no_training(monkeypatch)
    tmp_path.chmod(0o500)
    try:
        assert main(["compare", "--out", str(tmp_path)]) == 2
    finally:
        tmp_path.chmod(0o700)
    assert f"--out '{tmp_path}' is not writable" in capsys.readouterr().err


# ---------------------------------------------------------------------- Ctrl-C
class InterruptedFit(TransformerMixin, BaseEstimator):
    """Fits as a skvae estimator does when Ctrl-C stops its training."""

    def fit(self, X, y=None):
        self.components_ = np.asarray(X, dtype=float)[:2].T
        self.interrupted_ = True
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) @ self.components_


def test_run_compare_stops_at_the_first_interrupted_fit(monkeypatch):
    data = load_comparison("digits", max_rows=100)
    later = PCA(2)
    monkeypatch.setattr(later, "fit", lambda *a, **k: pytest.fail("went on after Ctrl-C"))
    with pytest.raises(KeyboardInterrupt, match="cut: training was interrupted"):
        run_compare(data, {"PCA": PCA(2), "cut": InterruptedFit(), "later": later})


def test_run_compare_measures_one_method_at_a_time_as_compare_does():
    data = load_comparison("digits", max_rows=100)
    result = run_compare(data, [PCA(2), PCA(3)])
    table = comparison.compare([PCA(2), PCA(3)], data.X_train, data.y_train,
                               X_test=data.X_test, y_test=data.y_test)
    pd.testing.assert_frame_equal(result.table.drop(columns=["fit_s", "transform_s"]),
                                  table.drop(columns=["fit_s", "transform_s"]))
    assert list(result.fitted) == list(result.codes) == ["PCA", "PCA (1)"]


class CtrlCAfter(Callback):
    """Requests the stop as the estimator's SIGINT handler does (see test_interrupt.py)."""

    def __init__(self, epochs=2):
        self.epochs = epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= self.epochs:
            net.stop_requested_ = True


@pytest.mark.parametrize("old_report", [False, True])
def test_an_interrupted_training_exits_130_and_writes_nothing(capsys, monkeypatch, tmp_path,
                                                              old_report):
    defaults = comparison.default_estimators

    def interrupted_ae(*args, **kwargs):
        estimators = defaults(*args, **kwargs)
        estimators["AE"].set_params(callbacks=[CtrlCAfter(2)])
        return estimators

    monkeypatch.setattr(comparison, "default_estimators", interrupted_ae)
    out = tmp_path / "report"
    if old_report:
        out.mkdir()
        (out / "report.md").write_text("old report")
    before = signal.getsignal(signal.SIGINT)
    assert main(["compare", "--max-rows", "100", "--epochs", "50", "--out", str(out),
                 "--quiet"]) == 130
    assert signal.getsignal(signal.SIGINT) is before
    captured = capsys.readouterr()
    assert captured.err == "skvae compare: interrupted, nothing written\n"
    assert "| PCA" not in captured.out  # no table of half-trained models
    assert sorted(os.listdir(tmp_path)) == (["report"] if old_report else [])
    if old_report:
        assert os.listdir(out) == ["report.md"]
        assert (out / "report.md").read_text() == "old report"


def test_ctrl_c_while_drawing_the_report_leaves_the_old_one(capsys, monkeypatch, tmp_path):
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("skvae.plotting.plot_history", ctrl_c)
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("old report")
    assert main(["compare", "--max-rows", "100", "--epochs", "2", "--out", str(out),
                 "--quiet"]) == 130
    assert capsys.readouterr().err == "skvae compare: interrupted, nothing written\n"
    assert os.listdir(out) == ["report.md"] and (out / "report.md").read_text() == "old report"


def start_compare(out, *options):
    """``python -m skvae compare`` in a subprocess; its merged output collected by a thread."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "skvae", "compare", "--out", str(out), *options],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"})
    output = []

    def collect():
        while chunk := proc.stdout.read1(4096):
            output.append(chunk.decode(errors="replace"))

    threading.Thread(target=collect, daemon=True).start()
    return proc, output


def wait_for(proc, output, text, timeout=120):
    deadline = time.monotonic() + timeout
    while text not in "".join(output):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(output)[-2000:]
        time.sleep(0.02)


@pytest.mark.slow  # two real `skvae compare` processes, interrupted
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("phase, wait_text, delay", [
    ("training", "AutoencoderTransformer:", 0.5),  # the estimator's own handler
    ("PCA or t-SNE", "skvae compare: digits", 0.3),  # the command's handler
], ids=["training", "PCA or t-SNE"])
def test_sigint_exits_130_within_2_s_leaving_the_old_report(tmp_path, phase, wait_text,
                                                            delay):
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.md").write_text("old report")
    (out / "notes.txt").write_text("mine")
    proc, output = start_compare(out, "--epochs", "2000", "--max-rows", "1000")
    try:
        wait_for(proc, output, wait_text)
        time.sleep(delay)
        assert proc.poll() is None, "".join(output)[-2000:]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=2)
        elapsed = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait()
    print(f"{phase}: SIGINT to exit {elapsed:.2f} s")
    assert proc.returncode == 130
    time.sleep(0.1)  # the reader thread's last chunk
    text = "".join(output)
    assert text.rstrip().endswith("skvae compare: interrupted, nothing written"), text[-2000:]
    assert "Traceback" not in text and "| PCA" not in text
    assert sorted(os.listdir(tmp_path)) == ["report"]
    assert sorted(os.listdir(out)) == ["notes.txt", "report.md"]  # no staging folder left
    assert (out / "report.md").read_text() == "old report"
