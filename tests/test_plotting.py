"""Plotting, headless (Agg): axes, artists, image-grid shapes and rendered pixels."""

import io
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from skvae import AutoencoderTransformer, VAETransformer, plotting
from skvae.plotting import (
    image_mosaic,
    latent_grid,
    plot_embeddings,
    plot_filters,
    plot_history,
    plot_latent,
    plot_manifold,
    plot_reconstructions,
    plot_samples,
)

TAB10_BLUE, TAB10_ORANGE = (31, 119, 180), (255, 127, 14)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    return X_train[:600], X_test[:100], y_train[:600], y_test[:100]


@pytest.fixture(scope="module")
def vae(digits):
    return VAETransformer(2, max_epochs=15, validation_fraction=0.2, random_state=0).fit(
        digits[0])


@pytest.fixture(scope="module")
def ae(digits):
    return AutoencoderTransformer(2, max_epochs=15, random_state=0).fit(digits[0])


def render(figure, dpi=50) -> np.ndarray:
    """The figure as an RGB uint8 array, rendered to PNG and read back."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return (plt.imread(buffer)[..., :3] * 255).round().astype(np.uint8)


def axes_pixels(ax, dpi=50, margin=2) -> np.ndarray:
    """The rendered pixels inside ``ax`` (its bounding box at ``dpi``, less ``margin``)."""
    image = render(ax.figure, dpi)
    box = ax.get_window_extent(ax.figure.canvas.get_renderer())
    scale = dpi / ax.figure.dpi
    height = image.shape[0]
    top, bottom = round(height - box.y1 * scale), round(height - box.y0 * scale)
    left, right = round(box.x0 * scale), round(box.x1 * scale)
    return image[top + margin:bottom - margin, left + margin:right - margin]


def rendered_cells(ax, dpi=100) -> np.ndarray:
    """The rendered grey level at the centre of each data cell of the axes' image."""
    rows, cols = ax.images[0].get_array().shape[:2]
    pixels = axes_pixels(ax, dpi, margin=0)[..., 0].astype(float)
    height, width = pixels.shape
    y = ((np.arange(rows) + 0.5) / rows * height).astype(int)
    x = ((np.arange(cols) + 0.5) / cols * width).astype(int)
    return pixels[np.ix_(y, x)]


def pixels_of(image, colour, tolerance=30) -> np.ndarray:
    """(row, column) of the pixels within ``tolerance`` of ``colour``."""
    return np.argwhere(np.abs(image.astype(int) - colour).max(axis=2) <= tolerance)


# ---------------------------------------------------------------------- mosaics
def test_image_mosaic_places_each_image_in_reading_order_with_blank_padding():
    rows = np.arange(5)[:, None] * np.ones((5, 6))  # 5 images of 2x3, image k is all k
    mosaic = image_mosaic(rows, (2, 3), ncols=2)
    assert mosaic.shape == (3 * 3 - 1, 2 * 4 - 1)
    assert mosaic[0, 0] == 0 and mosaic[0, 4] == 1 and mosaic[3, 0] == 2 and mosaic[6, 0] == 4
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[:, 3]).all()  # padding
    assert np.isnan(mosaic[6:, 4:]).all()  # the missing sixth image stays blank
    colour = image_mosaic(np.zeros((4, 3 * 4 * 5)), (3, 4, 5), ncols=4, pad=0)
    assert colour.shape == (4, 20, 3)  # channels last, for imshow


def test_unknown_image_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"image_shape=\(5, 5\) does not describe rows of 64"):
        plotting.resolve_image_shape(None, 64, (5, 5))
    assert plotting.resolve_image_shape(None, 64) == (1, 8, 8)
    assert plotting.resolve_image_shape(None, 10) is None  # not square: a table


# ---------------------------------------------------------------------- latent
def test_plot_latent_colours_classes_where_they_are():
    Z = np.r_[np.c_[np.full(50, -5.0), np.linspace(-1, 1, 50)],
              np.c_[np.full(50, 5.0), np.linspace(-1, 1, 50)]]
    labels = np.repeat(["left", "right"], 50)
    ax = plot_latent(Z, labels, label_name="side", s=40, alpha=1.0)
    assert len(ax.collections) == 1
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), Z)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right"]
    assert ax.get_legend().get_title().get_text() == "side"
    pixels = axes_pixels(ax)
    blue, orange = pixels_of(pixels, TAB10_BLUE), pixels_of(pixels, TAB10_ORANGE)
    assert len(blue) > 20 and len(orange) > 20
    # class "left" (tab10 blue) is drawn on the left, class "right" (orange) on the right
    middle = pixels.shape[1] / 2
    assert (blue[:, 1] < middle).mean() > 0.9 and (orange[:, 1] > middle).mean() > 0.9


