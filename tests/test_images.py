"""The one image-shape rule, and mosaics of image rows."""

import numpy as np
import pytest

from skvae.images import as_image_shape, image_mosaic, square_image_shape


@pytest.mark.parametrize("given, expected", [
    ((28, 28), (1, 28, 28)), ([3, 4, 5], (3, 4, 5)), ((np.int64(2), 8), (1, 2, 8)),
])
def test_height_and_width_mean_one_channel(given, expected):
    assert as_image_shape(given, int(np.prod(expected))) == expected


@pytest.mark.parametrize("given, match", [
    ((5, 5), r"image_shape=\(5, 5\) does not describe rows of 64 features: give \(channels, "
             r"height, width\) \(or \(height, width\) for one channel\) whose product is 64"),
    ((1, 2, 4, 8), r"image_shape=\(1, 2, 4, 8\) does not describe rows of 64 features"),
    (None, r"image_shape=None does not describe rows of 64 features"),
    ((8, 0, 8), r"image_shape must hold positive integers, got \(8, 0, 8\). Use e.g."),
    ((8.0, 8), r"image_shape must hold positive integers, got \(8.0, 8\)"),
])
def test_shapes_that_do_not_fit_the_rows_are_named(given, match):
    with pytest.raises(ValueError, match=match):
        as_image_shape(given, 64)


def test_square_rows_are_guessed_as_one_channel_images():
    assert [square_image_shape(n) for n in (64, 784, 4096, 10, 1)] == [
        (1, 8, 8), (1, 28, 28), (1, 64, 64), None, None]


def test_mosaic_checks_the_shape_of_its_rows():
    with pytest.raises(ValueError, match="does not describe rows of 6 features"):
        image_mosaic(np.zeros((2, 6)), (2, 2), ncols=2)
