"""Loaders: local files (generated here, and the shared real files when available),
lookup order, and the error a user sees with neither a file nor a network."""

import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from skvae import datasets

SHARED = Path(os.environ.get("SKVAE_DATA_HOME", "/nonexistent"))


def write_mnist_like(folder, name, n_train=6, n_test=4, value=255):
    rng = np.random.RandomState(0)
    x_train = rng.randint(0, 256, size=(n_train, 28, 28)).astype(np.uint8)
    x_train[0, 0, 0] = value
    np.savez(folder / name, x_train=x_train, y_train=np.arange(n_train) % 10,
             x_test=rng.randint(0, 256, size=(n_test, 28, 28)).astype(np.uint8),
             y_test=np.arange(n_test) % 10)
    return x_train


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("SKVAE_DATA_HOME", raising=False)


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(datasets, "fetch_openml", refuse)
    monkeypatch.setattr(datasets, "fetch_olivetti_faces", refuse)


@pytest.mark.parametrize("loader, filename", [
    (datasets.load_mnist, "mnist.npz"),
    (datasets.load_fashion_mnist, "fashion_mnist.npz"),
])
def test_mnist_like_loaders_read_the_local_file(tmp_path, no_env, offline, loader, filename):
    x_train = write_mnist_like(tmp_path, filename)
    data = loader(data_home=tmp_path)
    assert data.X_train.shape == (6, 784) and data.X_test.shape == (4, 784)
    assert data.X_train.dtype == np.float32 and data.image_shape == (1, 28, 28)
    np.testing.assert_allclose(data.X_train, x_train.reshape(6, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, [0, 1, 2, 3])


def test_data_home_comes_before_the_environment(tmp_path, monkeypatch, offline):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    write_mnist_like(first, "mnist.npz", n_train=3)
    write_mnist_like(second, "mnist.npz", n_train=5)
    monkeypatch.setenv("SKVAE_DATA_HOME", str(second))
    assert len(datasets.load_mnist(data_home=first).X_train) == 3
    assert len(datasets.load_mnist().X_train) == 5
    assert len(datasets.load_mnist(data_home=tmp_path).X_train) == 5  # file not there: env


def test_missing_file_without_network_is_a_clear_error(tmp_path, no_env, offline):
    msg = (r"mnist.npz is not in data_home='.*' nor in SKVAE_DATA_HOME=None, and downloading"
           r" it with sklearn.datasets.fetch_openml failed \(URLError: .*name resolution.*\)"
           r". Put mnist.npz in a folder and pass data_home=<folder>")
    with pytest.raises(FileNotFoundError, match=msg):
        datasets.load_mnist(data_home=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"olivetti_faces.npz .*fetch_olivetti_faces"):
        datasets.load_olivetti_faces(data_home=str(tmp_path))


def test_olivetti_mirror_appends_flipped_faces(tmp_path, no_env, offline):
    images = np.random.RandomState(0).randint(0, 243, size=(4, 64, 64)).astype(np.uint8)
    images[0, 0, 0] = 242
    np.savez(tmp_path / "olivetti_faces.npz", images=images, target=np.array([0, 0, 1, 1]))
    plain = datasets.load_olivetti_faces(data_home=tmp_path)
    assert plain.data.shape == (4, 4096) and plain.data.max() == 1.0
    faces = datasets.load_olivetti_faces(data_home=tmp_path, mirror=True)
    assert faces.data.shape == (8, 4096)
    np.testing.assert_array_equal(faces.target, [0, 0, 1, 1, 0, 0, 1, 1])
    np.testing.assert_array_equal(faces.is_mirror, [False] * 4 + [True] * 4)
    flipped = faces.data[5].reshape(64, 64)
    np.testing.assert_array_equal(flipped, plain.data[1].reshape(64, 64)[:, ::-1])


@pytest.mark.skipif(not (SHARED / "mnist.npz").is_file(), reason="SKVAE_DATA_HOME not set")
@pytest.mark.parametrize("loader", [datasets.load_mnist, datasets.load_fashion_mnist])
def test_real_mnist_files_have_the_official_split(loader, offline):
    data = loader()
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert np.bincount(data.y_test).tolist() in (
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],  # MNIST
        [1000] * 10,  # Fashion-MNIST
    )


@pytest.mark.skipif(not (SHARED / "olivetti_faces.npz").is_file(),
                    reason="SKVAE_DATA_HOME not set")
def test_real_olivetti_faces_match_scikit_learns_values(offline):
    faces = datasets.load_olivetti_faces()
    assert faces.data.shape == (400, 4096)
    # values scikit-learn's fetch_olivetti_faces().images[0, 0, :4] prints
    np.testing.assert_allclose(faces.data[0, :4], [0.30991736, 0.3677686, 0.41735536,
                                                  0.44214877], rtol=1e-6)
    assert faces.data.mean() == pytest.approx(0.5470425, abs=1e-6)
    np.testing.assert_array_equal(faces.target, np.repeat(np.arange(40), 10))


def test_digits_passthrough_is_scaled():
    digits = datasets.load_digits()
    assert digits.data.shape == (1797, 64) and digits.data.max() == 1.0
    assert digits.image_shape == (1, 8, 8)
