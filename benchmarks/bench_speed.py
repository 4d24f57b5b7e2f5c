"""Training and inference speed of skvae against a hand-written PyTorch loop and plain skorch.

In one run, side by side, for the MLP autoencoder and VAE (784-256-128-2, Adam,
lr 1e-3) on MNIST-sized data (60000 x 784; the real MNIST training images when
``SKVAE_DATA_HOME`` holds ``mnist.npz``, else uniform noise), at each batch size:

(a) ``skvae``: ``AutoencoderTransformer`` / ``VAETransformer`` with that batch size;
(b) ``hand``: a hand-written loop over the same module, loss, optimizer, batch size
    and device -- data as one tensor on the device, ``randperm`` slices, the loss
    accumulated on the device and read once per epoch;
(c) ``skorch``: a plain ``skorch.NeuralNet`` with its default data path (``Dataset``
    + ``DataLoader``), same module, loss and optimizer.

The three are interleaved and repeated; each run reports the median epoch time
over epochs 2..N, and the table gives the median over repeats and the ratios to
the hand loop. All three start from the same seed, so (a) and (b) should also
reach the same test loss (reported). Inference: skvae ``transform`` on 60000 rows
against a raw ``module.encode`` loop over 1024-row chunks.

    python benchmarks/bench_speed.py [--epochs 4] [--repeats 3] [--batch-sizes 128 512]

Writes ``benchmarks/results/speed-<device>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from _report import environment, write
from skorch import NeuralNet

from skvae import AutoencoderTransformer, VAETransformer
from skvae._base import resolve_device
from skvae.losses import ELBOLoss, ReconstructionLoss
from skvae.modules import Autoencoder, VariationalAutoencoder

MODELS = {
    "AE": (AutoencoderTransformer, Autoencoder, lambda: ReconstructionLoss("mse")),
    "VAE": (VAETransformer, VariationalAutoencoder, lambda: ELBOLoss("mse")),
}
SIZES = dict(n_components=2, hidden_layer_sizes=(256, 128))
LR = 1e-3


def load_data():
    path = Path(os.environ.get("SKVAE_DATA_HOME", "")) / "mnist.npz"
    if path.is_file():
        with np.load(path) as d:
            X, X_test = d["x_train"], d["x_test"]
        return ("MNIST", X.reshape(len(X), -1).astype(np.float32) / 255,
                X_test.reshape(len(X_test), -1).astype(np.float32) / 255)
    rng = np.random.RandomState(0)
    return ("uniform noise", rng.rand(60000, 784).astype(np.float32),
            rng.rand(10000, 784).astype(np.float32))


def torch_seed(random_state: int) -> int:
    """The torch seed skvae derives from ``random_state`` (see ``_base._fit``)."""
    return int(np.random.RandomState(random_state).randint(np.iinfo(np.int32).max))


def test_loss(module, criterion, X_test, device):
    """Mean per-row training criterion on held-out rows, evaluated in one pass."""
    module.eval()
    with torch.inference_mode():
        torch.manual_seed(0)
        x = torch.as_tensor(X_test, device=device)
        return float(criterion(module(x), x))


def run_hand(model, X, X_test, batch_size, epochs, device, seed):
    _, module_cls, make_criterion = MODELS[model]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(seed))
        module = module_cls(X.shape[1], **SIZES).to(device)
        criterion = make_criterion()
        optimizer = torch.optim.Adam(module.parameters(), lr=LR)
        data = torch.as_tensor(X, device=device)
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            module.train()
            total = torch.zeros((), device=device)
            order = torch.randperm(len(data), device=device)
            for i in range(0, len(data), batch_size):
                xb = data[order[i:i + batch_size]]
                optimizer.zero_grad()
                loss = criterion(module(xb), xb)
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(xb)
            total.item()  # the epoch's one sync
            times.append(time.perf_counter() - start)
    return times, test_loss(module, criterion, X_test, device)


def run_skvae(model, X, X_test, batch_size, epochs, device, seed):
    est_cls, _, make_criterion = MODELS[model]
    est = est_cls(**SIZES, batch_size=batch_size, max_epochs=epochs, lr=LR, device=device,
                  random_state=seed).fit(X)
    return list(est.history_[:, "dur"]), test_loss(est.net_.module_, make_criterion(),
                                                   X_test, device)


def run_skorch(model, X, X_test, batch_size, epochs, device, seed):
    _, module_cls, make_criterion = MODELS[model]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(seed))
        net = NeuralNet(module_cls, module__n_features=X.shape[1],
                        **{f"module__{k}": v for k, v in SIZES.items()},
                        criterion=make_criterion(), optimizer=torch.optim.Adam, lr=LR,
                        batch_size=batch_size, max_epochs=epochs, train_split=None,
                        iterator_train__shuffle=True, device=device, verbose=0)
        net.fit(X, X)
    return list(net.history[:, "dur"]), test_loss(net.module_, make_criterion(), X_test, device)


RUNNERS = {"hand": run_hand, "skvae": run_skvae, "skorch": run_skorch}


def bench_training(X, X_test, args, device):
    rows = []
    for model in MODELS:
        for batch_size in args.batch_sizes:
            epoch_s = {name: [] for name in RUNNERS}
            losses = {name: [] for name in RUNNERS}
            for repeat in range(args.repeats):  # interleaved: hand, skvae, skorch, hand, ...
                for name, runner in RUNNERS.items():
                    times, loss = runner(model, X, X_test, batch_size, args.epochs, device, repeat)
                    epoch_s[name].append(statistics.median(times[1:]))
                    losses[name].append(loss)
            med = {name: statistics.median(v) for name, v in epoch_s.items()}
            row = {"model": model, "batch_size": batch_size,
                   **{f"{n}_epoch_s": med[n] for n in RUNNERS},
                   "skvae_over_hand": med["skvae"] / med["hand"],
                   "skorch_over_hand": med["skorch"] / med["hand"],
                   "skvae_samples_per_s": len(X) / med["skvae"],
                   "hand_samples_per_s": len(X) / med["hand"],
                   **{f"{n}_test_loss": statistics.median(losses[n]) for n in RUNNERS},
                   "test_loss_rel_diff": abs(statistics.median(losses["skvae"])
                                             / statistics.median(losses["hand"]) - 1)}
            print(row, flush=True)
            rows.append(row)
    return rows


def bench_transform(X, args, device):
    est = AutoencoderTransformer(**SIZES, max_epochs=1, device=device, random_state=0).fit(X[:2048])
    module = est.net_.module_

    def raw():
        with torch.inference_mode():
            data = torch.from_numpy(X)
            out = [module.encode(data[i:i + 1024].to(device)) for i in range(0, len(data), 1024)]
            return torch.cat(out).cpu().numpy()

    times = {"skvae": [], "raw": []}
    for _ in range(args.repeats * 3):
        for name, fn in (("raw", raw), ("skvae", lambda: est.transform(X))):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    row = {"model": "AE transform", "rows": len(X), "skvae_s": med["skvae"], "raw_s": med["raw"],
           "skvae_over_raw": med["skvae"] / med["raw"], "skvae_rows_per_s": len(X) / med["skvae"]}
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = str(resolve_device(args.device))
    name, X, X_test = load_data()
    transform_row = bench_transform(X, args, device)
    rows = bench_training(X, X_test, args, device)
    notes = (f"Data: {name} {X.shape}. Median epoch time over epochs 2..{args.epochs}, median "
             f"over {args.repeats} interleaved repeats. Test loss: the training criterion on "
             f"{len(X_test)} held-out rows after {args.epochs} epochs (VAE: one posterior draw).\n\n"
             f"Transform: {transform_row}")
    print(write(f"speed-{device}", environment(device), rows, notes).read_text())


if __name__ == "__main__":
    main()
