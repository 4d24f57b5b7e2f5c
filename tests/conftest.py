"""Shared fixtures: scikit-learn's digits (ships with scikit-learn, no download)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="session")
def digits_split():
    """Digits scaled to [0, 1] (pixels / 16), fixed 80/20 split."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, random_state=0)


@pytest.fixture(scope="session")
def small_X():
    """A small random matrix in [0, 1] for fast behaviour tests."""
    return np.random.RandomState(0).uniform(size=(60, 8))