def test_plot_latent_continuous_values_get_a_colour_bar(vae, digits):
    X, price = digits[1], np.linspace(10.5, 13.5, len(digits[1]))
    ax = plot_latent(vae, price, X=X, label_name="log SalePrice")
    assert len(ax.figure.axes) == 2  # the plot and its colour bar
    assert ax.figure.axes[1].get_ylabel() == "log SalePrice"
    np.testing.assert_allclose(ax.collections[0].get_array(), price)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), vae.transform(X))
    assert ax.get_legend() is None


def test_plot_latent_errors_name_the_fix(vae):
    with pytest.raises(ValueError, match="Pass X to encode with the fitted VAETransformer"):
        plot_latent(vae)
    with pytest.raises(ValueError, match=r"2-D codes, but got an array of shape \(10, 1\)"):
        plot_latent(np.zeros((10, 1)))
    with pytest.raises(ValueError, match="labels has 3 values but there are 10 codes"):
        plot_latent(np.zeros((10, 2)), [1, 2, 3])


def test_many_classes_share_a_colour_map_without_a_legend():
    ax = plot_latent(np.random.RandomState(0).randn(200, 2), np.arange(200) % 40)
    assert ax.get_legend() is None and len(ax.collections) == 1


# ---------------------------------------------------------------------- manifold
def test_plot_manifold_draws_the_decoded_grid(vae):
    ax = plot_manifold(vae, n=5)
    assert len(ax.images) == 1
    grid = ax.images[0].get_array()
    assert grid.shape == (5 * 8, 5 * 8) and not np.isnan(grid).any()  # no (uneven) gaps
    u, v = latent_grid(vae, 5)
    top_left = vae.inverse_transform([[u[0], v[-1]]]).reshape(8, 8)  # high z1 on top
    bottom_right = vae.inverse_transform([[u[-1], v[0]]]).reshape(8, 8)
    np.testing.assert_allclose(grid[:8, :8], top_left, rtol=1e-5)
    np.testing.assert_allclose(grid[-8:, -8:], bottom_right, rtol=1e-5)


