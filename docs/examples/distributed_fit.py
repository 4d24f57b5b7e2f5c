"""
Data-parallel training with a launcher (torchrun, accelerate)
=============================================================

The same ``fit`` on several processes: every process runs this script with the same
``X``; ``distributed=True`` starts :mod:`torch.distributed` from the launcher's
environment (gloo on CPUs, NCCL on GPUs) and each global batch of ``batch_size`` rows
is split across the processes. All processes end with the same model; rank 0 saves it.
Run it with one of::

    torchrun --standalone --nproc_per_node 2 distributed_fit.py OUT_DIR
    accelerate launch --cpu --num_processes 2 distributed_fit.py OUT_DIR
    python distributed_fit.py OUT_DIR          # one process, for comparison

(not run when the docs are built: it needs a launcher). ``OUT_DIR`` receives
``model.skvae`` and ``summary.json`` (rank, processes, per-epoch loss, held-out score).
"""

import json
import os
import sys

import torch
from sklearn.datasets import load_digits

from skvae import AutoencoderTransformer
from skvae.persistence import save_model

out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
torch.set_num_threads(1)  # one core per process on a small machine
distributed = "RANK" in os.environ  # started by a launcher?

X = load_digits().data / 16
ae = AutoencoderTransformer(8, hidden_layer_sizes=(64,), batch_size=100, max_epochs=5,
                            random_state=0, distributed=distributed)
ae.fit(X[:1500])

rank = torch.distributed.get_rank() if distributed else 0
if rank == 0:  # every rank holds the same model: save it once
    os.makedirs(out_dir, exist_ok=True)
    save_model(ae, os.path.join(out_dir, "model.skvae"))
    summary = {"processes": torch.distributed.get_world_size() if distributed else 1,
               "train_loss": list(ae.history_[:, "train_loss"]),
               "held_out_score": float(ae.score(X[1500:]))}
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(summary)
if distributed:
    torch.distributed.destroy_process_group()
