"""VAETransformer: held-out ELBO, novelty ranking, KL warm-up, the ELBO estimator."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

from skvae import VAETransformer


@pytest.fixture(scope="module")
def fitted_vae(digits_split):
    # documented defaults plus only max_epochs and batch_size
    return VAETransformer(max_epochs=100, batch_size=128, random_state=0).fit(digits_split[0])


def test_training_improves_held_out_elbo(fitted_vae, digits_split):
    X_train, X_test = digits_split[:2]
    one_epoch = VAETransformer(max_epochs=1, batch_size=128, random_state=0).fit(X_train)
    assert fitted_vae.score(X_test) > one_epoch.score(X_test) + 5.0


def test_score_samples_ranks_noise_below_digits(fitted_vae, digits_split):
    X_test = digits_split[1]
    noise = np.random.RandomState(0).uniform(size=X_test.shape)
    scores = np.r_[fitted_vae.score_samples(X_test), fitted_vae.score_samples(noise)]
    labels = np.r_[np.ones(len(X_test)), np.zeros(len(noise))]
    assert roc_auc_score(labels, scores) >= 0.95


def test_posterior_does_not_collapse(fitted_vae):
    # the learned Gaussian variance keeps reconstruction and KL balanced on [0, 1] data
    assert fitted_vae.history_[-1, "train_kl"] > 2.0
    assert 0 < fitted_vae.noise_variance_ < 0.1


def test_history_has_each_dimensions_kl_and_defaults_do_not_warn(digits_split):
    import warnings

    from skvae.exceptions import PosteriorCollapseWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        vae = VAETransformer(max_epochs=30, batch_size=128, random_state=0).fit(digits_split[0])
    kl_dims = vae.history_[-1, "train_kl_dims"]
    assert len(kl_dims) == 2 and min(kl_dims) > 0.5  # both dimensions in use
    assert sum(kl_dims) == pytest.approx(vae.history_[-1, "train_kl"], rel=1e-4)


def test_kl_per_dimension_measures_held_out_rows(digits_split):
    from skvae import AutoencoderTransformer
    from skvae.metrics import kl_per_dimension

    X_train, X_test = digits_split[:2]
    vae = VAETransformer(3, max_epochs=20, random_state=0).fit(X_train)
    kl = kl_per_dimension(vae, X_test)
    assert kl.shape == (3,) and (kl >= 0).all()
    # summed, the KL term of the ELBO: score = -(recon + KL) rows by rows
    assert kl.sum() == pytest.approx(np.mean(vae.history_[-1, "train_kl_dims"]) * 3, rel=0.2)
    ae = AutoencoderTransformer(3, max_epochs=1, random_state=0).fit(X_train)
    with pytest.raises(TypeError, match="needs a fitted VAETransformer; got Autoencoder"):
        kl_per_dimension(ae, X_test)


def test_collapsed_dimensions_are_named_in_a_warning(digits_split):
    from skvae.exceptions import PosteriorCollapseWarning

    # a KL weight of 200 outweighs what any code could tell the decoder
    with pytest.warns(PosteriorCollapseWarning,
                      match=r"every latent dimension carried almost no information.*lower beta"):
        vae = VAETransformer(3, beta=200.0, max_epochs=5, batch_size=128,
                             random_state=0).fit(digits_split[0])
    assert max(vae.history_[-1, "train_kl_dims"]) < 0.01
    np.testing.assert_allclose(vae.transform(digits_split[1]), 0.0, atol=0.1)


def test_score_is_a_deterministic_row_independent_elbo(fitted_vae, digits_split):
    X_test = digits_split[1]
    scores = fitted_vae.score_samples(X_test)
    np.testing.assert_array_equal(scores, fitted_vae.score_samples(X_test))
    np.testing.assert_array_equal(scores[5:9], fitted_vae.score_samples(X_test[5:9]))
    assert fitted_vae.score(X_test) == pytest.approx(scores.mean())


def test_monte_carlo_errors_of_rows_average_out(fitted_vae, digits_split):
    # each row has its own draws: the mean over n rows moves ~ 1/sqrt(n) as much as a
    # row does between seeds (shared draws moved every row the same way)
    X_test = digits_split[1]
    by_seed = np.array([fitted_vae.score_samples(X_test, random_state=seed)
                        for seed in range(8)])
    row_spread = by_seed.std(axis=0, ddof=1).mean()
    mean_spread = by_seed.mean(axis=1).std(ddof=1)
    assert mean_spread < 3 * row_spread / np.sqrt(len(X_test))
    many = fitted_vae.score(X_test, n_draws=256)
    assert abs(by_seed.mean(axis=1) - many).max() < 4 * row_spread / np.sqrt(len(X_test))


def test_iwae_bound_is_tighter_and_grows_with_draws(fitted_vae, digits_split):
    X_test = digits_split[1]
    elbo = fitted_vae.score(X_test, n_draws=64)
    iwae = [fitted_vae.score(X_test, bound="iwae", n_draws=k) for k in (4, 64)]
    assert elbo < iwae[0] < iwae[1]  # a Gaussian density: nats may be positive
    np.testing.assert_allclose(fitted_vae.score_samples(X_test[:7], bound="iwae")[:3],
                               fitted_vae.score_samples(X_test[:3], bound="iwae"), rtol=1e-6)


@pytest.mark.parametrize("options, match", [
    ({"bound": "nll"}, r"bound='nll' is not one of 'elbo', 'iwae'. Use 'elbo'"),
    ({"n_draws": 0}, r"n_draws == 0, must be >= 1"),
    ({"n_draws": 2.5}, r"n_draws must be an instance of int"),
])
def test_score_options_are_checked(fitted_vae, digits_split, options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fitted_vae.score_samples(digits_split[1], **options)
    with pytest.raises((ValueError, TypeError), match=match):
        fitted_vae.score(digits_split[1], **options)


def test_score_matches_the_training_objective(fitted_vae, digits_split):
    # the last epoch's (recon + KL) at beta=1 is a noisy estimate of the training ELBO
    X_train = digits_split[0]
    last = fitted_vae.history_[-1]
    assert -fitted_vae.score(X_train) == pytest.approx(last["train_recon"] + last["train_kl"],
                                                      abs=3.0)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_sample_decodes_prior_draws(digits_split, loss):
    vae = VAETransformer(reconstruction_loss=loss, max_epochs=5, random_state=0)
    vae.fit(digits_split[0])
    samples = vae.sample(100, random_state=0)
    assert samples.shape == (100, 64)
    np.testing.assert_array_equal(samples, vae.sample(100, random_state=0))
    Z = np.random.RandomState(0).standard_normal((100, 2))
    np.testing.assert_allclose(samples, vae.inverse_transform(Z), rtol=1e-6)
    np.testing.assert_array_equal(samples, vae.sample(100, random_state=0, mode="mean"))
    drawn = vae.sample(100, random_state=0, mode="draw")  # from the likelihood
    if loss == "bce":
        assert samples.min() >= 0 and samples.max() <= 1
        assert set(np.unique(drawn)) == {0.0, 1.0}
        assert abs(drawn.mean() - samples.mean()) < 0.03  # Bernoulli draws of the means
    else:
        residual = drawn - samples
        assert residual.var() == pytest.approx(vae.noise_variance_, rel=0.1)


def test_kl_warmup_ramps_the_kl_weight(small_X):
    vae = VAETransformer(beta=0.5, kl_warmup=4, max_epochs=6, random_state=0).fit(small_X)
    np.testing.assert_allclose(vae.history_[:, "kl_weight"], [0.125, 0.25, 0.375, 0.5, 0.5, 0.5])


def test_kl_warmup_longer_than_training_warns(small_X):
    with pytest.warns(UserWarning, match=r"kl_warmup=10 is longer than max_epochs=3"):
        VAETransformer(kl_warmup=10, max_epochs=3).fit(small_X)


def test_beta_zero_trains_without_kl_pressure(small_X):
    vae = VAETransformer(beta=0.0, max_epochs=30, random_state=0).fit(small_X)
    history = vae.history_
    np.testing.assert_allclose(history[:, "train_loss"], history[:, "train_recon"], rtol=1e-5)
    assert history[-1, "train_kl"] > history[0, "train_kl"]


@pytest.mark.parametrize("noise_variance, groups, expected", [
    (0.25, None, 0.25),  # fixed by the user
    ("auto", [[2, 3]], 0.5),  # beside categorical heads: squared error
])
def test_noise_variance_fixed_or_fitted(noise_variance, groups, expected):
    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(size=(80, 2)), np.eye(2)[rng.randint(0, 2, 80)]]
    vae = VAETransformer(noise_variance=noise_variance, categorical_groups=groups,
                         hidden_layer_sizes=(8,), max_epochs=3, random_state=0).fit(X)
    assert vae.noise_variance_ == expected
    assert vae.net_.criterion_.noise_variance == expected


def test_noise_variance_must_be_positive(digits_split):
    with pytest.raises(InvalidParameterError, match=r"'noise_variance' parameter .* "
                                                    r"must be a str among \{'auto'\} or a float"):
        VAETransformer(noise_variance=0.0).fit(digits_split[0])


def test_parameter_warnings_point_at_the_callers_line(small_X):
    with pytest.warns(UserWarning, match="kl_warmup=10") as record:
        VAETransformer(kl_warmup=10, max_epochs=1).fit(small_X)
    assert record[0].filename == __file__  # not a line inside skvae or scikit-learn
