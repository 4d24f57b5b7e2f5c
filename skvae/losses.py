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

Categorical groups (``groups``: tuples of feature indices, each a one-hot block)
    Each block is one categorical column with a softmax head:
    ``log p(x | x_hat) = sum_k x_k log softmax(x_hat)_k``, the cross-entropy with
    the one-hot target. An all-zero block (a missing value or a category unseen in
    training) adds nothing. The other ("plain") features use ``kind``; the
    Gaussian variance is estimated on the plain features only.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ELBOLoss", "ReconstructionLoss", "gaussian_kl", "monte_carlo_elbo",
           "posterior_mse"]

#: Reconstruction losses known to :func:`reconstruction_nll`.
RECONSTRUCTION_LOSSES = ("mse", "bce")

#: Floor of the Gaussian likelihood's variance, so a perfect fit cannot diverge.
MIN_NOISE_VARIANCE = 1e-6


@functools.lru_cache(maxsize=64)
def feature_layout(groups: tuple, n_features: int):
    """``(plain, blocks)``: indexers of the plain features and of each one-hot block.

    Contiguous index runs become slices (views, no gather).

    >>> feature_layout(((1, 2),), 4)
    ([0, 3], [slice(1, 3, None)])
    """
    grouped = {i for group in groups for i in group}
    plain = [i for i in range(n_features) if i not in grouped]
    return _indexer(plain), [_indexer(list(group)) for group in groups]


def _indexer(index: list[int]):
    if index and index == list(range(index[0], index[-1] + 1)):
        return slice(index[0], index[-1] + 1)
    return index


def categorical_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a one-hot (or all-zero) ``target`` block under softmax ``logits``, per row.

    >>> import torch
    >>> categorical_nll(torch.zeros(2, 4), torch.tensor([[0.0, 1, 0, 0], [0, 0, 0, 0]]))
    tensor([1.3863, 0.0000])
    """
    return (-target * torch.log_softmax(logits, dim=-1)).sum(dim=-1)


def batch_noise_variance(x_hat: torch.Tensor, x: torch.Tensor, groups: tuple = ()) -> torch.Tensor:
    """Maximum-likelihood shared variance of ``x`` around ``x_hat``: the mean squared error.

    Over the plain features only (1 when there are none).

    >>> import torch
    >>> batch_noise_variance(torch.zeros(2, 2), torch.ones(2, 2))
    tensor(1.)
    """
    if groups:
        plain = feature_layout(groups, x.shape[-1])[0]
        x_hat, x = x_hat[..., plain], x[..., plain]
    if x.shape[-1] == 0:
        return torch.ones((), dtype=x.dtype, device=x.device)
    return (x - x_hat).pow(2).mean().clamp_min(MIN_NOISE_VARIANCE)


def reconstruction_nll(x_hat, x, kind: str, noise_variance=1.0, groups: tuple = ()):
    """Negative log-likelihood of ``x`` under the decoder output ``x_hat``, per row, in nats.

    ``noise_variance`` (float or scalar tensor) is the Gaussian variance used by
    ``"mse"``; ``"bce"`` ignores it. ``groups``: one-hot blocks (module docstring).

    Examples
    --------
    >>> import torch
    >>> reconstruction_nll(torch.zeros(2, 3), torch.zeros(2, 3), "mse")
    tensor([2.7568, 2.7568])
    """
    if not groups:
        return _plain_nll(x_hat, x, kind, noise_variance)
    plain, blocks = feature_layout(groups, x.shape[-1])
    nll = _plain_nll(x_hat[..., plain], x[..., plain], kind, noise_variance)
    for block in blocks:
        nll = nll + categorical_nll(x_hat[..., block], x[..., block])
    return nll


def _plain_nll(x_hat, x, kind, noise_variance):
    loss = _elementwise_loss(x_hat, x, kind)
    if kind == "bce":
        return loss.sum(dim=-1)
    var = torch.as_tensor(noise_variance, dtype=x.dtype, device=x.device)
    return loss.sum(dim=-1) / (2 * var) + 0.5 * x.shape[-1] * torch.log(2 * math.pi * var)


def _elementwise_loss(x_hat, x, kind):
    """The one dispatch on ``kind``: squared error, or binary cross-entropy from logits."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none")
    if kind == "mse":
        return (x - x_hat).pow(2)
    raise ValueError(f"Unknown reconstruction loss {kind!r}; use one of {RECONSTRUCTION_LOSSES}.")


