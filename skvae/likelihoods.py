"""Per-row likelihood terms: reconstruction losses, the Gaussian KL term, the Monte-Carlo ELBO.

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

Missing values (NaN in the target)
    A NaN entry is unobserved: it is left out of the likelihood (the masked
    likelihood of Nazabal et al. 2020, "Handling incomplete heterogeneous data
    using VAEs", and of MIWAE, Mattei & Frellsen 2019), and the Gaussian term's
    normaliser counts only the observed features of each row. The functions take
    an ``observed`` mask (1 observed, 0 missing; see :func:`observed_entries`) and
    targets whose missing entries are already 0; without it they assume a complete
    target. A missing entry of a one-hot block makes the block all zero.

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

import numpy as np
import torch
import torch.nn.functional as F
from scipy import special

__all__ = [
    "encoder_input",
    "gaussian_kl",
    "observed_entries",
    "posterior_mse",
    "split_missing",
]

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


def observed_entries(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split rows with missing (NaN) entries into a target and the mask of observed ones.

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Rows whose NaN entries are missing values.

    Returns
    -------
    target : torch.Tensor of shape (n_samples, n_features)
        ``x`` with each NaN replaced by 0 (what the masked likelihoods expect).
    observed : torch.Tensor of shape (n_samples, n_features)
        1.0 where ``x`` is observed, 0.0 where it is missing, in ``x``'s dtype.

    Examples
    --------
    >>> import torch
    >>> from skvae.likelihoods import observed_entries
    >>> observed_entries(torch.tensor([[1.0, float("nan")]]))
    (tensor([[1., 0.]]), tensor([[1., 0.]]))
    """
    observed = ~torch.isnan(x)
    return x.masked_fill(~observed, 0.0), observed.to(x.dtype)


def _count(x, observed):
    """Observed features of each row (a number when nothing is missing)."""
    return x.shape[-1] if observed is None else observed.sum(dim=-1)


@functools.lru_cache(maxsize=64)
def _padded_blocks(groups: tuple, device) -> tuple[torch.Tensor, ...]:
    """The one-hot blocks on ``device``, once per layout: ``index``, ``valid`` (n_blocks,
    longest block: indices padded with the block's first, and which are real), and the
    real ones flattened, ``features`` at ``positions`` of ``index.flatten()`` (so that
    no per-batch boolean indexing waits on the device)."""
    longest = max(len(group) for group in groups)
    index = torch.tensor([list(g) + [g[0]] * (longest - len(g)) for g in groups])
    valid = torch.arange(longest) < torch.tensor([len(g) for g in groups])[:, None]
    positions = valid.flatten().nonzero().squeeze(1)
    return tuple(t.to(device) for t in (index, valid, index.flatten()[positions], positions))


def _block_log_softmax(x_hat: torch.Tensor, groups: tuple):
    """Every block's log-softmax, (..., n_blocks, longest block), 0 in the padding, and
    :func:`_padded_blocks`: a few tensor operations (a loop made the loss 6x slower)."""
    blocks = _padded_blocks(groups, x_hat.device)
    index, valid = blocks[:2]
    logits = x_hat[..., index].masked_fill(~valid, float("-inf"))
    return torch.log_softmax(logits, dim=-1).masked_fill(~valid, 0.0), blocks


def blocks_nll(x_hat: torch.Tensor, x: torch.Tensor, groups: tuple) -> torch.Tensor:
    """Cross-entropy of each one-hot block of ``x`` under the softmax of its logits:
    shape (..., n_blocks); an all-zero block gives 0.

    >>> import torch
    >>> blocks_nll(torch.zeros(1, 5), torch.tensor([[1.0, 0, 0, 0, 0]]), ((0, 1), (2, 3, 4)))
    tensor([[0.6931, 0.0000]])
    """
    log_p, (index, *_) = _block_log_softmax(x_hat, groups)
    return 0.0 - (x[..., index] * log_p).sum(dim=-1)  # +0.0 for an all-zero block


