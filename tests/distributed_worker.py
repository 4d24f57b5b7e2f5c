"""One rank of a data-parallel fit, started by a launcher (see test_distributed.py).

    python -m torch.distributed.run --standalone --nproc_per_node 2 \\
        tests/distributed_worker.py SCENARIO OUT_DIR

Each rank fits the scenario's estimator with ``distributed=True`` (the process group is
initialised from the launcher's environment) and pickles what the test compares to
``OUT_DIR/rank<RANK>.pkl``: the fitted estimator, its weights and history, its
held-out score, what this rank saw (its PID and the rows of each of its batches) and
the native threads left after ``destroy_process_group``.
Run without a launcher (``RANK`` unset) it fits in one process, for the reference.
"""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import torch
from skorch.callbacks import Callback


class RowsSeen(Callback):
    """Records the rows of every training batch this process trained on."""

    def initialize(self):
        self.rows = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.rows.append(len(batch[0]))


def scenario(name):
    """The estimator and data of ``name``: (estimator, X_train, X_test)."""
    from sklearn.datasets import load_digits

    from skvae import AutoencoderTransformer, VAETransformer

    X = load_digits().data.astype(np.float32) / 16
    X_train, X_test = X[:1200], X[1200:]
    common = dict(hidden_layer_sizes=(64,), batch_size=100, random_state=0,
                  distributed=os.environ.get("RANK") is not None)
    if name == "ae":
        return AutoencoderTransformer(8, max_epochs=3, **common), X_train, X_test
    if name == "uneven":  # 1201 rows: the last batch has 1 row, rank 1's shard is empty
        return AutoencoderTransformer(8, max_epochs=2, **common), X[:1201], X_test
    if name == "warm_start":  # fitted twice (see main): the second fit continues the first
        return AutoencoderTransformer(8, max_epochs=2, warm_start=True, **common), X_train, X_test
    if name == "vae":
        seed = int(os.environ.get("SKVAE_TEST_SEED", "0"))
        est = VAETransformer(8, max_epochs=20, reconstruction_loss="bce",
                             **{**common, "random_state": seed})
        return est, X_train, X_test
    if name == "early_stopping":
        # lr 0.01: at 0.05 the rounding differences between one process and DDP's
        # all-reduced gradients grew chaotically and moved the stop by 2 epochs
        return AutoencoderTransformer(8, max_epochs=200, validation_fraction=0.2,
                                      n_iter_no_change=2, lr=0.01, **common), X_train, X_test
    if name == "diverge":
        return AutoencoderTransformer(8, max_epochs=5, lr=1e12, optimizer="sgd",
                                      **common), X_train * 1e6, X_test
    if name == "conv":
        return VAETransformer(4, architecture="conv", image_shape=(1, 8, 8),
                              conv_channels=(4, 8), max_epochs=2, **common), X_train, X_test
    if name == "frame":
        import pandas as pd
        rng = np.random.RandomState(0)
        frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                              "kind": rng.choice(["x", "y", "z"], size=300)})
        return VAETransformer(2, max_epochs=3, **common), frame[:250], frame[250:]
    raise ValueError(name)


def fingerprint(est) -> dict:
    """Everything a fitted estimator holds, as bytes that compare across processes (a
    pickle does not: it names tensor storages by their memory address)."""
    net = est.net_
    found = {f"weight {k}": v.cpu().numpy().tobytes()
             for k, v in net.module_.state_dict().items()}
    for i, state in net.optimizer_.state_dict()["state"].items():
        found.update({f"optimizer {i} {k}": v.cpu().numpy().tobytes() if torch.is_tensor(v) else v
                      for k, v in state.items()})
    found["history"] = pickle.dumps([{k: v for k, v in row.items()} for row in net.history])
    found.update({f"attribute {k}": pickle.dumps(v) for k, v in vars(est).items()
                  if k not in ("net_", "history_", "callbacks")})
    return found


def thread_names() -> list[str]:
    """The names of this process's native threads (Linux; empty elsewhere)."""
    tasks = "/proc/self/task"
    if not os.path.isdir(tasks):
        return []
    names = []
    for task in os.listdir(tasks):
        try:
            with open(os.path.join(tasks, task, "comm")) as f:
                names.append(f.read().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return names


def main(name, out_dir):
    from distributed_worker import RowsSeen  # by module name, so the test can unpickle it

    torch.set_num_threads(1)  # two ranks on two cores
    est, X_train, X_test = scenario(name)
    seen = RowsSeen()
    est.set_params(callbacks=[("rows_seen", seen)])
    result = {"pid": os.getpid(), "rank": int(os.environ.get("RANK", 0))}
    try:
        if name == "warm_start":
            est.fit(X_train)
        est.fit(X_train)
    except Exception as exc:  # the test checks which error each rank raised
        result["error"] = f"{type(exc).__name__}: {exc}"
    else:
        result.update(
            estimator=pickle.dumps(est),
            fingerprint=fingerprint(est),
            ddp_left=("_ddp" in vars(est.net_), est.net_.world_),
            weights={k: v.cpu().clone() for k, v in est.net_.module_.state_dict().items()},
            train_loss=list(est.history_[:, "train_loss"]),
            n_iter=est.n_iter_,
            rows=dict(est.net_.callbacks_)["rows_seen"].rows,
            score=float(est.score(X_test)),
        )
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
        result["threads_after_destroy"] = thread_names()
    rank = result["rank"]
    with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
