"""Property-based fuzzing of the estimators' input handling (hypothesis).

Generated arrays (float/int/bool dtypes, shapes down to 1 x 1, NaN patterns, +-inf,
values beyond float32, tiny and constant columns, sparse matrices) and DataFrames
(numeric, nullable and categorical columns, odd column names, unseen categories).
Every call must either succeed with finite output of the right shape, or raise a
``ValueError`` / ``TypeError`` whose message is one skvae (or scikit-learn) writes to
name the problem; and a failed call must never change a fitted model.

Bounded for CI: ``derandomize=True`` (the same cases every run), no deadline (fits vary),
about 600 cases in all (see ``MAX_EXAMPLES``), under a minute on 2 cores.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from skvae import AutoencoderTransformer, VAETransformer  # noqa: E402

TINY = dict(hidden_layer_sizes=(4,), max_epochs=1, batch_size=64, random_state=0, device="cpu")
#: Cases per test (their sum is the suite's size).
MAX_EXAMPLES = {"fit": 150, "transform": 200, "frame_fit": 120, "frame_transform": 150}
#: What a clear error says: each message must contain one of these.
KNOWN_PROBLEMS = (
    "beyond float32's range", "minimum of 2 is required", "Found array with 0",
    "duplicate column names", "dates or durations", "no observed value", "needs numeric data",
    "needs every value in [0, 1]", "holds only missing values", "mixes value types",
    "features, but", "Feature names", "is missing the column", "was numeric during fit",
    "was fitted on a DataFrame", "Expected 2D array", "X has", "feature names",
    "0 feature(s)", "training diverged", "overflow float32 inside the network",
)


def fuzz(name):
    return settings(max_examples=MAX_EXAMPLES[name], deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 1e39, -1e39, 1e-300, 0.0, 1.0, 3e38])
FLOATS = st.one_of(st.floats(-1e3, 1e3, allow_nan=False, width=32), SPECIAL)


@st.composite
def arrays(draw, n_features=None, min_rows=1):
    """A numeric array or sparse matrix with awkward values."""
    rows = draw(st.integers(min_rows, 30))
    cols = n_features or draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
    if kind in ("float64", "float32"):
        X = draw(hnp.arrays(np.float64, (rows, cols), elements=FLOATS))
        if draw(st.booleans()):  # mostly plain data with a few awkward cells
            X = np.where(np.isfinite(X) & (np.abs(X) < 1e30), X, 0.5)
            cells = draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)),
                                  max_size=3))
            for i, j in cells:
                X[i, j] = draw(SPECIAL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # float32 overflow is a case
            X = X.astype(kind)
    elif kind == "int64":
        X = draw(hnp.arrays(np.int64, (rows, cols), elements=st.integers(-1000, 1000)))
    else:
        X = draw(hnp.arrays(np.bool_, (rows, cols)))
    if draw(st.integers(0, 4)) == 0:  # sometimes a constant column
        X[:, 0] = X[0, 0]
    if draw(st.integers(0, 3)) == 0:
        X = sp.csr_matrix(X) if kind != "bool" else sp.csr_matrix(X.astype(np.float64))
    return X


def check_outputs(est, X):
    """Each inference method on ``X``: finite output of the right shape, or a clear error."""
    n = X.shape[0]
    Z = call(est.transform, X)
    if Z is not None:
        assert Z.shape == (n, est.n_components) and np.isfinite(Z).all()
        back = est.inverse_transform(Z)
        assert back.shape[0] == n
        if isinstance(back, np.ndarray):
            assert np.isfinite(back).all()
    scores = call(est.score_samples, X)
    if scores is not None:
        assert scores.shape == (n,) and np.isfinite(scores).all()


def call(method, *args):
    """``method(*args)``, or None after an error that names the problem."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return method(*args)
    except (ValueError, TypeError) as exc:  # TrainingDivergedError is a ValueError
        message = str(exc)
        assert any(problem in message for problem in KNOWN_PROBLEMS), \
            f"unexpected message: {type(exc).__name__}: {message}"
        return None


def snapshot(est):
    """The fitted state that matters: every weight (as bytes) and the fitted attributes."""
    weights = {k: v.detach().cpu().numpy().tobytes()
               for k, v in est.net_.module_.state_dict().items()}
    return weights, sorted(est.__dict__), est.n_iter_


@fuzz("fit")
@given(X=arrays(), vae=st.booleans(), loss=st.sampled_from(["mse", "bce"]),
       n_components=st.integers(1, 3))
