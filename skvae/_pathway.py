"""The reconstruction's path back through the encoder: the ``"pathway"`` outlier score.

RAPP (Kim et al., "RAPP: Novelty Detection with Reconstruction along Projection
Pathway", ICLR 2020) compares a row with its reconstruction not only in the input
space but in the encoder's hidden layers: the row ``x`` and its reconstruction
``x_hat`` both go through the encoder, and the differences of their activations,
layer by layer, are the row's *pathway*. A normal row's reconstruction follows
nearly the row's own path; an outlier's reconstruction is pulled toward the normal
data and leaves it, often more visibly in the hidden layers than in the pixels.

The pathway of each training row is collected (up to ``max_rows`` evenly spaced
rows), and a Gaussian is fitted to them with scikit-learn's
:class:`~sklearn.covariance.LedoitWolf` (its shrinkage keeps the covariance
invertible where units never fire, and is chosen from the data, with no knob); a
row's score is minus half its squared Mahalanobis distance under that Gaussian: its
log-density in nats, up to a constant. This is RAPP's normalised score (NAP), with
the shrunk covariance in place of a truncated SVD.

Why a full covariance: measured on validation rows (train on one class of the first
50,000 training images, score the last 10,000; AE(16), 40 epochs; mean over the 10
classes), whitening only the principal components that explain 90% of the variance
ranked about as well on Fashion-MNIST and MNIST (ROC AUC 0.9314 and 0.9796 against
0.9317 and 0.9778), and a diagonal covariance too (0.9304, 0.9826), but on scikit-learn's
digits (140 rows per class, 36 pathway numbers) both fell apart (0.807 and 0.908
against 0.981): the rows that stand out do so along directions of little training
variance. The price of the full covariance is a threshold fitted to the very rows
the Gaussian was fitted to: see :class:`~skvae.OutlierDetector`'s notes.

The hidden layers taken are the encoder's activations whose outputs are vectors
(every hidden layer of a dense encoder; the dense layers after a convolutional
encoder's flattening, not its feature maps, which would make the covariance
thousands wide) and the code itself (the VAE's posterior mean).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.covariance import LedoitWolf

from ._data import evenly_spaced_rows, map_batches
from ._validation import finite_output
from .layers import ACTIVATIONS
from .likelihoods import decoder_mean

__all__ = ["fit_pathway_density", "pathway_scores"]

_ACTIVATION_TYPES = tuple(ACTIVATIONS.values())


def fit_pathway_density(estimator, features, missing: bool, max_rows: int) -> LedoitWolf:
    """The Gaussian (LedoitWolf) of the pathways of up to ``max_rows`` evenly spaced rows
    of ``features`` (validated rows of the fitted ``estimator``)."""
    rows = evenly_spaced_rows(features, max_rows)
    differences = _pathway_map(estimator, rows, missing, lambda d: d)
    return LedoitWolf().fit(differences.astype(np.float64))


def pathway_scores(estimator, features, missing: bool, density: LedoitWolf) -> np.ndarray:
    """Each row's log-density under ``density``, up to a constant: ``-d @ P @ d / 2``
    for its pathway ``d`` centred on the training mean and the precision ``P``."""
    device = estimator._device
    location = torch.as_tensor(density.location_, dtype=torch.float32, device=device)
    precision = torch.as_tensor(density.precision_, dtype=torch.float32, device=device)

    def score(differences):
        centred = differences - location
        return -0.5 * ((centred @ precision) * centred).sum(dim=1)

    return _pathway_map(estimator, features, missing, score).astype(np.float64)


def _pathway_map(estimator, features, missing, per_batch) -> np.ndarray:
    """``per_batch(pathway)`` over the batches of ``features``: each pathway is the
    encoder's vector-valued hidden activations and code for the row, less those for
    its reconstruction (collected by forward hooks, registered once per call)."""
    module = estimator._eval_module()
    kind, groups = estimator.reconstruction_loss, estimator.groups_
    hidden = []

    def keep(layer, args, output):
        if output.ndim == 2:  # a conv encoder's feature maps are left out
            hidden.append(output)

    def encode(inputs):
        hidden.clear()
        code = estimator._encode(module, inputs)
        return torch.cat([*hidden, code], dim=1), code

    def batch(x):
        inputs, _, _ = estimator._split(x, missing)
        path, code = encode(inputs)
        x_hat = decoder_mean(module.decode(code), kind, groups)
        again = inputs.clone()
        again[:, :x_hat.shape[1]] = x_hat  # a missing indicator's mask stays the row's
        return per_batch(path - encode(again)[0])

    hooks = [layer.register_forward_hook(keep) for layer in module.encoder.modules()
             if isinstance(layer, _ACTIVATION_TYPES)]
    try:
        result = map_batches(batch, features, estimator._device)
    finally:
        for hook in hooks:
            hook.remove()
    return finite_output(result, "pathways", features)
