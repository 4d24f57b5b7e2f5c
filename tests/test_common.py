"""scikit-learn's estimator checks on every public estimator, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skvae import AutoencoderTransformer, VAETransformer

# Few epochs keep the ~50 checks per estimator fast; every check still fits and uses
# a real network. random_state makes the fit-twice checks meaningful.
ESTIMATORS = [
    AutoencoderTransformer(max_epochs=5, hidden_layer_sizes=(16,), random_state=0),
    VAETransformer(max_epochs=5, hidden_layer_sizes=(16,), random_state=0),
]
#: The parameters each estimator was declared with, before any check ran.
DECLARED = {type(estimator): estimator.get_params() for estimator in ESTIMATORS}


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    # each check raises AssertionError (with scikit-learn's message) when skvae breaks it
    check(estimator)
    # and whatever it fitted or set, the parameters a user declared are still theirs
    assert estimator.get_params() == DECLARED[type(estimator)]
