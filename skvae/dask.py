"""Inference on Dask collections: a fitted model over a Dask array or DataFrame.

Each function maps a fitted estimator's method over the row blocks (partitions) of a
Dask collection and returns a lazy Dask collection; ``compute()`` runs the blocks on
the cluster's workers. The estimator enters the graph once (one ``dask.delayed``
key), so the scheduler sends it to each worker once, however many blocks there are.
Because skvae infers in fixed-shape chunks, a row's output does not depend on the
other rows of its block: the result equals the in-process one bit for bit, for any
chunking. Output chunks, shape and dtype are known in advance (from the model and
the input's dtype), never guessed by calling the model on a dummy row.

Why not dask-ml's ``ParallelPostFit``: it guesses output metadata by running the
method on a small array (``transform_meta`` to override), supports only
row-chunked arrays, and embeds the estimator in every task; the functions here are a
few lines over :func:`dask.array.map_blocks`-like plumbing and handle column-chunked
arrays (rechunked to whole rows) and Dask DataFrames (categorical heads). dask stays
optional (``pip install skvae[dask]``); it is imported when a function is called.

Torch threads: a ``dask.distributed`` worker started by a nanny (the default) has
``OMP_NUM_THREADS=1`` set before torch loads (Dask's ``distributed.nanny.pre-spawn-environ``),
so each worker thread computes with one torch thread and workers do not oversubscribe
the cores; give each worker one GPU with ``CUDA_VISIBLE_DEVICES`` (see the user guide's
"Scaling out" page).
"""

from __future__ import annotations

import numpy as np

from ._validation import output_dtype

__all__ = ["inverse_transform", "score_samples", "transform"]


def transform(estimator, X):
    """``estimator.transform`` over the row blocks of a Dask array or DataFrame.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator.
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Rows like the training ones. A column-chunked array is rechunked to whole rows.

    Returns
    -------
    Z : dask.array.Array of shape (n_samples, n_components), or dask.dataframe.DataFrame
        Lazy codes: for an array, one block per row block of ``X``, float32 for float32
        input and float64 otherwise; for a DataFrame, a DataFrame with the columns of
        ``get_feature_names_out()`` and ``X``'s index.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> from skvae import dask as skvae_dask
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
    ...                             random_state=0).fit(X)
    >>> Z = skvae_dask.transform(ae, da.from_array(X, chunks=(500, 64)))
    >>> Z.chunks
    ((500, 500, 500, 297), (2,))
    >>> bool((Z.compute() == ae.transform(X)).all())
    True
    """
    names = list(estimator.get_feature_names_out())
    return _map_rows(estimator, "transform", X, width=len(names), columns=names)


def score_samples(estimator, X):
    """``estimator.score_samples`` over the row blocks of a Dask array or DataFrame.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator.
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Rows like the training ones.

    Returns
    -------
    scores : dask.array.Array of shape (n_samples,) or dask.dataframe.Series
        Lazy float64 per-row scores (a Series with ``X``'s index for a DataFrame).

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> from skvae import dask as skvae_dask
    >>> X = load_digits().data / 16
    >>> vae = VAETransformer(hidden_layer_sizes=(16,), max_epochs=2, random_state=0).fit(X)
    >>> scores = skvae_dask.score_samples(vae, da.from_array(X, chunks=(600, 64)))
    >>> scores.shape, scores.dtype.name
    ((1797,), 'float64')
    >>> bool((scores.compute() == vae.score_samples(X)).all())
    True
    """
    return _map_rows(estimator, "score_samples", X, width=None, dtype=np.float64)


def inverse_transform(estimator, Z):
    """``estimator.inverse_transform`` over the row blocks of a Dask array of codes.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator, fitted on numbers (a DataFrame model decodes to DataFrames:
        call its ``inverse_transform`` on each block yourself).
    Z : dask.array.Array of shape (n_samples, n_components)
        Latent codes.

    Returns
    -------
    X_hat : dask.array.Array of shape (n_samples, ``n_features_in_``)
        Lazy decoded rows, one block per row block of ``Z``.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from skvae import AutoencoderTransformer
    >>> from skvae import dask as skvae_dask
    >>> X = load_digits().data / 16
    >>> ae = AutoencoderTransformer(hidden_layer_sizes=(16,), max_epochs=2,
    ...                             random_state=0).fit(X)
    >>> Z = da.from_array(ae.transform(X), chunks=(1000, 2))
    >>> skvae_dask.inverse_transform(ae, Z).chunks
    ((1000, 797), (64,))
    """
    if getattr(estimator, "layout_", None) is not None:
        raise TypeError(
            f"{type(estimator).__name__} was fitted on a DataFrame with categorical columns "
            "and decodes to DataFrames; skvae.dask.inverse_transform returns arrays. Use "
            "codes.map_blocks / dask.dataframe.map_partitions with estimator."
            "inverse_transform on each block instead."
        )
    return _map_rows(estimator, "inverse_transform", Z, width=estimator.n_features_in_)


def _apply(estimator, method, block):
    """One block's result (runs on a worker)."""
    return getattr(estimator, method)(block)


def _apply_frame(partition, estimator, method, columns):
    """One partition's result as a pandas object with the partition's index."""
    import pandas as pd

    result = getattr(estimator, method)(partition)
    if columns is None:
        return pd.Series(result, index=partition.index, name=method)
    return pd.DataFrame(result, index=partition.index, columns=columns)


def _map_rows(estimator, method, X, width, columns=None, dtype=None):
    """Map ``estimator.<method>`` over the row blocks of ``X`` (see the module docs)."""
    import dask
    import dask.array as da
    import pandas as pd
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    model = dask.delayed(estimator, pure=True)  # one key: sent once per worker
    if hasattr(X, "map_partitions"):  # a Dask DataFrame
        if columns is None:
            meta = pd.Series([], dtype=np.float64, name=method)
        else:
            meta = pd.DataFrame({c: pd.Series([], dtype=np.float64) for c in columns})
        return X.map_partitions(_apply_frame, model, method, columns, meta=meta)
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise TypeError(f"skvae.dask.{method} takes a 2-D dask.array.Array or a "
                        f"dask.dataframe.DataFrame; got {type(X).__name__}"
                        f"{' of ' + str(X.ndim) + ' dimensions' if hasattr(X, 'ndim') else ''}. "
                        "Wrap arrays with dask.array.from_array(X, chunks=(rows, -1)).")
    if X.numblocks[1] > 1:  # the model needs whole rows
        X = X.rechunk({1: -1})
    dtype = np.dtype(dtype) if dtype is not None else output_dtype(X)
    blocks = []
    for rows, block in zip(X.chunks[0], X.to_delayed()[:, 0], strict=True):
        shape = (rows,) if width is None else (rows, width)
        result = dask.delayed(_apply, pure=True)(model, method, block)
        blocks.append(da.from_delayed(result, shape=shape, dtype=dtype))
    return da.concatenate(blocks, axis=0)
