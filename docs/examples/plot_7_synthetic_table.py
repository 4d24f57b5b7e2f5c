"""
Synthetic house prices: new rows with the data's shapes
=======================================================

A VAE fitted on the house-prices DataFrame as it is (43 categorical and 37 numeric
columns, ``SalePrice`` among them) generates new houses with ``sample``. For a
DataFrame, ``sample`` draws from the model: each category from its softmax, each
number from its Gaussian, zeros ("no pool", "no porch") and missing values from the
numeric columns' state heads, with codes drawn from the density of the training codes.
Here the samples are compared with held-out real houses column by column, and a price
model trained on synthetic houses only is scored on real ones.
``benchmarks/bench_synthetic.py`` measures the same against SDV's TVAE.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from skvae import VAETransformer
from skvae.datasets import load_house_prices
from skvae.plotting import column_shape, plot_synthetic_columns

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
epochs = 20 if QUICK else 100

houses = load_house_prices().frame.drop(columns="Id")
train, test = train_test_split(houses, test_size=0.25, random_state=0)
vae = VAETransformer(n_components=16, max_epochs=epochs, random_state=0).fit(train)
synthetic = vae.sample(5000, random_state=0)
print(f"{len(synthetic)} synthetic houses, {synthetic.shape[1]} columns, "
      f"dtypes as in training: {bool((synthetic.dtypes == train.dtypes).all())}")

# %%
# How the numeric columns are modelled
# ------------------------------------
# The layout names every feature: a column that is often exactly 0 gets a
# ``zero`` state, one with missing values a ``missing`` state, and the ordinary values
# are mapped to a normal through their quantiles (so draws stay in the data's range).
print({column: states for column, states in list(vae.layout_.states_.items())[:5]})

# %%
# Real against synthetic, column by column
# ----------------------------------------
# Each panel's title is the column's shape score as sdmetrics computes it (1 - the
# Kolmogorov-Smirnov statistic for numbers, 1 - the total variation distance for
# categories). ``MiscVal`` is 96% zeros, ``LotFrontage`` 18% missing, ``PoolQC``
# almost always missing ("no pool").
columns = ["SalePrice", "GrLivArea", "LotFrontage", "MiscVal", "OverallQual",
           "Neighborhood", "GarageType", "PoolQC"]
axes = plot_synthetic_columns(test, synthetic, columns, ncols=4)
scores = {c: column_shape(test[c], synthetic[c]) for c in houses.columns}
print(f"mean shape score over all {len(scores)} columns: {np.mean(list(scores.values())):.3f}")

# %%
# Pairs of columns: price against living area
# -------------------------------------------
# Shapes one column at a time are not enough: the samples must keep how columns move
# together. As many synthetic houses as held-out real ones are drawn. The quantile
# mapping sends draws beyond the highest training quantile to the training maximum
# (the synthetic houses on the top edge). The synthetic cloud is wider around the
# trend than the real one: given its code, each number is drawn with its own
# independent Gaussian noise.
fig, ax = plt.subplots(1, 2, figsize=(8, 3.5), sharex=True, sharey=True,
                       layout="constrained")
shown = synthetic.sample(len(test), random_state=0)
for axis, (name, frame) in zip(ax, [("real (held out)", test), ("synthetic", shown)],
                               strict=True):
    axis.scatter(frame["GrLivArea"], frame["SalePrice"], s=3, alpha=0.4)
    axis.set_title(name)
    axis.set_xlabel("GrLivArea (sq ft)")
ax[0].set_ylabel("SalePrice ($)")

# %%
# Train on synthetic, test on real
# --------------------------------
# A gradient-boosting model of log price, trained once on the real training houses and
# once on synthetic houses only, both scored on the held-out real ones.
categories = {c: pd.CategoricalDtype(houses[c].dropna().unique())
              for c in vae.layout_.categorical_}


def r2_on_real(frame):
    X = frame.drop(columns="SalePrice").astype(categories)
    X_test = test.drop(columns="SalePrice").astype(categories)
    model = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=0)
    model.fit(X, np.log(frame["SalePrice"]))
    return model.score(X_test, np.log(test["SalePrice"]))


print(f"R^2 of log price on real houses: trained on real {r2_on_real(train):.3f}, "
      f"on synthetic {r2_on_real(synthetic):.3f}")
