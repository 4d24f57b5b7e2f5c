"""
Outliers: what a model of normal rows cannot explain
====================================================

:class:`~skvae.OutlierDetector` turns an autoencoder (or a VAE) into a scikit-learn
outlier detector, like :class:`~sklearn.ensemble.IsolationForest`: ``fit`` trains the
model on normal rows, ``score_samples`` is the model's score (minus the mean
reconstruction error), ``predict`` flags the rows below the ``contamination`` quantile
of the training scores, and ``feature_scores`` says which features make a row an
outlier. Two uses: MNIST as a one-class problem (train on zeros, find everything
else), and the house-prices table with a few rows corrupted on purpose.
"""

import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skvae import AutoencoderTransformer, OutlierDetector
from skvae.datasets import load_house_prices, load_mnist
from skvae.plotting import plot_outliers

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
n_train, mnist_epochs, house_epochs = (2000, 5, 20) if QUICK else (None, 20, 100)
started = time.perf_counter()

mnist = load_mnist()
zeros = mnist.X_train[mnist.y_train == 0][:n_train]
X_test, y_test = mnist.X_test, mnist.y_test

# %%
# One class: train on zeros, score every test digit
# -------------------------------------------------
# The autoencoder squeezes each image through 8 numbers; trained on zeros only, it
# reconstructs zeros well and other digits badly. ``contamination=0.05``: we expect
# about 5% of the training zeros to be odd ones. The ROC AUC measures how well the
# score ranks the 9,000 other test digits below the 1,000 test zeros, against an
# isolation forest trained on the same zeros.
detector = OutlierDetector(
    AutoencoderTransformer(8, hidden_layer_sizes=(256, 64), max_epochs=mnist_epochs,
                           random_state=0),
    contamination=0.05,
).fit(zeros)
scores = detector.score_samples(X_test)
forest = IsolationForest(random_state=0).fit(zeros)
print(f"ROC AUC of 'not a zero' on {len(X_test)} test digits: "
      f"autoencoder {roc_auc_score(y_test != 0, -scores):.3f}, "
      f"IsolationForest {roc_auc_score(y_test != 0, -forest.score_samples(X_test)):.3f}")
flagged = detector.predict(X_test) == -1
print(f"flagged as outliers: {flagged[y_test == 0].mean():.1%} of the test zeros, "
      f"{flagged[y_test != 0].mean():.1%} of the other digits")

# %%
# The scores and the threshold
# ----------------------------
# ``score_samples`` is minus each image's mean squared error per pixel; ``offset_``
# (the dashed line) is the 5% quantile of the training zeros' scores, and
# ``decision_function`` is the score less it. The test zeros pile up near 0; the
# other digits lie well below, with some overlap (the AUC above).
fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
bins = np.linspace(scores.min(), scores.max(), 60)
ax.hist(scores[y_test == 0], bins=bins, alpha=0.6, density=True, label="test zeros")
ax.hist(scores[y_test != 0], bins=bins, alpha=0.6, density=True, label="other test digits")
ax.axvline(detector.offset_, color="black", linestyle="--", label="threshold (offset_)")
ax.set_xlabel("score_samples (minus the mean squared error per pixel)")
ax.set_ylabel("density")
ax.legend()

# %%
# The most anomalous test digits
# ------------------------------
# Each row: the digit, the autoencoder's reconstruction (a zero-like blur: it only
# knows zeros), and each pixel's feature score, its squared error. The bright pixels
# are the strokes a zero does not have where it has them, and the ring a zero would
# have where the digit is blank.
plot_outliers(detector, X_test, n_rows=5)

# %%
# The oddest test zeros
# ---------------------
# The same figure for the test zeros alone: these are the zeros the model finds least
# typical (thick, slanted, open or broken strokes), which is what an outlier detector
# trained on clean data finds in new data of the same class.
plot_outliers(detector, X_test[y_test == 0], n_rows=4)

