"""Reconstruction losses, the Gaussian KL term and the ELBO criterion.

Pure PyTorch (no scikit-learn). Every function returns one value **per row**
(summed over features) so that callers can average over a batch, weight terms,
or report per-sample scores.

Likelihoods, in nats:

``"bce"``
    Bernoulli: ``log p(x | x_hat) = -BCE(logits=x_hat, x)``, summed over
    features. Computed from logits with
    :func:`torch.nn.functional.binary_cross_entropy_with_logits`, which is
    numerically stable. Targets must lie in [0, 1]; for non-binary targets in
    (0, 1) this is the usual "continuous BCE", not a normalised density.
``"mse"``
    Gaussian with one variance ``sigma^2`` shared by all features:
    ``log p(x | x_hat) = -sum (x - x_hat)^2 / (2 sigma^2) - d/2 log(2 pi sigma^2)``.
    The VAE fits ``sigma^2`` by maximum likelihood, as in the "sigma-VAE" of
    Rybkin, Daniilidis & Levine (2021, "Simple and Effective VAE Training with
    Calibrated Decoders"): in each training batch it is the batch's mean squared
    error (:func:`batch_noise_variance`), and after training it is fixed to the
    mean squared error over the training data. A fixed variance instead makes the
    balance between reconstruction and KL depend on the data's scale: with
    ``sigma^2 = 1/2`` (the tutorials' ``mse * original_dim``) a VAE on [0, 1]
    pixels collapses its posterior to the prior.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Reconstruction losses known to :func:`reconstruction_nll`.
RECONSTRUCTION_LOSSES = ("mse", "bce")

#: Floor of the Gaussian likelihood's variance, so a perfect fit cannot diverge.
MIN_NOISE_VARIANCE = 1e-6


def batch_noise_variance(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Maximum-likelihood shared variance of ``x`` around ``x_hat``: the mean squared error.

    >>> import torch
    >>> batch_noise_variance(torch.zeros(2, 2), torch.ones(2, 2))
    tensor(1.)
    """
    return (x - x_hat).pow(2).mean().clamp_min(MIN_NOISE_VARIANCE)


def reconstruction_nll(x_hat, x, kind: str, noise_variance=1.0) -> torch.Tensor:
    """Negative log-likelihood of ``x`` under the decoder output ``x_hat``, per row, in nats.

    ``noise_variance`` (float or scalar tensor) is the Gaussian variance used by
    ``"mse"``; ``"bce"`` ignores it.

    Examples
    --------
    >>> import torch
    >>> reconstruction_nll(torch.zeros(2, 3), torch.zeros(2, 3), "mse")
    tensor([2.7568, 2.7568])
    """
    if kind == "bce":
        nll = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none")
        return nll.sum(dim=-1)
    if kind == "mse":
        var = torch.as_tensor(noise_variance, dtype=x.dtype, device=x.device)
        sq = (x - x_hat).pow(2).sum(dim=-1) / (2 * var)
        return sq + 0.5 * x.shape[-1] * torch.log(2 * math.pi * var)
    raise ValueError(f"Unknown reconstruction loss {kind!r}; use one of {RECONSTRUCTION_LOSSES}.")


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean per-feature reconstruction loss of each row (MSE, or BCE from logits).

    This is the autoencoder's training loss and, negated, its ``score_samples``.

    >>> import torch
    >>> reconstruction_error(torch.ones(1, 2), torch.zeros(1, 2), "mse")
    tensor([1.])
    """
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").mean(dim=-1)
    if kind == "mse":
        return (x - x_hat).pow(2).mean(dim=-1)
    raise ValueError(f"Unknown reconstruction loss {kind!r}; use one of {RECONSTRUCTION_LOSSES}.")


def decoder_mean(x_hat: torch.Tensor, kind: str) -> torch.Tensor:
    """Map decoder output to data space: probabilities for ``"bce"``, identity for ``"mse"``."""
    return torch.sigmoid(x_hat) if kind == "bce" else x_hat


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic ``KL(N(mu, exp(logvar)) || N(0, I))`` per row, in nats.

    >>> import torch
    >>> gaussian_kl(torch.zeros(1, 2), torch.zeros(1, 2))
    tensor([0.])
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class ReconstructionLoss(nn.Module):
    """Autoencoder criterion: mean per-feature reconstruction error over the batch.

    ``forward(y_pred, x)`` takes the module output ``(x_hat, z)``.

    >>> import torch
    >>> ReconstructionLoss("mse")((torch.ones(2, 3), None), torch.zeros(2, 3))
    tensor(1.)
    """

    def __init__(self, kind: str = "mse"):
        super().__init__()
        self.kind = kind

    def terms(self, y_pred, x) -> dict[str, torch.Tensor]:
        """Per-row loss terms: ``{"recon": ...}``."""
        return {"recon": reconstruction_error(y_pred[0], x, self.kind)}

    def combine(self, terms, training=True) -> torch.Tensor:
        """Batch loss from per-row terms."""
        return terms["recon"].mean()

    def forward(self, y_pred, x):
        return self.combine(self.terms(y_pred, x))


class ELBOLoss(nn.Module):
    """VAE criterion: ``mean(recon_nll + kl_weight * KL)`` over the batch.

    ``forward(y_pred, x)`` takes the module output ``(x_hat, mu, logvar)``. For
    ``"mse"`` the Gaussian variance is the batch's maximum-likelihood estimate
    (:func:`batch_noise_variance`; see the module docstring). With
    ``kl_weight = 1`` this is the negative ELBO per sample in nats; other weights
    give the beta-VAE objective. ``kl_weight`` is the weight used in training (a
    KL warm-up callback changes it per epoch); ``beta`` is the target weight,
    used when ``training=False`` so that validation losses are comparable across
    epochs.

    >>> import torch
    >>> loss = ELBOLoss("mse", beta=1.0)
    >>> loss((torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1)), torch.ones(2, 3))
    tensor(4.2568)
    """

    def __init__(self, kind: str = "mse", beta: float = 1.0):
        super().__init__()
        self.kind = kind
        self.beta = beta
        self.kl_weight = beta

    def terms(self, y_pred, x) -> dict[str, torch.Tensor]:
        """Per-row loss terms: ``{"recon": ..., "kl": ...}``, in nats."""
        x_hat, mu, logvar = y_pred[:3]
        variance = batch_noise_variance(x_hat, x) if self.kind == "mse" else 1.0
        recon = reconstruction_nll(x_hat, x, self.kind, variance)
        return {"recon": recon, "kl": gaussian_kl(mu, logvar)}

    def combine(self, terms, training=True) -> torch.Tensor:
        """Batch loss from per-row terms, with the training or the target KL weight."""
        weight = self.kl_weight if training else self.beta
        return terms["recon"].mean() + weight * terms["kl"].mean()

    def forward(self, y_pred, x):
        return self.combine(self.terms(y_pred, x))
