"""
House prices: a VAE over one-hot categories shows the price it never saw
========================================================================

The Kaggle house-prices notebook: one-hot encode the 43 categorical columns, train a
VAE with a small KL weight (0.005) on them alone, and colour its 2-D latent space by
the sale price, which the model never saw. Unseen categories in Kaggle's test file
must not break it. At the end, the analytic KL term is compared with the
single-sample Monte-Carlo estimate some notebooks use.
"""

import itertools
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.compose import make_column_selector
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skvae import VAETransformer
from skvae.datasets import load_house_prices
from skvae.losses import gaussian_kl
from skvae.plotting import plot_history, plot_latent

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
epochs = 30 if QUICK else 200

houses = load_house_prices()  # .data: 1460 x 79 DataFrame, .target: SalePrice, .test
categorical = make_column_selector(dtype_exclude="number")(houses.data)
print(f"{len(categorical)} categorical columns, e.g. {categorical[:4]}")

# %%
# One-hot encoding, then the VAE
# ------------------------------
# ``handle_unknown="ignore"`` turns a category never seen in training into an all-zero
# block. ``categorical_groups`` tells the VAE where each column's one-hot block is, so
# each gets a softmax head; ``beta=0.005`` is the notebook's KL weight. A fifth of the
# rows is held out to draw validation curves, and ``n_iter_no_change=20`` stops
# training once the validation loss has not improved for 20 epochs (restoring the
# best weights): with so small a KL weight the model starts to overfit.
encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
blocks = np.cumsum([0] + [len(c) for c in encoder.fit(houses.data[categorical]).categories_])
groups = [list(range(start, stop)) for start, stop in itertools.pairwise(blocks)]
vae = VAETransformer(2, beta=0.005, categorical_groups=groups, batch_size=64,
                     max_epochs=epochs, validation_fraction=0.2, n_iter_no_change=20,
                     random_state=0)
model = make_pipeline(encoder, vae).fit(houses.data[categorical])

# %%
# Train and validation reconstruction curves
# ------------------------------------------
# Reconstruction term (negative log-likelihood, nats per house) and KL, both per epoch.
# The validation reconstruction turns up while the training one keeps falling: that is
# where early stopping ends the run.
print(f"stopped after {vae.n_iter_} of {epochs} epochs")
axes = plot_history(vae, keys=["recon", "kl"])

# %%
# The latent space, coloured by log sale price
# --------------------------------------------
# The price was never given to the model; cheap and expensive houses still end up in
# different regions, because the categories (quality grades, neighbourhood, garage)
# carry it.
Z = model.transform(houses.data[categorical])
ax = plot_latent(Z, np.log(houses.target), label_name="log SalePrice", s=6)
ax.set_title("VAE codes of the 1460 training houses")

# %%
# Kaggle's test file has categories the training file lacks; they are ignored:
Z_test = model.transform(houses.test[categorical])
print(f"test codes: {Z_test.shape}, all finite: {bool(np.isfinite(Z_test).all())}")

# %%
# Analytic KL against a one-sample Monte-Carlo estimate
# -----------------------------------------------------
# skvae uses the closed form KL(q(z|x) || N(0, I)). A Monte-Carlo estimate
# log q(z|x) - log p(z) at a single draw z is unbiased but noisy. How noisy depends on
# the posterior: when the KL is large (codes far from 0, narrow posteriors) the
# deterministic part dominates and one draw lands close to the closed form.
X = torch.as_tensor(encoder.transform(houses.data[categorical]), dtype=torch.float32)
with torch.no_grad():
    mu, logvar = vae.net_.module_.eval().encode(X)
    analytic = gaussian_kl(mu, logvar).numpy()
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    z = vae.net_.module_.reparameterize(mu, logvar, eps)  # one draw per house
    normal = torch.distributions.Normal
    log_q = normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    log_p = normal(0.0, 1.0).log_prob(z).sum(-1)
    monte_carlo = (log_q - log_p).numpy()
error = monte_carlo - analytic
print(f"mean KL per house: analytic {analytic.mean():.3f} nats, "
      f"one-sample Monte-Carlo {monte_carlo.mean():.3f} nats; "
      f"per-house error sd {error.std():.3f} nats")
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(analytic, monte_carlo, s=4, alpha=0.5)
ax.axline((0, 0), slope=1, color="k", lw=1)
ax.set_xlabel("analytic KL (nats)")
ax.set_ylabel("one-sample Monte-Carlo KL (nats)")
ax.set_title(f"one draw: mean error {error.mean():+.2f}, sd {error.std():.2f} nats")