def categorical_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a one-hot (or all-zero) ``target`` block under softmax ``logits``, per row.

    >>> import torch
    >>> categorical_nll(torch.zeros(2, 4), torch.tensor([[0.0, 1, 0, 0], [0, 0, 0, 0]]))
    tensor([1.3863, 0.0000])
    """
    return (-target * torch.log_softmax(logits, dim=-1)).sum(dim=-1)


def batch_noise_variance(x_hat: torch.Tensor, x: torch.Tensor, groups: tuple = (),
                         observed=None) -> torch.Tensor:
    """Maximum-likelihood shared variance of ``x`` around ``x_hat``: the mean squared error.

    Over the plain, observed features only (1 when there are none).

    >>> import torch
    >>> batch_noise_variance(torch.zeros(2, 2), torch.ones(2, 2))
    tensor(1.)
    """
    if groups:
        plain = feature_layout(groups, x.shape[-1])[0]
        x_hat, x = x_hat[..., plain], x[..., plain]
        observed = None if observed is None else observed[..., plain]
    if x.shape[-1] == 0:
        return torch.ones((), dtype=x.dtype, device=x.device)
    if observed is None:
        return (x - x_hat).pow(2).mean().clamp_min(MIN_NOISE_VARIANCE)
    squares = ((x - x_hat).pow(2) * observed).sum()
    return (squares / observed.sum().clamp_min(1)).clamp_min(MIN_NOISE_VARIANCE)


def reconstruction_nll(x_hat, x, kind: str, noise_variance=1.0, groups: tuple = (),
                       observed=None):
    """Negative log-likelihood of ``x`` under the decoder output ``x_hat``, per row, in nats.

    ``noise_variance`` (float or scalar tensor) is the Gaussian variance used by
    ``"mse"``; ``"bce"`` ignores it. ``groups``: one-hot blocks; ``observed``: the
    mask of observed entries (module docstring).

    Examples
    --------
    >>> import torch
    >>> reconstruction_nll(torch.zeros(2, 3), torch.zeros(2, 3), "mse")
    tensor([2.7568, 2.7568])
    """
    if not groups:
        return _plain_nll(x_hat, x, kind, noise_variance, observed)
    plain = feature_layout(groups, x.shape[-1])[0]
    nll = _plain_nll(x_hat[..., plain], x[..., plain], kind, noise_variance,
                     None if observed is None else observed[..., plain])
    return nll + blocks_nll(x_hat, x, groups).sum(dim=-1)


def _plain_nll(x_hat, x, kind, noise_variance, observed=None):
    loss = _elementwise_loss(x_hat, x, kind, observed)
    if kind == "bce":
        return loss.sum(dim=-1)
    var = torch.as_tensor(noise_variance, dtype=x.dtype, device=x.device)
    return loss.sum(dim=-1) / (2 * var) + 0.5 * _count(x, observed) * torch.log(2 * math.pi * var)


def _elementwise_loss(x_hat, x, kind, observed=None):
    """The one dispatch on ``kind``: squared error, or binary cross-entropy from logits;
    zero where ``observed`` is 0."""
    if kind == "bce":
        loss = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none")
    elif kind == "mse":
        loss = (x - x_hat).pow(2)
    else:
        raise ValueError(
            f"Unknown reconstruction loss {kind!r}; use one of {RECONSTRUCTION_LOSSES}.")
    return loss if observed is None else loss * observed


def reconstruction_error(x_hat, x, kind: str, groups: tuple = (), observed=None) -> torch.Tensor:
    """Mean per-column reconstruction loss of each row (MSE, or BCE from logits).

    This is the autoencoder's training loss and, negated, its ``score_samples``.
    With ``groups``, each one-hot block counts as one column (its cross-entropy);
    with ``observed``, the mean is over each row's observed columns.

    >>> import torch
    >>> reconstruction_error(torch.ones(1, 2), torch.zeros(1, 2), "mse")
    tensor([1.])
    """
    if not groups:
        return _plain_error(x_hat, x, kind, observed)
    plain = feature_layout(groups, x.shape[-1])[0]
    x_plain = x[..., plain]
    plain_observed = None if observed is None else observed[..., plain]
    columns = _count(x_plain, plain_observed)
    total = _plain_error(x_hat[..., plain], x_plain, kind, plain_observed) * columns
    total = total + blocks_nll(x_hat, x, groups).sum(dim=-1)
    if observed is None:
        columns = columns + len(groups)
    else:  # a block counts where all its entries are observed
        index, valid = _padded_blocks(groups, x.device)[:2]
        columns = columns + observed[..., index].masked_fill(~valid, 1).amin(dim=-1).sum(dim=-1)
    return total / columns.clamp_min(1) if observed is not None else total / columns


def _plain_error(x_hat, x, kind, observed=None):
    if x.shape[-1] == 0:
        return x.new_zeros(x.shape[:-1])
    if observed is None:
        return _elementwise_loss(x_hat, x, kind).mean(dim=-1)
    return (_elementwise_loss(x_hat, x, kind, observed).sum(dim=-1)
            / observed.sum(dim=-1).clamp_min(1))


def decoder_mean(x_hat: torch.Tensor, kind: str, groups: tuple = ()) -> torch.Tensor:
    """Map decoder output to data space: probabilities for ``"bce"``, identity for ``"mse"``.

    Each one-hot block of ``groups`` becomes its softmax (category probabilities).
    """
    mean = torch.sigmoid(x_hat) if kind == "bce" else x_hat
    if not groups:
        return mean
    mean = mean.clone()  # written in place below; the decoder output stays intact
    log_p, (_, _, features, positions) = _block_log_softmax(x_hat, groups)
    mean[..., features] = log_p.flatten(-2)[..., positions].exp()
    return mean


def output_of_mean(mean, kind: str, groups: tuple = (), floor: float = 1e-4) -> np.ndarray:
    """The decoder output whose :func:`decoder_mean` is ``mean`` (the inverse link).

    The identity for ``"mse"``, the logit for ``"bce"`` and the log for each one-hot
    block (a softmax's logits, up to a constant); probabilities are clipped to
    ``[floor, 1 - floor]`` first, so constant columns give finite values.

    >>> output_of_mean([0.5, 0.0, 0.25, 0.75], "bce", groups=((2, 3),)).round(2)
    array([ 0.  , -9.21, -1.39, -0.29])
    """
    mean = np.asarray(mean, dtype=np.float64)
    out = mean.copy()
    plain, blocks = feature_layout(groups, mean.shape[-1])
    share = np.clip(mean, floor, 1 - floor)
    if kind == "bce":
        out[plain] = np.log(share[plain] / (1 - share[plain]))
    for block in blocks:
        out[block] = np.log(share[block])
    return out


def draw_from_decoder(x_hat: np.ndarray, kind: str, noise_variance, groups: tuple,
                      rng: np.random.Generator) -> np.ndarray:
    """Draw data rows from the decoder's likelihood (what :func:`decoder_mean` averages).

    ``x_hat`` is the decoder's raw output. Each one-hot block of ``groups`` becomes a
    one-hot draw from its softmax (by the Gumbel-max trick); the other features a
    Gaussian draw around the output with ``noise_variance`` (a float, or one per plain
    feature) for ``"mse"``, or a Bernoulli draw of ``sigmoid(x_hat)`` for ``"bce"``.

    >>> rng = np.random.default_rng(0)
    >>> rows = draw_from_decoder(np.array([[0.0, 5.0, 0.0]] * 1000), "mse", 0.25, ((1, 2),), rng)
    >>> round(float(rows[:, 0].std()), 1), float(rows[:, 1].mean()) > 0.98  # sd 0.5; mostly 1
    (0.5, True)
    """
    x_hat = np.asarray(x_hat, dtype=np.float64)
    out = np.empty_like(x_hat)
    plain, blocks = feature_layout(groups, x_hat.shape[-1])
    values = x_hat[:, plain]
    if kind == "bce":
        out[:, plain] = rng.random(values.shape) < special.expit(values)
    else:
        scale = np.sqrt(np.asarray(noise_variance, dtype=np.float64))
        out[:, plain] = values + scale * rng.standard_normal(values.shape)
    for block in blocks:
        logits = x_hat[:, block]
        chosen = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        out[:, block] = np.eye(logits.shape[1])[chosen]
    return out


def posterior_mse(x_hat, x, groups: tuple = (), observed=None) -> torch.Tensor:
    """Mean squared error of each row over the plain (non one-hot) features (and draws).

    What the Gaussian likelihood's variance is fitted on after training.

    Parameters
    ----------
    x_hat : torch.Tensor of shape (..., n_samples, n_features)
        Decoder outputs: of one posterior draw per row, or of several (leading axes).
    x : torch.Tensor of shape (n_samples, n_features)
        The rows.
    groups : tuple of tuples of int, default=()
        One-hot blocks, left out.
    observed : torch.Tensor of shape (n_samples, n_features) or None, default=None
        1 for observed entries, 0 for missing ones (left out too).

    Returns
    -------
    mse : torch.Tensor of shape (n_samples,)
        The mean squared error of each row (averaged over any leading axes of ``x_hat``).

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import posterior_mse
    >>> posterior_mse(torch.zeros(2, 1, 3), torch.tensor([[1.0, 2.0, 0.0]]), ((1, 2),))
    tensor([1.])
    """
    plain = feature_layout(groups, x.shape[-1])[0] if groups else slice(None)
    squares = (x - x_hat)[..., plain].pow(2)
    if observed is None:
        per_row = squares.mean(dim=-1)
    else:
        observed = observed[..., plain]
        per_row = (squares * observed).sum(dim=-1) / observed.sum(dim=-1).clamp_min(1)
    return per_row.reshape(-1, x.shape[-2]).mean(dim=0)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, per_dimension: bool = False
                ) -> torch.Tensor:
    """Compute the analytic ``KL(N(mu, exp(logvar)) || N(0, I))`` per row, in nats.

    Parameters
    ----------
    mu : torch.Tensor of shape (..., n_components)
        Means of the diagonal Gaussian posterior.
    logvar : torch.Tensor of shape (..., n_components)
        Log-variances of the diagonal Gaussian posterior.
    per_dimension : bool, default=False
        Return each latent dimension's share instead of the row's sum: a dimension
        whose KL stays near 0 on every row is unused ("inactive" or "collapsed").

    Returns
    -------
    kl : torch.Tensor of shape (...) or (..., n_components)
        The KL divergence of each row from the standard normal prior, summed over the
        latent dimensions (or, with ``per_dimension``, one per dimension).

    Examples
    --------
    >>> import torch
    >>> from skvae.losses import gaussian_kl
    >>> gaussian_kl(torch.zeros(1, 2), torch.zeros(1, 2))  # the prior itself
    tensor([0.])
    >>> gaussian_kl(torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2))
    tensor([0.5000, 0.0000])
    >>> gaussian_kl(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2), per_dimension=True)
    tensor([[0.5000, 0.0000]])
    """
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return kl if per_dimension else kl.sum(dim=-1)


def encoder_input(x: torch.Tensor, fill: torch.Tensor, missing: bool,
                  indicator: bool = False) -> torch.Tensor:
    """The encoder's input for rows that may have gaps (NaN).

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Rows whose NaN entries are missing values.
    fill : torch.Tensor of shape (n_features,) or None
        Each feature's value for a missing entry, without ``indicator`` (skvae uses
        the training means, ``fill_values_``).
    missing : bool
        Whether ``x`` may hold NaN. False takes the fast path: no masks.
    indicator : bool, default=False
        Whether the encoder also reads the mask of observed entries (a module built
        with ``missing_indicator=True``).

    Returns
    -------
    inputs : torch.Tensor of shape (n_samples, n_features) or (n_samples, 2 * n_features)
        Without ``indicator``: ``x`` with each gap replaced by its feature's ``fill``
        (``x`` itself when ``missing`` is False). With it: ``x`` with each gap as 0,
        followed by the mask (1 observed, 0 missing).

    Examples
    --------
    >>> import torch
    >>> from skvae.likelihoods import encoder_input
    >>> x, fill = torch.tensor([[float("nan"), 2.0]]), torch.tensor([5.0, 0.0])
    >>> encoder_input(x, fill, True)
    tensor([[5., 2.]])
    >>> encoder_input(x, fill, True, indicator=True)
    tensor([[0., 2., 0., 1.]])
    """
    if not indicator:
        return torch.where(torch.isnan(x), fill, x) if missing else x
    if not missing:
        return torch.cat([x, torch.ones_like(x)], dim=1)
    gaps = torch.isnan(x)
    return torch.cat([x.masked_fill(gaps, 0.0), (~gaps).to(x.dtype)], dim=1)


def split_missing(x: torch.Tensor, fill: torch.Tensor, missing: bool,
                  indicator: bool = False) -> tuple:
    """Prepare a batch of rows that may have gaps for the encoder and the likelihood.

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Rows whose NaN entries are missing values.
    fill : torch.Tensor of shape (n_features,)
        What the encoder sees for a missing entry of each feature (skvae uses the
        training means, ``fill_values_``).
    missing : bool
        Whether ``x`` may hold NaN. False takes the fast path: no masks.
    indicator : bool, default=False
        Whether the encoder also reads the mask (see :func:`encoder_input`).

    Returns
    -------
    inputs : torch.Tensor of shape (n_samples, n_features) or (n_samples, 2 * n_features)
        The encoder's input (:func:`encoder_input`): ``x`` with each NaN replaced by
        its feature's ``fill``, or, with ``indicator``, by 0 and followed by the mask.
    target : torch.Tensor of shape (n_samples, n_features)
        ``x`` with each NaN as 0 (:func:`observed_entries`).
    observed : torch.Tensor of shape (n_samples, n_features) or None
        The mask of observed entries; None when ``missing`` is False (then
        ``inputs`` and ``target`` are ``x`` itself).

    Examples
    --------
    >>> import torch
    >>> from skvae.likelihoods import split_missing
    >>> split_missing(torch.tensor([[float("nan"), 2.0]]), torch.tensor([5.0, 0.0]), True)
    (tensor([[5., 2.]]), tensor([[0., 2.]]), tensor([[0., 1.]]))
    """
    inputs = encoder_input(x, fill, missing, indicator)
    if not missing:
        return inputs, x, None
    gaps = torch.isnan(x)
    return inputs, x.masked_fill(gaps, 0.0), (~gaps).to(x.dtype)
