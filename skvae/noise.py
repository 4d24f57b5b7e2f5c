"""Input corruption of denoising autoencoders: :class:`InputNoise`.

Pure PyTorch. The estimators' ``noise`` and ``noise_level`` parameters build one; it is
also importable from :mod:`skvae.layers`.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NOISES", "InputNoise"]

#: Input corruptions of :class:`InputNoise` (denoising autoencoders).
NOISES = ("gaussian", "mask", "salt_pepper")


class InputNoise(nn.Module):
    """Corrupt the input during training only; the identity in evaluation mode.

    Like :class:`torch.nn.Dropout` (which it generalises), it acts only while the
    module is in training mode, so the loss still compares the reconstruction
    with the *clean* input: a denoising autoencoder (Vincent et al., 2008).

    Parameters
    ----------
    kind : {"gaussian", "mask", "salt_pepper"} or None, default=None
        ``"gaussian"`` adds N(0, level^2) noise to every value; ``"mask"`` sets each
        value to 0 with probability ``level``; ``"salt_pepper"`` sets each value, with
        probability ``level``, to 0 or 1 (equally likely; meant for data in [0, 1]).
        ``None`` is the identity.
    level : float, default=0.0
        Standard deviation (``"gaussian"``) or corruption probability.

    Examples
    --------
    >>> import torch
    >>> from skvae.layers import InputNoise
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
        """Return ``x`` corrupted in training mode, or ``x`` itself in evaluation mode.

        Parameters
        ----------
        x : torch.Tensor
            Input, of any shape.

        Returns
        -------
        x_noisy : torch.Tensor
            The corrupted input, of the same shape and dtype; ``x`` itself when the
            module is in evaluation mode, ``kind`` is None or ``level`` is 0.

        Examples
        --------
        >>> import torch
        >>> from skvae.layers import InputNoise
        >>> noise = InputNoise("mask", 1.0)
        >>> noise.train()(torch.ones(2, 3))
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
        >>> noise.eval()(torch.ones(2, 3))
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
        """
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
        """Return the settings shown inside the module's ``repr``.

        Returns
        -------
        settings : str
            ``kind`` and ``level``, as keyword arguments.

        Examples
        --------
        >>> from skvae.layers import InputNoise
        >>> InputNoise("gaussian", 0.1).extra_repr()
        "kind='gaussian', level=0.1"
        >>> InputNoise("gaussian", 0.1)
        InputNoise(kind='gaussian', level=0.1)
        """
        return f"kind={self.kind!r}, level={self.level}"
