"""Posterior draws keyed on rows: the hash, the noise, and the ELBO / IWAE over it.

The estimates are checked against a linear-Gaussian model, whose ELBO and
log-likelihood are known in closed form.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from skvae import _posterior
from skvae._posterior import PosteriorDraws, mix32, row_keys, row_uniforms
from skvae.likelihoods import gaussian_kl, reconstruction_nll


def lowbias32_reference(values):
    """The published 32-bit hash, in numpy's wrapping uint32 arithmetic."""
    x = np.asarray(values, dtype=np.uint32)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return x


def test_mix32_is_lowbias32_without_overflowing_int64():
    values = np.random.default_rng(0).integers(0, 2**32, 10_000, dtype=np.uint64)
    values[:2] = [0, 2**32 - 1]
    ours = mix32(torch.from_numpy(values.astype(np.int64))).numpy()
    np.testing.assert_array_equal(ours, lowbias32_reference(values).astype(np.int64))


def test_row_keys_depend_on_the_row_alone():
    x = torch.rand(300, 7, generator=torch.Generator().manual_seed(0))
    keys = row_keys(x)
    assert len(torch.unique(keys)) == 300
    assert torch.equal(row_keys(x[torch.arange(299, -1, -1)]), keys.flip(0))
    assert torch.equal(row_keys(x[:5].double()), keys[:5])  # float32 bits either way
    changed = x[:1].clone()
    changed[0, 3] = torch.nextafter(changed[0, 3], torch.tensor(2.0))  # one ulp
    assert row_keys(changed)[0] != keys[0]


def test_wide_rows_are_hashed_block_by_block(monkeypatch):
    x = torch.rand(4, 50, generator=torch.Generator().manual_seed(1))
    keys = row_keys(x)
    monkeypatch.setattr(_posterior, "COLUMN_BLOCK", 16)  # four blocks
    blocked = row_keys(x)
    assert len(torch.unique(blocked)) == 4 and not torch.equal(blocked, keys)
    assert torch.equal(row_keys(x[2:]), blocked[2:])


def test_uniforms_are_uniform_and_independent_across_columns():
    u = row_uniforms(row_keys(torch.rand(20_000, 5)), 3, seed=0).numpy()
    assert ((u > 0) & (u < 1)).all()
    for column in u.T:
        assert stats.kstest(column, "uniform").pvalue > 1e-3
    assert np.abs(np.corrcoef(u.T)[np.triu_indices(3, 1)]).max() < 0.03
    other_seed = row_uniforms(row_keys(torch.rand(20_000, 5)), 3, seed=1).numpy()
    assert not np.allclose(u, other_seed)


@pytest.mark.parametrize("n_draws", [1, 4, 7])
def test_each_draw_is_standard_normal_and_a_rows_draws_are_stratified(n_draws):
    eps = PosteriorDraws(n_draws).noise(torch.rand(20_000, 9), n_components=3).double()
    for k in range(n_draws):  # every draw on its own, over the rows: N(0, 1)
        assert stats.kstest(eps[k, :, 0].numpy(), "norm").pvalue > 1e-3
    quarters = (torch.special.ndtr(eps) * n_draws).floor()  # one draw in each 1/K of (0, 1)
    assert torch.equal(quarters.sort(dim=0).values,
                       torch.arange(n_draws, dtype=eps.dtype)[:, None, None].expand_as(eps))


