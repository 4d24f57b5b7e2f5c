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

from ._data import BatchIterator, HoldoutSplit
from .callbacks import EpochProgress
from .exceptions import TrainingDivergedError
from .losses import decoder_mean

__all__ = ["OPTIMIZERS", "AutoencoderNet", "build_net", "interrupted_message", "resolve_device",
           "run_training", "set_missing_values", "stop_on_interrupt"]

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
    (and ``valid_loss``), ``train_recon`` / ``train_kl`` (and ``valid_*``),
    ``<prefix>_batch_count``, ``dur``, and ``kl_weight`` for the VAE.

    Parameters are those of :class:`skorch.NeuralNet`.
    """

    #: Set by :func:`stop_on_interrupt` when Ctrl-C arrives during training.
    stop_requested_ = False
    #: What the encoder sees for a missing entry, per feature (see
    #: :func:`set_missing_values`); training applies it when the criterion is masked.
    input_fill_ = None

    def initialize(self):
        """Initialise as skorch does, plus the per-epoch sums of the loss terms."""
        super().initialize()
        self._term_sums = {}
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Decide once per fit whether batch losses are read back batch by batch."""
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._read_each_batch = any(type(cb).on_batch_end is not Callback.on_batch_end
                                    for _, cb in self.callbacks_)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Start a history row (skorch) and empty the running sums of the loss terms."""
        super().on_epoch_begin(net, dataset_train=dataset_train,
                               dataset_valid=dataset_valid, **kwargs)
        self._term_sums = {}

    def infer(self, x, **fit_params):
        """The module's output for ``x``, whose missing (NaN) entries the encoder sees as
        ``input_fill_`` when the training data has missing values (else no check)."""
        if self.criterion_.missing:
            x = torch.where(torch.isnan(x), self.fill_on(x.device), x)
        return super().infer(x, **fit_params)

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
        """Tensor-slice batches of ``dataset`` (shuffled when training)."""
        return BatchIterator(dataset, self.batch_size, shuffle=training, device=self.device)

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
        for key, values in terms.items():
            sums[key] = sums.get(key, 0) + values.detach().sum()
        return self.criterion_.combine(terms, training=training)

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
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0]))
            self.history.record_batch(prefix + "_batch_size", sizes[-1])
            if self._read_each_batch:
                self.history.record_batch(prefix + "_loss", losses[-1].item())
            self.notify("on_batch_end", batch=batch, training=training, **step)
            if self.stop_requested_:  # Ctrl-C arrived: stop between steps (skorch ends the fit)
                raise KeyboardInterrupt
        self._record_epoch(prefix, losses, sizes)

    def _record_epoch(self, prefix, losses, sizes):
        sums = self._term_sums.pop(prefix, {})
        keys = list(sums)
        # the epoch's only device -> host transfer (no device tensor outlives it, so a
        # pickled net loads without CUDA)
        values = torch.stack(losses + [sums[k] for k in keys]).tolist()
        batch_rows = self.history[-1]["batches"][-len(losses):]
        for row, loss in zip(batch_rows, values, strict=False):
            row[prefix + "_loss"] = loss
        self.history.record(prefix + "_batch_count", len(losses))
        n_rows = sum(sizes)
        for key, total in zip(keys, values[len(losses):], strict=True):
            self.history.record(f"{prefix}_{key}", total / n_rows)
        epoch_loss = sum(v * s for v, s in zip(values, sizes, strict=False)) / n_rows
        if not math.isfinite(epoch_loss):
            raise TrainingDivergedError(
                f"The {prefix} loss became {epoch_loss} in epoch {len(self.history)}: "
                "training diverged. Lower `lr`, scale the input features "
                "(e.g. StandardScaler or MinMaxScaler), or lower `beta`."
            )


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


def build_net(estimator, *, module_params, n_features, device, valid_index) -> AutoencoderNet:
    """The skorch net of ``estimator`` (an unfitted, uninitialised :class:`AutoencoderNet`).

    ``module_params`` are the module's checked keyword arguments; ``valid_index`` the
    held-out rows (None: no validation split).
    """
    callbacks = training_callbacks(estimator, validation=valid_index is not None)
    return AutoencoderNet(
        module=estimator._module_class(),
        module__n_features=n_features,
        module__n_components=estimator.n_components,
        **{f"module__{key}": value for key, value in module_params.items()},
        criterion=estimator._criterion(),
        optimizer=OPTIMIZERS.get(estimator.optimizer, estimator.optimizer),
        optimizer__weight_decay=estimator.weight_decay,
        lr=estimator.lr,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        train_split=None if valid_index is None else HoldoutSplit(valid_index),
        callbacks=callbacks,
        device=device,
        # skorch prints its epoch table when its own verbose is set: only at verbose>=2
        verbose=int(estimator.verbose >= 2),
    )


def training_callbacks(estimator, validation: bool) -> list:
    """The model's own callbacks, copies of the user's (checked), progress and early stopping."""
    for position, callback in enumerate(estimator.callbacks or []):
        _check_callback(callback, position)
    user = copy.deepcopy(estimator.callbacks or [])
    for position, callback in enumerate(user):
        _check_needs_validation(callback, position, validation)
    callbacks = estimator._model_callbacks() + user
    if estimator.verbose == 1:
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