def reconstruction_error(x_hat, x, kind: str, groups: tuple = ()) -> torch.Tensor:
    """Mean per-column reconstruction loss of each row (MSE, or BCE from logits).

    This is the autoencoder's training loss and, negated, its ``score_samples``.
    With ``groups``, each one-hot block counts as one column (its cross-entropy).

    >>> import torch
    >>> reconstruction_error(torch.ones(1, 2), torch.zeros(1, 2), "mse")
    tensor([1.])
    """
    if not groups:
        return _plain_error(x_hat, x, kind)
    plain, blocks = feature_layout(groups, x.shape[-1])
    x_plain = x[..., plain]
    total = _plain_error(x_hat[..., plain], x_plain, kind) * x_plain.shape[-1]
    for block in blocks:
        total = total + categorical_nll(x_hat[..., block], x[..., block])
    return total / (x_plain.shape[-1] + len(blocks))


def _plain_error(x_hat, x, kind):
    if x.shape[-1] == 0:
        return x.new_zeros(x.shape[:-1])
    return _elementwise_loss(x_hat, x, kind).mean(dim=-1)


def decoder_mean(x_hat: torch.Tensor, kind: str, groups: tuple = ()) -> torch.Tensor:
    """Map decoder output to data space: probabilities for ``"bce"``, identity for ``"mse"``.

    Each one-hot block of ``groups`` becomes its softmax (category probabilities).
    """
    mean = torch.sigmoid(x_hat) if kind == "bce" else x_hat
    if not groups:
        return mean
    mean = mean.clone()  # written in place below; the decoder output stays intact
    for block in feature_layout(groups, x_hat.shape[-1])[1]:
        mean[..., block] = torch.softmax(x_hat[..., block], dim=-1)
    return mean


def monte_carlo_elbo(x_hat, x, mu, logvar, kind: str, noise_variance=1.0, groups: tuple = ()):
    """Estimate each row's ELBO in nats from decoder outputs of posterior draws.

    ``ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``: the KL term is analytic
    (:func:`gaussian_kl`) and the expectation is the mean over the draws' first axis.

    Parameters
    ----------
    x_hat : torch.Tensor of shape (n_draws, n_samples, n_features)
        Decoder outputs of ``n_draws`` posterior draws per row (e.g.
        :meth:`skvae.modules.VariationalAutoencoder.decode_posterior`).
    x : torch.Tensor of shape (n_samples, n_features)
        The rows.
    mu, logvar : torch.Tensor of shape (n_samples, n_components)
        The posterior's means and log-variances.
    kind : {"mse", "bce"}
        Likelihood of the plain features (see the module docstring).
    noise_variance : float, default=1.0
        Gaussian variance (``"mse"`` only).
    groups : tuple of tuples of int, default=()
        One-hot blocks with a softmax head.

    Returns
    -------
    elbo : torch.Tensor of shape (n_samples,)
        The Monte-Carlo ELBO estimate of each row (higher is better).

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import monte_carlo_elbo
    >>> x, mu, logvar = torch.ones(1, 2), torch.zeros(1, 1), torch.zeros(1, 1)
    >>> x_hat = torch.zeros(3, 1, 2)  # three draws decoded to logits 0: p = 1/2
    >>> monte_carlo_elbo(x_hat, x, mu, logvar, "bce")  # 2 log(1/2), KL 0
    tensor([-1.3863])
    """
    nll = reconstruction_nll(x_hat, x.expand_as(x_hat), kind, noise_variance, groups)
    return -(nll.mean(dim=0) + gaussian_kl(mu, logvar))


