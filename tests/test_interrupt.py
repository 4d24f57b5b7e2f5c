"""Ctrl-C during ``fit``: a real SIGINT to a real process.

The documented behaviour: training stops at the end of the current step, the model is
fitted with the epochs done so far (``interrupted_`` is True, ``history_`` and
``n_iter_`` count complete epochs), a warning names how many epochs ran, and the
interrupted fit replaces an earlier one (warned). A second Ctrl-C stops at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from skvae import AutoencoderTransformer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent("""
    import json, signal, sys, warnings
    # as an interactive Python has it: a runner started in the background (e.g.
    # `cmd &` without job control) passes SIGINT on ignored, and skvae respects that
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    from skorch.callbacks import Callback
    from skvae import {estimator}

    class Announce(Callback):
        def on_epoch_end(self, net, **kwargs):
            print("epoch", len(net.history), flush=True)

    X = np.random.RandomState(0).rand(4000, 64).astype("float32")
    est = {estimator}(hidden_layer_sizes=(256, 256), batch_size=32, max_epochs=1000,
                      random_state=0, callbacks=[Announce()], warm_start={warm_start})
    first = None
    if {refit}:
        est.set_params(max_epochs=1).fit(X[:500])  # a complete earlier fit
        first = est.transform(X[:5]).tolist()
        est.set_params(max_epochs=1000)
    print("training", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    Z = est.transform(X[:100])
    print(json.dumps({{
        "interrupted": est.interrupted_, "n_iter": est.n_iter_,
        "history_rows": len(est.history_), "last_row_keys": sorted(est.history_[-1]),
        "warnings": [str(w.message) for w in caught],
        "finite": bool(np.isfinite(Z).all()), "shape": list(Z.shape),
        "first": first, "now": est.transform(X[:5]).tolist(),
        "score": float(est.score(X[:100])),
    }}), flush=True)
""")


def interrupt_child(estimator="AutoencoderTransformer", refit=False, warm_start=False,
                    epochs_before=2):
    """Run the child, SIGINT it after ``epochs_before`` epochs, return its JSON report."""
    code = CHILD.format(estimator=estimator, refit=refit, warm_start=warm_start)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    try:
        epochs_seen = 0
        for line in proc.stdout:
            epochs_seen += line.startswith("epoch")
            if line.startswith("training"):
                epochs_seen = 0  # count the epochs of the fit that is interrupted
            if epochs_seen >= epochs_before:
                break
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        elapsed = time.perf_counter() - sent
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    report["seconds_to_finish"] = elapsed
    return report


@pytest.mark.slow
def test_sigint_during_fit_keeps_a_usable_model_and_says_so():
    report = interrupt_child()
    print(f"SIGINT to exit: {report['seconds_to_finish']:.2f} s")
    assert report["interrupted"] is True
    assert report["n_iter"] == report["history_rows"] >= 2
    assert "dur" in report["last_row_keys"] and "train_loss" in report["last_row_keys"]
    (message,) = [w for w in report["warnings"] if "interrupted" in w]
    assert f"after {report['n_iter']} complete epoch(s) of 1000" in message
    assert report["finite"] and report["shape"] == [100, 2]
    assert np.isfinite(report["score"])
    assert report["seconds_to_finish"] < 30  # one step and the remaining work, not 1000 epochs


@pytest.mark.slow
def test_an_interrupted_refit_replaces_the_earlier_fit():
    report = interrupt_child("VAETransformer", refit=True)
    assert report["interrupted"] is True
    assert any("replaces any earlier fit" in w for w in report["warnings"])
    assert report["now"] != report["first"]  # the new, interrupted model is the one kept


@pytest.mark.slow
def test_an_interrupted_warm_start_continues_the_same_model():
    report = interrupt_child(refit=True, warm_start=True)
    assert report["interrupted"] is True
    # warm start: the 1-epoch fit plus the complete epochs of the interrupted one
    assert report["n_iter"] >= 3


def test_a_completed_fit_says_it_was_not_interrupted(small_X):
    est = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    assert est.fit(small_X).interrupted_ is False
    assert est.n_iter_ == 2


def test_training_leaves_the_sigint_handler_as_it_was(small_X):
    before = signal.getsignal(signal.SIGINT)
    AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=1, random_state=0).fit(small_X)
    assert signal.getsignal(signal.SIGINT) is before


def test_the_stop_request_ends_training_between_steps(small_X):
    """In-process: a callback requests the stop as the handler would (no signal)."""
    from skorch.callbacks import Callback

    class CtrlC(Callback):
        def on_batch_end(self, net, **kwargs):
            if len(net.history) == 2 and len(net.history[-1]["batches"]) == 3:
                net.stop_requested_ = True

    with pytest.warns(UserWarning, match=r"interrupted \(Ctrl-C\) after 1 complete epoch"):
        est = AutoencoderTransformer(hidden_layer_sizes=(8,), max_epochs=5, batch_size=16,
                                     random_state=0, callbacks=[CtrlC()]).fit(small_X)
    assert est.interrupted_ and est.n_iter_ == 1
    assert torch.isfinite(torch.as_tensor(est.transform(small_X))).all()
