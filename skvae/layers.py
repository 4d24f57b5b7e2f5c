"""Torch building blocks of skvae's models: MLPs, convolutional stacks, input noise.

Pure PyTorch (nothing here imports scikit-learn or skorch). :mod:`skvae.modules`
assembles these into the two models; use them directly to build your own.

Rows stay flat, as scikit-learn passes them: a convolutional encoder reshapes
each row of ``c * h * w`` numbers to an image of ``image_shape`` itself (see
:func:`skvae.images.as_image_shape` for the layout rule), and its decoder
flattens again, so every encoder maps ``(n, n_features)`` to ``(n, n_outputs)``
and every decoder maps codes back to ``(n, n_features)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from .images import as_image_shape
from .noise import NOISES, InputNoise

__all__ = [
    "ACTIVATIONS", "ARCHITECTURES", "NOISES", "ConvDecoder", "ConvEncoder", "FeatureBias",
    "InputNoise", "auto_hidden_layer_sizes", "conv_output_size", "make_decoder",
    "make_encoder", "mlp",
]

#: Names of the architectures :func:`make_encoder` / :func:`make_decoder` build.
ARCHITECTURES = ("dense", "conv")


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


#: Inputs from which ``hidden_layer_sizes="auto"`` gives a dense model (512, 256).
WIDE_INPUT = 512


def auto_hidden_layer_sizes(n_features: int, architecture: str = "dense") -> tuple:
    """The hidden widths that ``hidden_layer_sizes="auto"`` picks.

    Dense models get ``(512, 256)`` from 512 input features on (MNIST's 784 pixels,
    Olivetti's 4096) and ``(256, 128)`` below (8 x 8 digits, tables). Measured on MNIST
    after 10 epochs: (256, 128) left an autoencoder's held-out error at 0.64 x PCA's
    with 32 components, (512, 256) reached 0.50 x (``benchmarks/bench_defaults.py``);
    on small inputs the wider model is slower and no better. Convolutional models
    get ``(256, 128)`` after their convolutions.

    Parameters
    ----------
    n_features : int
        Values per row.
    architecture : {"dense", "conv"}, default="dense"
        The model's architecture.

    Returns
    -------
    hidden_layer_sizes : tuple of int
        The encoder's hidden widths (the decoder mirrors them).

    Examples
    --------
    >>> from skvae.layers import auto_hidden_layer_sizes
    >>> auto_hidden_layer_sizes(784), auto_hidden_layer_sizes(64)
    ((512, 256), (256, 128))
    >>> auto_hidden_layer_sizes(784, "conv")
    (256, 128)
    """
    if architecture == "dense" and n_features >= WIDE_INPUT:
        return (512, 256)
    return (256, 128)


def mlp(
    sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0
) -> nn.Sequential:
    """Stack ``Linear -> activation [-> Dropout]`` for each consecutive pair in ``sizes``.

    The last layer is linear with no activation: callers decide what the output means.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first and output last; ``len(sizes) - 1`` linear layers.
    activation : str, default="relu"
        Activation after every hidden layer, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after every hidden activation; 0 adds no Dropout layers.

    Returns
    -------
    net : torch.nn.Sequential
        The stacked layers, mapping ``(n, sizes[0])`` to ``(n, sizes[-1])``.

    Examples
    --------
    >>> from skvae.layers import mlp
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


class FeatureBias(nn.Module):
    """Add a learned bias per output feature (per pixel): ``x + bias``.

    The last layer of :class:`ConvDecoder`, in place of the transposed convolution's
    one bias per channel, so that the decoder can start from the data's mean image
    (see :meth:`skvae.modules.Autoencoder.init_from_mean`).

    Parameters
    ----------
    n_features : int
        Width of the rows.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import FeatureBias
    >>> bias = FeatureBias(3)
    >>> bias(torch.ones(2, 3))
    tensor([[1., 1., 1.],
            [1., 1., 1.]], grad_fn=<AddBackward0>)
    """

    def __init__(self, n_features: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x + bias``.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Rows.

        Returns
        -------
        shifted : torch.Tensor of shape (n_samples, n_features)
            The rows plus the bias.

        Examples
        --------
        >>> import torch
        >>> from skvae.layers import FeatureBias
        >>> FeatureBias(2)(torch.zeros(1, 2)).shape
        torch.Size([1, 2])
        """
        return x + self.bias


def conv_output_size(size: int, kernel_size: int) -> int:
    """Return the side length after one encoder stage (stride 2, padding ``kernel_size // 2``).

    Parameters
    ----------
    size : int
        Height or width of the stage's input.
    kernel_size : int
        Kernel size of the stage's convolution.

    Returns
    -------
    output_size : int
        Height or width of the stage's output: ``ceil(size / 2)`` for odd kernels.

    Examples
    --------
    >>> from skvae.layers import conv_output_size
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
    """Encode flat image rows with strided convolutions, then dense layers.

    Flat rows -> images -> strided convolutions -> dense layers -> ``n_outputs``.

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
    conv_channels : sequence of int, default=(32, 64)
        Output channels of each convolution stage; give at least one.
    kernel_size : int, default=3
        Square kernel size of every convolution.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense hidden layers between the flattened feature map and the
        output, as in :func:`mlp`.
    activation : str, default="relu"
        Activation after every convolution and dense hidden layer, a key of
        :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after every activation; 0 adds no Dropout layers.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import ConvEncoder
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
    """Decode codes to flat image rows: the mirror of :class:`ConvEncoder`.

    Code -> dense layers -> transposed convolutions -> flat rows. Each stage is a
    ``ConvTranspose2d(stride=2)`` whose ``output_padding`` is chosen so that the
    sizes retrace the encoder's exactly (odd sizes included); the last stage outputs
    ``image_shape[0]`` channels with no activation (and no bias), flattened back to
    rows, then a :class:`FeatureBias`: one bias per pixel.

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
        Shape of one output image; rows hold ``channels * height * width`` values,
        in C order (as ``images.reshape(n, -1)`` gives).
    n_components : int
        Input width (the code).
    conv_channels : sequence of int, default=(32, 64)
        The encoder's channels of each convolution stage, in the encoder's order:
        the decoder runs through them in reverse. With none, the decoder is a
        :func:`mlp`.
    kernel_size : int, default=3
        Square kernel size of every transposed convolution.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense hidden layers between the code and the first feature
        map, in the decoder's order, as in :func:`mlp`.
    activation : str, default="relu"
        Activation after every dense layer and every transposed convolution but the
        last, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after every activation; 0 adds no Dropout layers.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import ConvDecoder
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
            last = i == len(stages) - 1
            conv = nn.ConvTranspose2d(c_in, c_out, kernel_size, stride=2, padding=padding,
                                      output_padding=tuple(output_padding), bias=not last)
            layers += [conv] if last else _activated(conv, activation, dropout)
        # one bias per pixel, not per channel: the decoder can start at the mean image
        layers += [nn.Flatten(), FeatureBias(math.prod(image_shape))]
        super().__init__(*layers)


def make_encoder(n_features, n_outputs, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, hidden_layer_sizes=(256, 128),
                 activation="relu", dropout=0.0) -> nn.Module:
    """Build an encoder from ``n_features``-wide rows to ``n_outputs`` numbers.

    ``architecture="dense"`` is an :func:`mlp`; ``"conv"`` a :class:`ConvEncoder` over
    images of ``image_shape``, whose values must multiply to ``n_features``.

    Parameters
    ----------
    n_features : int
        Input width: values per row.
    n_outputs : int
        Output width (the code, or twice it for a VAE's mean and log-variance).
    architecture : {"dense", "conv"}, default="dense"
        ``"dense"`` builds an :func:`mlp`; ``"conv"`` a :class:`ConvEncoder`.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)``, or ``(height, width)`` for one channel, whose
        values multiply to ``n_features`` (see :func:`skvae.images.as_image_shape`).
        Needed by ``"conv"`` only.
    conv_channels : sequence of int, default=(32, 64)
        Output channels of each convolution stage (``"conv"`` only).
    kernel_size : int, default=3
        Square kernel size of every convolution (``"conv"`` only).
    hidden_layer_sizes : sequence of int, default=(256, 128)
        Widths of the dense hidden layers, input side first.
    activation : str, default="relu"
        Activation after every hidden layer, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after every activation; 0 adds no Dropout layers.

    Returns
    -------
    encoder : torch.nn.Module
        Maps ``(n, n_features)`` to ``(n, n_outputs)``.

    Raises
    ------
    ValueError
        With ``"conv"``, when ``image_shape`` does not describe rows of ``n_features``
        values.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import make_encoder
    >>> make_encoder(6, 2, hidden_layer_sizes=(4,))
    Sequential(
      (0): Linear(in_features=6, out_features=4, bias=True)
      (1): ReLU()
      (2): Linear(in_features=4, out_features=2, bias=True)
    )
    >>> enc = make_encoder(784, 2, architecture="conv", image_shape=(28, 28),
    ...                    conv_channels=(8, 16), hidden_layer_sizes=(32,))
    >>> tuple(enc(torch.zeros(5, 784)).shape)
    (5, 2)
    """
    if architecture == "dense":
        return mlp([n_features, *hidden_layer_sizes, n_outputs], activation, dropout)
    return ConvEncoder(as_image_shape(image_shape, n_features), n_outputs, conv_channels,
                       kernel_size, hidden_layer_sizes, activation, dropout)


def make_decoder(n_features, n_components, *, architecture="dense", image_shape=None,
                 conv_channels=(32, 64), kernel_size=3, hidden_layer_sizes=(128, 256),
                 activation="relu", dropout=0.0) -> nn.Module:
    """Build a decoder from ``n_components`` numbers to ``n_features``-wide rows.

    The mirror of :func:`make_encoder`: ``architecture="dense"`` is an :func:`mlp`;
    ``"conv"`` a :class:`ConvDecoder` to images of ``image_shape``, whose values must
    multiply to ``n_features``.

    Parameters
    ----------
    n_features : int
        Output width: values per row.
    n_components : int
        Input width (the code).
    architecture : {"dense", "conv"}, default="dense"
        ``"dense"`` builds an :func:`mlp`; ``"conv"`` a :class:`ConvDecoder`.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)``, or ``(height, width)`` for one channel, whose
        values multiply to ``n_features`` (see :func:`skvae.images.as_image_shape`).
        Needed by ``"conv"`` only.
    conv_channels : sequence of int, default=(32, 64)
        The encoder's channels of each convolution stage, in the encoder's order
        (``"conv"`` only).
    kernel_size : int, default=3
        Square kernel size of every transposed convolution (``"conv"`` only).
    hidden_layer_sizes : sequence of int, default=(128, 256)
        Widths of the dense hidden layers in the decoder's order (the encoder's
        reversed), code side first.
    activation : str, default="relu"
        Activation after every hidden layer, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after every activation; 0 adds no Dropout layers.

    Returns
    -------
    decoder : torch.nn.Module
        Maps ``(n, n_components)`` to ``(n, n_features)``.

    Raises
    ------
    ValueError
        With ``"conv"``, when ``image_shape`` does not describe rows of ``n_features``
        values.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import make_decoder
    >>> make_decoder(6, 2, hidden_layer_sizes=(4,))
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): ReLU()
      (2): Linear(in_features=4, out_features=6, bias=True)
    )
    >>> dec = make_decoder(784, 2, architecture="conv", image_shape=(28, 28),
    ...                    conv_channels=(8, 16), hidden_layer_sizes=(32,))
    >>> tuple(dec(torch.zeros(5, 2)).shape)
    (5, 784)
    """
    if architecture == "dense":
        return mlp([n_components, *hidden_layer_sizes, n_features], activation, dropout)
    return ConvDecoder(as_image_shape(image_shape, n_features), n_components, conv_channels,
                       kernel_size, hidden_layer_sizes, activation, dropout)