def posterior_mse(x_hat, x, groups: tuple = ()) -> torch.Tensor:
    """Mean squared error of each row over the draws and the plain (non one-hot) features.

    What the Gaussian likelihood's variance is fitted on after training.

    Parameters
    ----------
    x_hat : torch.Tensor of shape (n_draws, n_samples, n_features)
        Decoder outputs of posterior draws.
    x : torch.Tensor of shape (n_samples, n_features)
        The rows.
    groups : tuple of tuples of int, default=()
        One-hot blocks, left out.

    Returns
    -------
    mse : torch.Tensor of shape (n_samples,)
        The mean squared error of each row.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import posterior_mse
    >>> posterior_mse(torch.zeros(2, 1, 3), torch.tensor([[1.0, 2.0, 0.0]]), ((1, 2),))
    tensor([1.])
    """
    plain = feature_layout(groups, x.shape[-1])[0] if groups else slice(None)
    return (x - x_hat)[..., plain].pow(2).mean(dim=(0, 2))


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Compute the analytic ``KL(N(mu, exp(logvar)) || N(0, I))`` per row, in nats.

    Parameters
    ----------
    mu : torch.Tensor of shape (..., n_components)
        Means of the diagonal Gaussian posterior.
    logvar : torch.Tensor of shape (..., n_components)
        Log-variances of the diagonal Gaussian posterior.

    Returns
    -------
    kl : torch.Tensor of shape (...)
        The KL divergence of each row from the standard normal prior, summed over the
        latent dimensions.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import gaussian_kl
    >>> gaussian_kl(torch.zeros(1, 2), torch.zeros(1, 2))  # the prior itself
    tensor([0.])
    >>> gaussian_kl(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2))
    tensor([0.5000, 0.0000])
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class _Criterion(nn.Module):
    """A criterion made of per-row terms: ``forward`` is ``combine(terms(y_pred, x))``.

    The skorch net calls :meth:`terms` and ``combine`` itself, to record each term.
    """

    def forward(self, y_pred, x):
        """Return the batch loss of the module output ``y_pred`` for the rows ``x``.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            The module's output, reconstruction first.
        x : torch.Tensor of shape (n_samples, n_features)
            The input rows (the target).

        Returns
        -------
        loss : torch.Tensor
            The scalar training loss (``combine(terms(y_pred, x))``).

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ELBOLoss, ReconstructionLoss
        >>> ReconstructionLoss("mse").forward((torch.zeros(2, 2), None), torch.ones(2, 2))
        tensor(1.)
        >>> y_pred = (torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1))
        >>> ELBOLoss("bce").forward(y_pred, torch.ones(2, 3))
        tensor(2.0794)
        """
        return self.combine(self.terms(y_pred, x))


class ReconstructionLoss(_Criterion):
    """Autoencoder criterion: mean per-feature reconstruction error over the batch.

    ``forward(y_pred, x)`` takes the module output ``(x_hat, z)``.

    Parameters
    ----------
    kind : {"mse", "bce"}, default="mse"
        Squared error, or binary cross-entropy from logits.
    groups : tuple of tuples of int, default=()
        One-hot blocks with a softmax (cross-entropy) head; each counts as one column.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import ReconstructionLoss
    >>> ReconstructionLoss("mse")((torch.ones(2, 3), None), torch.zeros(2, 3))
    tensor(1.)
    """

    def __init__(self, kind: str = "mse", groups: tuple = ()):
        super().__init__()
        self.kind = kind
        self.groups = groups

    def terms(self, y_pred, x) -> dict[str, torch.Tensor]:
        """Compute the per-row loss terms: ``{"recon": ...}``.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            The module's output, ``(x_hat, z)``.
        x : torch.Tensor of shape (n_samples, n_features)
            The input rows (the target).

        Returns
        -------
        terms : dict of str to torch.Tensor of shape (n_samples,)
            ``recon``: the mean per-column reconstruction error of each row.

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ReconstructionLoss
        >>> ReconstructionLoss("mse").terms((torch.ones(2, 3), None), torch.zeros(2, 3))
        {'recon': tensor([1., 1.])}
        """
        return {"recon": reconstruction_error(y_pred[0], x, self.kind, self.groups)}

    def combine(self, terms, training=True) -> torch.Tensor:
        """Average the per-row terms into the batch loss.

        Parameters
        ----------
        terms : dict of str to torch.Tensor
            The output of :meth:`terms`.
        training : bool, default=True
            Unused (the loss is the same in training and evaluation).

        Returns
        -------
        loss : torch.Tensor
            The mean reconstruction error over the batch.

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ReconstructionLoss
        >>> ReconstructionLoss().combine({"recon": torch.tensor([1.0, 3.0])})
        tensor(2.)
        """
        return terms["recon"].mean()


