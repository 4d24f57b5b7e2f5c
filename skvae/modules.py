"""Torch modules: dense encoders/decoders, ``Autoencoder`` and ``VariationalAutoencoder``.

Pure PyTorch: nothing here imports scikit-learn or skorch, so the modules can be
used (and tested) on their own. The conventions follow ``pytorch/examples``'
``vae/main.py``: ``encode``, ``reparameterize`` and ``decode`` are methods,
``forward`` returns a tuple whose first element is the reconstruction, and no
loss is computed inside ``forward`` (see :mod:`skvae.losses`).

Decoders return *unbounded* outputs: for a Bernoulli (``"bce"``) likelihood these
are logits, turned into probabilities by :func:`torch.sigmoid` only where a
caller asks for data-space values. This keeps the loss numerically stable.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

#: Activation names accepted by :func:`mlp` and the estimators' ``activation``.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
}


def mlp(
    sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0
) -> nn.Sequential:
    """Stack ``Linear -> activation [-> Dropout]`` for each consecutive pair in ``sizes``.

    The last layer is linear with no activation: callers decide what the output means.

    >>> mlp([4, 8, 2])
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=2, bias=True)
    )
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Deterministic dense autoencoder ``x -> z -> x_hat``.

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code ``z``.
    hidden_layer_sizes : sequence of int
        Encoder hidden widths; the decoder mirrors them in reverse order.
    activation : str
        A key of :data:`ACTIVATIONS`.
    dropout : float
        Dropout probability after each hidden activation (training only).

    Examples
    --------
    >>> import torch
    >>> ae = Autoencoder(6, 2, hidden_layer_sizes=(4,))
    >>> x_hat, z = ae(torch.zeros(3, 6))
    >>> tuple(x_hat.shape), tuple(z.shape)
    ((3, 6), (3, 2))
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = mlp([n_features, *hidden, n_components], activation, dropout)
        self.decoder = mlp([n_components, *hidden[::-1], n_features], activation, dropout)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the code of each row of ``x``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder output (logits for a Bernoulli likelihood)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x_hat, z)``: the reconstruction first, then the code."""
        z = self.encode(x)
        return self.decode(z), z


class VariationalAutoencoder(nn.Module):
    """Dense VAE with a diagonal Gaussian posterior and a standard normal prior.

    The encoder's last layer outputs ``2 * n_components`` numbers, split into the
    posterior mean and log-variance (Kingma & Welling, 2014).

    Parameters
    ----------
    n_features, n_components, hidden_layer_sizes, activation, dropout
        As in :class:`Autoencoder`.

    Examples
    --------
    >>> import torch
    >>> vae = VariationalAutoencoder(6, 2, hidden_layer_sizes=(4,))
    >>> x_hat, mu, logvar = vae(torch.zeros(3, 6))
    >>> tuple(x_hat.shape), tuple(mu.shape), tuple(logvar.shape)
    ((3, 6), (3, 2), (3, 2))
    """

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.n_components = n_components
        self.encoder = mlp([n_features, *hidden, 2 * n_components], activation, dropout)
        self.decoder = mlp([n_components, *hidden[::-1], n_features], activation, dropout)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior mean and log-variance of each row."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    @staticmethod
    def reparameterize(mu, logvar, eps=None):
        """Draw ``z = mu + sigma * eps``; ``eps`` defaults to fresh N(0, I) noise."""
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder output (logits for a Bernoulli likelihood)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor):
        """Return ``(x_hat, mu, logvar)`` with ``x_hat`` decoded from one posterior draw.

        One draw per row, in training and evaluation alike, so that a loss computed
        from ``forward`` is always a Monte-Carlo estimate of the negative ELBO.
        """
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar
