"""The private skorch net that trains skvae's modules, and its assembly from the estimators.

:class:`AutoencoderNet` overrides only skorch's small hooks (``get_iterator``,
``train_step_single``, ``get_loss``, ``run_single_epoch``, ``on_epoch_begin``);
``fit``, ``partial_fit`` and ``fit_loop`` stay skorch's, so callbacks, history and
checkpointing work as skorch users expect. :func:`build_net` turns the estimators'
scikit-learn parameters into one: optimizer, device, callbacks, early stopping.
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import threading

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping

from ._data import (
    RELEASE_EVERY_BATCHES,
    BatchIterator,
    HoldoutSplit,
    RowDataset,
    release_freed_memory,
    training_tensor,
)
from .callbacks import EpochProgress
from .exceptions import TrainingDivergedError
from .likelihoods import encoder_input, output_of_mean
from .losses import decoder_mean

__all__ = ["OPTIMIZERS", "AutoencoderNet", "build_net", "interrupted_message", "resolve_device",
           "run_training", "set_missing_values", "stop_on_interrupt", "train_net"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


class AutoencoderNet(NeuralNet):
    """A skorch ``NeuralNet`` whose target is its input, with skvae's fast data path.

    The estimators build one at ``fit`` (their ``net_``); it is not meant to be
    built by hand. Differences from a plain ``NeuralNet``:

    * batches come from :class:`skvae._data.BatchIterator` (tensor slices of data
      already on the device) as ``(X_batch, X_batch)``; the train mode is set once
      per epoch, not per step; each step still goes through :meth:`infer`;
    * the criterion reports per-row terms (``recon``, and ``kl`` for the VAE) whose
      epoch means are recorded as ``train_recon``, ``train_kl``, ...;
    * a non-finite epoch loss raises :class:`~skvae.TrainingDivergedError`;
    * :meth:`predict_proba` (and so ``predict``) returns decoder means (probabilities
      for ``"bce"``), so scikit-learn scorers such as ``"neg_mean_squared_error"``
      in an ``EpochScoring`` callback measure the reconstruction.

    What callbacks see. Per batch: ``on_batch_begin(net, batch, training)`` and
    ``on_batch_end(net, batch, training, loss, y_pred)`` with ``batch == (X, X)``,
    ``loss`` the batch's scalar loss tensor and ``y_pred`` the module's output tuple;
    the history's batch row holds ``<prefix>_batch_size`` and ``<prefix>_loss``
    (``prefix`` is ``train`` or ``valid``). skorch reads each batch loss back to the
    host right away (``.item()``, a device sync per batch); this net does so only
    when a callback has an ``on_batch_end`` hook (e.g. skorch's ``ProgressBar``),
    and otherwise keeps the losses on the device and fills the batch rows in one
    transfer at the end of the epoch. Per epoch, by ``on_epoch_end``: ``train_loss``
    (and ``valid_loss``), ``train_recon`` / ``train_kl`` (and ``valid_*``), the VAE's
    ``train_kl_dims`` (a list: the mean KL of each latent dimension, nats),
    ``<prefix>_batch_count``, ``dur``, and ``kl_weight`` for the VAE.

    Parameters are those of :class:`skorch.NeuralNet`.
    """

    #: Set by :func:`stop_on_interrupt` when Ctrl-C arrives during training.
    stop_requested_ = False
    #: What the encoder sees for a missing entry, per feature (see
    #: :func:`set_missing_values`); training applies it when the criterion is masked.
    input_fill_ = None
    #: The process group of a data-parallel fit (:class:`skvae.distributed.World`), set
    #: by the estimator for the length of its training; None in one process.
    world_ = None
    #: The module wrapped in ``DistributedDataParallel`` while a data-parallel fit runs
    #: (dropped by :func:`train_net` when training ends, however it ends).
    _ddp = None

    def initialize(self):
        """Initialise as skorch does, plus the per-epoch sums of the loss terms."""
        super().initialize()
        self._term_sums = {}
        return self

    def initialize_module(self):
        """Build the module as skorch does, then centre its encoder's input on the training
        data's mean row and start its decoder there (``input_fill_``, the column means;
        see :meth:`skvae.modules.Autoencoder.init_from_mean`)."""
        super().initialize_module()
        if self.input_fill_ is not None:
            criterion = self.criterion
            self.module_.init_from_mean(self.input_fill_, output_of_mean(
                self.input_fill_, criterion.kind, criterion.groups))
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Decide once per fit whether batch losses are read back batch by batch; in a
        data-parallel fit, wrap the module in ``DistributedDataParallel``."""
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._read_each_batch = any(type(cb).on_batch_end is not Callback.on_batch_end
                                    for _, cb in self.callbacks_)
        if self.world_ is not None:
            device = torch.device(self.device)
            # not a skorch-managed module (skorch guards setting those outside initialize)
            self.__dict__["_ddp"] = torch.nn.parallel.DistributedDataParallel(
                self.module_, device_ids=[device.index] if device.type == "cuda" else None)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Start a history row (skorch) and empty the running sums of the loss terms."""
        super().on_epoch_begin(net, dataset_train=dataset_train,
                               dataset_valid=dataset_valid, **kwargs)
        self._term_sums = {}

    def infer(self, x, **fit_params):
        """The module's output for ``x``, whose missing (NaN) entries the encoder sees as
        :meth:`encoder_input` says (no check when the training data has none)."""
        x = self.encoder_input(x, self.criterion_.missing)
        if self._ddp is not None and self.module_.training:  # gradients averaged by DDP
            return self._ddp(x, **fit_params)
        return super().infer(x, **fit_params)

    def encoder_input(self, x, missing=True) -> torch.Tensor:
        """The encoder's input for rows ``x`` (see :func:`skvae.likelihoods.encoder_input`):
        gaps filled with ``input_fill_``, or 0 and the mask with a missing indicator.
        ``missing=False`` promises ``x`` has no NaN (the fast path)."""
        return encoder_input(x, self.fill_on(x.device) if missing else None, missing,
                             self.module_.missing_indicator)

    def fill_on(self, device) -> torch.Tensor:
        """``input_fill_`` as a tensor on ``device``, made once (a cache pickle leaves out:
        a CUDA tensor outside skorch's device handling would not load without CUDA)."""
        cached = self.__dict__.get("_fill_cache")
        if cached is None or cached.device != device:
            cached = torch.as_tensor(self.input_fill_, device=device)
            self.__dict__["_fill_cache"] = cached
        return cached

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_fill_cache", None)
        return state

    def get_iterator(self, dataset, training=False):
        """Tensor-slice batches of ``dataset`` (shuffled when training; this rank's shards
        in a data-parallel fit).

        The shuffling generator is seeded from torch's RNG, in the same state on every
        rank here; then ranks other than 0 reseed torch's RNG with their rank, so their
        dropout, input noise and posterior draws differ from rank 0's (which match one
        process's).
        """
        generator = None
        if training:
            seed = int(torch.randint(2**62, (1,)))
            generator = torch.Generator(device=dataset.X.device).manual_seed(seed)
            if self.world_ is not None and self.world_.rank > 0:
                torch.manual_seed(seed + self.world_.rank)
        return BatchIterator(dataset, self.batch_size, shuffle=training, device=self.device,
                             generator=generator, world=self.world_)

    def train_step_single(self, batch, **fit_params):
        """One training step; skorch's, minus the per-step mode switch and conversion."""
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion's batch loss; adds its per-row terms to on-device running sums."""
        terms = self.criterion_.terms(y_pred, y_true)
        sums = self._term_sums.setdefault("train" if training else "valid", {})
        for key, values in terms.items():  # per-row terms, or per row and dimension
            sums[key] = sums.get(key, 0) + values.detach().sum(dim=0)
        if self.world_ is None:
            return self.criterion_.combine(terms, training=training)
        # DDP averages the ranks' gradients: weigh this shard's mean by its share of the
        # global batch (times the world size) so the average is the global batch mean's
        rows = len(y_true)
        if rows == 0:  # an empty shard still joins DDP's gradient all-reduce, with zeros
            return y_pred[0].sum() * 0.0
        share = rows * self.world_.size / self._global_batch_rows
        return self.criterion_.combine(terms, training=training) * share

    def predict_proba(self, X):
        """Decoder means of ``X``'s reconstructions (probabilities for ``"bce"``)."""
        # kept on the device batch by batch (skorch's default moves each to the CPU)
        outputs = [decoder_mean(y_pred[0], self.criterion_.kind, self.criterion_.groups)
                   for y_pred in self.forward_iter(X, training=False, device=self.device)]
        return torch.cat(outputs).detach().cpu().numpy()  # cached training outputs need grad

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one train or validation pass; read its losses back once (see the class doc)."""
        if iterator is None:
            return
        self._set_training(training)
        losses, sizes = [], []
        global_sizes = iterator.global_sizes() if self.world_ is not None else None
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            if global_sizes is not None:  # rows of the global batch (see get_loss)
                self._global_batch_rows = global_sizes[len(sizes)]
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0]) if global_sizes is None else self._global_batch_rows)
            self.history.record_batch(prefix + "_batch_size", sizes[-1])
            if self._read_each_batch:
                self.history.record_batch(prefix + "_loss", losses[-1].item())
            self.notify("on_batch_end", batch=batch, training=training, **step)
            if len(sizes) % RELEASE_EVERY_BATCHES == 0:
                release_freed_memory()  # peak memory must not grow with an epoch's rows
            if self.stop_requested_ and self.world_ is None:
                raise KeyboardInterrupt  # Ctrl-C arrived: stop between steps (skorch ends the fit)
        self._record_epoch(prefix, losses, sizes)

    def _record_epoch(self, prefix, losses, sizes):
        sums = self._term_sums.pop(prefix, {})
        keys = list(sums)
        widths = [sums[k].numel() for k in keys]  # 1, or n_components for ``kl_dims``
        values = torch.cat([torch.stack(losses)] + [sums[k].reshape(-1) for k in keys])
        if self.world_ is not None:  # one all-reduce per epoch: every rank records the same
            flag = torch.tensor([float(self.stop_requested_)], device=values.device)
            values = self.world_.sum(torch.cat([values, flag]))
            values[:len(losses)] /= self.world_.size  # the global batch means
            self.stop_requested_, values = bool(values[-1] > 0), values[:-1]
        # the epoch's only device -> host transfer (no device tensor outlives it, so a
        # pickled net loads without CUDA)
        values = values.tolist()
        batch_rows = self.history[-1]["batches"][-len(losses):]
        for row, loss in zip(batch_rows, values, strict=False):
            row[prefix + "_loss"] = loss
        self.history.record(prefix + "_batch_count", len(losses))
        n_rows = sum(sizes)
        start = len(losses)
        for key, width in zip(keys, widths, strict=True):
            means = [total / n_rows for total in values[start:start + width]]
            start += width
            self.history.record(f"{prefix}_{key}", means if sums[key].dim() else means[0])
        epoch_loss = sum(v * s for v, s in zip(values, sizes, strict=False)) / n_rows
        if not math.isfinite(epoch_loss):
            raise TrainingDivergedError(
                f"The {prefix} loss became {epoch_loss} in epoch {len(self.history)}: "
                "training diverged. Lower `lr`, scale the input features "
                "(e.g. StandardScaler or MinMaxScaler), or lower `beta`."
            )
        if self.stop_requested_ and self.world_ is not None:
            raise KeyboardInterrupt  # Ctrl-C on some rank: all stop at this epoch's end


@contextlib.contextmanager
def stop_on_interrupt(net: AutoencoderNet):
    """Turn Ctrl-C (SIGINT) during training into a stop at the end of the current step.

    The first SIGINT sets ``net.stop_requested_``; the net finishes the step it is in
    and ends training (skorch's ``fit`` treats the ``KeyboardInterrupt`` it then
    raises as the end of training and runs its ``on_train_end`` callbacks, e.g.
    ``EarlyStopping`` restoring the best weights). A second SIGINT stops at once.
    Only where Python delivers signals (the main thread) and where SIGINT has a
    Python handler that is not "ignore": elsewhere nothing changes.
    """
    net.stop_requested_ = False
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread()
            or previous in (None, signal.SIG_IGN)):
        yield
        return

    def request_stop(signum, frame):
        if net.stop_requested_:
            raise KeyboardInterrupt
        net.stop_requested_ = True

    signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def set_missing_values(net: AutoencoderNet, fill_values, missing: bool) -> None:
    """Give ``net`` each feature's fill for a missing encoder input (``fill_values``), and
    say whether the training data has missing values (``missing``).

    With missing values the criterion leaves NaN entries out of the loss and training
    fills the encoder's input; without, both keep the fast path (no masks). A warm
    start keeps the masked loss once it was needed.
    """
    criterion = net.criterion_ if net.initialized_ else net.criterion
    criterion.missing = missing or (net.initialized_ and criterion.missing)
    net.input_fill_ = np.asarray(fill_values, np.float32)
    net.__dict__.pop("_fill_cache", None)


def run_training(net: AutoencoderNet, dataset, epochs=None) -> bool:
    """Train ``net`` on ``dataset``; return whether Ctrl-C stopped it early.

    ``epochs=None`` initialises and trains from scratch (skorch's ``fit``); a number
    continues for that many epochs (``partial_fit``). After an interrupt the history
    keeps only complete epochs (rows an interrupt cut short lack ``dur``).
    """
    with stop_on_interrupt(net):
        if epochs is None:
            net.fit(dataset)
        else:
            net.partial_fit(dataset, epochs=epochs)
    while net.stop_requested_ and net.history and "dur" not in net.history[-1]:
        del net.history[-1]
    if not all(torch.isfinite(p).all() for p in net.module_.parameters()):
        raise TrainingDivergedError(
            "The network's weights became non-finite in training (its last steps overflowed "
            "float32): training diverged. Lower `lr`, scale the input features (e.g. "
            "StandardScaler or MinMaxScaler), or lower `beta`."
        )
    return net.stop_requested_


def train_net(net: AutoencoderNet, X, device, seed, epochs=None, world=None) -> bool:
    """Train ``net`` on the rows ``X`` under a forked torch RNG seeded with ``seed``;
    return whether Ctrl-C stopped it early (see :func:`run_training`).

    With a process group (``world``, see :mod:`skvae.distributed`) the training is
    data-parallel; afterwards the net is a plain single-process one again, with rank
    0's history (epoch durations included) on every rank.
    """
    dataset = RowDataset(training_tensor(X, device))
    cuda = [device.index or 0] if device.type == "cuda" else []
    net.world_ = world
    try:
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            interrupted = run_training(net, dataset, epochs)
    finally:
        net.world_ = None
        net.__dict__.pop("_ddp", None)
        release_freed_memory()  # also between partial_fit calls shorter than 100 batches
    if world is not None:
        net.history = world.broadcast(net.history)
    return interrupted


def interrupted_message(estimator, epochs: int) -> str:
    """The warning of a ``fit`` that Ctrl-C stopped (see :func:`stop_on_interrupt`)."""
    return (f"Training was interrupted (Ctrl-C) after {estimator.n_iter_} complete epoch(s) "
            f"of {epochs}. {type(estimator).__name__} is fitted with the weights of the "
            "last complete step (it replaces any earlier fit); history_ and n_iter_ count "
            "the complete epochs and interrupted_ is True. Call fit again to train from "
            "scratch, or set warm_start=True to continue.")


def resolve_device(device) -> torch.device:
    """Turn the ``device`` parameter into a usable :class:`torch.device`.

    ``"auto"`` is CUDA when available, else the CPU. A CUDA device that is not
    there is an error rather than a silent fall-back.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows ({exc}). "
            "Use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    backend = getattr(torch.backends, resolved.type, None) or getattr(torch, resolved.type, None)
    if resolved.type not in ("cpu", "cuda") and not (
            hasattr(backend, "is_available") and backend.is_available()):
        raise ValueError(
            f"device={device!r} was requested but torch has no usable {resolved.type!r} "
            f"backend on this machine (torch.backends.{resolved.type}.is_available() is not "
            "True). Use device='auto' (CUDA when available, else the CPU) or device='cpu'."
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this machine "
            "(torch.cuda.is_available() is False). Use device='auto' to train on the GPU "
            "when there is one and on the CPU otherwise, or device='cpu'."
        )
    return resolved


def build_net(estimator, *, module_params, n_features, device, valid_index,
              quiet=False, streaming=False) -> AutoencoderNet:
    """The skorch net of ``estimator`` (an unfitted, uninitialised :class:`AutoencoderNet`).

    ``module_params`` are the module's checked keyword arguments; ``valid_index`` the
    held-out rows (None: no validation split); ``quiet`` silences progress and printing
    (ranks other than 0 of a data-parallel fit); ``streaming`` says the net is for
    ``partial_fit`` (no epoch count: no automatic KL warm-up).
    """
    callbacks = training_callbacks(estimator, validation=valid_index is not None, quiet=quiet,
                                   streaming=streaming)
    return AutoencoderNet(
        module=estimator._module_class(),
        module__n_features=n_features,
        module__n_components=estimator.n_components,
        **{f"module__{key}": value for key, value in module_params.items()},
        criterion=estimator._criterion(),
        optimizer=OPTIMIZERS.get(estimator.optimizer, estimator.optimizer),
        optimizer__weight_decay=estimator.weight_decay,
        # torch's multi-tensor update; its default on CUDA only. On CPU it took a 100-epoch
        # fit of 258 penguins from 1.9-2.6 s to 1.7-1.9 s (benchmarks/README.md)
        **({"optimizer__foreach": True} if estimator.optimizer in OPTIMIZERS else {}),
        lr=estimator.lr,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        train_split=None if valid_index is None else HoldoutSplit(valid_index),
        callbacks=callbacks,
        device=device,
        # skorch prints its epoch table when its own verbose is set: only at verbose>=2
        verbose=int(estimator.verbose >= 2 and not quiet),
    )


def training_callbacks(estimator, validation: bool, quiet: bool = False,
                       streaming: bool = False) -> list:
    """The model's own callbacks, copies of the user's (checked), progress and early stopping."""
    for position, callback in enumerate(estimator.callbacks or []):
        _check_callback(callback, position)
    user = copy.deepcopy(estimator.callbacks or [])
    for position, callback in enumerate(user):
        _check_needs_validation(callback, position, validation)
    callbacks = estimator._model_callbacks(streaming) + user
    if estimator.verbose == 1 and not quiet:
        callbacks.append(EpochProgress(desc=type(estimator).__name__))
    if estimator.n_iter_no_change is not None:
        monitor = "valid_loss" if validation else "train_loss"
        callbacks.append(
            EarlyStopping(monitor=monitor, patience=estimator.n_iter_no_change, load_best=True)
        )
    return callbacks


def _check_callback(callback, position):
    """What skorch accepts: a Callback (instance or class), or a (name, Callback) pair."""
    named = isinstance(callback, tuple) and len(callback) == 2 and isinstance(callback[0], str)
    item = callback[1] if named else callback
    if not (isinstance(item, Callback) or (isinstance(item, type) and issubclass(item, Callback))):
        raise TypeError(
            f"callbacks[{position}] is {callback!r} ({type(callback).__name__}), not a skorch "
            "callback. Pass instances of skorch.callbacks.Callback, e.g. "
            "callbacks=[EpochScoring('neg_mean_squared_error')], or (name, callback) pairs."
        )


def _check_needs_validation(callback, position, validation):
    """A callback that reads validation scores cannot work without a validation split."""
    if validation:
        return
    callback = callback[1] if isinstance(callback, tuple) else callback
    monitor = getattr(callback, "monitor", None)
    reads = f"{monitor!r}" if isinstance(monitor, str) and monitor.startswith("valid_") else None
    if reads is None and getattr(callback, "on_train", True) is False:
        reads = "the validation rows (on_train=False)"
    if reads is not None:
        raise ValueError(
            f"callbacks[{position}] ({type(callback).__name__}) reads {reads}, but "
            "nothing is held out for validation (validation_fraction=None). Set "
            "validation_fraction (e.g. 0.1), or make the callback use the training "
            "rows (e.g. monitor='train_loss', or on_train=True for EpochScoring)."
        )
