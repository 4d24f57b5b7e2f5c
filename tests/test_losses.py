"""Losses: likelihoods in nats match torch.distributions; KL matches its closed form."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from skvae.losses import (
    MIN_NOISE_VARIANCE,
    ELBOLoss,
    ReconstructionLoss,
    batch_noise_variance,
    gaussian_kl,
    posterior_mse,
    reconstruction_error,
    reconstruction_nll,
)


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(6, 5, generator=gen), torch.rand(6, 5, generator=gen)


def test_bce_nll_is_the_bernoulli_log_likelihood(batch):
    logits, x = batch
    x = (x > 0.5).float()
    expected = -Bernoulli(logits=logits).log_prob(x).sum(-1)
    torch.testing.assert_close(reconstruction_nll(logits, x, "bce"), expected)


def test_mse_nll_is_the_gaussian_log_likelihood(batch):
    x_hat, x = batch
    expected = -Normal(x_hat, math.sqrt(0.3)).log_prob(x).sum(-1)
    torch.testing.assert_close(reconstruction_nll(x_hat, x, "mse", 0.3), expected)


def test_batch_noise_variance_is_the_mle_with_a_floor(batch):
    x_hat, x = batch
    torch.testing.assert_close(batch_noise_variance(x_hat, x), ((x - x_hat) ** 2).mean())
    assert batch_noise_variance(x, x) == MIN_NOISE_VARIANCE


def test_gaussian_kl_matches_torch(batch):
    mu, logvar = batch
    q = Normal(mu, torch.exp(0.5 * logvar))
    expected = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_bce_from_logits_is_stable_for_extreme_logits():
    logits = torch.tensor([[1e4, -1e4]])
    nll = reconstruction_nll(logits, torch.tensor([[1.0, 0.0]]), "bce")
    assert torch.isfinite(nll).all() and nll.item() == pytest.approx(0.0)


def test_reconstruction_error_is_the_per_feature_mean(batch):
    x_hat, x = batch
    torch.testing.assert_close(reconstruction_error(x_hat, x, "mse"), ((x - x_hat) ** 2).mean(-1))
    assert ReconstructionLoss("mse")((x_hat, None), x) == pytest.approx(
        ((x - x_hat) ** 2).mean().item())


def test_elbo_loss_weights_kl_in_training_and_uses_beta_otherwise(batch):
    x_hat, x = batch
    mu, logvar = x_hat[:, :2], x[:, :2]
    loss = ELBOLoss("mse", beta=2.0)
    loss.kl_weight = 0.5
    terms = loss.terms((x_hat, mu, logvar), x)
    recon, kl = terms["recon"].mean(), terms["kl"].mean()
    torch.testing.assert_close(loss.combine(terms, training=True), recon + 0.5 * kl)
    torch.testing.assert_close(loss.combine(terms, training=False), recon + 2.0 * kl)


def test_unknown_loss_names_the_choices(batch):
    with pytest.raises(ValueError, match=r"Unknown reconstruction loss 'l1'; use one of"):
        reconstruction_nll(*batch, "l1")


def test_weighted_loss_of_the_notebooks_is_beta_with_adam():
    """10 * recon + 1 * KL trains like beta = 0.1 under Adam (eps scaled alike), as documented."""
    from skvae.modules import VariationalAutoencoder

    def train(loss_fn, eps):
        torch.manual_seed(0)
        model = VariationalAutoencoder(6, 2, hidden_layer_sizes=(8,))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2, eps=eps)
        gen = torch.Generator().manual_seed(1)
        for _ in range(30):
            x = torch.rand(16, 6, generator=gen)
            torch.manual_seed(2)  # the same posterior draws in both runs
            opt.zero_grad()
            loss_fn(model(x), x).backward()
            opt.step()
        return torch.cat([p.detach().ravel() for p in model.parameters()])

    elbo = ELBOLoss("bce", beta=0.1)

    def notebook(y_pred, x):
        terms = ELBOLoss("bce").terms(y_pred, x)
        return 10 * terms["recon"].mean() + 1 * terms["kl"].mean()

    torch.testing.assert_close(train(elbo, eps=1e-8), train(notebook, eps=1e-7),
                               rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- noise variance
def test_posterior_mse_skips_one_hot_blocks_and_averages_draws():
    x = torch.tensor([[1.0, 1.0, 0.0, 3.0]])
    x_hat = torch.stack([torch.zeros(1, 4), torch.full((1, 4), 2.0)])  # two draws
    # plain features 0 and 3: squared errors (1, 9) and (1, 1) -> mean 3
    torch.testing.assert_close(posterior_mse(x_hat, x, ((1, 2),)), torch.tensor([3.0]))
    # one draw: (n, features) in, one value per row out; a missing entry is left out
    observed = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    torch.testing.assert_close(posterior_mse(x_hat[1], x, ((1, 2),), observed),
                               torch.tensor([1.0]))


def test_an_unknown_loss_kind_is_named_once_for_every_loss():
    for call in (lambda: reconstruction_nll(torch.zeros(1, 2), torch.zeros(1, 2), "l1"),
                 lambda: reconstruction_error(torch.zeros(1, 2), torch.zeros(1, 2), "l1")):
        with pytest.raises(ValueError, match=r"Unknown reconstruction loss 'l1'; use one of "
                                             r"\('mse', 'bce'\)"):
            call()
