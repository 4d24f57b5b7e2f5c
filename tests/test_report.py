"""``skvae compare``'s report: the markdown table, and figures by what each method can do."""

import os

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, Isomap

from skvae import AutoencoderTransformer
from skvae.comparison import default_estimators, load_comparison, run_compare
from skvae.report import STAGING_PREFIX, check_report_folder, format_table, write_report


def test_format_table_is_markdown_with_dashes_for_missing_values():
    table = pd.DataFrame({
        "method": ["PCA", "t-SNE"], "n_components": [2, 2], "fit_s": [0.00123, 4.56],
        "transform_s": [0.0001, np.nan], "test_mse": [0.053175, np.nan],
        "trustworthiness": [0.81872, 0.98331], "knn_accuracy": [0.61667, 0.98333],
        "note": ["", "no transform()"],
    })
    lines = format_table(table).splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["method", "dims", "fit s", "transform s", "test MSE",
                      "trustworthiness", "5-NN accuracy", "note"]
    assert set(lines[1]) <= set("|:-")
    pca = [cell.strip() for cell in lines[2].strip("|").split("|")]
    tsne = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert pca[:7] == ["PCA", "2", "0.0012", "0.0001", "0.0532", "0.8187", "0.6167"]
    assert tsne[:7] == ["t-SNE", "2", "4.6", "-", "-", "0.9833", "0.9833"]


# ---------------------------------------------------------------------- write_report
@pytest.fixture(scope="module")
def digits_data():
    return load_comparison("digits", max_rows=300)


def report_of(data, estimators, out):
    result = run_compare(data, estimators, settings={"dataset": "digits"})
    written = write_report(out, result)
    assert sorted(written) == sorted(os.listdir(out))
    for name in written:
        if name.endswith(".png"):
            image = plt.imread(out / name)
            assert image[..., :3].std() > 0.05, name  # a picture, not a blank canvas
    return written, (out / "report.md").read_text()


def test_a_method_added_to_the_defaults_gets_a_full_report(digits_data, tmp_path):
    estimators = default_estimators(2, max_epochs=3, hidden_layer_sizes=(16,), verbose=0)
    estimators["Isomap"] = Isomap(n_components=2, n_neighbors=10)  # a fifth method: one line
    written, report = report_of(digits_data, estimators, tmp_path)
    assert written == ["report.md", "metrics.csv", "embeddings.png", "manifold_ae.png",
                       "manifold_vae.png", "reconstructions.png", "samples.png", "history.png"]
    table = pd.read_csv(tmp_path / "metrics.csv")
    assert table["method"].tolist() == ["PCA", "t-SNE", "AE", "VAE", "Isomap"]
    isomap = next(line for line in report.splitlines() if line.startswith("| Isomap"))
    assert f"{table.set_index('method').loc['Isomap', 'trustworthiness']:.4f}" in isomap
    assert "Missing for t-SNE, Isomap (no inverse)" in report
    assert "reconstructions by PCA, AE, VAE." in report  # Isomap cannot reconstruct
    assert "- Isomap: Isomap(n_components=2)" in report  # its settings, by key


def test_a_custom_list_of_methods_is_drawn_by_what_each_can_do(digits_data, tmp_path):
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    isomap = Isomap(n_components=2, n_neighbors=10)
    written, report = report_of(digits_data, [PCA(2), isomap, ae], tmp_path)
    assert written[2:] == ["embeddings.png", "manifold_autoencodertransformer.png",
                           "reconstructions.png", "samples.png", "history.png"]
    assert "t-SNE(AutoencoderTransformer(X)) runs t-SNE on the codes of" in report
    assert "held at the codes' centre" in report  # a 3-D code: the third one is fixed
    assert "epochs run: AutoencoderTransformer 3" in report


def test_methods_without_inverse_or_sample_get_no_model_figures(digits_data, tmp_path):
    written, report = report_of(digits_data, {"t-SNE": TSNE(2, random_state=0)}, tmp_path)
    assert written == ["report.md", "metrics.csv", "embeddings.png"]
    assert "**t-SNE** cannot embed new rows" in report
    assert "epochs run: -" in report


# ---------------------------------------------------------------------- all or nothing
@pytest.fixture(scope="module")
def pca_result(digits_data):
    return run_compare(digits_data, {"PCA": PCA(2)})


