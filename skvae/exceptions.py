"""Exceptions raised by skvae.

Like skorch's and scikit-learn's, they subclass the built-in exception a caller
would catch anyway (:class:`ValueError`), so ``except ValueError`` still works.
"""

from __future__ import annotations

__all__ = ["PosteriorCollapseWarning", "TrainingDivergedError", "TrainingInterruptedWarning"]


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    Raised by ``fit`` at the end of the epoch whose loss is not finite; the estimator
    keeps the state it had before ``fit``. A subclass of :class:`ValueError`.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import AutoencoderTransformer, TrainingDivergedError
    >>> X = np.full((10, 4), 1e30)
    >>> X[::2] *= -1  # +-1e30: squared errors overflow float32
    >>> try:
    ...     AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2).fit(X)
    ... except TrainingDivergedError as error:
    ...     print(str(error).split(":")[0])
    The train loss became inf in epoch 1
    """


class TrainingInterruptedWarning(UserWarning):
    """Ctrl-C (SIGINT) stopped ``fit`` early; the estimator is fitted with the steps done.

    ``fit`` warns with this category (a :class:`UserWarning`) and sets
    ``interrupted_``; a program that must stop instead can turn it into an error with
    ``warnings.filterwarnings("error", category=TrainingInterruptedWarning)``.

    Examples
    --------
    >>> import warnings
    >>> from skvae.exceptions import TrainingInterruptedWarning
    >>> issubclass(TrainingInterruptedWarning, UserWarning)
    True
    """


class PosteriorCollapseWarning(UserWarning):
    """A VAE's latent dimension carries (almost) no information: its posterior is the prior.

    :class:`~skvae.VAETransformer` warns with this category at the end of ``fit``
    when latent dimensions' mean KL divergence in the last epoch (the history's
    ``train_kl_dims``) is below 0.01 nats: all of them, or any one of a code of up to
    3 dimensions (the ones users plot; wider codes leave a few unused as a rule, the
    KL term pruning what the decoder does not need). The message names the
    dimensions and the usual fixes. Such a dimension's code is the same for every
    row, so a 2-D scatter or manifold grid varies along one axis only. Silence it with
    ``warnings.filterwarnings("ignore", category=PosteriorCollapseWarning)``.

    Examples
    --------
    >>> from skvae.exceptions import PosteriorCollapseWarning
    >>> issubclass(PosteriorCollapseWarning, UserWarning)
    True
    """
