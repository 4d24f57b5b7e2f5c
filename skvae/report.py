"""The report written by ``skvae compare``: ``report.md``, its PNG figures, ``metrics.csv``.

:func:`write_report` takes a plain :class:`skvae.comparison.ComparisonResult`, draws
the figures with :mod:`skvae.plotting` (matplotlib's non-interactive Agg backend, so
it runs on servers without a display) and writes a markdown file with the metrics
table, the settings and each figure inline. It knows no method by name: each fitted
method gets the figures its abilities allow (``transform``, ``inverse_transform``,
``sample``, ``history_``), so a new method needs no change here.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import shutil
import uuid

import numpy as np
import sklearn
import skorch
import torch
from sklearn.manifold import TSNE

from . import __version__, plotting
from .metrics import TRANSDUCTIVE_NOTE

__all__ = ["check_report_folder", "format_table", "write_report"]

#: Name prefix of the hidden folder a report is drawn in before it is moved into place.
STAGING_PREFIX = ".skvae-report-partial-"

#: Column titles of the metrics table (``skvae.metrics.compare`` names).
COLUMN_TITLES = {
    "method": "method", "n_components": "dims", "fit_s": "fit s",
    "transform_s": "transform s", "test_mse": "test MSE", "trustworthiness": "trustworthiness",
    "knn_accuracy": "5-NN accuracy", "knn_r2": "5-NN R²", "note": "note",
}

#: Parameters written out per method in the report's settings, when a method has them.
SETTINGS_KEYS = ("n_components", "hidden_layer_sizes", "max_epochs", "batch_size", "lr",
                 "beta", "random_state")
#: Panel titles of the training curves.
CURVE_TITLES = {"loss": "loss", "recon": "reconstruction", "kl": "KL"}


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
    >>> table = pd.DataFrame({"method": ["linear", "graph"], "n_components": [2, 2],
    ...                       "fit_s": [0.0123, 1.5], "test_mse": [0.05123456, np.nan]})
    >>> print(format_table(table))
    | method   |   dims |   fit s |   test MSE |
    |:---------|-------:|--------:|-----------:|
    | linear   |      2 |   0.012 |     0.0512 |
    | graph    |      2 |   1.5   |     -      |
    """
    formats = [".2g" if column.endswith("_s") else ".4f" for column in table.columns]
    shown = table.astype(object).where(table.notna(), None).rename(columns=COLUMN_TITLES)
    return shown.to_markdown(index=False, floatfmt=formats, missingval="-")


def write_report(out_dir, result) -> list[str]:
    """Draw the figures, write ``report.md`` and ``metrics.csv``; return the file names.

    Every method of the comparison is drawn by what it can do, never by its name:
    each one's codes of the test rows (side by side, plus a t-SNE view of the
    wider codes of the generative methods), a decoded latent grid for each method
    with ``sample`` and ``inverse_transform``, the reconstructions of those with
    ``inverse_transform``, the samples of those with ``sample``, and the training
    curves of those with a ``history_``. ``metrics.csv`` is the table with
    :func:`skvae.metrics.compare`'s column names, for reading back with pandas.

    The files are first written into a hidden folder (``.skvae-report-partial-*``:
    inside ``out_dir`` when it exists, else beside it) and moved into ``out_dir`` only
    once every one of them is complete, so an error or Ctrl-C while drawing leaves no
    half-written report and no new folder, and an earlier report in ``out_dir`` intact.

    Parameters
    ----------
    out_dir : str or path-like
        Created if missing; files already there with the same names are replaced.
    result : skvae.comparison.ComparisonResult
        What :func:`skvae.comparison.run_compare` measured.

    Returns
    -------
    written : list of str
        The names of the files written in ``out_dir``: ``report.md``, ``metrics.csv``,
        then the figures.

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> from skvae.comparison import load_comparison, run_compare
    >>> from skvae.report import write_report
    >>> data = load_comparison("digits", max_rows=60)
    >>> result = run_compare(data, epochs=2, verbose=0)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     written = write_report(out, result)
    ...     on_disk = sorted(os.listdir(out))
    >>> written[:3], len(written), sorted(written) == on_disk
    (['report.md', 'metrics.csv', 'embeddings.png'], 8, True)
    """
    plt = plotting.pyplot()
    plt.switch_backend("Agg")
    staging = _make_staging(_staging_parent(out_dir))
    try:
        written = _write_files(staging, result, plt)
        _move_into_place(staging, out_dir, written)
    finally:  # after an error or Ctrl-C: drop the partial files
        shutil.rmtree(staging, ignore_errors=True)
    return written


