"""The markdown of ``skvae compare``'s report."""

import numpy as np
import pandas as pd

from skvae.report import format_table


def test_format_table_is_markdown_with_dashes_for_missing_values():
    table = pd.DataFrame({
        "method": ["PCA", "t-SNE"], "n_components": [2, 2], "fit_s": [0.00123, 4.56],
        "transform_s": [0.0001, np.nan], "test_mse": [0.053175, np.nan],
        "trustworthiness": [0.81872, 0.98331], "knn_accuracy": [0.61667, 0.98333],
        "note": ["", "no transform()"],
    })
    lines = format_table(table).splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["method", "dims", "fit s", "transform s", "test MSE",
                      "trustworthiness", "5-NN accuracy", "note"]
    assert set(lines[1]) <= set("|:-")
    pca = [cell.strip() for cell in lines[2].strip("|").split("|")]
    tsne = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert pca[:7] == ["PCA", "2", "0.0012", "0.0001", "0.0532", "0.8187", "0.6167"]
    assert tsne[:7] == ["t-SNE", "2", "4.6", "-", "-", "0.9833", "0.9833"]
