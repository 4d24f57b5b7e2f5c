"""
MNIST: a 2-D latent space, autoencoder against VAE
==================================================

The first picture of every autoencoder tutorial: squeeze MNIST through two latent
dimensions, colour the test digits by class, and decode a grid over the latent plane.
Here both models are two lines each, and the pictures are one call each.
"""

import os

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_mnist
from skvae.plotting import plot_embeddings, plot_latent, plot_manifold

# SKVAE_DOCS_QUICK=1 runs every example at reduced size (the docs' CI build does)
QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
n_train, epochs = (5000, 3) if QUICK else (60000, 15)

mnist = load_mnist()  # pixels in [0, 1], rows of 784
X_train = mnist.X_train[:n_train]
X_test, y_test = mnist.X_test[:3000], mnist.y_test[:3000]

# %%
# Train both models
# -----------------
# The same dense 784-512-256-2 encoder for both; the VAE gets a Bernoulli likelihood
# (``"bce"``), as in the Keras VAE tutorial.
nets = dict(n_components=2, hidden_layer_sizes=(512, 256), max_epochs=epochs,
            random_state=0)
ae = AutoencoderTransformer(**nets).fit(X_train)
vae = VAETransformer(reconstruction_loss="bce", **nets).fit(X_train)
print(f"held-out ELBO of the VAE: {vae.score(X_test):.1f} nats per digit")

# %%
# 3000 test digits in the VAE's latent space
# ------------------------------------------
# ``transform`` returns the posterior means; the classes were never shown to the model.
plot_latent(vae, y_test, X=X_test, label_name="digit", s=4,
            title="VAE: 3000 test digits")

# %%
# The decoded 15 x 15 grid
# ------------------------
# Codes evenly spaced in probability under the N(0, 1) prior (5% to 95% quantiles),
# decoded to images: the "manifold" of the tutorials.
plot_manifold(vae, n=15)

# %%
# The two latent spaces side by side
# ----------------------------------
# The autoencoder's codes are free to spread and leave holes; the VAE's KL term pulls
# them towards N(0, I), which is what makes its grid above decode to digits everywhere.
plot_embeddings({"autoencoder": ae, "VAE": vae}, y_test, X=X_test, label_name="digit", s=3)
