"""scikit-learn's estimator checks on every public estimator, with no expected failures."""

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import AutoencoderTransformer, OutlierDetector, VAETransformer

# Few epochs keep the ~50 checks per estimator fast; every check still fits and uses
# a real network. random_state makes the fit-twice checks meaningful.
ESTIMATORS = [
    AutoencoderTransformer(max_epochs=5, hidden_layer_sizes=(16,), random_state=0),
    VAETransformer(max_epochs=5, hidden_layer_sizes=(16,), random_state=0),
    OutlierDetector(AutoencoderTransformer(max_epochs=5, hidden_layer_sizes=(16,),
                                           random_state=0)),
    OutlierDetector(VAETransformer(max_epochs=5, hidden_layer_sizes=(16,), random_state=0)),
    OutlierDetector(AutoencoderTransformer(max_epochs=5, hidden_layer_sizes=(16,),
                                           random_state=0), scoring="pathway"),
]


def declared(estimator) -> dict:
    """``get_params(deep=True)``, a nested estimator by its class: the checks run on
    clones, whose nested estimators are new objects with the same parameters (which
    ``get_params`` lists as well)."""
    return {key: type(value) if isinstance(value, BaseEstimator) else value
            for key, value in estimator.get_params().items()}


#: The parameters each estimator was declared with, before any check ran.
DECLARED = {(type(e), type(e.get_params().get("estimator")), e.get_params().get("scoring")):
            declared(e) for e in ESTIMATORS}


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    # each check raises AssertionError (with scikit-learn's message) when skvae breaks it
    check(estimator)
    # and whatever it fitted or set, the parameters a user declared are still theirs
    params = estimator.get_params()
    key = (type(estimator), type(params.get("estimator")), params.get("scoring"))
    assert declared(estimator) == DECLARED[key]