def test_the_report_folder_is_created_whole_with_its_parents(pca_result, tmp_path):
    out = tmp_path / "new" / "nested" / "report"
    written = write_report(out, pca_result)
    assert sorted(os.listdir(out)) == sorted(written)
    assert os.listdir(tmp_path) == ["new"]  # no staging folder left beside it
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0o700


def test_a_report_replaces_its_files_and_keeps_the_others(pca_result, tmp_path):
    (tmp_path / "report.md").write_text("old report")
    (tmp_path / "notes.txt").write_text("mine")
    written = write_report(tmp_path, pca_result)
    assert sorted(os.listdir(tmp_path)) == sorted([*written, "notes.txt"])
    assert (tmp_path / "report.md").read_text().startswith("# skvae compare")


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, RuntimeError])
@pytest.mark.parametrize("existing", [False, True])
def test_a_report_that_fails_midway_writes_nothing(pca_result, monkeypatch, tmp_path,
                                                   interrupt, existing):
    def fail(*args, **kwargs):
        raise interrupt("stopped while drawing")

    monkeypatch.setattr("skvae.plotting.plot_reconstructions", fail)
    out = tmp_path / "report"
    if existing:
        out.mkdir()
        (out / "report.md").write_text("old report")
    with pytest.raises(interrupt, match="stopped while drawing"):
        write_report(out, pca_result)
    assert os.listdir(tmp_path) == (["report"] if existing else [])
    if existing:
        assert os.listdir(out) == ["report.md"]
        assert (out / "report.md").read_text() == "old report"


def test_check_report_folder_accepts_new_and_existing_folders_and_leaves_no_trace(tmp_path):
    check_report_folder(tmp_path)
    check_report_folder(tmp_path / "a" / "b")
    assert os.listdir(tmp_path) == []


def test_check_report_folder_names_the_file_in_the_way(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match=r"^--out '.*file\.txt' is a file; give a folder"):
        check_report_folder(a_file, option="--out")
    with pytest.raises(ValueError, match=r"^out_dir '.*file\.txt/a/b' cannot be created: "
                                         r"'.*file\.txt' is a file\. Give a folder path"):
        check_report_folder(a_file / "a" / "b")


def test_check_report_folder_says_when_nothing_can_be_written(monkeypatch, tmp_path):
    def read_only(path, *args, **kwargs):
        raise OSError(30, "Read-only file system", path)

    monkeypatch.setattr(os, "mkdir", read_only)
    with pytest.raises(PermissionError, match=(
            r"^out_dir '.*report' is not writable: cannot create anything in '.*' "
            r"\(Read-only file system\)\. Give a folder you can write to\.$")):
        check_report_folder(tmp_path / "report")
    assert STAGING_PREFIX.startswith(".")  # a hidden name, should one outlive a crash


def test_table_figures_show_the_drawn_column_in_its_original_units(tmp_path):
    from skvae import VAETransformer
    from skvae.report import _manifold, _samples

    rng = np.random.RandomState(0)
    area = rng.uniform(40, 250, 300).round()
    frame = pd.DataFrame({"area": area, "rooms": (area // 30).astype(int),
                          "kind": rng.choice(["flat", "house"], 300),
                          "price": 3000 * area + rng.normal(0, 20000, 300)})
    path = tmp_path / "homes.csv"
    frame.to_csv(path, index=False)
    data = load_comparison(str(path), target="price")
    assert data.column == "area" and data.layout is not None
    vae = VAETransformer(2, max_epochs=5, random_state=0, **data.net_params).fit(data.X_train)
    result = run_compare(data, {"VAE": PCA(2)}, verbose=0)  # the report's data, any method
    colour_bar = _manifold(result, "VAE", vae)[0].figure.axes[-1]
    (histogram,) = _samples(result.data, {"VAE": vae})[0]
    for axis in (colour_bar.yaxis, histogram.xaxis):
        assert axis.get_label_text() == "area (original units)"
        labels = [float(t.get_text()) for t in axis.get_ticklabels()]
        inside = [v for v, loc in zip(labels, axis.get_ticklocs(), strict=True)
                  if abs(loc) <= 2]  # within two normalised units of the middle
        assert min(inside) >= 40 - 1 and max(inside) <= 250 + 1  # square metres, not z
        assert labels == sorted(labels) and max(labels) > 100
