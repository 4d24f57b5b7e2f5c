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

The mixture is fitted on first use (``sample``, or reading ``latent_density_``), not in
``fit``: most fits never sample, and the mixture cost 5-8% of a 10-epoch MNIST fit
(more with a multithreaded BLAS, see :func:`fit_density`). ``fit`` keeps the codes it
is fitted on (one encoder pass over up to 10,000 rows: ``10,000 x n_components``
numbers); after ``partial_fit`` the codes are those of the bounded sample of the
streamed rows (``stream_``): a mixture fit per chunk would cost more than the chunk.
The same codes and seed give the same mixture either way.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ._data import evenly_spaced_rows

#: Mixture components of the density of the training codes.
N_DENSITY_COMPONENTS = 10
#: Training rows (evenly spaced) whose codes the density is fitted on.
DENSITY_MAX_ROWS = 10_000


def fit_density(codes: np.ndarray, seed) -> GaussianMixture:
    """The Gaussian mixture of ``codes`` (float64), seeded, with one BLAS thread.

    EM on ~10,000 x 32 codes is many small matrix products and Cholesky factorisations,
    for which a multithreaded BLAS costs more in synchronisation than it gains: on 2
    cores after a torch fit, 6.9 s with OpenBLAS's 2 threads against 0.4 s with 1
    (``OMP_WAIT_POLICY=PASSIVE``; 2.7 s without it). See the user guide's "Threads".
    """
    density = GaussianMixture(n_components=min(N_DENSITY_COMPONENTS, len(codes)),
                              reg_covar=1e-4, random_state=seed)
    with threadpool_limits(limits=1, user_api="blas"):
        return density.fit(codes.astype(np.float64))


def draw_codes(density: GaussianMixture, n_samples: int, rng) -> np.ndarray:
    """``n_samples`` codes drawn from ``density`` with the RandomState ``rng``."""
    component = rng.choice(len(density.weights_), size=n_samples, p=density.weights_)
    noise = rng.standard_normal((n_samples, density.means_.shape[1]))
    chol = np.linalg.cholesky(density.covariances_)[component]
    return density.means_[component] + np.einsum("nij,nj->ni", chol, noise)


class CodeDensityMixin:
    """``latent_density_`` for an estimator, fitted on first use: ``fit`` keeps the codes
    it is fitted on, ``partial_fit`` the stream's row sample. Subclasses say which codes
    (``_density_codes``) and whether they have a density at all (``_has_density``)."""

    def _has_density(self) -> bool:
        return True

    def _density_codes(self, rows, seed) -> np.ndarray:
        raise NotImplementedError

    def _fit_density(self, X, seed) -> None:
        """Keep the codes of up to ``DENSITY_MAX_ROWS`` evenly spaced rows of ``X`` (one
        encoder pass); the mixture is fitted on them when first used."""
        self._forget_density()
        if self._has_density():
            codes = self._density_codes(evenly_spaced_rows(X, DENSITY_MAX_ROWS), seed)
            self._density_source = (codes, seed)

    def _forget_density(self) -> None:
        self.__dict__.pop("_latent_density", None)
        self.__dict__.pop("_density_source", None)

    @property
    def latent_density_(self) -> GaussianMixture:
        """Density of the training codes (see :mod:`skvae._density`), fitted on first use."""
        if "_latent_density" not in self.__dict__:
            if "_density_source" not in self.__dict__:
                stream = self.__dict__.get("stream_")
                if stream is None or "net_" not in self.__dict__ or not self._has_density():
                    raise AttributeError(f"{type(self).__name__} has no latent_density_: it is "
                                         "fitted for an autoencoder, and for a VAE fitted on a "
                                         "DataFrame with categorical columns.")
                self._fit_density(stream.sample, stream.seed)
            self.latent_density_ = fit_density(*self.__dict__.pop("_density_source"))
        return self.__dict__["_latent_density"]

    @latent_density_.setter
    def latent_density_(self, density: GaussianMixture) -> None:
        self._latent_density = density
