"""skvae inference on Spark DataFrames (``local[2]``, 2 partitions): the ``-m spark`` lane.

Skipped where pyspark or Java is missing (``pip install skvae[spark]``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skvae import AutoencoderTransformer, VAETransformer

pytestmark = [pytest.mark.spark, pytest.mark.slow]
pyspark_sql = pytest.importorskip("pyspark.sql")
pytest.importorskip("pyarrow")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)
from skvae import spark as skvae_spark  # noqa: E402  (after the skips)


@pytest.fixture(scope="module")
def spark():
    session = (pyspark_sql.SparkSession.builder.master("local[2]").appName("skvae-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500").getOrCreate())
    yield session
    session.stop()


def test_codes_and_scores_of_a_spark_dataframe_equal_in_process_results(spark):
    X = load_digits().data / 16
    columns = [f"p{i}" for i in range(X.shape[1])]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32,), max_epochs=2,
                                random_state=0).fit(X)
    frame = spark.createDataFrame([(*tuple(map(float, row)), i) for i, row in enumerate(X)],
                                  [*columns, "id"]).repartition(2)
    assert frame.rdd.getNumPartitions() == 2
    coded = skvae_spark.transform(ae, frame, columns)
    scored = skvae_spark.transform(ae, coded, columns, method="score_samples")
    rows = scored.select("id", "code", "score").toPandas().sort_values("id")
    np.testing.assert_array_equal(np.stack(rows["code"].to_numpy()), ae.transform(X))
    np.testing.assert_array_equal(rows["score"].to_numpy(), ae.score_samples(X))



def test_a_dataframe_model_reads_its_training_columns(spark):
    import pandas as pd

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.rand(300), "colour": rng.choice(["r", "g", "b"], 300)})
    vae = VAETransformer(2, hidden_layer_sizes=(16,), max_epochs=3, random_state=0).fit(frame)
    codes = skvae_spark.transform(vae, spark.createDataFrame(frame).repartition(2))
    got = codes.toPandas()
    expected = vae.transform(got[["size", "colour"]])
    np.testing.assert_array_equal(np.stack(got["code"].to_numpy()), expected)


def test_missing_columns_are_named(spark):
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_epochs=1).fit(np.eye(4))
    frame = spark.createDataFrame([(1.0, 2.0)], ["a", "b"])
    with pytest.raises(ValueError, match=r"was fitted on an array, so the input columns are "
                                         r"not known: pass columns=\[...\]"):
        skvae_spark.transform(ae, frame)
    with pytest.raises(ValueError, match=r"lacks the model's input column\(s\) \['c', 'd'\]"):
        skvae_spark.transform(ae, frame, ["a", "b", "c", "d"])
