"""KL warm-up schedule."""

import pytest

from skvae.callbacks import KLWarmup


@pytest.mark.parametrize("epochs, expected", [
    (0, [2.0, 2.0, 2.0]),
    (2, [1.0, 2.0, 2.0]),
    (4, [0.5, 1.0, 1.5]),
])
def test_linear_ramp_reaches_beta_after_the_warmup(epochs, expected):
    assert [KLWarmup(beta=2.0, epochs=epochs).weight(e) for e in (1, 2, 3)] == expected
