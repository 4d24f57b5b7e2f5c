"""
Olivetti faces: shallow, deep and convolutional autoencoders
=============================================================

The faces notebook: 400 faces of 40 people, doubled by mirroring; autoencoders of
growing depth; the first layer's weights seen as images; new faces generated from the
latent space; the PCA / t-SNE panel against the autoencoder's codes; a denoising
convolutional autoencoder; and a 2-D VAE face manifold.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_olivetti_faces
from skvae.metrics import kl_per_dimension, reconstruction_mse
from skvae.plotting import (
    image_mosaic,
    plot_embeddings,
    plot_filters,
    plot_manifold,
    plot_reconstructions,
)

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
epochs, conv_epochs, n_train = (10, 2, 240) if QUICK else (150, 60, None)

faces = load_olivetti_faces(mirror=True)  # 800 rows of 64 x 64 = 4096 pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    faces.data, faces.target, test_size=0.2, stratify=faces.target, random_state=0)
X_train = X_train[:n_train]

# %%
# Shallow, deep and convolutional
# -------------------------------
# Codes of 16 numbers each. A linear ("shallow") autoencoder can at best find PCA's
# subspace: it gets within a few percent of PCA's held-out error (PCA solves that
# problem exactly). The deep and convolutional ones can bend; on 640 training faces
# they come close to PCA's held-out error rather than clearly below it (see the printed
# errors).
common = dict(n_components=16, max_epochs=epochs, batch_size=32, lr=3e-3, random_state=0)
models = {
    "PCA": PCA(16, random_state=0),
    "shallow AE": AutoencoderTransformer(hidden_layer_sizes=(), **common),
    "deep AE": AutoencoderTransformer(hidden_layer_sizes=(512, 256), **common),
    "conv AE": AutoencoderTransformer(
        architecture="conv", image_shape=(1, 64, 64), conv_channels=(8, 16, 32),
        hidden_layer_sizes=(256,), **common | {"max_epochs": conv_epochs}),
}
for name, model in models.items():
    model.fit(X_train)
    print(f"{name:>10}: held-out reconstruction MSE {reconstruction_mse(model, X_test):.5f}")
plot_reconstructions(models, X_test[::16], n=10)

# %%
# The first layer's weights, seen as images
# -----------------------------------------
# Each of the deep autoencoder's first 512 units looks at the face through a
# 64 x 64 weight image; here are 32 of them (red positive, blue negative). Every one
# is face-shaped: eyes, mouths, glasses, light from one side. (Before the encoder saw
# centred pixels, 30 of these 32 still looked like their random start: the units had
# died, see the user guide's "Defaults".)
ax = plot_filters(models["deep AE"], n=32, ncols=8)
ax.figure.set_size_inches(9, 4.8)

# %%
# New faces from the latent space
# -------------------------------
# Naively, draw each code dimension independently from a normal distribution with
# that dimension's mean and spread; or draw in the principal axes of the codes (a
# Gaussian with their full covariance). The second respects how dimensions co-vary.
ae = models["deep AE"]
codes = ae.transform(X_train)
rng = np.random.RandomState(0)
naive = codes.mean(0) + codes.std(0) * rng.standard_normal((8, ae.n_components))
code_pca = PCA().fit(codes)
via_pca = code_pca.inverse_transform(
    rng.standard_normal((8, ae.n_components)) * np.sqrt(code_pca.explained_variance_))
fig, ax = plt.subplots(figsize=(9, 2.5))
ax.imshow(image_mosaic(ae.inverse_transform(np.vstack([naive, via_pca])), (64, 64),
                       ncols=8), cmap="gray")
ax.set_yticks([32, 97], labels=["naive", "via PCA"])
ax.set_xticks([])

# %%
# PCA(X), PCA(AE(X)), t-SNE(X), t-SNE(AE(X))
# ------------------------------------------
# The 160 held-out faces coloured by person (40 people, no legend). Each panel takes a
# fitted transformer or an array of codes.
test_codes = ae.transform(X_test)
plot_embeddings({
    "PCA(X)": PCA(2).fit_transform(X_test),
    "PCA(AE(X))": PCA(2).fit_transform(test_codes),
    "t-SNE(X)": TSNE(perplexity=10, random_state=0).fit_transform(X_test),
    "t-SNE(AE(X))": TSNE(perplexity=10, random_state=0).fit_transform(test_codes),
}, y_test, ncols=2, s=12)

# %%
# A denoising convolutional autoencoder
# -------------------------------------
# Pixels are blanked at random during training (``noise="mask"``); the loss compares
# with the clean face.
denoiser = AutoencoderTransformer(
    noise="mask", noise_level=0.3, architecture="conv", image_shape=(1, 64, 64),
    conv_channels=(8, 16, 32), hidden_layer_sizes=(256,), **common | {"max_epochs": conv_epochs},
).fit(X_train)
clean = X_test[:8]
masked = clean * (rng.uniform(size=clean.shape) > 0.3)
restored = denoiser.inverse_transform(denoiser.transform(masked.astype(np.float32)))
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.imshow(image_mosaic(np.vstack([clean, masked, restored]), (64, 64), ncols=8),
          cmap="gray", vmin=0, vmax=1)
ax.set_yticks([32, 97, 162], labels=["clean", "30% masked", "restored"])
ax.set_xticks([])

# %%
# A 2-D VAE face manifold
# -----------------------
# Both latent dimensions are in use (their KL on the held-out faces is printed), and
# the codes spread about as wide as N(0, 1) or wider: the grid spans the codes' own
# 2nd to 98th percentiles, from one kind of face to another along each axis.
vae = VAETransformer(2, max_epochs=epochs, batch_size=32, lr=3e-3, random_state=0).fit(X_train)
face_codes = vae.transform(X_train)
print("sd of the VAE's codes per dimension:", face_codes.std(0).round(3))
print("KL per dimension on held-out faces (nats):", kl_per_dimension(vae, X_test).round(2))
ax = plot_manifold(vae, n=10, extent=tuple(np.percentile(face_codes, [2, 98])))
ax.figure.set_size_inches(7, 7)