def check_report_folder(out_dir, *, option="out_dir") -> None:
    """Raise now, before any training, if :func:`write_report` could not write ``out_dir``.

    Creates and removes an empty probe folder where :func:`write_report` would stage
    the report, so a read-only file system or a missing permission shows here.

    Parameters
    ----------
    out_dir : str or path-like
        The report folder; it need not exist yet.
    option : str, default="out_dir"
        How the messages name the folder (the command passes ``"--out"``).

    Raises
    ------
    ValueError
        When ``out_dir`` or one of its parents is a file.
    PermissionError
        When nothing can be created there.

    Examples
    --------
    >>> import tempfile
    >>> from skvae.report import check_report_folder
    >>> with tempfile.NamedTemporaryFile() as a_file:
    ...     check_report_folder(a_file.name + "/report")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: out_dir '...' cannot be created: '...' is a file. Give a folder path ...
    """
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"{option} {str(out_dir)!r} is a file; give a folder for the report.")
    parent = _staging_parent(out_dir)
    if not os.path.isdir(parent):
        raise ValueError(
            f"{option} {str(out_dir)!r} cannot be created: {parent!r} is a file. Give a "
            "folder path for the report (an existing folder or a new one).")
    try:
        os.rmdir(_make_staging(parent))
    except OSError as exc:
        raise PermissionError(
            f"{option} {str(out_dir)!r} is not writable: cannot create anything in "
            f"{parent!r} ({exc.strerror}). Give a folder you can write to.") from None


def _staging_parent(out_dir) -> str:
    """Where the report is staged: ``out_dir`` when it exists, else its nearest ancestor."""
    path = os.path.abspath(out_dir)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def _make_staging(parent) -> str:
    """A new hidden folder in ``parent`` (``os.mkdir``: the umask's usual permissions)."""
    path = os.path.join(parent, STAGING_PREFIX + uuid.uuid4().hex[:12])
    os.mkdir(path)
    return path


def _write_files(folder, result, plt) -> list[str]:
    figures = _figures(result)
    written = []
    for name, (ax, _) in figures.items():
        figure = np.ravel(ax)[0].figure
        figure.savefig(os.path.join(folder, name), dpi=100)
        plt.close(figure)
        written.append(name)
    with open(os.path.join(folder, "report.md"), "w", encoding="utf-8") as report:
        report.write(_markdown(result, figures))
    result.table.to_csv(os.path.join(folder, "metrics.csv"), index=False)
    return ["report.md", "metrics.csv", *written]


def _move_into_place(staging, out_dir, names) -> None:
    """Rename the complete staging folder to ``out_dir``, or move its files into it."""
    if not os.path.isdir(out_dir):
        os.makedirs(os.path.dirname(os.path.abspath(out_dir)), exist_ok=True)
        try:
            os.rename(staging, out_dir)
            return
        except OSError:  # created meanwhile: move the files in as below
            os.makedirs(out_dir, exist_ok=True)
    for name in reversed(names):  # report.md, which shows the figures, last
        os.replace(os.path.join(staging, name), os.path.join(out_dir, name))


# ---------------------------------------------------------------------- what a method can do
def _with(fitted, *methods) -> dict:
    """The fitted models that have every one of ``methods`` (attributes)."""
    return {name: model for name, model in fitted.items()
            if all(hasattr(model, method) for method in methods)}


def _file_name(prefix, method) -> str:
    return f"{prefix}_{re.sub(r'[^a-z0-9]+', '-', method.lower()).strip('-')}.png"


# ---------------------------------------------------------------------- figures
def _figures(result) -> dict:
    """``{file name: (axes, caption)}`` for every figure of the report."""
    figures = {"embeddings.png": _embeddings(result)}
    for name, model in _with(result.fitted, "sample", "inverse_transform").items():
        figure = _manifold(result, name, model)
        if figure is not None:
            figures[_file_name("manifold", name)] = figure
    for file_name, needs, draw in MODEL_FIGURES:
        models = _with(result.fitted, *needs)
        if models:
            figures[file_name] = draw(result.data, models)
    return figures


