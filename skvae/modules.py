"""Torch models: a deterministic autoencoder and a variational autoencoder.

Pure PyTorch: nothing here imports scikit-learn or skorch, so the models can be
used (and tested) on their own. The conventions follow ``pytorch/examples``'
``vae/main.py``: ``encode``, ``reparameterize`` and ``decode`` are methods,
``forward`` returns a tuple whose first element is the reconstruction, and no
loss is computed inside ``forward`` (see :mod:`skvae.losses`). The layers they
are built from live in :mod:`skvae.layers`.

Decoders return *unbounded* outputs: for a Bernoulli (``"bce"``) likelihood these
are logits, turned into probabilities by :func:`torch.sigmoid` only where a
caller asks for data-space values. This keeps the loss numerically stable.
"""

from __future__ import annotations

import torch
from torch import nn

# the building blocks, also importable from here as before
from .images import as_image_shape
from .layers import (  # noqa: F401
    ACTIVATIONS,
    ARCHITECTURES,
    NOISES,
    ConvDecoder,
    ConvEncoder,
    InputNoise,
    conv_output_size,
    make_decoder,
    make_encoder,
    mlp,
)

__all__ = ["Autoencoder", "VariationalAutoencoder", "indicator_input_shape"]


def indicator_input_shape(n_features, architecture="dense", image_shape=None):
    """The encoder's input width and image shape with a missing-value indicator.

    Twice the values: for ``"conv"``, the indicator is a second block of channels.

    Parameters
    ----------
    n_features : int
        Values per row.
    architecture : {"dense", "conv"}, default="dense"
        The encoder's architecture.
    image_shape : tuple of int or None, default=None
        How a row is laid out as an image (``"conv"`` only).

    Returns
    -------
    n_inputs : int
        The encoder's input width, ``2 * n_features``.
    input_shape : tuple (channels, height, width) or None
        The encoder's image shape (None for ``"dense"``).

    Examples
    --------
    >>> from skvae.modules import indicator_input_shape
    >>> indicator_input_shape(784, "conv", (1, 28, 28))
    (1568, (2, 28, 28))
    >>> indicator_input_shape(5)
    (10, None)
    """
    if architecture != "conv":
        return 2 * n_features, None
    channels, height, width = as_image_shape(image_shape, n_features)
    return 2 * n_features, (2 * channels, height, width)


class _EncoderDecoder(nn.Module):
    """Noise -> encoder -> code -> decoder (see :func:`make_encoder`, :func:`make_decoder`)."""

    #: encoder outputs per latent dimension
    _code_width = 1

    def __init__(self, n_features, n_components, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, noise=None, noise_level=0.0,
                 missing_indicator=False):
        super().__init__()
        hidden = tuple(hidden_layer_sizes)
        shared = dict(architecture=architecture, conv_channels=tuple(conv_channels),
                      kernel_size=kernel_size, activation=activation, dropout=dropout)
        self.n_components = n_components
        self.missing_indicator = missing_indicator
        self.noise = InputNoise(noise, noise_level)
        inputs, input_shape = n_features, image_shape
        if missing_indicator:  # each value, then whether it is observed (a second channel)
            inputs, input_shape = indicator_input_shape(n_features, architecture, image_shape)
        self.encoder = make_encoder(inputs, self._code_width * n_components,
                                    image_shape=input_shape, hidden_layer_sizes=hidden, **shared)
        self.decoder = make_decoder(n_features, n_components, image_shape=image_shape,
                                    hidden_layer_sizes=hidden[::-1], **shared)
        # subtracted from the encoder's input (see init_from_mean); zeros until then
        self.register_buffer("input_shift", torch.zeros(inputs))

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """Corrupt the encoder's input with ``noise`` in training (the identity in evaluation).

        With ``missing_indicator``, ``x`` is ``[values, observed]`` (missing values 0,
        see :func:`skvae.likelihoods.encoder_input`): ``"mask"`` noise hides observed
        entries the way missing ones look (value 0, indicator 0), so the model learns
        to fill gaps from the rest of the row; other noise corrupts the observed values.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_inputs)
            The encoder's input (see :func:`skvae.likelihoods.encoder_input`).

        Returns
        -------
        x_noisy : torch.Tensor of shape (n_samples, n_inputs)
            The corrupted input (``x`` itself in evaluation mode or without noise).

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import Autoencoder
        >>> ae = Autoencoder(3, 2, hidden_layer_sizes=(4,), noise="mask", noise_level=1.0,
        ...                  missing_indicator=True)
        >>> ae.corrupt(torch.tensor([[0.5, 0.0, 1.0, 1.0, 0.0, 1.0]]))  # all hidden
        tensor([[0., 0., 0., 0., 0., 0.]])
        """
        if not self.missing_indicator:
            return self.noise(x)
        values, observed = x.chunk(2, dim=-1)
        if self.training and self.noise.kind == "mask" and self.noise.level > 0:
            kept = (torch.rand_like(values) >= self.noise.level).to(x.dtype) * observed
            return torch.cat([values * kept, kept], dim=-1)
        return torch.cat([self.noise(values) * observed, observed], dim=-1)

    def init_from_mean(self, mean, output) -> None:
        """Centre the encoder's input on the data's mean row; start the decoder's output at it.

        Two changes of how the same model is parametrised, measured to matter:

        * The encoder sees ``x - mean`` (the buffer ``input_shift``): like a first-layer
          bias of ``b - W @ mean``, it changes what gradient steps do, not what the
          model can express. On uncentred inputs (pixels in [0, 1], mean 0.5 on faces)
          every first-layer unit shares the large term ``W @ mean``, and one Adam step
          that makes it negative silences the unit for every row: of 512 ReLU units of
          an autoencoder on 4096-pixel faces, 500 never fired after training.
        * The decoder's last bias (one per feature) starts at ``output``, the decoder
          output whose mean is the data's mean row (see
          :func:`skvae.likelihoods.output_of_mean`): the decoder reconstructs the mean
          from the first step and the codes learn what differs from it. A 2-D
          convolutional VAE on MNIST kept both dimensions in use, where from a zero
          bias one collapsed.

        Parameters
        ----------
        mean : array-like of shape (n_features,)
            The training data's column means.
        output : array-like of shape (n_features,)
            The decoder's output for a code that carries no information.

        Examples
        --------
        >>> import torch
        >>> from skvae.modules import Autoencoder
        >>> ae = Autoencoder(3, 2, hidden_layer_sizes=())
        >>> _ = torch.nn.init.zeros_(ae.decoder[0].weight)
        >>> ae.init_from_mean([0.5, 1.0, 2.0], output=[0.5, 1.0, 2.0])
        >>> ae.decode(torch.zeros(1, 2))
        tensor([[0.5000, 1.0000, 2.0000]], grad_fn=<AddmmBackward0>)
        >>> ae.input_shift
        tensor([0.5000, 1.0000, 2.0000])
        """
        last = [m for m in self.decoder.modules() if getattr(m, "bias", None) is not None][-1]
        with torch.no_grad():
            last.bias.copy_(torch.as_tensor(output, dtype=last.bias.dtype))
            mean = torch.as_tensor(mean, dtype=self.input_shift.dtype)
            self.input_shift.zero_()[:len(mean)] = mean  # a missing indicator: unshifted

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


