"""skorch callbacks used by skvae's estimators; users may pass their own too.

Any skorch callback can go in an estimator's ``callbacks`` list (for example
``skorch.callbacks.Checkpoint`` or ``LRScheduler``); they are copied before
training, so the estimator's parameters never change.
"""

from __future__ import annotations

from skorch.callbacks import Callback


class KLWarmup(Callback):
    """Linear KL warm-up: the KL weight of epoch ``e`` is ``beta * min(1, e / epochs)``.

    With ``epochs=0`` the weight is ``beta`` from the first epoch. The weight is
    written to the criterion's ``kl_weight`` before each epoch and recorded in
    the history as ``kl_weight``.

    Parameters
    ----------
    beta : float
        Target KL weight.
    epochs : int
        Number of epochs of the ramp.

    Examples
    --------
    >>> KLWarmup(beta=1.0, epochs=4).weight(2)
    0.5
    """

    def __init__(self, beta=1.0, epochs=0):
        self.beta = beta
        self.epochs = epochs

    def weight(self, epoch: int) -> float:
        """KL weight for the 1-based ``epoch``."""
        if self.epochs <= 0:
            return float(self.beta)
        return float(self.beta) * min(1.0, epoch / self.epochs)

    def on_epoch_begin(self, net, **kwargs):
        weight = self.weight(len(net.history))
        net.criterion_.kl_weight = weight
        net.history.record("kl_weight", weight)