def _embeddings(result):
    data = result.data
    codes = {f"{name}(X)": Z for name, Z in result.codes.items()}
    wide = [name for name in _with(result.fitted, "sample") if result.codes[name].shape[1] > 2]
    for name in wide:  # a generative model's wide codes, seen through t-SNE too
        codes[f"t-SNE({name}(X))"] = TSNE(random_state=0).fit_transform(result.codes[name])
    axes = plotting.plot_embeddings(codes, data.y_test, label_name=data.label_name,
                                    ncols=min(len(codes), 3 if len(codes) > 4 else 4))
    colour = f"coloured by {data.label_name}" if data.label_name else "uncoloured"
    tsne = "".join(f" t-SNE({name}(X)) runs t-SNE on the codes of {name}." for name in wide)
    return axes, (
        f"The test rows embedded by each method, {colour}. Codes with more than two "
        f"dimensions are shown through their first two principal components (PCA(…)).{tsne}")


def _manifold(result, name, model):
    data = result.data
    fixed = plotting.latent_center(model) if model.n_components > 2 else None
    if data.image_shape is not None:
        ax = plotting.plot_manifold(model, n=15, image_shape=data.image_shape, fixed=fixed)
        what = "decoded images"
    elif data.column is not None:
        ax = plotting.plot_manifold(model, n=25, column=data.column, fixed=fixed)
        _in_original_units(ax.figure.axes[-1].yaxis, data)  # the colour bar
        what = f"the decoded {data.column} (colour bar in its original units)"
    else:
        return None
    ax.set_title(f"{name}: decoded latent grid")
    rest = "; the other dimensions are held at the codes' centre" if fixed is not None else ""
    return ax, (f"{name}: {what} over a grid of the first two latent dimensions (their "
                f"ranges on the axes{rest}).")


def _reconstructions(data, models):
    ax = plotting.plot_reconstructions(models, data.X_test, n=10, image_shape=data.image_shape)
    ax.set_title("test rows and their reconstructions")
    what = "images" if data.image_shape else "rows (normalised numbers and one-hot blocks)"
    return ax, (f"The first 10 test {what} (top) and their reconstructions by "
                f"{_listed(models)}.")


def _samples(data, models):
    axes = _panels(len(models), panel_size=4.5)
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        if data.image_shape is not None:
            plotting.plot_samples(model, 64, image_shape=data.image_shape, ax=ax)
        else:
            plotting.plot_samples(model, 500, column=data.column, X=data.X_test, ax=ax)
            _in_original_units(ax.xaxis, data)
        ax.set_title(f"{name} samples")
    if data.image_shape is not None:
        return axes, f"64 images generated by each model's sample(): {_listed(models)}."
    return axes, (f"The {data.column} of 500 rows generated by each model's sample() "
                  f"against the test rows (ticks in its original units): {_listed(models)}.")


def _in_original_units(axis, data) -> None:
    """Label the ticks of an axis of ``data.column``'s normalised values with the original
    values (the layout's transform of a number is monotone, so the ticks keep their order)."""
    if data.layout is None:
        return
    names = list(data.layout.get_feature_names_out())
    ticks = axis.get_ticklocs()
    features = np.zeros((len(ticks), len(names)))
    features[:, names.index(data.column)] = ticks
    original = data.layout.inverse_transform(features)[data.column].to_numpy(dtype=float)
    axis.set_ticks(ticks, [f"{value:.4g}" for value in original])
    axis.set_label_text(f"{data.column} (original units)")


def _history(data, models):
    panels = [(name, key) for name, model in models.items() for key in _curves(model)]
    axes = _panels(len(panels), panel_size=3.2)
    for ax, (name, key) in zip(axes, panels, strict=True):
        plotting.plot_history(models[name], keys=[key], ax=[ax])
        ax.set_title(f"{name} {CURVE_TITLES[key]}")
    return axes, ("Training curves per epoch: each model's loss and, where it has a KL term "
                  "(a VAE: loss = negative ELBO per row, in nats), its reconstruction and KL "
                  "terms.")