def test_fit_succeeds_with_finite_outputs_or_says_why(X, vae, loss, n_components):
    Estimator = VAETransformer if vae else AutoencoderTransformer
    est = call(Estimator(n_components, reconstruction_loss=loss, **TINY).fit, X)
    event("fitted" if est is not None else "refused with a clear error")
    if est is not None:
        assert est.n_features_in_ == X.shape[1]
        check_outputs(est, X)
        assert np.isfinite(est.sample(2, random_state=0)).all()


@pytest.fixture(scope="module")
def fitted():
    X = np.random.RandomState(0).rand(40, 4)
    models = [AutoencoderTransformer(2, **TINY).fit(X), VAETransformer(2, **TINY).fit(X)]
    return X, models, [m.transform(X) for m in models]


@fuzz("transform")
@given(data=st.data())
def test_inference_on_any_input_never_changes_the_model(fitted, data):
    X_ref, models, codes = fitted
    n_features = data.draw(st.sampled_from([4, 4, 4, 3, 5]))
    X = data.draw(arrays(n_features=n_features))
    for est, Z_ref in zip(models, codes, strict=True):
        before = snapshot(est)
        check_outputs(est, X)
        assert snapshot(est) == before
        np.testing.assert_array_equal(est.transform(X_ref), Z_ref)
        if data.draw(st.integers(0, 4)) == 0:  # a refit on X: fails cleanly or trains
            copy_ = copy.deepcopy(est)
            if call(copy_.fit, X) is None:
                assert snapshot(copy_) == before
                np.testing.assert_array_equal(copy_.transform(X_ref), Z_ref)


NAMES = st.sampled_from(["size", "a b", "ünïcode", "", "0", "x=1", "None", "size "])


@st.composite
def frames(draw, min_rows=1):
    """A DataFrame of numeric, nullable and categorical columns with gaps."""
    rows = draw(st.integers(min_rows, 25))
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["float", "Int64", "text", "category", "bool"]))
        if kind == "float":
            values = draw(hnp.arrays(np.float64, rows, elements=FLOATS))
        elif kind == "Int64":
            values = pd.array(draw(st.lists(st.one_of(st.none(), st.integers(-50, 50)),
                                            min_size=rows, max_size=rows)), dtype="Int64")
        elif kind == "bool":
            values = draw(hnp.arrays(np.bool_, rows))
        else:
            values = draw(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
                                   min_size=rows, max_size=rows))
            values = pd.Categorical(values) if kind == "category" else np.array(values, object)
        columns[name] = values
    return pd.DataFrame(columns)


@fuzz("frame_fit")
@given(X=frames(), vae=st.booleans())
def test_frames_fit_with_finite_outputs_or_say_why(X, vae):
    Estimator = VAETransformer if vae else AutoencoderTransformer
    est = call(Estimator(2, **TINY).fit, X)
    event("fitted" if est is not None else "refused with a clear error")
    if est is not None:
        check_outputs(est, X)
        sample = est.sample(3, random_state=0)
        assert len(sample) == 3


@pytest.fixture(scope="module")
def fitted_frame():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"size": rng.rand(40) * 100, "zone": rng.choice(["a", "b"], 40),
                      "rooms": pd.array(rng.randint(1, 5, 40), dtype="Int64")})
    est = VAETransformer(2, **TINY).fit(X)
    return X, est, est.transform(X)


@fuzz("frame_transform")
@given(data=st.data())
def test_frame_inference_with_unseen_values_never_changes_the_model(fitted_frame, data):
    X_ref, est, Z_ref = fitted_frame
    rows = data.draw(st.integers(1, 10))
    X = pd.DataFrame({
        "size": data.draw(hnp.arrays(np.float64, rows, elements=FLOATS)),
        "zone": data.draw(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "new", ""])),
                                   min_size=rows, max_size=rows)),
        "rooms": pd.array(data.draw(st.lists(st.one_of(st.none(), st.integers(-9, 9)),
                                             min_size=rows, max_size=rows)), dtype="Int64"),
    })
    if data.draw(st.booleans()):
        X = X.drop(columns=data.draw(st.sampled_from(["size", "zone"])))
    if data.draw(st.integers(0, 4)) == 0:
        X = X.to_numpy()
    before = snapshot(est)
    check_outputs(est, X)
    assert snapshot(est) == before
    np.testing.assert_array_equal(est.transform(X_ref), Z_ref)
