"""skorch callbacks used by skvae's estimators; users may pass their own too.

Any skorch callback can go in an estimator's ``callbacks`` list (for example
``skorch.callbacks.Checkpoint`` or ``LRScheduler``); they are copied before
training, so the estimator's parameters never change.
"""

from __future__ import annotations

from skorch.callbacks import Callback
from tqdm.auto import tqdm

__all__ = ["EpochProgress", "KLWarmup"]

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
    >>> from skvae.callbacks import KLWarmup
    >>> warmup = KLWarmup(beta=1.0, epochs=4)
    >>> [warmup.weight(epoch) for epoch in (1, 2, 4, 6)]
    [0.25, 0.5, 1.0, 1.0]

    The VAE adds it itself (``kl_warmup``) and records the weights in its history:

    >>> import numpy as np
    >>> from skvae import VAETransformer
    >>> X = np.random.RandomState(0).rand(20, 4)
    >>> vae = VAETransformer(hidden_layer_sizes=(8,), kl_warmup=2, max_epochs=3,
    ...                      random_state=0).fit(X)
    >>> vae.history_[:, "kl_weight"]
    [0.5, 1.0, 1.0]
    """

    def __init__(self, beta=1.0, epochs=0):
        self.beta = beta
        self.epochs = epochs

    def weight(self, epoch: int) -> float:
        """Return the KL weight of the 1-based ``epoch``.

        Parameters
        ----------
        epoch : int
            Epoch number, counted from 1.

        Returns
        -------
        weight : float
            ``beta * min(1, epoch / epochs)``, or ``beta`` when ``epochs`` is 0.

        Examples
        --------
        >>> from skvae.callbacks import KLWarmup
        >>> KLWarmup(beta=2.0, epochs=4).weight(1)
        0.5
        >>> KLWarmup(beta=2.0).weight(1)
        2.0
        """
        if self.epochs <= 0:
            return float(self.beta)
        return float(self.beta) * min(1.0, epoch / self.epochs)

    def on_epoch_begin(self, net, **kwargs):
        """Set the criterion's KL weight for the coming epoch and record it.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs : dict
            Other arguments skorch passes (unused).
        """
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

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import AutoencoderTransformer
    >>> from skvae.callbacks import EpochProgress
    >>> progress = EpochProgress(desc="my autoencoder", keys=("train_loss",))
    >>> X = np.random.RandomState(0).rand(20, 4)
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2, random_state=0,
    ...                             callbacks=[progress]).fit(X)  # the bar goes to stderr
    >>> ae.n_iter_, hasattr(progress, "bar_")  # the estimator trained a copy of it
    (2, False)
    """

    def __init__(self, desc="training", keys=PROGRESS_KEYS):
        self.desc = desc
        self.keys = keys

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Open a progress bar of ``net.max_epochs`` epochs.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        X, y : object, default=None
            The training data, as skorch passes it (unused).
        **kwargs : dict
            Other arguments skorch passes (unused).
        """
        self._close()
        self.bar_ = tqdm(total=net.max_epochs, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        """Show the epoch's losses beside the bar and advance it by one epoch.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs : dict
            Other arguments skorch passes (unused).
        """
        row = net.history[-1]
        self.bar_.set_postfix(
            {key.replace("train_", ""): f"{row[key]:.4g}" for key in self.keys if key in row},
            refresh=False,
        )
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Close the progress bar.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        X, y : object, default=None
            The training data, as skorch passes it (unused).
        **kwargs : dict
            Other arguments skorch passes (unused).
        """
        self._close()

    def _close(self):
        bar = self.__dict__.pop("bar_", None)
        if bar is not None:
            bar.close()
