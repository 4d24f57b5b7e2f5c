"""The density of a fitted model's codes, from which ``sample`` draws.

A Gaussian mixture (scikit-learn's :class:`~sklearn.mixture.GaussianMixture`, up to 10
full-covariance components) fitted on the codes of up to 10,000 evenly spaced
training rows, once training is over:

* an autoencoder has no prior, so :meth:`AutoencoderTransformer.sample
  <skvae.AutoencoderTransformer.sample>` always draws its codes from it (the codes are
  the encoder's outputs);
* a VAE fitted on a DataFrame with categorical columns draws from it by default
  (``sample(latent="fitted")``; the codes are posterior draws ``mu + sigma * eps``,
  several per row on small tables): "ex-post density estimation" (Ghosh et al., *From
  variational to deterministic autoencoders*, ICLR 2020). Measured on house prices
  (``benchmarks/bench_synthetic.py``): the training rows' posterior draws are wider than
  N(0, I) in the active dimensions (sd about 1.2) and nearly constant in the others,
  so prior draws misplace the rows; drawn from this density, each column's share of
  missing values came within 1.6 points of training instead of 4-5.

After ``partial_fit`` the density is fitted on first use, from the bounded sample of
the streamed rows (``stream_``): a mixture fit per chunk would cost more than the chunk.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from ._data import evenly_spaced_rows

#: Mixture components of the density of the training codes.
N_DENSITY_COMPONENTS = 10
#: Training rows (evenly spaced) whose codes the density is fitted on.
DENSITY_MAX_ROWS = 10_000


def fit_density(codes: np.ndarray, seed) -> GaussianMixture:
    """The Gaussian mixture of ``codes`` (float64), seeded."""
    density = GaussianMixture(n_components=min(N_DENSITY_COMPONENTS, len(codes)),
                              reg_covar=1e-4, random_state=seed)
    return density.fit(codes.astype(np.float64))


def draw_codes(density: GaussianMixture, n_samples: int, rng) -> np.ndarray:
    """``n_samples`` codes drawn from ``density`` with the RandomState ``rng``."""
    component = rng.choice(len(density.weights_), size=n_samples, p=density.weights_)
    noise = rng.standard_normal((n_samples, density.means_.shape[1]))
    chol = np.linalg.cholesky(density.covariances_)[component]
    return density.means_[component] + np.einsum("nij,nj->ni", chol, noise)


class CodeDensityMixin:
    """``latent_density_`` for an estimator: fitted after ``fit``, lazily after
    ``partial_fit``. Subclasses say which codes (``_density_codes``) and whether they
    have a density at all (``_has_density``)."""

    def _has_density(self) -> bool:
        return True

    def _density_codes(self, rows, seed) -> np.ndarray:
        raise NotImplementedError

    def _fit_density(self, X, seed) -> None:
        if self._has_density():
            rows = evenly_spaced_rows(X, DENSITY_MAX_ROWS)
            self.latent_density_ = fit_density(self._density_codes(rows, seed), seed)

    def _forget_density(self) -> None:
        self.__dict__.pop("_latent_density", None)

    @property
    def latent_density_(self) -> GaussianMixture:
        """Density of the training codes (see :mod:`skvae._density`); after
        ``partial_fit`` fitted on first use from the sample of the rows streamed so far."""
        if "_latent_density" not in self.__dict__:
            stream = self.__dict__.get("stream_")
            if stream is None or "net_" not in self.__dict__ or not self._has_density():
                raise AttributeError(f"{type(self).__name__} has no latent_density_: it is "
                                     "fitted for an autoencoder, and for a VAE fitted on a "
                                     "DataFrame with categorical columns.")
            self._fit_density(stream.sample, stream.seed)
        return self.__dict__["_latent_density"]

    @latent_density_.setter
    def latent_density_(self, density: GaussianMixture) -> None:
        self._latent_density = density
