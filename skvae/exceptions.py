"""Exceptions raised by skvae.

Like skorch's and scikit-learn's, they subclass the built-in exception a caller
would catch anyway (:class:`ValueError`), so ``except ValueError`` still works.
"""

from __future__ import annotations

__all__ = ["TrainingDivergedError", "TrainingInterruptedWarning"]


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    Raised by ``fit`` at the end of the epoch whose loss is not finite; the estimator
    keeps the state it had before ``fit``. A subclass of :class:`ValueError`.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import AutoencoderTransformer, TrainingDivergedError
    >>> X = np.full((10, 4), 1e30)  # squared errors overflow float32
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
