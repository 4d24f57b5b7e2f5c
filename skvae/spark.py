"""Inference on Spark DataFrames: embed or score rows with a fitted model, on the executors.

:func:`transform` adds a column computed by a fitted estimator to a Spark DataFrame,
with :meth:`pyspark.sql.DataFrame.mapInPandas` (Arrow batches as pandas DataFrames):

* the estimator is pickled once into a Spark broadcast variable, and each Python
  worker unpickles it once (cached by broadcast id; Spark reuses Python workers by
  default), not once per batch;
* each Python worker pins torch to ``threads`` threads before the first batch, so
  executors running several tasks do not oversubscribe their cores;
* rows are passed as they are: a model fitted on a DataFrame with categorical columns
  gets its training columns as a pandas DataFrame, a numeric model an array of
  ``columns``. skvae's fixed-shape inference makes each row's output independent of
  Spark's batching, so results equal the in-process ones bit for bit.

The executors need skvae (and torch) installed. pyspark stays optional
(``pip install skvae[spark]``, with Java); it is imported when :func:`transform` runs.
"""

from __future__ import annotations

import pickle
import uuid

import numpy as np

__all__ = ["transform"]

#: Unpickled models of this Python worker, by a key made with the broadcast (loaded
#: once per worker).
_MODELS: dict = {}


def transform(estimator, frame, columns=None, *, method="transform", output_col=None,
              threads=1):
    """A Spark DataFrame with one more column: ``estimator.<method>`` of each row.

    Parameters
    ----------
    estimator : AutoencoderTransformer or VAETransformer
        A fitted estimator.
    frame : pyspark.sql.DataFrame
        Rows holding the model's input columns (and anything else, passed through).
    columns : list of str, default=None
        The input columns, in the order the model was fitted on; default: the
        estimator's ``feature_names_in_`` (fitted on a DataFrame).
    method : {"transform", "score_samples"}, default="transform"
        ``"transform"`` adds the codes as an ``array<double>`` column, ``"score_samples"``
        the per-row score as a ``double`` column.
    output_col : str, default=None
        Name of the new column (default: ``"code"`` or ``"score"``).
    threads : int, default=1
        Torch threads per Python worker.

    Returns
    -------
    pyspark.sql.DataFrame
        ``frame``'s columns plus ``output_col`` (lazy, like every Spark transformation).

    Examples
    --------
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from skvae import spark as skvae_spark
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> frame = spark.read.parquet("pixels.parquet")  # doctest: +SKIP
    >>> coded = skvae_spark.transform(ae, frame, pixel_columns)  # doctest: +SKIP
    >>> coded.select("id", "code").write.parquet("codes.parquet")  # doctest: +SKIP
    """
    from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    if method not in ("transform", "score_samples"):
        raise ValueError(f"method={method!r} is not supported: use 'transform' (codes) or "
                         "'score_samples' (per-row scores).")
    if columns is None:
        if not hasattr(estimator, "feature_names_in_"):
            raise ValueError(
                f"{type(estimator).__name__} was fitted on an array, so the input columns "
                "are not known: pass columns=[...] (the Spark columns, in training order).")
        columns = [str(c) for c in estimator.feature_names_in_]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"The Spark DataFrame lacks the model's input column(s) {missing}; "
                         f"it has {frame.columns}.")
    output_col = output_col or ("code" if method == "transform" else "score")
    as_frame = getattr(estimator, "layout_", None) is not None
    broadcast = frame.sparkSession.sparkContext.broadcast(pickle.dumps(estimator))
    key = uuid.uuid4().hex  # names this broadcast in the workers' caches
    out_type = ArrayType(DoubleType()) if method == "transform" else DoubleType()
    schema = StructType([*frame.schema.fields, StructField(output_col, out_type)])

    def embed(batches):
        model = _model(key, broadcast, threads)
        for batch in batches:
            X = batch[columns] if as_frame else batch[columns].to_numpy(dtype=np.float64)
            result = getattr(model, method)(X).astype(np.float64, copy=False)
            batch[output_col] = list(result) if result.ndim == 2 else result
            yield batch

    return frame.mapInPandas(embed, schema)


def _model(key, broadcast, threads):
    """This Python worker's copy of the broadcast model (unpickled on first use)."""
    if key not in _MODELS:
        import torch

        torch.set_num_threads(threads)
        _MODELS[key] = pickle.loads(broadcast.value)
    return _MODELS[key]
