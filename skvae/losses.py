"""Training criteria: the autoencoder's reconstruction loss and the VAE's (beta-)ELBO.

Each criterion is a :class:`torch.nn.Module` built from per-row terms of
:mod:`skvae.likelihoods` (likelihoods, KL, masks for missing values), which are
re-exported here for compatibility.
"""

from __future__ import annotations

import torch
from torch import nn

from .likelihoods import (  # noqa: F401  (re-exported: skvae.losses.<name> keeps working)
    MIN_NOISE_VARIANCE,
    RECONSTRUCTION_LOSSES,
    batch_noise_variance,
    categorical_nll,
    decoder_mean,
    feature_layout,
    gaussian_kl,
    observed_entries,
    posterior_mse,
    reconstruction_error,
    reconstruction_nll,
)

__all__ = ["ELBOLoss", "ReconstructionLoss"]


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
    missing : bool, default=False
        Treat NaN in the target as missing (left out of the loss; see the module
        docstring). False skips the check: the target must be complete.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import ReconstructionLoss
    >>> ReconstructionLoss("mse")((torch.ones(2, 3), None), torch.zeros(2, 3))
    tensor(1.)
    """

    def __init__(self, kind: str = "mse", groups: tuple = (), missing: bool = False):
        super().__init__()
        self.kind = kind
        self.groups = groups
        self.missing = missing

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
        x, observed = observed_entries(x) if self.missing else (x, None)
        return {"recon": reconstruction_error(y_pred[0], x, self.kind, self.groups, observed)}

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
    missing : bool, default=False
        Treat NaN in the target as missing (left out of the likelihood; see the
        module docstring). False skips the check: the target must be complete.

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import ELBOLoss
    >>> loss = ELBOLoss("mse", beta=1.0)
    >>> loss((torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1)), torch.ones(2, 3))
    tensor(4.2568)
    """

    def __init__(self, kind: str = "mse", beta: float = 1.0, groups: tuple = (),
                 noise_variance: float | None = None, missing: bool = False):
        super().__init__()
        self.missing = missing
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
        terms : dict of str to torch.Tensor
            ``recon``: the negative log-likelihood of each row, shape ``(n_samples,)``;
            ``kl``: its KL term, shape ``(n_samples,)``; ``kl_dims``: the KL term of
            each latent dimension, shape ``(n_samples, n_components)`` (summing to
            ``kl``; the net records its epoch mean as ``train_kl_dims``).

        Examples
        --------
        >>> import torch
        >>> from skvae.losses import ELBOLoss
        >>> y_pred = (torch.zeros(2, 3), torch.ones(2, 1), torch.zeros(2, 1))
        >>> terms = ELBOLoss("bce").terms(y_pred, torch.ones(2, 3))
        >>> terms["recon"], terms["kl"], terms["kl_dims"].shape
        (tensor([2.0794, 2.0794]), tensor([0.5000, 0.5000]), torch.Size([2, 1]))
        """
        x_hat, mu, logvar = y_pred[:3]
        x, observed = observed_entries(x) if self.missing else (x, None)
        variance = self.noise_variance
        if variance is None:
            variance = (batch_noise_variance(x_hat, x, self.groups, observed)
                        if self.kind == "mse" else 1.0)
        recon = reconstruction_nll(x_hat, x, self.kind, variance, self.groups, observed)
        kl_dims = gaussian_kl(mu, logvar, per_dimension=True)
        return {"recon": recon, "kl": kl_dims.sum(dim=-1), "kl_dims": kl_dims}

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
