"""``AutoencoderTransformer``: a deterministic autoencoder as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._data import map_batches
from ._density import DENSITY_MAX_ROWS, CodeDensityMixin, draw_codes
from .losses import ReconstructionLoss, reconstruction_error
from .modules import Autoencoder


class AutoencoderTransformer(CodeDensityMixin, BaseAutoencoder):
    """Nonlinear dimensionality reduction with a dense or convolutional autoencoder.

    An encoder (a multilayer perceptron, or convolutions over images with
    ``architecture="conv"``) maps each row to ``n_components`` numbers and a
    mirrored decoder maps them back; both are trained to reconstruct the input
    (from a corrupted copy of it with ``noise``: a denoising autoencoder).
    Used like :class:`~sklearn.decomposition.PCA`: ``fit``, ``transform``,
    ``inverse_transform``. The network is a PyTorch module trained by a private
    skorch net (``net_``), so any skorch callback can join the training.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code.
    hidden_layer_sizes : "auto" or tuple of int, default="auto"
        Hidden widths of the encoder; the decoder mirrors them. ``()`` gives a linear
        model (a linear autoencoder spans PCA's subspace). ``"auto"``: (512, 256) for
        dense models of 512 or more input features, else (256, 128) (see
        :func:`skvae.layers.auto_hidden_layer_sizes`).
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "logistic"}, default="relu"
        Hidden-layer activation.
    reconstruction_loss : {"mse", "bce"}, default="mse"
        Training loss per feature: squared error, or binary cross-entropy computed from
        logits (inputs must lie in [0, 1]; ``inverse_transform`` then returns
        probabilities).
    dropout : float, default=0.0
        Dropout probability after each hidden activation (dense and convolutional),
        during training only.
    architecture : {"dense", "conv"}, default="dense"
        ``"dense"``: multilayer perceptrons. ``"conv"``: each row is reshaped to an
        image of ``image_shape``; the encoder is a stack of stride-2 convolutions
        (one per entry of ``conv_channels``, each halving height and width) followed
        by dense layers of ``hidden_layer_sizes``; the decoder mirrors it with
        transposed convolutions back to exactly ``image_shape`` (odd sizes too).
        ``X`` stays a 2-D array of flattened images either way.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` (or ``(height, width)`` for one channel) of the
        images whose flattened pixels (``images.reshape(n, -1)``, C order) form the
        rows of ``X``. Required by ``"conv"``; e.g. ``(1, 28, 28)`` for MNIST.
    conv_channels : tuple of int, default=(32, 64)
        Output channels of each convolution stage (``"conv"`` only).
    kernel_size : int, default=3
        Kernel size of every convolution (``"conv"`` only).
    noise : {"gaussian", "mask", "salt_pepper"} or None, default=None
        Corrupt the encoder's input during training, while the loss still compares
        the reconstruction with the clean input (a denoising autoencoder):
        ``"gaussian"`` adds N(0, noise_level^2) noise, ``"mask"`` zeroes each value
        with probability ``noise_level``, ``"salt_pepper"`` sets each value to 0 or 1
        with probability ``noise_level`` (for data in [0, 1]). ``transform``,
        ``score`` and the rest never add noise.
    noise_level : float, default=0.1
        Standard deviation (``"gaussian"``) or probability (``"mask"``,
        ``"salt_pepper"``, at most 1) of the corruption; unused without ``noise``.
    missing_indicator : bool, default=False
        Whether the encoder also reads which entries are missing (NaN): each value
        (0 where missing, instead of the training mean) plus an observed/missing
        indicator, as a second block of inputs (a second set of channels for
        ``"conv"``). With it, ``noise="mask"`` hides observed entries exactly as
        missing ones look, which trains the model to fill gaps: the best MNIST
        imputer measured is a conv AE with both (see :func:`skvae.impute.impute` and
        the user guide's "Missing values").
    categorical_groups : list of lists or tuples, or None, default=None
        One-hot blocks of a numeric ``X`` (column indices, or names of a DataFrame's
        columns), e.g. from ``OneHotEncoder``: each block gets a softmax
        (cross-entropy) head and decodes to category probabilities. Not needed for a
        DataFrame with categorical columns, whose blocks are built automatically (see
        :mod:`skvae.tabular`; then ``X`` may hold text and missing values, and
        ``inverse_transform`` / ``sample`` return DataFrames).
    batch_size : int, default=128
        Rows per optimisation step.
    max_epochs : int, default=100
        Passes over the training data (fewer with early stopping).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
        Optimizer.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    validation_fraction : float in (0, 1) or None, default=None
        Fraction of the training rows held out (drawn from ``random_state``) to report
        ``valid_loss`` each epoch and, with ``n_iter_no_change``, to stop early. ``None``
        trains on every row: nothing is held out behind your back.
    n_iter_no_change : int or None, default=None
        Stop when the monitored loss (validation loss, or the training loss when there is
        no validation split) has not improved for this many epochs, and restore the
        weights of the best epoch.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU; ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ... select a device (asking for an absent GPU is an error).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order, dropout, input noise, posterior draws
        and the validation split (through a forked torch RNG: global seeds are left
        alone). An int makes fits on the CPU repeatable.
    verbose : int, default=0
        ``0`` prints nothing; ``1`` shows a tqdm progress bar over epochs with the
        latest losses (:class:`skvae.callbacks.EpochProgress`); ``2`` prints skorch's
        per-epoch table instead.
    warm_start : bool, default=False
        When True and already fitted, ``fit`` continues training the current network
        for ``max_epochs`` more epochs instead of starting anew (the other architecture
        and optimizer parameters then keep their values from the first fit).
    callbacks : list of skorch callbacks or None, default=None
        Extra :mod:`skorch.callbacks` (e.g. ``LRScheduler``, ``Checkpoint``,
        ``ProgressBar``, ``EarlyStopping``), copied before training. A callback that
        monitors a validation score needs ``validation_fraction``; see
        :class:`skvae._net.AutoencoderNet` for what callbacks see per batch and epoch.
    distributed : "auto" or bool, default="auto"
        Data-parallel training over the processes of a :mod:`torch.distributed` group
        (DistributedDataParallel; see :mod:`skvae.distributed` and the user guide's
        "Scaling out"). ``"auto"``: when a process group is initialised (e.g. by
        ``torch.distributed.init_process_group``); ``True``: also initialise one from
        a launcher's environment (``torchrun``, ``accelerate launch``, ...), NCCL on
        CUDA with a GPU per rank and gloo otherwise; ``False``: this process alone.
        ``batch_size`` is the global batch, split across the processes; every process
        passes the same ``X`` and ends with the same fitted model.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the :class:`skvae.modules.Autoencoder`.
    history_ : skorch.History
        Per-epoch records: ``train_loss`` (mean per-feature reconstruction loss),
        ``train_recon``, ``dur``, and ``valid_loss`` / ``valid_recon`` with a validation
        split. ``history_[:, "train_loss"]`` gives the curve.
    n_iter_ : int
        Epochs trained (complete ones, when training was interrupted).
    interrupted_ : bool
        Whether Ctrl-C (SIGINT) stopped the last ``fit`` early. Training then stops at
        the end of the current step, keeps the weights trained so far (replacing any
        earlier fit) and warns; a second Ctrl-C stops at once. See the user guide.
    layout_ : skvae.tabular.TableLayout or None
        The column layout, when fitted on a DataFrame with categorical columns.
    groups_ : tuple of tuples of int
        Feature indices of each one-hot block with a softmax head (empty if none).
    latent_density_ : sklearn.mixture.GaussianMixture
        Density of the training codes (of up to 10000 evenly spaced training rows;
        after :meth:`partial_fit`, of a uniform sample of up to 10000 streamed rows),
        used by :meth:`sample`. Fitted on first use (``fit`` only keeps the codes).
    stream_ : RowStream
        After :meth:`partial_fit`: the rows seen, running column sums and a bounded,
        seeded sample of the rows the summaries are computed from.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when ``X`` was a DataFrame with string columns.

    See Also
    --------
    VAETransformer : Variational autoencoder with a generative prior and ELBO score.
    sklearn.decomposition.PCA : The linear baseline.

    Notes
    -----
    ``score_samples`` is the negative mean per-feature reconstruction loss of each row
    (``-MSE`` or ``-BCE``), so higher is better and
    :class:`~sklearn.model_selection.GridSearchCV` can tune without a scorer.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=5, random_state=0)
    >>> Z = ae.fit_transform(X)
    >>> Z.shape
    (1797, 2)
    >>> ae.inverse_transform(Z).shape
    (1797, 64)
    >>> ae.sample(3, random_state=0).shape
    (3, 64)

    A convolutional, denoising autoencoder of the 8 x 8 images:

    >>> conv = AutoencoderTransformer(n_components=2, architecture="conv", image_shape=(8, 8),
    ...                               noise="gaussian", noise_level=0.2, max_epochs=5,
    ...                               random_state=0)
    >>> conv.fit_transform(X).shape
    (1797, 2)
    """

    def _module_class(self):
        return Autoencoder

    def _criterion(self):
        return ReconstructionLoss(self.reconstruction_loss, self.groups_)

    def _encode(self, module, x):
        return module.encode(x)

    def _score_rows(self, module, x, target, observed):
        return -reconstruction_error(module(x)[0], target, self.reconstruction_loss, self.groups_,
                                     observed)

    _summary_rows = DENSITY_MAX_ROWS

    def _after_fit(self, X, seed):
        self._fit_density(X, seed)

    def _after_partial_fit(self, stream):
        self._forget_density()  # fitted on first use (see skvae._density)

    def _density_codes(self, rows, seed):
        module = self._eval_module()
        missing = bool(self.net_.criterion_.missing)
        return map_batches(lambda x: module.encode(self._model_input(x, missing)), rows,
                           self._device)

    def sample(self, n_samples=1, random_state=None):
        """Generate rows by decoding draws from the density of the training codes.

        An autoencoder has no prior, so codes are drawn from a Gaussian mixture
        (``latent_density_``, up to 10 components) fitted on the training codes.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        X_new : ndarray of shape (n_samples, ``n_features_in_``) or DataFrame
            Decoded rows (a DataFrame like the training one when fitted on a DataFrame
            with categorical columns).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import AutoencoderTransformer
        >>> X = load_digits().data[:100] / 16
        >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
        ...                             random_state=0).fit(X)
        >>> X_new = ae.sample(5, random_state=0)
        >>> X_new.shape
        (5, 64)
        >>> np.array_equal(ae.sample(5, random_state=0), X_new)  # seeded draws repeat
        True
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        return self._decode(draw_codes(self.latent_density_, n_samples,
                                       check_random_state(random_state)))


__all__ = ["AutoencoderTransformer"]
