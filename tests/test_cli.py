"""The ``skvae`` command."""

import pytest
import torch

from skvae.cli import compare, main


def test_compare_shows_the_networks_beating_pca():
    rows = {r["method"]: r for r in compare(n_components=2, epochs=60)}
    pca = rows["PCA"]
    for name in ["AutoencoderTransformer", "VAETransformer"]:
        assert rows[name]["test_mse"] < pca["test_mse"]
        assert rows[name]["knn5_acc"] > pca["knn5_acc"] + 0.1
        assert rows[name]["trustworthiness"] > pca["trustworthiness"]


def test_main_prints_a_table(capsys):
    assert main(["compare", "--epochs", "2", "--n-components", "3"]) == 0
    out = capsys.readouterr().out
    assert "n_components=3" in out
    assert [line.split()[0] for line in out.splitlines()[3:]] == [
        "PCA", "AutoencoderTransformer", "VAETransformer"]


@pytest.mark.parametrize("argv, message", [
    (["compare", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["compare", "--n-components", "x"], "expected a positive integer, got 'x'"),
    ([], "the following arguments are required: command"),
])
def test_bad_options_exit_non_zero_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_gpu_is_reported_not_raised(capsys):
    assert main(["compare", "--epochs", "1", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