# %%
# Three ways to score the same model
# -----------------------------------
# ``scoring`` picks what ranks the rows, and ``fit`` fits what each one needs, so a
# fitted detector can be rescored with ``set_params``. ``"per_feature"`` counts each
# pixel's error in units of that pixel's own training error; ``"pathway"`` passes the
# reconstruction back through the encoder and compares its hidden activations with
# the image's (RAPP): an image the model pulls toward a zero moves most there. On the
# one-class MNIST and Fashion-MNIST benchmarks it ranks best (user guide, "Outlier
# detection"). ``offset_`` belongs to the scoring the detector was fitted with: refit
# to ``predict`` with another.
for scoring in ["estimator", "per_feature", "pathway"]:
    rescored = detector.set_params(scoring=scoring).score_samples(X_test)
    print(f"{scoring:>11}: ROC AUC {roc_auc_score(y_test != 0, -rescored):.3f}")
detector.set_params(scoring="estimator")

# %%
# A table: which column makes a house an outlier
# ----------------------------------------------
# The house-prices DataFrame as it is (categorical columns get softmax heads). Three
# ordinary test houses (the ones with the median scores) are corrupted in one column
# each: a zoning swapped to commercial, a living area multiplied by 4, a price with an
# extra zero. ``feature_scores`` returns one score per column for each row (a
# category's cross-entropy, a number's squared error in its normalised units): the
# corrupted column should top its row.
houses = load_house_prices().frame.drop(columns="Id")
train, test = train_test_split(houses, test_size=0.25, random_state=0)
house_detector = OutlierDetector(
    AutoencoderTransformer(8, hidden_layer_sizes=(128, 64), max_epochs=house_epochs,
                           random_state=0),
    contamination=0.05,
).fit(train)

ranked = pd.Series(house_detector.score_samples(test), index=test.index).sort_values()
typical = ranked.index[len(ranked) // 2:len(ranked) // 2 + 3]
corrupted = test.copy()
changes = {typical[0]: ("MSZoning", "C (all)"),
           typical[1]: ("GrLivArea", 4 * test.loc[typical[1], "GrLivArea"]),
           typical[2]: ("SalePrice", 10 * test.loc[typical[2], "SalePrice"])}
for row, (column, value) in changes.items():
    corrupted.loc[row, column] = value

rank = pd.Series(house_detector.score_samples(corrupted), index=test.index).rank()
attribution = house_detector.feature_scores(corrupted)  # houses x columns
rank_of_max = attribution.max(axis=1).rank(ascending=False)
report = pd.DataFrame({
    "corrupted": [column for column, _ in changes.values()],
    "was": [test.loc[row, column] for row, (column, _) in changes.items()],
    "now": [value for _, value in changes.values()],
    "rank of score": [f"{rank[row]:.0f} of {len(test)}" for row in typical],
    "flagged": house_detector.predict(corrupted.loc[typical]) == -1,
    "top column": attribution.loc[typical].idxmax(axis=1).to_numpy(),
    "rank of top column score": rank_of_max.loc[typical].astype(int).to_numpy(),
}, index=typical)
print(report.to_string())

# %%
# The three corrupted houses
# --------------------------
# Each panel is one house, titled with its index and score; the bars are its five
# highest column scores, labelled with the house's value, and the black ticks each
# column's median over the three houses. The corrupted column tops each panel. One
# column among 80 moves a house's score (the *mean* over its columns) much less than
# it moves that column's own score: the scaled area and the tenfold price put their
# houses in the lowest tenth of the test set, where ``predict`` flags them, while the
# commercial zoning alone leaves its house mid-table. The attribution names the
# column either way. Ranking the houses by their largest column score instead of the
# mean moves single-column errors up (the last column of the table), though rare
# real houses still come first.
plot_outliers(house_detector, corrupted.loc[typical], n_rows=3, n_features=5)

# %%
# The most anomalous test houses
# ------------------------------
# Real houses this time: the lowest scores of the (corrupted) test set, with the
# columns that make each unusual, against each column's median over the test houses
# (the ticks near 0). They are rare kinds of houses rather than errors: rare counts
# (two half baths, two basement full baths, no full bath), a pool, a split foyer with
# no basement, unusual wall coverings. Rare values of a column with few distinct
# values get large squared errors: the quantile normalisation of ``TableLayout`` puts
# them in the tail of the normal distribution.
plot_outliers(house_detector, corrupted, n_rows=6, n_features=5)
print(f"ran in {time.perf_counter() - started:.0f} s")