def test_the_elbo_averages_the_draws_likelihoods_minus_the_analytic_kl():
    gen = torch.Generator().manual_seed(2)
    x = (torch.rand(5, 6, generator=gen) > 0.5).float()
    mu, logvar = torch.randn(5, 2, generator=gen), torch.randn(5, 2, generator=gen)
    decoder = torch.nn.Linear(2, 6)
    draws = PosteriorDraws(n_draws=3)
    elbo = draws.score(decoder, x, mu, logvar, lambda x_hat: reconstruction_nll(x_hat, x, "bce"))
    z = mu + torch.exp(0.5 * logvar) * draws.noise(x, 2)
    log_likelihood = torch.distributions.Bernoulli(logits=decoder(z)).log_prob(x).sum(-1)
    posterior = Normal(mu, torch.exp(0.5 * logvar))
    kl = kl_divergence(posterior, Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(elbo, log_likelihood.mean(0) - kl)


class LinearGaussian:
    """p(z) = N(0, I), p(x | z) = N(W z + b, s2 I): p(x) and the ELBO in closed form."""

    def __init__(self, seed=0, n_features=4, n_components=2, s2=0.3):
        gen = torch.Generator().manual_seed(seed)
        self.W = torch.randn(n_features, n_components, generator=gen, dtype=torch.float64)
        self.b = torch.randn(n_features, generator=gen, dtype=torch.float64)
        self.s2 = s2
        cov = self.W @ self.W.T + s2 * torch.eye(n_features, dtype=torch.float64)
        self.marginal = MultivariateNormal(self.b, cov)

    def sample(self, n_samples, seed=0):
        noise = torch.randn(n_samples, len(self.b), generator=torch.Generator().manual_seed(seed),
                            dtype=torch.float64)
        return self.b + noise @ self.marginal.scale_tril.T

    def decode(self, z):
        return z.double() @ self.W.T + self.b

    def nll(self, x):
        return lambda x_hat: reconstruction_nll(x_hat, x, "mse", self.s2)

    def posterior(self, x, offset=0.3):
        """A diagonal q(z | x) near the true posterior (mean off by ``offset``)."""
        precision = torch.eye(self.W.shape[1], dtype=torch.float64) + self.W.T @ self.W / self.s2
        cov = torch.linalg.inv(precision)
        mu = (x - self.b) @ self.W @ cov / self.s2 + offset
        return mu, torch.log(torch.diagonal(cov)).expand_as(mu) + 0.2

    def elbo(self, x, mu, logvar):
        """E_q[log p(x | z)] - KL, exactly."""
        residual = (x - self.decode(mu)).pow(2).sum(-1)
        spread = (self.W.pow(2) @ logvar.exp().T).sum(0)  # E||W (z - mu)||^2
        expected = -(residual + spread) / (2 * self.s2) - 0.5 * x.shape[1] * math.log(
            2 * math.pi * self.s2)
        return expected - gaussian_kl(mu, logvar)


def test_elbo_errors_of_many_rows_average_out_to_the_exact_elbo():
    model = LinearGaussian()
    x = model.sample(4000)
    mu, logvar = model.posterior(x)
    exact = model.elbo(x, mu, logvar)
    estimate = PosteriorDraws(4).score(model.decode, x.float(), mu, logvar, model.nll(x))
    errors = (estimate - exact).numpy()
    assert abs(errors.mean()) < 3 * errors.std() / math.sqrt(len(errors))  # unbiased
    iid = (torch.stack([-model.nll(x)(model.decode(mu + torch.exp(0.5 * logvar) * e))
                        for e in torch.randn(4, *mu.shape, dtype=torch.float64)]).mean(0)
           - gaussian_kl(mu, logvar) - exact)
    assert errors.std() < 0.8 * iid.std().item()  # the strata help


def test_iwae_tightens_towards_the_log_likelihood_as_draws_grow():
    model = LinearGaussian(seed=1)
    x = model.sample(200)
    mu, logvar = model.posterior(x)
    log_px = model.marginal.log_prob(x).mean().item()
    elbo = model.elbo(x, mu, logvar).mean().item()
    bounds = [PosteriorDraws(k, "iwae").score(model.decode, x.float(), mu, logvar,
                                               model.nll(x)).mean().item() for k in (16, 1024)]
    assert elbo < bounds[0] < bounds[1] <= log_px + 0.01
    assert log_px - bounds[1] < 0.02 < 0.5 < log_px - elbo


def test_iwae_of_one_draw_is_its_log_importance_weight():
    model = LinearGaussian(seed=2)
    x = model.sample(50)
    mu, logvar = model.posterior(x)
    draws = PosteriorDraws(1, "iwae", seed=3)
    z = mu + torch.exp(0.5 * logvar) * draws.noise(x.float(), 2)[0].double()
    likelihood = Normal(model.decode(z), math.sqrt(model.s2)).log_prob(x).sum(-1)
    ratio = (Normal(0.0, 1.0).log_prob(z) - Normal(mu, torch.exp(0.5 * logvar)).log_prob(z))
    torch.testing.assert_close(draws.score(model.decode, x.float(), mu, logvar, model.nll(x)),
                               likelihood + ratio.sum(-1))
