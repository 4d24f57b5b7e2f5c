"""The ``skvae`` command: ``skvae compare`` writes a report; bad options fail clearly."""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from skvae import cli
from skvae.cli import build_parser, load_comparison, main

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