def _curves(model) -> list[str]:
    """The loss alone, or with its reconstruction and KL terms when there is a KL term."""
    return ["loss", "recon", "kl"] if "train_kl" in model.history_[-1] else ["loss"]


def _panels(n_panels, panel_size):
    """A new figure's axes as a flat array, even for one panel."""
    return np.ravel([plotting.subplots(n_panels, panel_size=panel_size)])


#: The figures drawn from the methods that have every named attribute, and how.
MODEL_FIGURES = [
    ("reconstructions.png", ("transform", "inverse_transform"), _reconstructions),
    ("samples.png", ("sample",), _samples),
    ("history.png", ("history_",), _history),
]


def _listed(models) -> str:
    return ", ".join(models)


# ---------------------------------------------------------------------- markdown
def _markdown(result, figures) -> str:
    data, table, settings = result.data, result.table, result.settings
    knn_classes = "knn_accuracy" in table.columns
    space = ("pixels in [0, 1]" if data.image_shape else
             "quantile-normalised numeric columns and one-hot categories")
    no_inverse = [name for name, model in result.fitted.items()
                  if not hasattr(model, "inverse_transform")]
    transductive = table.loc[table["note"] == TRANSDUCTIVE_NOTE, "method"].tolist()
    lines = [
        f"# skvae compare: {data.name}",
        "",
        f"{data.description}. {len(data.X_train)} training / {len(data.X_test)} test rows "
        f"(80/20 split, random_state={settings.get('random_state', 0)}). Every method was "
        "fitted on the training rows and is measured on the test rows.",
        "",
        format_table(table),
        "",
        _explanations(space, data.label_name or "label", knn_classes, no_inverse,
                      transductive),
        "## Figures",
        "",
    ]
    for name, (_, caption) in figures.items():
        lines += [f"![{name}]({name})", "", caption, ""]
    lines += ["## Settings", "", *_settings(result), ""]
    return "\n".join(lines)


def _explanations(space, label, knn_classes, no_inverse, transductive) -> str:
    missing = f" Missing for {_listed(no_inverse)} (no inverse)." if no_inverse else ""
    lines = [
        f"- **test MSE**: mean squared error of `inverse_transform(transform(X_test))`, in "
        f"the space the models see ({space}).{missing}",
        "- **trustworthiness** (scikit-learn's, 5 neighbours, 1 is best): how far the 5 "
        "nearest neighbours of each test row in the embedding are also near it in the data.",
        f"- **5-NN {'accuracy' if knn_classes else 'R²'}**: a 5-nearest-neighbour "
        f"{'classifier' if knn_classes else 'regressor'} fitted on the training codes "
        f"predicts the test codes' {label}; the {label} is never used to fit the methods.",
    ]
    if transductive:
        lines.append(
            f"- **{_listed(transductive)}** cannot embed new rows (no `transform`): "
            "`fit_transform` ran on the training and test rows together, and the metrics "
            "are for the test rows' part; the fit time covers all rows.")
    return "\n".join(lines) + "\n"


def _key_params(model) -> str:
    params = model.get_params(deep=False)
    return ", ".join(f"{key}={params[key]!r}" for key in SETTINGS_KEYS if key in params)


def _settings(result) -> list[str]:
    settings = result.settings
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in settings.items()
                       if k not in ("command", "quiet") and v is not None)
    methods = [f"  - {name}: {type(model).__name__}({_key_params(model)})"
               for name, model in result.fitted.items()]
    trained = [f"{name} {len(model.history_)}" for name, model in result.fitted.items()
               if hasattr(model, "history_")]
    devices = sorted({str(model.net_.device) for model in result.fitted.values()
                      if hasattr(model, "net_")})
    return [
        f"- command: `skvae compare {options}`",
        "- methods:", *methods,
        f"- epochs run: {', '.join(trained) or '-'}",
        f"- device: {', '.join(devices) or 'cpu'}; machine: {platform.node()} "
        f"({platform.machine()}, {os.cpu_count()} cores)",
        f"- versions: skvae {__version__}, torch {torch.__version__}, skorch "
        f"{skorch.__version__}, scikit-learn {sklearn.__version__}",
        f"- written: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
    ]