def test_manifold_ticks_name_each_axis_latent_values_in_their_direction(vae):
    ax = plot_manifold(vae, n=15)
    u, v = latent_grid(vae, 15)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z0", "z1")
    x_ticks = [float(t.get_text().replace("\u2212", "-")) for t in ax.get_xticklabels()]
    y_ticks = [float(t.get_text().replace("\u2212", "-")) for t in ax.get_yticklabels()]
    assert 3 <= len(x_ticks) <= 7 and 0.0 in x_ticks and 0.0 in y_ticks
    # each label is the value of the tile under its tick: z0 grows rightwards, z1 upwards
    for position, value in zip(ax.get_xticks(), x_ticks, strict=True):
        assert u[int(position // 8)] == pytest.approx(value, abs=0.051)
    for position, value in zip(ax.get_yticks(), y_ticks, strict=True):
        assert v[::-1][int(position // 8)] == pytest.approx(value, abs=0.051)
    assert x_ticks == sorted(x_ticks) and list(ax.get_yticks()) == sorted(ax.get_yticks())[::-1]


def test_latent_grid_covers_the_prior_or_the_codes(vae, ae, digits):
    u, _ = latent_grid(vae, 3)
    np.testing.assert_allclose(u, [-1.6449, 0.0, 1.6449], atol=1e-4)  # 5%, 50%, 95%
    u, v = latent_grid(ae, 10)
    codes = ae.transform(digits[0])
    assert codes[:, 0].min() < u[0] < u[-1] < codes[:, 0].max()
    np.testing.assert_array_equal(latent_grid(ae, 10)[1], v)  # the same grid every call
    np.testing.assert_allclose(latent_grid(ae, 4, extent=(-1, 1))[0], [-1, -1 / 3, 1 / 3, 1])


def test_plot_manifold_maps_a_table_column(tmp_path):
    frame = pd.DataFrame({"size": np.linspace(20, 200, 120),
                          "kind": np.where(np.arange(120) % 2, "flat", "house")})
    model = VAETransformer(2, max_epochs=5, random_state=0).fit(frame)
    ax = plot_manifold(model, n=6, column="size")
    assert ax.images[0].get_array().shape == (6, 6)
    assert ax.figure.axes[1].get_ylabel() == "size"  # colour bar
    with pytest.raises(ValueError, match="column='kind' is categorical"):
        plot_manifold(model, column="kind")
    with pytest.raises(ValueError, match="column='area' is not a feature"):
        plot_manifold(model, column="area")
    with pytest.raises(ValueError, match="pass column=<name or index>"):
        plot_manifold(model)


def test_plot_manifold_without_a_known_range_asks_for_extent():
    class Decoder:
        n_components = 2

        def inverse_transform(self, Z):
            return np.zeros((len(Z), 4))

    with pytest.raises(ValueError, match=r"pass extent=\(low, high\)"):
        plot_manifold(Decoder())


# ---------------------------------------------------------------------- reconstructions
@pytest.mark.parametrize("n_components", [64, 2])
def test_rendered_reconstructions_show_originals_above_reconstructions(digits, n_components):
    X = digits[1][:6]
    pca = PCA(n_components).fit(digits[0])
    ax = plot_reconstructions({"PCA": pca}, X, n=6)
    grid = ax.images[0].get_array()
    assert grid.shape == (2 * 9 - 1, 6 * 9 - 1)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "PCA"]
    cells = rendered_cells(ax)  # what the PNG shows, one grey level per pixel of a digit
    low, high = X.min(), X.max()  # the originals' grey scale is used for every row

    def expected_grey(rows):
        tiles = image_mosaic(np.clip(rows, low, high), (8, 8), ncols=6)
        return (tiles - low) / (high - low) * 255

    top, bottom = cells[:8], cells[9:]
    gap = np.isnan(expected_grey(X))
    np.testing.assert_allclose(top[~gap], expected_grey(X)[~gap], atol=2)
    reconstruction = expected_grey(pca.inverse_transform(pca.transform(X)))
    np.testing.assert_allclose(bottom[~gap], reconstruction[~gap], atol=2)
    difference = np.abs(top - bottom)[~gap].mean()
    assert bool(difference < 1) == (n_components == 64), difference  # exact only with all 64


def test_reconstructions_of_a_table_are_a_heat_map():
    rows = np.random.RandomState(0).randn(50, 7)
    pca = PCA(3).fit(rows)
    ax = plot_reconstructions([pca], rows, n=5, image_shape=None)
    assert ax.images[0].get_array().shape == (5 + 1 + 5, 7)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "PCA"]


# ---------------------------------------------------------------------- samples
def test_plot_samples_draws_generated_images(vae):
    ax = plot_samples(vae, 12, ncols=4)
    grid = ax.images[0].get_array()
    assert grid.shape == (3 * 9 - 1, 4 * 9 - 1)
    np.testing.assert_allclose(grid[:8, :8], vae.sample(12, random_state=0)[0].reshape(8, 8),
                               rtol=1e-5)


def test_plot_samples_of_a_table_compares_one_column(ae, digits):
    ax = plot_samples(ae, 100, column=10, X=digits[1], image_shape=None)
    assert len(ax.patches) == 2 * 30  # two histograms on shared bins
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "samples"]
    with pytest.raises(ValueError, match="rows are not images"):
        plot_samples(ae, 4, image_shape=None)


# ---------------------------------------------------------------------- history
def test_plot_history_draws_train_and_validation_per_term(vae):
    axes = plot_history(vae)
    assert [ax.get_title() for ax in axes] == ["loss", "recon", "kl"]
    for ax, key in zip(axes, ["loss", "recon", "kl"], strict=True):
        train, valid = ax.lines
        np.testing.assert_allclose(train.get_ydata(), vae.history_[:, f"train_{key}"])
        np.testing.assert_allclose(valid.get_ydata(), vae.history_[:, f"valid_{key}"])
        assert train.get_xdata().tolist() == list(range(1, 16))


def test_history_axes_name_their_units(vae, ae, digits):
    # the default KL warm-up weighs the KL term below 1 in the first epochs
    assert [a.get_ylabel() for a in plot_history(vae)] == [
        "recon + kl_weight * KL (nats per row)", "-log-likelihood (nats per row)",
        "KL to the prior (nats per row)"]
    assert plot_history(ae)[0].get_ylabel() == "mean squared error per value"
    plain = VAETransformer(2, kl_warmup=0, max_epochs=2, random_state=0).fit(digits[0])
    assert plot_history(plain)[0].get_ylabel() == "-ELBO (nats per row)"
    (axis,) = plot_history(vae, keys=["kl_dims"])  # one line per latent dimension
    assert [line.get_label() for line in axis.lines] == ["train z0", "train z1", "valid z0",
                                                         "valid z1"]
    np.testing.assert_allclose(axis.lines[1].get_ydata(),
                               [row["train_kl_dims"][1] for row in vae.history_])


def test_plot_history_on_given_axes_and_its_errors(ae):
    _, axes = plt.subplots(1, 2)
    assert plot_history(ae, keys=["loss"], ax=axes[:1])[0] is axes[0]
    with pytest.raises(ValueError, match=r"draws 2 panel\(s\), but ax holds 1 axes"):
        plot_history(ae, ax=axes[0])
    with pytest.raises(ValueError, match=r"no train_kl; recorded terms are \['loss', 'recon'\]"):
        plot_history(ae, keys=["kl"])


# ---------------------------------------------------------------------- filters
def test_plot_filters_draws_each_units_first_layer_weights(ae, digits):
    ax = plot_filters(ae, n=16, ncols=8)
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (2 * 9 - 1, 8 * 9 - 1)
    weights = ae.net_.module_.encoder[0].weight.detach().numpy()
    unit = weights[3] / np.abs(weights[3]).max()  # unit 3: row 0, column 3, own scale
    np.testing.assert_allclose(mosaic[:8, 27:35], unit.reshape(8, 8), rtol=1e-5)
    pixels = render(ax.figure, dpi=80).reshape(-1, 3).astype(int)
    reddish = (pixels[:, 0] - pixels[:, 2] > 80).mean()
    bluish = (pixels[:, 2] - pixels[:, 0] > 80).mean()
    assert reddish > 0.01 and bluish > 0.01  # signed weights drawn in two colours


def test_plot_filters_of_a_conv_encoder_and_of_a_table(digits):
    conv = AutoencoderTransformer(2, architecture="conv", image_shape=(8, 8),
                                  conv_channels=(4, 8), max_epochs=1, random_state=0)
    ax = plot_filters(conv.fit(digits[0][:100]))  # 4 kernels of 3 x 3
    assert ax.images[0].get_array().shape == (3, 4 * 4 - 1)
    table = AutoencoderTransformer(2, max_epochs=1, random_state=0).fit(digits[0][:50, :10])
    with pytest.raises(ValueError, match=r"10 input features are not an image: pass image_"):
        plot_filters(table)


# ---------------------------------------------------------------------- embeddings
def test_plot_embeddings_one_panel_per_method(vae, digits):
    X, y = digits[1], digits[3]
    codes_4d = np.random.RandomState(0).randn(len(X), 4)
    axes = plot_embeddings({"PCA(X)": PCA(2).fit(X), "VAE(X)": vae, "deep": codes_4d}, y, X=X)
    assert len(axes) == 3 and len(axes[0].figure.axes) == 3
    assert [ax.get_title() for ax in axes] == ["PCA(X)", "VAE(X)", "PCA(deep)"]
    for ax in axes:
        assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == len(X)
    # one legend, beside the last panel: rendered, it covers no panel's points
    legends = [ax.get_legend() for ax in axes]
    assert legends[:2] == [None, None] and len(legends[2].get_texts()) == 10
    figure = axes[0].figure
    figure.canvas.draw()
    box = legends[2].get_window_extent()
    assert all(not box.overlaps(ax.get_window_extent()) for ax in axes)
    with pytest.raises(ValueError, match=r"plot_embeddings draws 3 panel\(s\)"):
        plot_embeddings({"a": codes_4d, "b": codes_4d, "c": codes_4d}, ax=axes[:2])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skvae\[plot\]'"):
        plot_latent(np.zeros((3, 2)))


def test_plot_synthetic_columns_draws_real_against_synthetic_with_shape_scores():
    rng = np.random.RandomState(0)
    real = pd.DataFrame({"money": np.where(rng.rand(400) < 0.8, 0.0, rng.lognormal(5, 1, 400)),
                         "size": np.where(rng.rand(400) < 0.1, np.nan, rng.normal(50, 5, 400)),
                         "kind": rng.choice(list("abcdefghij"), 400, p=[0.5] + [0.5 / 9] * 9)})
    fake = real.sample(frac=1, random_state=1).reset_index(drop=True)
    fake.loc[:99, "kind"] = "a"  # a quarter more "a": the shape score drops
    axes = plotting.plot_synthetic_columns(real, fake, max_categories=4)
    assert [a.get_title().split("\n")[0] for a in axes] == ["money", "size", "kind"]
    scores = [float(a.get_title().split()[-1]) for a in axes]
    assert scores[:2] == [1.0, 1.0] and scores[2] < 0.9  # the same numbers, shuffled
    assert scores[2] == pytest.approx(plotting.column_shape(real["kind"], fake["kind"]), abs=0.0051)
    # the 4 most frequent categories, then the rest summed; real and synthetic bars
    labels = [t.get_text() for t in axes[2].get_xticklabels()]
    assert len(labels) == 5 and labels[0] == "a" and labels[-1] == "(other)"
    heights = [p.get_height() for p in axes[2].patches]
    assert sum(heights[:5]) == pytest.approx(1) and sum(heights[5:]) == pytest.approx(1)
    assert "(missing: real 10%, synthetic 10%)" in axes[1].get_xlabel()
    assert axes[0].get_xlabel() == "value\n(zeros: real 82%, synthetic 82%)"
    assert len(axes[0].figure.legends) == 1  # one legend for the figure
    assert all(a.get_legend() is None for a in axes)
    with pytest.raises(ValueError, match=r"Column\(s\) \['price'\] are not in both real and "
                                         r"synthetic"):
        plotting.plot_synthetic_columns(real, fake, ["price"])
    plt.close("all")
