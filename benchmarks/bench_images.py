"""Image workflows: PCA vs dense / conv AE and VAE on MNIST and Olivetti faces, side by side.

For each data set and each ``n_components`` in {2, 16, 32}: held-out reconstruction
MSE, the VAE's negative ELBO (nats; Bernoulli likelihood, i.e. the "continuous BCE"
of the tutorials on [0, 1] pixels), 5-NN accuracy of the codes, trustworthiness of
the 2-D codes, and fit time. Plus the issue's extra rows: a dense VAE at
``n_components=20`` (the PyTorch example's model) and a denoising autoencoder.

    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_images.py [--epochs 10]
        [--datasets mnist olivetti] [--train-rows N] [--test-rows N]
    SKVAE_DATA_HOME=../shared/data python benchmarks/bench_images.py --smoke --results-dir DIR

Writes ``benchmarks/results/images-<device>.json`` and ``.md`` (``--results-dir``), with
a "must hold" section that checks the issue's bars against the numbers just measured.
``--smoke`` (one epoch, 100 / 20 rows) runs on whichever of ``mnist.npz`` and
``olivetti_faces.npz`` ``SKVAE_DATA_HOME`` holds, and skips (exit 0) when it holds neither.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _report import data_file, default_device, device_tag, environment, parse_args, skip, write
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_mnist, load_olivetti_faces
from skvae.metrics import knn_accuracy, reconstruction_mse, trustworthiness

N_COMPONENTS = (2, 16, 32)
#: Gaussian noise added to the test digits of the denoising row (and used in training).
DENOISE_LEVEL = 0.5
#: The data file of each data set (in ``SKVAE_DATA_HOME``).
FILES = {"mnist": "mnist.npz", "olivetti": "olivetti_faces.npz"}
#: What ``--smoke`` changes: one epoch, 100 training and 20 test rows of each data set
#: (20: trustworthiness needs more than twice its 5 neighbours).
SMOKE = dict(epochs=1, face_epochs=1, train_rows=100, test_rows=20)

#: Per data set: shared settings, and what dense / conv models add to them.
SETTINGS = {
    "mnist": {
        "shared": dict(batch_size=128, lr=1e-3, random_state=0),
        "dense": dict(hidden_layer_sizes=(512, 256)),
        "conv": dict(architecture="conv", conv_channels=(32, 64), hidden_layer_sizes=(256, 128)),
        "ae": dict(reconstruction_loss="mse"),
        "vae": dict(reconstruction_loss="bce"),
    },
    "olivetti": {
        "shared": dict(batch_size=32, lr=1e-3, random_state=0),
        "dense": dict(hidden_layer_sizes=(512,)),
        "conv": dict(architecture="conv", conv_channels=(16, 32, 64), hidden_layer_sizes=(256,)),
        "ae": dict(reconstruction_loss="mse"),
        "vae": dict(reconstruction_loss="bce"),
    },
}


def load(name, train_rows=None, test_rows=None):
    """(X_train, X_test, y_train, y_test, image_shape) of a data set, optionally only the
    first ``train_rows`` / ``test_rows`` rows of each part (None: all)."""
    if name == "mnist":
        d = load_mnist()
        X_train, X_test, y_train, y_test, shape = (d.X_train, d.X_test, d.y_train, d.y_test,
                                                   d.image_shape)
    else:
        faces = load_olivetti_faces()
        # 8 training and 2 test images of each of the 40 subjects
        X_train, X_test, y_train, y_test = train_test_split(
            faces.data, faces.target, test_size=0.2, stratify=faces.target, random_state=0)
        shape = faces.image_shape
    return (X_train[:train_rows], X_test[:test_rows], y_train[:train_rows],
            y_test[:test_rows], shape)


def model(kind, arch, n_components, settings, image_shape, epochs, **extra):
    """A skvae estimator (``kind`` "ae" / "vae", ``arch`` "dense" / "conv") or PCA."""
    if kind == "pca":
        return PCA(n_components=n_components, random_state=0)
    Estimator = AutoencoderTransformer if kind == "ae" else VAETransformer
    params = {**settings["shared"], **settings[arch], **settings[kind], **extra}
    return Estimator(n_components, image_shape=image_shape, max_epochs=epochs, **params)


def measure(est, data):
    """Fit on the training images; measure the held-out ones."""
    X_train, X_test, y_train, y_test, _ = data
    start = time.perf_counter()
    est.fit(X_train)
    row = {"fit_s": time.perf_counter() - start, "test_mse": reconstruction_mse(est, X_test)}
    row["neg_elbo"] = -est.score(X_test) if isinstance(est, VAETransformer) else None
    Z_train, Z_test = est.transform(X_train), est.transform(X_test)
    row["knn5_acc"] = knn_accuracy(Z_train, y_train, Z_test, y_test)
    row["trustworthiness"] = (float(trustworthiness(X_test, Z_test, n_neighbors=5))
                              if Z_test.shape[1] == 2 else None)
    return row


def grid_rows(name, data, epochs):
    settings = SETTINGS[name]
    contenders = [("pca", "-"), ("ae", "dense"), ("ae", "conv"), ("vae", "dense"),
                  ("vae", "conv")]
    extra = [("vae", "dense", 20)] if name == "mnist" else []
    rows = []
    for n_components in N_COMPONENTS:
        for kind, arch in contenders:
            rows.append(run(name, kind, arch, n_components, settings, data, epochs))
    for kind, arch, n_components in extra:
        rows.append(run(name, kind, arch, n_components, settings, data, epochs))
    return rows


def run(name, kind, arch, n_components, settings, data, epochs):
    est = model(kind, arch, n_components, settings, data[4], epochs)
    row = {"data": name, "model": kind, "arch": arch, "n_components": n_components,
           "epochs": None if kind == "pca" else epochs, **measure(est, data)}
    print(row, flush=True)
    return row


def denoising_row(data, epochs):
    """Dense AE(32) trained with gaussian input noise, on noisy test digits."""
    X_train, X_test = data[0], data[1]
    noisy = X_test + DENOISE_LEVEL * np.random.RandomState(0).standard_normal(X_test.shape)
    noisy = noisy.astype(np.float32)
    settings = SETTINGS["mnist"]
    row = {"data": "mnist", "noise_level": DENOISE_LEVEL, "epochs": epochs,
           "noisy_input_mse": float(np.mean((noisy - X_test) ** 2))}
    for noise in ("gaussian", None):
        est = model("ae", "dense", 32, settings, data[4], epochs, noise=noise,
                    noise_level=DENOISE_LEVEL).fit(X_train)
        denoised = est.inverse_transform(est.transform(noisy))
        row[f"{noise or 'plain'}_ae_mse_to_clean"] = float(np.mean((denoised - X_test) ** 2))
    print(row, flush=True)
    return row


def find(rows, **keys):
    return next(r for r in rows if all(r.get(k) == v for k, v in keys.items()))


def must_hold(rows, denoise):
    """The issue's bars, checked against this run's numbers: (claim, value, bar, ok)."""
    checks = []
    mnist = [r for r in rows if r["data"] == "mnist"]
    if mnist:
        pca32 = find(mnist, model="pca", n_components=32)["test_mse"]
        ae32 = find(mnist, model="ae", arch="dense", n_components=32)["test_mse"]
        conv32 = find(mnist, model="ae", arch="conv", n_components=32)["test_mse"]
        vae20 = find(mnist, model="vae", arch="dense", n_components=20)["neg_elbo"]
        vae2 = find(mnist, model="vae", arch="dense", n_components=2)
        checks += [
            ("1. MNIST dense AE(32) test MSE / PCA(32)", ae32 / pca32, "<= 0.55",
             bool(ae32 <= 0.55 * pca32)),
            ("2. MNIST conv AE(32) test MSE / dense AE(32)", conv32 / ae32, "<= 1", conv32 <= ae32),
            ("3. MNIST VAE(20) -score(X_test), nats", vae20, "<= 106", vae20 <= 106),
            ("4a. MNIST 2-D VAE 5-NN accuracy", vae2["knn5_acc"], ">= 0.70",
             vae2["knn5_acc"] >= 0.70),
            ("4b. MNIST 2-D VAE trustworthiness", vae2["trustworthiness"], ">= 0.90",
             vae2["trustworthiness"] >= 0.90),
        ]
    if denoise:
        value = denoise["gaussian_ae_mse_to_clean"] / denoise["noisy_input_mse"]
        checks.append(("5. denoised MSE to clean / noisy input MSE to clean", value, "< 1",
                       value < 1))
    faces = [r for r in rows if r["data"] == "olivetti"]
    if faces:
        pca16 = find(faces, model="pca", n_components=16)["test_mse"]
        ae16 = find(faces, model="ae", arch="dense", n_components=16)["test_mse"]
        conv16 = find(faces, model="ae", arch="conv", n_components=16)["test_mse"]
        checks += [
            ("6a. Olivetti dense AE(16) test MSE / PCA(16)", ae16 / pca16, "<= 1.1",
             ae16 <= 1.1 * pca16),
            ("6b. Olivetti conv AE(16) test MSE (runs; reported)", conv16, "finite",
             bool(np.isfinite(conv16))),
        ]
    return checks


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the MNIST models")
    parser.add_argument("--face-epochs", type=int, default=300,
                        help="epochs of the Olivetti models (320 training images)")
    parser.add_argument("--datasets", nargs="+", default=["mnist", "olivetti"],
                        choices=["mnist", "olivetti"])
    parser.add_argument("--train-rows", type=int, default=None,
                        help="use only the first N training rows of each data set")
    parser.add_argument("--test-rows", type=int, default=None,
                        help="use only the first N test rows of each data set")
    args = parse_args(parser, SMOKE)
    if args.smoke:  # only what is there: a smoke run never downloads
        args.datasets = [name for name in args.datasets if data_file(FILES[name])]
        if not args.datasets:
            skip(" or ".join(FILES.values()) + " in SKVAE_DATA_HOME")
    return args


def notes(args, checks, denoise):
    """The markdown above the table: settings, the must-hold checks, the denoising row."""
    lines = ["Settings per data set (plus n_components, image_shape, max_epochs):", ""]
    lines += [f"- {name}: `{settings}`" for name, settings in SETTINGS.items()
              if name in args.datasets]
    rows = "".join(f" First {n} {part} rows of each data set only."
                   for n, part in ((args.train_rows, "training"), (args.test_rows, "test")) if n)
    lines += ["", "MNIST: official 60000/10000 split. Olivetti: 8 training / 2 test "
              f"images per subject (stratified, random_state=0).{rows}",
              "", "## Must hold", "",
              "| claim | value | bar | holds |", "| --- | --- | --- | --- |"]
    lines += [f"| {claim} | {value:.4g} | {bar} | {'yes' if ok else 'NO'} |"
              for claim, value, bar, ok in checks]
    if denoise:
        lines += ["", "## Denoising (MNIST, dense AE(32))", "",
                  " | ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                             for k, v in denoise.items())]
    return "\n".join([*lines, "", "## All models", ""])


def main():
    args = parse()
    device = default_device()
    rows, denoise = [], None
    for name in args.datasets:
        data = load(name, args.train_rows, args.test_rows)
        epochs = args.epochs if name == "mnist" else args.face_epochs
        rows += grid_rows(name, data, epochs)
        if name == "mnist":
            denoise = denoising_row(data, epochs)
    checks = must_hold(rows, denoise)
    extra = {"checks": [dict(zip(("claim", "value", "bar", "holds"), c, strict=True))
                        for c in checks], "denoising": denoise}
    path = write(f"images-{device_tag(device)}", environment(device), rows,
                 notes(args, checks, denoise),
                 extra, results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
