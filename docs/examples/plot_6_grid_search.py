"""
Tuning with GridSearchCV: unsupervised and inside a pipeline
============================================================

A VAE's ``score`` is its held-out ELBO, so ``GridSearchCV`` can tune it with no labels
and no scorer. Inside a supervised pipeline the classifier's accuracy picks the
latent size instead.
"""

import os

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skvae import VAETransformer
from skvae.datasets import load_digits

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
epochs = 10 if QUICK else 60

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.25, random_state=0)

# %%
# Unsupervised: the ELBO picks n_components, beta and the layers
# --------------------------------------------------------------
# The ELBO is always computed with KL weight 1, so models trained with different
# ``beta`` are compared on the same objective.
search = GridSearchCV(
    VAETransformer(max_epochs=epochs, random_state=0),
    {"n_components": [2, 8], "beta": [0.5, 1.0],
     "hidden_layer_sizes": [(128,), (256, 128)]},
    cv=3,
).fit(X_train)
results = pd.DataFrame(search.cv_results_)
print(results[["param_n_components", "param_beta", "param_hidden_layer_sizes",
               "mean_test_score"]].sort_values("mean_test_score", ascending=False)
      .to_string(index=False))
print("best:", search.best_params_, f"held-out ELBO {search.score(X_test):.1f} nats")

# %%
# Supervised: the classifier's accuracy picks the latent size
# -----------------------------------------------------------
pipe = make_pipeline(VAETransformer(max_epochs=epochs, random_state=0),
                     LogisticRegression(max_iter=2000))
search = GridSearchCV(pipe, {"vaetransformer__n_components": [2, 4, 16]}, cv=3)
search.fit(X_train, y_train)
for size, accuracy in zip(search.cv_results_["param_vaetransformer__n_components"],
                          search.cv_results_["mean_test_score"], strict=True):
    print(f"n_components={size:>2}: cross-validated accuracy {accuracy:.3f}")
print(f"test accuracy of the best pipeline: {search.score(X_test, y_test):.3f}")

# %%
# The winners as a picture: accuracy against latent size.
ax = pd.Series(search.cv_results_["mean_test_score"],
               index=search.cv_results_["param_vaetransformer__n_components"]).plot(
    marker="o", xlabel="n_components", ylabel="CV accuracy", logx=True)
ax.set_title("VAE codes + logistic regression on digits")
