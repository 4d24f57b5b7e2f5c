"""Torch modules: dense and convolutional encoders/decoders, input noise, the models.

Pure PyTorch: nothing here imports scikit-learn or skorch, so the modules can be
used (and tested) on their own. The conventions follow ``pytorch/examples``'
``vae/main.py``: ``encode``, ``reparameterize`` and ``decode`` are methods,
``forward`` returns a tuple whose first element is the reconstruction, and no
loss is computed inside ``forward`` (see :mod:`skvae.losses`).

Decoders return *unbounded* outputs: for a Bernoulli (``"bce"``) likelihood these
are logits, turned into probabilities by :func:`torch.sigmoid` only where a
caller asks for data-space values. This keeps the loss numerically stable.

Rows stay flat, as scikit-learn passes them: a convolutional encoder reshapes
each row of ``c * h * w`` numbers to an image of ``image_shape`` itself, and its
decoder flattens again, so every model maps ``(n, n_features)`` to
``(n, n_features)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["Autoencoder", "VariationalAutoencoder"]

#: Names of the architectures :func:`make_encoder` / :func:`make_decoder` build.
ARCHITECTURES = ("dense", "conv")

#: Input corruptions of :class:`InputNoise` (denoising autoencoders).
NOISES = ("gaussian", "mask", "salt_pepper")

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




class InputNoise(nn.Module):
    """Corrupt the input during training only; the identity in evaluation mode.

    Like :class:`torch.nn.Dropout` (which it generalises), it acts only while the
    module is in training mode, so the loss still compares the reconstruction
    with the *clean* input: a denoising autoencoder (Vincent et al., 2008).

    Parameters
    ----------
    kind : {"gaussian", "mask", "salt_pepper"} or None
        ``"gaussian"`` adds N(0, level^2) noise to every value; ``"mask"`` sets each
        value to 0 with probability ``level``; ``"salt_pepper"`` sets each value, with
        probability ``level``, to 0 or 1 (equally likely; meant for data in [0, 1]).
        ``None`` is the identity.
    level : float
        Standard deviation (``"gaussian"``) or corruption probability.

    Examples
    --------
    >>> import torch
    >>> noise = InputNoise("mask", 0.5)
    >>> x = torch.ones(2, 3)
    >>> torch.equal(noise.eval()(x), x)
    True
    """

    def __init__(self, kind: str | None = None, level: float = 0.0):
        super().__init__()
        self.kind = kind
        self.level = level

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.kind is None or self.level == 0:
            return x
        if self.kind == "gaussian":
            return x + self.level * torch.randn_like(x)
        hit = torch.rand_like(x) < self.level
        if self.kind == "mask":
            return x.masked_fill(hit, 0.0)
        salt = (torch.rand_like(x) < 0.5).to(x.dtype)
        return torch.where(hit, salt, x)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, level={self.level}"


def conv_output_size(size: int, kernel_size: int) -> int:
    """Side length after one encoder stage (stride 2, padding ``kernel_size // 2``).

    >>> [conv_output_size(s, 3) for s in (28, 14, 7, 8, 1)]
    [14, 7, 4, 4, 1]
    """
    padding = kernel_size // 2
    return (size + 2 * padding - kernel_size) // 2 + 1


def _stage_sizes(image_shape, n_stages, kernel_size) -> list[tuple[int, int]]:
    """Spatial ``(height, width)`` before each stage and after the last one."""
    sizes = [tuple(image_shape[1:])]
    for _ in range(n_stages):
        sizes.append(tuple(conv_output_size(s, kernel_size) for s in sizes[-1]))
    return sizes


def _activated(layer, activation, dropout) -> list[nn.Module]:
    layers = [layer, ACTIVATIONS[activation]()]
    return [*layers, nn.Dropout(dropout)] if dropout > 0 else layers


class ConvEncoder(nn.Sequential):
    """Flat rows -> images -> strided convolutions -> dense layers -> ``n_outputs``.

    Each stage is ``Conv2d(stride=2, padding=kernel_size // 2) -> activation
    [-> Dropout]``, halving height and width (rounding up for odd kernels), so any
    image size works. The flattened feature map then goes through :func:`mlp`.

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
        Shape of one image; rows hold ``channels * height * width`` values, in
        C order (as ``images.reshape(n, -1)`` gives).
    n_outputs : int
        Output width (the code, or twice it for a VAE's mean and log-variance).
    conv_channels : sequence of int
        Output channels of each convolution stage.
    kernel_size : int
        Square kernel size of every convolution.
    hidden_layer_sizes, activation, dropout
        The dense part, as in :func:`mlp`.

    Examples
    --------
    >>> import torch
    >>> enc = ConvEncoder((1, 28, 28), 2, conv_channels=(8, 16), hidden_layer_sizes=(32,))
    >>> tuple(enc(torch.zeros(5, 784)).shape)
    (5, 2)
    """

    def __init__(self, image_shape, n_outputs, conv_channels=(32, 64), kernel_size=3,
                 hidden_layer_sizes=(), activation="relu", dropout=0.0):
        channels = [image_shape[0], *conv_channels]
        layers: list[nn.Module] = [nn.Unflatten(1, tuple(image_shape))]
        for c_in, c_out in itertools.pairwise(channels):
            conv = nn.Conv2d(c_in, c_out, kernel_size, stride=2, padding=kernel_size // 2)
            layers += _activated(conv, activation, dropout)
        height, width = _stage_sizes(image_shape, len(conv_channels), kernel_size)[-1]
        flat = channels[-1] * height * width
        if conv_channels:
            layers.append(nn.Flatten())
        layers.append(mlp([flat, *hidden_layer_sizes, n_outputs], activation, dropout))
        super().__init__(*layers)


class ConvDecoder(nn.Sequential):
    """The mirror of :class:`ConvEncoder`: code -> dense layers -> transposed convolutions.

    Each stage is a ``ConvTranspose2d(stride=2)`` whose ``output_padding`` is chosen
    so that the sizes retrace the encoder's exactly (odd sizes included); the last
    stage outputs ``image_shape[0]`` channels with no activation, flattened back to
    rows. Parameters as in :class:`ConvEncoder`, with ``n_components`` inputs.

    Examples
    --------
    >>> import torch
    >>> dec = ConvDecoder((3, 9, 7), 2, conv_channels=(8, 16), hidden_layer_sizes=(32,))
    >>> tuple(dec(torch.zeros(5, 2)).shape)
    (5, 189)
    """

    def __init__(self, image_shape, n_components, conv_channels=(32, 64), kernel_size=3,
                 hidden_layer_sizes=(), activation="relu", dropout=0.0):
        sizes = _stage_sizes(image_shape, len(conv_channels), kernel_size)
        channels = [image_shape[0], *conv_channels]
        flat = channels[-1] * sizes[-1][0] * sizes[-1][1]
        layers: list[nn.Module] = [mlp([n_components, *hidden_layer_sizes, flat], activation,
                                       dropout)]
        if not conv_channels:
            super().__init__(*layers)
            return
        layers += _activated(nn.Unflatten(1, (channels[-1], *sizes[-1])), activation, dropout)
        stages = list(zip(channels[::-1], channels[-2::-1], sizes[::-1], sizes[-2::-1],
                          strict=False))
        for i, (c_in, c_out, small, large) in enumerate(stages):
            padding = kernel_size // 2
            output_padding = [big - ((s - 1) * 2 - 2 * padding + kernel_size)
                              for s, big in zip(small, large, strict=True)]
            conv = nn.ConvTranspose2d(c_in, c_out, kernel_size, stride=2, padding=padding,
                                      output_padding=tuple(output_padding))
            last = i == len(stages) - 1
            layers += [conv] if last else _activated(conv, activation, dropout)
        layers.append(nn.Flatten())
        super().__init__(*layers)


def make_encoder(n_features, n_outputs, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0) -> nn.Module:
    """Encoder from ``n_features``-wide rows to ``n_outputs`` numbers.

    ``architecture="dense"`` is an :func:`mlp`; ``"conv"`` a :class:`ConvEncoder` over
    images of ``image_shape``, whose values must multiply to ``n_features``.
    """
    if architecture == "dense":
        return mlp([n_features, *hidden_layer_sizes, n_outputs], activation, dropout)
    _check_image_shape(image_shape, n_features)
    return ConvEncoder(image_shape, n_outputs, conv_channels, kernel_size,
                       hidden_layer_sizes, activation, dropout)


def make_decoder(n_features, n_components, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, hidden_layer_sizes=(128, 256),
                 activation="relu", dropout=0.0) -> nn.Module:
    """Decoder from ``n_components`` numbers to ``n_features``-wide rows (see :func:`make_encoder`).

    ``hidden_layer_sizes`` are in the decoder's order (the encoder's reversed).
    """
    if architecture == "dense":
        return mlp([n_components, *hidden_layer_sizes, n_features], activation, dropout)
    _check_image_shape(image_shape, n_features)
    return ConvDecoder(image_shape, n_components, conv_channels, kernel_size,
                       hidden_layer_sizes, activation, dropout)


def _check_image_shape(image_shape, n_features):
    if image_shape is None or len(image_shape) != 3 or math.prod(image_shape) != n_features:
        raise ValueError(
            f"A convolutional model needs image_shape=(channels, height, width) whose "
            f"product is n_features={n_features}; got image_shape={image_shape!r}."
        )


class _EncoderDecoder(nn.Module):
    """Noise -> encoder -> code -> decoder (see :func:`make_encoder`, :func:`make_decoder`)."""

    #: encoder outputs per latent dimension
    _code_width = 1

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, noise=None, noise_level=0.0):
        super().__init__()
        hidden = tuple(hidden_layer_sizes)
        shared = dict(architecture=architecture, image_shape=image_shape,
                      conv_channels=tuple(conv_channels), kernel_size=kernel_size,
                      activation=activation, dropout=dropout)
        self.n_components = n_components
        self.noise = InputNoise(noise, noise_level)
        self.encoder = make_encoder(n_features, self._code_width * n_components,
                                    hidden_layer_sizes=hidden, **shared)
        self.decoder = make_decoder(n_features, n_components,
                                    hidden_layer_sizes=hidden[::-1], **shared)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Return the decoder output (logits for a Bernoulli likelihood).

        Parameters
        ----------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        x_hat : torch.Tensor of shape (n_samples, n_features)
            Unbounded decoder outputs, one row per code.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import Autoencoder
        >>> ae = Autoencoder(6, 2, hidden_layer_sizes=(4,))
        >>> tuple(ae.decode(torch.zeros(3, 2)).shape)
        (3, 6)
        """
        return self.decoder(z)


_MODEL_PARAMETERS = """
    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code ``z``.
    hidden_layer_sizes : sequence of int
        Dense hidden widths of the encoder (after the convolutions, for ``"conv"``);
        the decoder mirrors them in reverse order.
    activation : str
        A key of :data:`ACTIVATIONS`.
    dropout : float
        Dropout probability after each hidden activation, dense and convolutional
        (training only).
    architecture : {"dense", "conv"}
        Multilayer perceptron, or :class:`ConvEncoder` / :class:`ConvDecoder`.
    image_shape : tuple (channels, height, width) or None
        Needed by ``"conv"``: how a row is laid out as an image.
    conv_channels : sequence of int
        Channels of each convolution stage (``"conv"`` only).
    kernel_size : int
        Convolution kernel size (``"conv"`` only).
    noise : {"gaussian", "mask", "salt_pepper"} or None
        Corruption of the encoder input during training (:class:`InputNoise`).
    noise_level : float
        Its standard deviation or probability.
"""


class Autoencoder(_EncoderDecoder):
    __doc__ = """Deterministic autoencoder ``x -> z -> x_hat``, dense or convolutional.
    """ + _MODEL_PARAMETERS + """
    Examples
    --------
    >>> import torch
    >>> ae = Autoencoder(6, 2, hidden_layer_sizes=(4,))
    >>> x_hat, z = ae(torch.zeros(3, 6))
    >>> tuple(x_hat.shape), tuple(z.shape)
    ((3, 6), (3, 2))
    >>> conv = Autoencoder(64, 2, architecture="conv", image_shape=(1, 8, 8))
    >>> tuple(conv(torch.zeros(3, 64))[0].shape)
    (3, 64)
    """

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Return the code of each row of ``x`` (of its corrupted copy, in training).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import Autoencoder
        >>> ae = Autoencoder(6, 2, hidden_layer_sizes=(4,)).eval()
        >>> tuple(ae.encode(torch.zeros(3, 6)).shape)
        (3, 2)
        """
        return self.encoder(self.noise(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x_hat, z)``: the reconstruction first, then the code.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        x_hat : torch.Tensor of shape (n_samples, n_features)
            Decoder outputs (logits for a Bernoulli likelihood).
        z : torch.Tensor of shape (n_samples, n_components)
            Codes.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import Autoencoder
        >>> ae = Autoencoder(6, 2, hidden_layer_sizes=(4,)).eval()
        >>> x = torch.rand(3, 6)
        >>> x_hat, z = ae(x)
        >>> torch.equal(z, ae.encode(x)), torch.equal(x_hat, ae.decode(z))
        (True, True)
        """
        z = self.encode(x)
        return self.decode(z), z


class VariationalAutoencoder(_EncoderDecoder):
    __doc__ = """VAE with a diagonal Gaussian posterior and a standard normal prior.

    The encoder's last layer outputs ``2 * n_components`` numbers, split into the
    posterior mean and log-variance (Kingma & Welling, 2014).
    """ + _MODEL_PARAMETERS + """
    Examples
    --------
    >>> import torch
    >>> vae = VariationalAutoencoder(6, 2, hidden_layer_sizes=(4,))
    >>> x_hat, mu, logvar = vae(torch.zeros(3, 6))
    >>> tuple(x_hat.shape), tuple(mu.shape), tuple(logvar.shape)
    ((3, 6), (3, 2), (3, 2))
    """

    _code_width = 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior mean and log-variance of each row.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        mu : torch.Tensor of shape (n_samples, n_components)
            Posterior means.
        logvar : torch.Tensor of shape (n_samples, n_components)
            Posterior log-variances.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import VariationalAutoencoder
        >>> vae = VariationalAutoencoder(6, 2, hidden_layer_sizes=(4,)).eval()
        >>> mu, logvar = vae.encode(torch.zeros(3, 6))
        >>> tuple(mu.shape), tuple(logvar.shape)
        ((3, 2), (3, 2))
        """
        mu, logvar = self.encoder(self.noise(x)).chunk(2, dim=-1)
        return mu, logvar

    @staticmethod
    def reparameterize(mu, logvar, eps=None):
        """Draw ``z = mu + sigma * eps``; ``eps`` defaults to fresh N(0, I) noise.

        Parameters
        ----------
        mu : torch.Tensor of shape (..., n_components)
            Posterior means.
        logvar : torch.Tensor of shape (..., n_components)
            Posterior log-variances (``sigma = exp(logvar / 2)``).
        eps : torch.Tensor or None, default=None
            Standard normal noise, broadcastable to ``mu``; None draws it.

        Returns
        -------
        z : torch.Tensor
            Codes, differentiable with respect to ``mu`` and ``logvar``.

        Examples
        --------
        >>> import math
        >>> import torch
        >>> from skvae.modules import VariationalAutoencoder
        >>> mu, logvar = torch.zeros(1, 2), torch.full((1, 2), math.log(4.0))
        >>> VariationalAutoencoder.reparameterize(mu, logvar, torch.tensor([[1.0, -0.5]]))
        tensor([[ 2., -1.]])
        """
        if eps is None:
            eps = torch.randn_like(mu)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor):
        """Return ``(x_hat, mu, logvar)`` with ``x_hat`` decoded from one posterior draw.

        One draw per row, in training and evaluation alike, so that a loss computed
        from ``forward`` is always a Monte-Carlo estimate of the negative ELBO.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        x_hat : torch.Tensor of shape (n_samples, n_features)
            Decoder outputs of one posterior draw per row.
        mu : torch.Tensor of shape (n_samples, n_components)
            Posterior means.
        logvar : torch.Tensor of shape (n_samples, n_components)
            Posterior log-variances.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import VariationalAutoencoder
        >>> vae = VariationalAutoencoder(6, 2, hidden_layer_sizes=(4,)).eval()
        >>> x_hat, mu, logvar = vae(torch.zeros(3, 6))
        >>> tuple(x_hat.shape), tuple(mu.shape)
        ((3, 6), (3, 2))
        """
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar
