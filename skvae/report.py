"""The report written by ``skvae compare``: ``report.md``, its PNG figures, ``metrics.csv``.

:func:`write_report` draws the figures with :mod:`skvae.plotting` (matplotlib's
non-interactive Agg backend, so it runs on servers without a display) and writes a
markdown file with the metrics table, the settings and each figure inline.
"""

from __future__ import annotations

import datetime
import os
import platform

import numpy as np
import sklearn
import skorch
import torch

from . import __version__, plotting

__all__ = ["format_table", "write_report"]

#: Column titles of the metrics table (``skvae.metrics.compare`` names).
COLUMN_TITLES = {
    "method": "method", "n_components": "dims", "fit_s": "fit s",
    "transform_s": "transform s", "test_mse": "test MSE", "trustworthiness": "trustworthiness",
    "knn_accuracy": "5-NN accuracy", "knn_r2": "5-NN R²", "note": "note",
}

EXPLANATIONS = """\
- **test MSE**: mean squared error of `inverse_transform(transform(X_test))`, in the space
  the models see ({space}). Missing for t-SNE, which has no inverse.
- **trustworthiness** (scikit-learn's, 5 neighbours, 1 is best): how far the 5 nearest
  neighbours of each test row in the embedding are also near it in the data.
- **5-NN {knn_kind}**: a 5-nearest-neighbour {knn_model} fitted on the training codes
  predicts the test codes' {label}; the {label} is never used to fit the methods.
- **t-SNE** cannot embed new rows (no `transform`): it ran `fit_transform` on the training
  and test rows together, and its metrics are for the test rows' part; its fit time covers
  all rows.
"""


def format_table(table) -> str:
    """Format the metrics table as GitHub markdown (pandas ``to_markdown``, via tabulate).

    Seconds get two significant digits, metrics four decimals; missing values a dash.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`skvae.metrics.compare`'s table (columns ending in ``_s`` are seconds).

    Returns
    -------
    markdown : str
        The table, with the column titles of :data:`COLUMN_TITLES`.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skvae.report import format_table
    >>> table = pd.DataFrame({"method": ["PCA", "t-SNE"], "n_components": [2, 2],
    ...                       "fit_s": [0.0123, 1.5], "test_mse": [0.05123456, np.nan]})
    >>> print(format_table(table))
    | method   |   dims |   fit s |   test MSE |
    |:---------|-------:|--------:|-----------:|
    | PCA      |      2 |   0.012 |     0.0512 |
    | t-SNE    |      2 |   1.5   |     -      |
    """
    formats = [".2g" if column.endswith("_s") else ".4f" for column in table.columns]
    shown = table.astype(object).where(table.notna(), None).rename(columns=COLUMN_TITLES)
    return shown.to_markdown(index=False, floatfmt=formats, missingval="-")


def write_report(out_dir, data, table, fitted, settings) -> list[str]:
    """Draw the figures, write ``report.md`` and ``metrics.csv``; return the file names.

    ``metrics.csv`` is the table with :func:`skvae.metrics.compare`'s column names,
    for reading back with pandas.

    Parameters
    ----------
    out_dir : str or path-like
        Created if missing; files already there with the same names are replaced.
    data : skvae.cli.Comparison
        The data set the models were fitted on.
    table : pandas.DataFrame
        :func:`skvae.metrics.compare`'s table.
    fitted : dict
        The fitted models by name: ``PCA``, ``t-SNE``, ``AE`` and ``VAE``.
    settings : dict
        The command's options, written into the report.

    Returns
    -------
    written : list of str
        The names of the files written in ``out_dir``: ``report.md``, ``metrics.csv``,
        then the figures.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from skvae.cli import load_comparison, run_compare
    >>> from skvae.report import write_report
    >>> data = load_comparison("digits", max_rows=60)
    >>> table, fitted = run_compare(data, epochs=2, verbose=0)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     written = write_report(out, data, table, fitted, {"dataset": "digits"})
    ...     on_disk = sorted(os.listdir(out))
    >>> written[:3], len(written), sorted(written) == on_disk
    (['report.md', 'metrics.csv', 'embeddings.png'], 8, True)
    """
    plt = plotting._pyplot()
    plt.switch_backend("Agg")
    os.makedirs(out_dir, exist_ok=True)
    figures = _figures(data, fitted)
    written = []
    for name, (ax, _) in figures.items():
        figure = np.ravel(ax)[0].figure
        figure.savefig(os.path.join(out_dir, name), dpi=100)
        plt.close(figure)
        written.append(name)
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as report:
        report.write(_markdown(data, table, fitted, settings, figures))
    table.to_csv(os.path.join(out_dir, "metrics.csv"), index=False)
    return ["report.md", "metrics.csv", *written]


# ---------------------------------------------------------------------- figures
def _figures(data, fitted) -> dict:
    """``{file name: (axes, caption)}`` for every figure of the report."""
    figures = {"embeddings.png": _embeddings(data, fitted)}
    for model in ("AE", "VAE"):
        figure = _manifold(data, fitted, model)
        if figure is not None:
            figures[f"manifold_{model.lower()}.png"] = figure
    figures["reconstructions.png"] = _reconstructions(data, fitted)
    figures["samples.png"] = _samples(data, fitted)
    figures["history.png"] = _history(fitted)
    return figures


def _embeddings(data, fitted):
    tsne = fitted["t-SNE"].embedding_[len(data.X_train):]
    panels = {"PCA(X)": fitted["PCA"], "t-SNE(X)": tsne, "AE(X)": fitted["AE"],
              "VAE(X)": fitted["VAE"]}
    codes = {name: plotting._codes(value, data.X_test) for name, value in panels.items()}
    codes["PCA(X)"] = codes["PCA(X)"][:, :2]  # PCA's own first two components
    if codes["AE(X)"].shape[1] > 2:
        from sklearn.manifold import TSNE

        codes["t-SNE(AE(X))"] = TSNE(random_state=0).fit_transform(codes["AE(X)"])
    axes = plotting.plot_embeddings(codes, data.y_test, label_name=data.label_name,
                                    ncols=min(len(codes), 3 if len(codes) > 4 else 4))
    colour = f"coloured by {data.label_name}" if data.label_name else "uncoloured"
    return axes, (
        f"The test rows embedded by each method, {colour}. Codes with more than two "
        "dimensions are shown through their first two principal components (PCA(…)); "
        "t-SNE(AE(X)) runs t-SNE on the autoencoder's codes.")


def _manifold(data, fitted, name):
    model = fitted[name]
    fixed = None
    if name == "AE" and model.n_components > 2:  # the other codes at their training mean
        fixed = model.latent_density_.weights_ @ model.latent_density_.means_
    if data.image_shape is not None:
        ax = plotting.plot_manifold(model, n=15, image_shape=data.image_shape, fixed=fixed)
        what = "decoded images"
    elif data.column is not None:
        ax = plotting.plot_manifold(model, n=25, column=data.column, fixed=fixed)
        what = f"the decoded (standardised) {data.column}"
    else:
        return None
    ax.set_title(f"{name}: decoded latent grid")
    grid = ("the 5% to 95% quantiles of the N(0, 1) prior" if name == "VAE"
            else "the 2nd to 98th percentiles of the codes' fitted density")
    rest = "; the other dimensions are fixed" if model.n_components > 2 else ""
    return ax, f"{name}: {what} over a grid of the first two latent dimensions ({grid}{rest})."


def _reconstructions(data, fitted):
    models = {name: fitted[name] for name in ("PCA", "AE", "VAE")}
    ax = plotting.plot_reconstructions(models, data.X_test, n=10, image_shape=data.image_shape)
    ax.set_title("test rows and their reconstructions")
    what = "images" if data.image_shape else "rows (standardised numbers and one-hot blocks)"
    return ax, f"The first 10 test {what} (top) and their PCA, AE and VAE reconstructions."


def _samples(data, fitted):
    axes = plotting._new_axes(2, panel_size=4.5)
    for ax, name in zip(axes, ("AE", "VAE"), strict=True):
        if data.image_shape is not None:
            plotting.plot_samples(fitted[name], 64, image_shape=data.image_shape, ax=ax)
        else:
            plotting.plot_samples(fitted[name], 500, column=data.column, X=data.X_test, ax=ax)
        ax.set_title(f"{name} samples")
    if data.image_shape is not None:
        return axes, ("64 generated images each: the VAE decodes draws from its N(0, I) "
                      "prior, the AE draws from a Gaussian mixture fitted on its codes.")
    return axes, (f"The (standardised) {data.column} of 500 generated rows against the test "
                  "rows.")


def _history(fitted):
    axes = plotting._new_axes(4, panel_size=3.2)
    plotting.plot_history(fitted["AE"], keys=["loss"], ax=axes[:1])
    plotting.plot_history(fitted["VAE"], ax=axes[1:])
    for ax, title in zip(axes, ("AE loss", "VAE loss", "VAE reconstruction", "VAE KL"),
                         strict=True):
        ax.set_title(title)
    return axes, ("Training curves per epoch: the AE's loss, the VAE's loss (negative ELBO per "
                  "row, nats) and its reconstruction and KL terms.")


# ---------------------------------------------------------------------- markdown
def _markdown(data, table, fitted, settings, figures) -> str:
    knn_classes = "knn_accuracy" in table.columns
    space = ("pixels in [0, 1]" if data.image_shape else
             "standardised numeric columns and one-hot categories")
    device = fitted["VAE"].net_.device
    lines = [
        f"# skvae compare: {data.name}",
        "",
        f"{data.description}. {len(data.X_train)} training / {len(data.X_test)} test rows "
        f"(80/20 split, random_state={settings.get('random_state', 0)}). Every method was "
        "fitted on the training rows and is measured on the test rows.",
        "",
        format_table(table),
        "",
        EXPLANATIONS.format(
            space=space, label=data.label_name or "label",
            knn_kind="accuracy" if knn_classes else "R²",
            knn_model="classifier" if knn_classes else "regressor"),
        "## Figures",
        "",
    ]
    for name, (_, caption) in figures.items():
        lines += [f"![{name}]({name})", "", caption, ""]
    lines += ["## Settings", "", *_settings(settings, fitted, device), ""]
    return "\n".join(lines)


def _settings(settings, fitted, device) -> list[str]:
    nets = fitted["VAE"].get_params()
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in settings.items()
                       if k not in ("command", "quiet") and v is not None)
    return [
        f"- command: `skvae compare {options}`",
        f"- networks: hidden_layer_sizes={nets['hidden_layer_sizes']}, "
        f"max_epochs={nets['max_epochs']}, batch_size={nets['batch_size']}, lr={nets['lr']}, "
        f"epochs run: AE {fitted['AE'].n_iter_}, VAE {fitted['VAE'].n_iter_}",
        f"- device: {device}; machine: {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} cores)",
        f"- versions: skvae {__version__}, torch {torch.__version__}, skorch "
        f"{skorch.__version__}, scikit-learn {sklearn.__version__}",
        f"- written: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
    ]
