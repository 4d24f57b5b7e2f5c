"""
A convolutional VAE on MNIST and its 30 x 30 manifold
=====================================================

The Keras convolutional VAE: two stride-2 convolutions, a 16-unit dense layer, a 2-D
latent space, a loss weighting reconstruction 10 to KL 1, and a 30 x 30 grid of decoded
digits over [-4, 4] x [-4, 4]. This model used to collapse in skvae (every digit the
same code, or one dimension unused); the library's defaults now prevent that: the
decoder starts at the mean digit, the encoder sees centred pixels and the KL weight
ramps up over the first epochs (the user guide's "Defaults").
"""

import os

from skvae import VAETransformer
from skvae.datasets import load_mnist
from skvae.metrics import kl_per_dimension
from skvae.plotting import plot_latent, plot_manifold

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
n_train, epochs = (3000, 2) if QUICK else (60000, 10)

mnist = load_mnist()
X_train = mnist.X_train[:n_train]
X_test, y_test = mnist.X_test[:5000], mnist.y_test[:5000]

# %%
# Reconstruction weight 10, KL weight 1
# -------------------------------------
# ``10 * reconstruction + 1 * KL`` is the same objective as ``reconstruction + 0.1 * KL``
# up to a factor, and Adam's steps do not depend on the loss scale: ``beta=0.1``.
vae = VAETransformer(
    2, architecture="conv", image_shape=(1, 28, 28), conv_channels=(32, 64),
    hidden_layer_sizes=(16,), reconstruction_loss="bce", beta=0.1,
    max_epochs=epochs, random_state=0,
).fit(X_train)
# both dimensions carry information about the test digits (0 would be a dead one)
print("KL per latent dimension on test digits (nats):", kl_per_dimension(vae, X_test).round(2))

# %%
# The latent space of 5000 test digits
plot_latent(vae, y_test, X=X_test, label_name="digit", s=3, title="conv VAE codes")

# %%
# The 30 x 30 manifold over [-4, 4]²
# ----------------------------------
# With beta < 1 the codes spread wider than N(0, I), so the grid spans [-4, 4].
ax = plot_manifold(vae, n=30, extent=(-4, 4))
ax.figure.set_size_inches(9, 9)
