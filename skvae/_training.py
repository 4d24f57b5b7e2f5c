"""How an estimator is trained: ``fit`` (from scratch, or warm) and ``partial_fit``
(one pass over a chunk).

Each function validates the rows (:mod:`skvae._validation`), finds the training
device and process group (:mod:`skvae.distributed`), builds or copies the skorch net
(:func:`skvae._net.build_net`), trains it (:func:`skvae._net.train_net`) and sets the
estimator's fitted attributes. :func:`keep_on_failure` wraps both, so that a failed
or interrupted-by-error call leaves a fitted model as it was.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
from sklearn.utils import check_random_state

from . import _validation
from ._net import build_net, interrupted_message, resolve_device, set_missing_values, train_net
from ._stream import RowStream, call_seed
from .distributed import on_rank_zero, resolve_world, training_device
from .exceptions import TrainingInterruptedWarning


def keep_on_failure(estimator, train, X):
    """Run ``train(estimator, X)``; if it fails, leave ``estimator`` as it was before."""
    saved = estimator.__dict__.copy()
    try:
        train(estimator, X)
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise
    return estimator


@contextlib.contextmanager
def restored_on_failure(net):
    """Continue training ``net`` in place; if the block fails, put ``net`` back as it was.

    What is kept aside is what training changes: the state dicts of the modules,
    criteria and optimisers (a copy of the weights and the optimiser's moments, not of
    the whole net: a deep copy of the net per ``partial_fit`` call cost ~30 MB of peak
    memory on MNIST), the callbacks, the history's length and the fill values. None: a
    new net, which a failure simply discards (see :func:`keep_on_failure`).
    """
    if net is None:
        yield
        return
    names = [name + "_" for name in (*net._modules, *net._criteria, *net._optimizers)]
    states = {name: copy.deepcopy(getattr(net, name).state_dict()) for name in names}
    callbacks, history = copy.deepcopy(net.callbacks_), net.history
    epochs, fill, missing = len(history), net.input_fill_, net.criterion_.missing
    try:
        yield
    except BaseException:
        for name, state in states.items():
            getattr(net, name).load_state_dict(state)
        del history[epochs:]
        net.history, net.callbacks_ = history, callbacks
        net.input_fill_, net.criterion_.missing = fill, missing
        net.__dict__.pop("_fill_cache", None)
        raise


def fit(estimator, X) -> None:
    """Train ``estimator`` on ``X`` for ``max_epochs`` (continuing with ``warm_start``)."""
    warm = estimator.warm_start and hasattr(estimator, "net_")
    estimator.__dict__.pop("stream_", None)  # fit's summaries come from fit's rows
    if warm:  # the layout and groups of the first fit
        X = _validation.validate_rows(estimator, X)
    else:
        X, estimator.layout_, estimator.groups_ = _validation.validate_training_rows(
            estimator, X)
    missing, module_params = _check_data(estimator, X, continuing=warm)
    if not warm:
        estimator.fill_values_ = _validation.column_means(X, missing)
    device, world = _training_device(estimator)
    rng = check_random_state(estimator.random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    valid_index = _validation.validation_rows(estimator.validation_fraction, X.shape[0], rng)
    if world is not None:  # rank 0's draws, also with random_state=None
        seed, valid_index = world.broadcast((seed, valid_index))
    if warm:
        net = estimator.net_
    else:
        net = build_net(estimator, module_params=module_params, n_features=X.shape[1],
                        device=device, valid_index=valid_index,
                        quiet=world is not None and world.rank > 0)
    with restored_on_failure(net if warm else None):
        set_missing_values(net, estimator.fill_values_, missing)
        _train(estimator, net, X, device, seed, epochs=estimator.max_epochs if warm else None,
               world=world)
    on_rank_zero(world, estimator, lambda: estimator._after_fit(X, seed))


def partial_fit(estimator, X) -> None:
    """Train ``estimator`` one pass over the chunk ``X`` (building it on the first call)
    and update its :class:`~skvae._stream.RowStream` and summaries."""
    _validation.check_streamable(estimator)
    continuing = hasattr(estimator, "net_")
    if continuing:
        X = _validation.validate_rows(estimator, X)
    else:
        X, estimator.layout_, estimator.groups_ = _validation.validate_training_rows(
            estimator, X)
    missing, module_params = _check_data(estimator, X, continuing=continuing)
    device, world = _training_device(estimator)
    stream = estimator.__dict__.get("stream_") or RowStream(
        X.shape[1], estimator._summary_rows, owns_fill_values=not continuing)
    seed = call_seed(estimator.random_state, stream.calls)
    if world is not None:
        seed = world.broadcast(seed)
    stream = stream.updated(X, seed)  # a new stream: a failed call keeps the old one
    if stream.owns_fill_values:
        estimator.fill_values_ = stream.fill_values()
    net = estimator.net_ if continuing else build_net(
        estimator, module_params=module_params, n_features=X.shape[1], device=device,
        valid_index=None, quiet=world is not None and world.rank > 0, streaming=True)
    with restored_on_failure(net if continuing else None):
        set_missing_values(net, estimator.fill_values_, missing)
        _train(estimator, net, X, device, seed, epochs=1, world=world)
    estimator.stream_ = stream
    on_rank_zero(world, estimator, lambda: estimator._after_partial_fit(stream))


def _check_data(estimator, X, continuing: bool):
    """The data checks of a fit: ``(has missing values, checked module parameters)``."""
    missing = _validation.check_values(X)
    _validation.check_unit_range(X, estimator.reconstruction_loss, estimator.groups_)
    _validation.check_code_width(estimator, X.shape[1])
    module_params = _validation.module_params(estimator, X.shape[1])
    if continuing:
        _validation.check_same_architecture(estimator, module_params)
    estimator._check_params()
    return missing, module_params


def _training_device(estimator):
    """``(device, world)``: where this process trains, and its process group (None:
    this process alone)."""
    device = resolve_device(estimator.device)
    world = resolve_world(estimator.distributed, device)
    return training_device(device, world), world


def _train(estimator, net, X, device, seed, epochs=None, world=None) -> None:
    """Train ``net`` on ``X`` (see :func:`skvae._net.train_net`); keep it as ``net_``."""
    before = len(getattr(net, "history", None) or [])  # continuing: count on
    estimator.interrupted_ = train_net(net, X, device, seed, epochs, world)
    net.module_.eval()
    estimator.net_ = net
    estimator.history_ = net.history
    # a loaded model has no history: its n_iter_ counts the epochs before the load
    earlier = getattr(estimator, "n_iter_", 0) if epochs is not None else 0
    estimator.n_iter_ = earlier + len(net.history) - before
    if estimator.interrupted_:
        _validation.warn_user(interrupted_message(estimator, epochs or estimator.max_epochs),
                              TrainingInterruptedWarning)