class ELBOLoss(_Criterion):
    """VAE criterion: ``mean(recon_nll + kl_weight * KL)`` over the batch.

    ``forward(y_pred, x)`` takes the module output ``(x_hat, mu, logvar)``. For
    ``"mse"`` the Gaussian variance is ``noise_variance`` when given, else the
    batch's maximum-likelihood estimate (:func:`batch_noise_variance`; see the
    module docstring). With
    ``kl_weight = 1`` this is the negative ELBO per sample in nats; other weights
    give the beta-VAE objective. ``kl_weight`` is the weight used in training (a
    KL warm-up callback changes it per epoch); ``beta`` is the target weight,
    used when ``training=False`` so that validation losses are comparable across
    epochs.

    Parameters
    ----------
    kind : {"mse", "bce"}, default="mse"
        Gaussian or Bernoulli likelihood of the plain features.
    beta : float, default=1.0
        Target KL weight; also the initial ``kl_weight``.
    groups : tuple of tuples of int, default=()
        One-hot blocks with a softmax (cross-entropy) head.
    noise_variance : float or None, default=None
        Fixed variance of the Gaussian likelihood; None estimates it per batch.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import ELBOLoss
    >>> loss = ELBOLoss("mse", beta=1.0)
    >>> loss((torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1)), torch.ones(2, 3))
    tensor(4.2568)
    """

    def __init__(self, kind: str = "mse", beta: float = 1.0, groups: tuple = (),
                 noise_variance: float | None = None):
        super().__init__()
        self.kind = kind
        self.beta = beta
        self.kl_weight = beta
        self.groups = groups
        self.noise_variance = noise_variance

    def terms(self, y_pred, x) -> dict[str, torch.Tensor]:
        """Compute the per-row loss terms: ``{"recon": ..., "kl": ...}``, in nats.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            The module's output, ``(x_hat, mu, logvar)``.
        x : torch.Tensor of shape (n_samples, n_features)
            The input rows (the target).

        Returns
        -------
        terms : dict of str to torch.Tensor of shape (n_samples,)
            ``recon``: the negative log-likelihood of each row; ``kl``: its KL term.

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ELBOLoss
        >>> y_pred = (torch.zeros(2, 3), torch.ones(2, 1), torch.zeros(2, 1))
        >>> ELBOLoss("bce").terms(y_pred, torch.ones(2, 3))
        {'recon': tensor([2.0794, 2.0794]), 'kl': tensor([0.5000, 0.5000])}
        """
        x_hat, mu, logvar = y_pred[:3]
        variance = self.noise_variance
        if variance is None:
            variance = (batch_noise_variance(x_hat, x, self.groups) if self.kind == "mse"
                        else 1.0)
        recon = reconstruction_nll(x_hat, x, self.kind, variance, self.groups)
        return {"recon": recon, "kl": gaussian_kl(mu, logvar)}

    def combine(self, terms, training=True) -> torch.Tensor:
        """Combine per-row terms into the batch loss, with the training or target KL weight.

        Parameters
        ----------
        terms : dict of str to torch.Tensor
            The output of :meth:`terms`.
        training : bool, default=True
            Weigh the KL term by ``kl_weight`` (training) or by ``beta``.

        Returns
        -------
        loss : torch.Tensor
            ``mean(recon) + weight * mean(kl)``.

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ELBOLoss
        >>> loss = ELBOLoss(beta=1.0)
        >>> loss.kl_weight = 0.5  # e.g. set by a KL warm-up
        >>> terms = {"recon": torch.tensor([2.0]), "kl": torch.tensor([1.0])}
        >>> loss.combine(terms), loss.combine(terms, training=False)
        (tensor(2.5000), tensor(3.))
        """
        weight = self.kl_weight if training else self.beta
        return terms["recon"].mean() + weight * terms["kl"].mean()
