"""skorch callbacks used by skvae's estimators; users may pass their own too.

Any skorch callback can go in an estimator's ``callbacks`` list (for example
``skorch.callbacks.Checkpoint`` or ``LRScheduler``); they are copied before
training, so the estimator's parameters never change.
"""

from __future__ import annotations

from skorch.callbacks import Callback
from tqdm.auto import tqdm

#: History keys shown beside the progress bar, in this order, when recorded.
PROGRESS_KEYS = ("train_loss", "valid_loss", "train_recon", "train_kl")


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


class EpochProgress(Callback):
    """A tqdm progress bar over epochs showing the latest losses (``verbose=1``).

    The estimators add it themselves when ``verbose=1``; ``verbose=2`` prints
    skorch's per-epoch table instead. tqdm picks the notebook widget in Jupyter
    (``tqdm.auto``) and writes to stderr elsewhere. The bar is closed and dropped
    at the end of training, so a fitted estimator still pickles.

    Parameters
    ----------
    desc : str
        Label in front of the bar (the estimator's class name).
    keys : sequence of str
        History keys shown beside the bar when the epoch recorded them.
    """

    def __init__(self, desc="training", keys=PROGRESS_KEYS):
        self.desc = desc
        self.keys = keys

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._close()
        self.bar_ = tqdm(total=net.max_epochs, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix(
            {key.replace("train_", ""): f"{row[key]:.4g}" for key in self.keys if key in row},
            refresh=False,
        )
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._close()

    def _close(self):
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()
