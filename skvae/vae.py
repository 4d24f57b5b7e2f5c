"""``VAETransformer``: a variational autoencoder as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._data import evenly_spaced_rows, map_batches
from ._density import CodeDensityMixin, draw_codes
from ._posterior import posterior_noise_variance
from ._validation import (
    check_sample_options,
    finite_output,
    posterior_draws,
    warn_on_collapse,
    warn_user,
)
from .callbacks import KLWarmup
from .likelihoods import draw_from_decoder
from .losses import MIN_NOISE_VARIANCE, ELBOLoss, reconstruction_nll
from .modules import VariationalAutoencoder

#: Posterior draws per row of ``score_samples``: the ELBO (see :mod:`skvae._posterior`),
#: and the importance-weighted bound.
N_ELBO_DRAWS = 4
N_IWAE_DRAWS = 64
#: Training rows (evenly spaced) and posterior draws per row on which
#: ``noise_variance_`` is estimated: ~12 million squared errors on MNIST.
NOISE_VARIANCE_MAX_ROWS = 4096
NOISE_VARIANCE_DRAWS = 4
#: Gaussian variance of numeric columns next to categorical heads (``noise_variance="auto"``).
TABULAR_NOISE_VARIANCE = 0.5
#: Posterior draws the code density is fitted on (several per row on small tables).
DENSITY_CODES = 1000


class VAETransformer(CodeDensityMixin, BaseAutoencoder):
    """Nonlinear, generative dimensionality reduction with a variational autoencoder.

    The encoder (dense, or convolutional with ``architecture="conv"``) maps each row
    to a diagonal Gaussian posterior ``q(z | x)`` over
    ``n_components`` latent dimensions; the decoder maps codes back to the input
    space; training maximises the evidence lower bound (ELBO) with a standard normal
    prior, optionally with a KL weight ``beta`` and a linear KL warm-up. ``transform``
    returns the posterior mean, ``sample`` decodes prior draws and ``score`` is the
    ELBO, so :class:`~sklearn.model_selection.GridSearchCV` can tune it with no scorer.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code.
    beta : float, default=1.0
        Weight of the KL term in the training loss (``beta < 1`` favours
        reconstruction, ``beta > 1`` a smoother latent space). ``score`` always reports
        the true ELBO (weight 1). A loss weighted as ``a * reconstruction + b * KL``
        (e.g. the tutorials' 10 and 1) is ``beta = b / a`` (0.1) times a constant:
        the same optimum, and with Adam (which, up to its ``eps``, ignores the
        loss's scale) the same training steps.
    kl_warmup : "auto" or int, default="auto"
        Epochs of a linear ramp of the KL weight: epoch ``e`` uses
        ``beta * min(1, e / kl_warmup)``. Helps against posterior collapse and unused
        dimensions. ``"auto"``: a third of ``max_epochs`` in ``fit`` (see the user guide,
        "Defaults"), none in ``partial_fit``; 0 for none. A warm-up longer than
        ``max_epochs`` warns.
    noise_variance : "auto" or float > 0, default="auto"
        Variance of the Gaussian likelihood of ``reconstruction_loss="mse"`` features.
        A float fixes it (``0.5`` makes the reconstruction term the summed squared
        error of the tutorials). ``"auto"``: fitted by maximum likelihood (the
        sigma-VAE, see ``reconstruction_loss``), except beside categorical heads (a
        DataFrame with categorical columns, or ``categorical_groups``), where the
        numeric columns are standardised and the variance is fixed to 0.5: a fitted
        variance shrinks with the training error and lets the numeric columns
        outweigh the categorical ones (on house prices, held-out categorical accuracy
        fell from 0.84 to 0.81 as training went on).
    hidden_layer_sizes : "auto" or tuple of int, default="auto"
        Hidden widths of the encoder; the decoder mirrors them. ``()`` gives a linear
        model (a linear autoencoder spans PCA's subspace). ``"auto"``: (512, 256) for
        dense models of 512 or more input features, else (256, 128) (see
        :func:`skvae.layers.auto_hidden_layer_sizes`).
    activation : {"relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "logistic"}, default="relu"
        Hidden-layer activation.
    reconstruction_loss : {"mse", "bce"}, default="mse"
        Likelihood of the decoder. ``"bce"``: Bernoulli, from logits (inputs in [0, 1];
        ``inverse_transform`` returns probabilities). ``"mse"``: Gaussian with one
        variance shared by all features, fitted by maximum likelihood (the
        "sigma-VAE"): the batch mean squared error during training, then
        ``noise_variance_``. This keeps the reconstruction/KL balance independent of
        the data's scale; see :mod:`skvae.losses`.
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
        The trained skorch net; ``net_.module_`` is the
        :class:`skvae.modules.VariationalAutoencoder`.
    history_ : skorch.History
        Per-epoch records: ``train_loss`` (``recon + kl_weight * kl``, per sample),
        ``train_recon`` (negative log-likelihood, nats), ``train_kl`` (nats),
        ``train_kl_dims`` (the mean KL of each latent dimension, nats: a dimension
        near 0 is unused, and ``fit`` then warns with
        :class:`~skvae.exceptions.PosteriorCollapseWarning`), ``kl_weight``, ``dur``,
        and the ``valid_*`` counterparts with a validation split (those use the target
        weight ``beta``).
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
    noise_variance_ : float
        Variance of the Gaussian likelihood (``"mse"`` only; ``nan`` for ``"bce"``): the
        mean squared reconstruction error over the training data (up to 4096 evenly
        spaced rows, 4 posterior draws each, drawn as ``score_samples`` draws them; after
        :meth:`partial_fit`, over a uniform sample of up to 4096 streamed rows).
    latent_density_ : sklearn.mixture.GaussianMixture
        When fitted on a DataFrame with categorical columns: the density of posterior
        draws of the training rows (several per row on small tables, for about 1,000
        codes; one per row, up to 10,000 rows, on larger ones), from which :meth:`sample` draws
        codes by default (``latent="fitted"``; ex-post density estimation, see the user
        guide's "Tables").
    stream_ : RowStream
        After :meth:`partial_fit`: the rows seen, running column sums and a bounded,
        seeded sample of the rows the summaries are computed from.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen during fit, when ``X`` was a DataFrame with string columns.

    See Also
    --------
    AutoencoderTransformer : Deterministic autoencoder.
    sklearn.decomposition.PCA : The linear baseline.

    Notes
    -----
    ``score_samples`` estimates each row's ELBO in nats,
    ``E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``: the KL term is analytic and the
    expectation is averaged over 4 posterior draws per row. Each row's draws come
    from a generator keyed on the row's own values (stratified, see
    :mod:`skvae._posterior`), so the estimate is deterministic, does not depend on the
    other rows in the call, is unbiased for every row, and its errors average out over
    a data set: on MNIST test (10,000 rows) the mean was within 0.04 nats of
    1,000-draw estimates (``benchmarks/results/scores-cpu.md``).
    ``score_samples(X, bound="iwae")`` gives the tighter importance-weighted bound on
    ``log p(x)``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> X = load_digits().data / 16
    >>> vae = VAETransformer(n_components=2, reconstruction_loss="bce", max_epochs=5,
    ...                      random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (1797, 2)
    >>> vae.sample(4, random_state=0).shape
    (4, 64)
    >>> bool(vae.score(X) < 0)
    True
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "noise_variance": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_components=2, *, beta=1.0, kl_warmup="auto", noise_variance="auto",
                 hidden_layer_sizes="auto", activation="relu", reconstruction_loss="mse",
                 dropout=0.0, architecture="dense", image_shape=None, conv_channels=(32, 64),
                 kernel_size=3, noise=None, noise_level=0.1, missing_indicator=False,
                 categorical_groups=None, batch_size=128, max_epochs=100, lr=1e-3,
                 optimizer="adam", weight_decay=0.0,
                 validation_fraction=None, n_iter_no_change=None, device="auto",
                 random_state=None, verbose=0, warm_start=False, callbacks=None,
                 distributed="auto"):
        super().__init__(
            n_components, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            reconstruction_loss=reconstruction_loss, dropout=dropout,
            architecture=architecture, image_shape=image_shape, conv_channels=conv_channels,
            kernel_size=kernel_size, noise=noise, noise_level=noise_level,
            missing_indicator=missing_indicator, categorical_groups=categorical_groups,
            batch_size=batch_size,
            max_epochs=max_epochs, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            device=device, random_state=random_state, verbose=verbose,
            warm_start=warm_start, callbacks=callbacks, distributed=distributed,
        )
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.noise_variance = noise_variance

    def _check_params(self):
        if self._warmup_epochs() > self.max_epochs:
            warn_user(
                f"kl_warmup={self.kl_warmup} is longer than max_epochs={self.max_epochs}: "
                f"the KL weight only reaches {self.max_epochs / self.kl_warmup:.2f} * beta. "
                "Lower kl_warmup or raise max_epochs."
            )

    def _warmup_epochs(self, streaming=False):
        if self.kl_warmup == "auto":  # partial_fit: no epoch count to take a third of
            return 0 if streaming else self.max_epochs // 3
        return self.kl_warmup

    def _module_class(self):
        return VariationalAutoencoder

    def _criterion(self):
        return ELBOLoss(self.reconstruction_loss, beta=self.beta, groups=self.groups_,
                        noise_variance=self._fixed_noise_variance())

    def _fixed_noise_variance(self):
        """The Gaussian variance when fixed; None when fitted (the sigma-VAE)."""
        if self.noise_variance != "auto":
            return float(self.noise_variance)
        # standardised numbers beside softmax heads: squared error (variance 1/2), so the
        # numeric columns do not outweigh the categorical ones as the fit sharpens
        return TABULAR_NOISE_VARIANCE if self.groups_ else None

    def _model_callbacks(self, streaming=False):
        return [("kl_warmup", KLWarmup(beta=self.beta, epochs=self._warmup_epochs(streaming)))]

    def _encode(self, module, x):
        return module.encode(x)[0]

    def _score_rows(self, module, x, target, observed, draws):
        mu, logvar = module.encode(x)
        return draws.score(module.decode, x, mu, logvar, lambda x_hat: reconstruction_nll(
            x_hat, target, self.reconstruction_loss, self.noise_variance_, self.groups_, observed))

    _summary_rows = NOISE_VARIANCE_MAX_ROWS

    def _after_fit(self, X, seed):
        warn_on_collapse(self)
        self._fit_noise_variance(X)
        self._fit_density(X, seed)

    def _after_partial_fit(self, stream):
        self._fit_noise_variance(stream.sample)
        self._forget_density()  # fitted on first use (see skvae._density)

    def _has_density(self):
        return self.layout_ is not None

    def _density_codes(self, rows, seed):
        """Posterior draws ``mu + sigma * eps`` of ``rows``: up to 10 per row, for about
        1,000 codes on small tables (one per row on larger data)."""
        module, missing = self._eval_module(), bool(self.net_.criterion_.missing)
        posterior = map_batches(lambda x: torch.cat(module.encode(self._model_input(x, missing)),
                                                    dim=1), rows, self._device)
        mu, logvar = np.split(posterior.astype(np.float64), 2, axis=1)
        draws = int(np.clip(np.ceil(DENSITY_CODES / len(mu)), 1, 10))
        eps = check_random_state(seed).standard_normal((draws, *mu.shape))
        return (mu + np.exp(0.5 * logvar) * eps).reshape(-1, mu.shape[1])

    def _fit_noise_variance(self, X):
        self.noise_variance_ = float("nan")
        fixed = self._fixed_noise_variance()
        if self.reconstruction_loss == "mse" and fixed is not None:
            self.noise_variance_ = fixed
        elif self.reconstruction_loss == "mse":
            self.noise_variance_ = max(posterior_noise_variance(
                self, evenly_spaced_rows(X, NOISE_VARIANCE_MAX_ROWS), NOISE_VARIANCE_DRAWS),
                MIN_NOISE_VARIANCE)

    def score_samples(self, X, *, n_draws=None, bound="elbo", random_state=0):
        """Each row's evidence lower bound (ELBO) in nats: higher is better.

        ``E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``, a lower bound on the row's
        log-likelihood ``log p(x)``: the KL term is analytic, the expectation a
        Monte-Carlo average over posterior draws. Each row's draws come from a
        generator keyed on the row's values and ``random_state`` (stratified per
        latent dimension; see the user guide's "Scores"): the scores are deterministic,
        each row's does not depend on the other rows passed, and the Monte-Carlo errors
        of different rows are independent, so they average out over a data set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like the training ones.
        n_draws : int or None, default=None
            Posterior draws per row; None: 4 for the ELBO, 64 for the IWAE bound.
            Each draw costs one decoder pass.
        bound : {"elbo", "iwae"}, default="elbo"
            ``"elbo"``: the ELBO, what training maximises (with ``beta=1``) and what
            :meth:`score` (which takes these options too) reports by default.
            ``"iwae"``: the importance-weighted bound ``log mean_k p(x, z_k) / q(z_k | x)``
            over the ``n_draws`` draws (Burda et al., 2016): also a lower bound on
            ``log p(x)``, tighter than the ELBO, the tighter the more draws; the one to
            compare log-likelihoods with.
        random_state : int, RandomState instance or None, default=0
            Seed of the draws (a RandomState gives one seed per call; None a fresh one).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            One bound per row, in nats (float64).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAETransformer
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAETransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
        ...                      max_epochs=2, random_state=0).fit(X)
        >>> elbo = vae.score_samples(X)
        >>> bool((elbo < 0).all())  # a Bernoulli ELBO bounds a log-probability
        True
        >>> np.allclose(vae.score_samples(X[:5]), elbo[:5])  # deterministic per row
        True
        >>> bool((vae.score_samples(X, bound="iwae") >= elbo - 0.5).all())  # tighter
        True
        """
        return self._score_samples(X, draws=posterior_draws(
            n_draws, bound, random_state, N_ELBO_DRAWS if bound == "elbo" else N_IWAE_DRAWS))

    def sample(self, n_samples=1, random_state=None, *, mode="auto", latent="auto",
               clip=False):
        """Generate rows: codes from the prior (or the codes' density), decoded.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the codes (and, with ``mode="draw"``, the draws from the decoder).
        mode : {"auto", "mean", "draw"}, default="auto"
            ``"mean"``: the decoder's means, what the image tutorials show (pixel
            probabilities with ``reconstruction_loss="bce"``; the most probable category
            of each categorical column). ``"draw"``: rows drawn from the model, each value
            from the decoder's likelihood: categories from their softmax, numbers from
            their Gaussian (``noise_variance_``), 0/1 values from their Bernoulli. This is
            what synthetic tables need: decoder means are narrower than the data and
            never give rare categories. ``"auto"``: ``"draw"`` for a model fitted on a
            DataFrame with categorical columns, ``"mean"`` otherwise.
        latent : {"auto", "prior", "fitted"}, default="auto"
            Where the codes come from. ``"prior"``: N(0, I), the VAE's generative model.
            ``"fitted"``: ``latent_density_``, a Gaussian mixture fitted on posterior draws
            of the training rows (ex-post density estimation; see the user
            guide's "Tables"), which places the codes where the training rows'
            are: on tables, each column's missing share and categories come out at
            their training rates. Fitted for models trained on a DataFrame with
            categorical columns. ``"auto"``: ``"fitted"`` for those, ``"prior"``
            otherwise (images keep the tutorials' prior samples).
        clip : bool, default=False
            Clip each numeric column to its training range (``layout_.min_`` and
            ``layout_.max_``); for a model fitted on a DataFrame with categorical
            columns. Off by default: draws may leave the range, as the model allows
            (with the default quantile layout they decode inside it anyway).

        Returns
        -------
        X_new : ndarray of shape (n_samples, ``n_features_in_``) or DataFrame
            The rows (a DataFrame like the training one when fitted on a DataFrame with
            categorical columns).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skvae import VAETransformer
        >>> X = load_digits().data[:100] / 16
        >>> vae = VAETransformer(hidden_layer_sizes=(16,), reconstruction_loss="bce",
        ...                      max_epochs=2, random_state=0).fit(X)
        >>> X_new = vae.sample(5, random_state=0)
        >>> X_new.shape
        (5, 64)
        >>> bool(X_new.min() >= 0 and X_new.max() <= 1)  # pixel probabilities
        True
        >>> np.unique(vae.sample(5, random_state=0, mode="draw")).tolist()  # 0/1 pixels
        [0.0, 1.0]
        """
        check_is_fitted(self)
        check_scalar(n_samples, "n_samples", Integral, min_val=1)
        if mode not in ("auto", "mean", "draw"):
            raise ValueError(f"mode={mode!r} is not one of 'auto', 'mean', 'draw'. "
                             "Use 'mean' for decoder means, 'draw' for draws from the model.")
        check_sample_options(self, latent, clip)
        rng = check_random_state(random_state)
        if latent == "prior" or (latent == "auto" and self.layout_ is None):
            Z = rng.standard_normal((n_samples, self.n_components))
        else:
            Z = draw_codes(self.latent_density_, n_samples, rng)
        if mode == "mean" or (mode == "auto" and self.layout_ is None):
            return self._decode(Z, clip=clip)
        module = self._eval_module()
        x_hat = map_batches(module.decode, Z, self._device)
        x_hat = finite_output(x_hat, "decoded values", Z)
        drawn = draw_from_decoder(x_hat, self.reconstruction_loss, self.noise_variance_,
                                  self.groups_, np.random.default_rng(rng.randint(2**31)))
        return drawn if self.layout_ is None else self.layout_.inverse_transform(drawn, clip=clip)


__all__ = ["VAETransformer"]