class Autoencoder(_EncoderDecoder):
    """Deterministic autoencoder ``x -> z -> x_hat``, dense or convolutional.

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code ``z``.
    hidden_layer_sizes : sequence of int, default=(256, 128)
        Dense hidden widths of the encoder (after the convolutions, for ``"conv"``);
        the decoder mirrors them in reverse order.
    activation : str, default="relu"
        A key of :data:`skvae.layers.ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, dense and convolutional
        (training only).
    architecture : {"dense", "conv"}, default="dense"
        Multilayer perceptron, or :class:`~skvae.layers.ConvEncoder` /
        :class:`~skvae.layers.ConvDecoder`.
    image_shape : tuple (channels, height, width) or None, default=None
        Needed by ``"conv"``: how a row is laid out as an image.
    conv_channels : sequence of int, default=(32, 64)
        Channels of each convolution stage (``"conv"`` only).
    kernel_size : int, default=3
        Convolution kernel size (``"conv"`` only).
    noise : {"gaussian", "mask", "salt_pepper"} or None, default=None
        Corruption of the encoder input during training
        (:class:`~skvae.layers.InputNoise`).
    noise_level : float, default=0.0
        Its standard deviation or probability.
    missing_indicator : bool, default=False
        The encoder reads ``2 * n_features`` inputs: each value (0 where missing) and
        whether it is observed (see :meth:`corrupt`); the decoder is unchanged.

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
        return self.encoder(self.corrupt(x) - self.input_shift)

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
    """VAE with a diagonal Gaussian posterior and a standard normal prior.

    The encoder's last layer outputs ``2 * n_components`` numbers, split into the
    posterior mean and log-variance (Kingma & Welling, 2014).

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code ``z``.
    hidden_layer_sizes : sequence of int, default=(256, 128)
        Dense hidden widths of the encoder (after the convolutions, for ``"conv"``);
        the decoder mirrors them in reverse order.
    activation : str, default="relu"
        A key of :data:`skvae.layers.ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, dense and convolutional
        (training only).
    architecture : {"dense", "conv"}, default="dense"
        Multilayer perceptron, or :class:`~skvae.layers.ConvEncoder` /
        :class:`~skvae.layers.ConvDecoder`.
    image_shape : tuple (channels, height, width) or None, default=None
        Needed by ``"conv"``: how a row is laid out as an image.
    conv_channels : sequence of int, default=(32, 64)
        Channels of each convolution stage (``"conv"`` only).
    kernel_size : int, default=3
        Convolution kernel size (``"conv"`` only).
    noise : {"gaussian", "mask", "salt_pepper"} or None, default=None
        Corruption of the encoder input during training
        (:class:`~skvae.layers.InputNoise`).
    noise_level : float, default=0.0
        Its standard deviation or probability.
    missing_indicator : bool, default=False
        The encoder reads ``2 * n_features`` inputs: each value (0 where missing) and
        whether it is observed (see :meth:`corrupt`); the decoder is unchanged.

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
        mu, logvar = self.encoder(self.corrupt(x) - self.input_shift).chunk(2, dim=-1)
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
