"""Training and inference speed of skvae against a hand-written PyTorch loop and plain skorch.

For the MLP autoencoder and VAE (784-256-128-2, Adam, lr 1e-3) on MNIST-sized data
(60000 x 784: the real MNIST training images when ``SKVAE_DATA_HOME`` holds
``mnist.npz``, else uniform noise), at each batch size, three trainers share the
module class, loss, optimizer, batch size and device:

(a) ``skvae``: the estimator's own skorch net and batched data path;
(b) ``hand``: a hand-written loop -- data as one tensor on the device, ``randperm``
    slices, the loss accumulated on the device and read once per epoch;
(c) ``skorch``: a plain ``skorch.NeuralNet`` with its default data path
    (``Dataset`` + ``DataLoader``).

Epoch timing: the three are interleaved *epoch by epoch* (a, b, c, a, b, c, ...), so
slow phases of a shared, noisy machine hit all three alike; each ratio is the median
over epochs 2..N of the paired per-epoch ratios.

Whole fits: the public ``fit`` (validation, data transfer, training and, for the
AE, the latent density used by ``sample``) against the hand loop's total time,
interleaved over repeats; both from the same seed, so they must also reach the same
test loss (reported; the fast path changes speed, not results).

Inference: ``transform`` on 60000 rows against a raw ``module.encode`` loop over
1024-row chunks, interleaved.

    python benchmarks/bench_speed.py [--epochs 8] [--fit-epochs 3] [--repeats 3]

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
from skvae._data import TensorDataset, training_tensor
from skvae.datasets import load_mnist
from skvae.losses import ELBOLoss, ReconstructionLoss
from skvae.modules import Autoencoder, VariationalAutoencoder

MODELS = {
    "AE": (AutoencoderTransformer, Autoencoder, lambda: ReconstructionLoss("mse")),
    "VAE": (VAETransformer, VariationalAutoencoder, lambda: ELBOLoss("mse")),
}
SIZES = dict(n_components=2, hidden_layer_sizes=(256, 128))
LR = 1e-3


def load_data():
    if (Path(os.environ.get("SKVAE_DATA_HOME", "")) / "mnist.npz").is_file():
        mnist = load_mnist()
        return "MNIST", mnist.X_train, mnist.X_test
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


class Hand:
    """The reference loop, one epoch per call."""

    def __init__(self, model, X, batch_size, device, seed):
        _, module_cls, make_criterion = MODELS[model]
        torch.manual_seed(torch_seed(seed))
        self.module = module_cls(X.shape[1], **SIZES).to(device)
        self.criterion = make_criterion()
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=LR)
        self.data = torch.as_tensor(X, device=device)
        self.batch_size, self.device = batch_size, device

    def epoch(self):
        self.module.train()
        total = torch.zeros((), device=self.device)
        order = torch.randperm(len(self.data), device=self.device)
        for i in range(0, len(self.data), self.batch_size):
            xb = self.data[order[i:i + self.batch_size]]
            self.optimizer.zero_grad()
            loss = self.criterion(self.module(xb), xb)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * len(xb)
        return total.item() / len(self.data)  # the epoch's one sync


class Skvae:
    """The estimator's own net and data path (what ``fit`` runs), one epoch per call."""

    def __init__(self, model, X, batch_size, device, seed):
        est = MODELS[model][0](**SIZES, batch_size=batch_size, lr=LR, device=device)
        torch.manual_seed(torch_seed(seed))
        self.net = est._build_net(X.shape[1], torch.device(device), None).initialize()
        self.dataset = TensorDataset(training_tensor(X, torch.device(device)))

    def epoch(self):
        self.net.partial_fit(self.dataset, epochs=1)


class Skorch:
    """Plain skorch with its default Dataset/DataLoader path, one epoch per call."""

    def __init__(self, model, X, batch_size, device, seed):
        _, module_cls, make_criterion = MODELS[model]
        torch.manual_seed(torch_seed(seed))
        self.net = NeuralNet(module_cls, module__n_features=X.shape[1],
                             **{f"module__{k}": v for k, v in SIZES.items()},
                             criterion=make_criterion(), optimizer=torch.optim.Adam, lr=LR,
                             batch_size=batch_size, train_split=None,
                             iterator_train__shuffle=True, device=device,
                             verbose=0).initialize()
        self.X = X

    def epoch(self):
        self.net.partial_fit(self.X, self.X, epochs=1)


TRAINERS = {"skvae": Skvae, "hand": Hand, "skorch": Skorch}


def bench_epochs(model, X, batch_size, args, device):
    """Epoch-interleaved timing; returns median paired ratios and median epoch times."""
    with torch.random.fork_rng(devices=[]):
        trainers = {name: cls(model, X, batch_size, device, 0) for name, cls in TRAINERS.items()}
        times = {name: [] for name in trainers}
        for _ in range(args.epochs):
            for name, trainer in trainers.items():
                start = time.perf_counter()
                trainer.epoch()
                times[name].append(time.perf_counter() - start)
    later = {name: t[1:] for name, t in times.items()}
    ratio = {name: statistics.median(a / b for a, b in zip(later[name], later["hand"], strict=True))
             for name in ("skvae", "skorch")}
    return ratio, {name: statistics.median(t) for name, t in later.items()}


def hand_fit(model, X, X_test, batch_size, epochs, device, seed):
    with torch.random.fork_rng(devices=[]):
        start = time.perf_counter()
        hand = Hand(model, X, batch_size, device, seed)
        for _ in range(epochs):
            hand.epoch()
        seconds = time.perf_counter() - start
        return seconds, test_loss(hand.module, hand.criterion, X_test, device)


def skvae_fit(model, X, X_test, batch_size, epochs, device, seed):
    est_cls, _, make_criterion = MODELS[model]
    est = est_cls(**SIZES, batch_size=batch_size, max_epochs=epochs, lr=LR, device=device,
                  random_state=seed)
    start = time.perf_counter()
    est.fit(X)
    seconds = time.perf_counter() - start
    return seconds, test_loss(est.net_.module_, make_criterion(), X_test, device)


def bench_fits(model, X, X_test, batch_size, args, device):
    """Whole fits, interleaved over repeats: median seconds and test losses."""
    results = {"hand": [], "skvae": []}
    for repeat in range(args.repeats):
        for name, fit in (("hand", hand_fit), ("skvae", skvae_fit)):
            results[name].append(fit(model, X, X_test, batch_size, args.fit_epochs, device, repeat))
    seconds = {n: statistics.median(s for s, _ in r) for n, r in results.items()}
    same_loss = max(abs(a[1] / b[1] - 1) for a, b in zip(results["skvae"], results["hand"],
                                                         strict=True))
    return seconds, results["skvae"][0][1], results["hand"][0][1], same_loss


def bench_training(X, X_test, args, device):
    rows = []
    for model in MODELS:
        for batch_size in args.batch_sizes:
            ratio, epoch_s = bench_epochs(model, X, batch_size, args, device)
            fit_s, skvae_loss, hand_loss, loss_diff = bench_fits(model, X, X_test, batch_size,
                                                                 args, device)
            row = {"model": model, "batch_size": batch_size,
                   "skvae_over_hand": ratio["skvae"], "skorch_over_hand": ratio["skorch"],
                   **{f"{n}_epoch_s": epoch_s[n] for n in ("hand", "skvae", "skorch")},
                   "skvae_samples_per_s": len(X) / epoch_s["skvae"],
                   "fit_s_skvae": fit_s["skvae"], "fit_s_hand": fit_s["hand"],
                   "fit_skvae_over_hand": fit_s["skvae"] / fit_s["hand"],
                   "test_loss_skvae": skvae_loss, "test_loss_hand": hand_loss,
                   "test_loss_max_rel_diff": loss_diff}
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
    parser.add_argument("--epochs", type=int, default=8, help="interleaved timing epochs")
    parser.add_argument("--fit-epochs", type=int, default=3, help="epochs of each whole fit")
    parser.add_argument("--repeats", type=int, default=3, help="whole fits per trainer")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = str(resolve_device(args.device))
    name, X, X_test = load_data()
    transform_row = bench_transform(X, args, device)
    rows = bench_training(X, X_test, args, device)
    notes = (f"Data: {name} {X.shape}. Ratios: median over epochs 2..{args.epochs} of paired "
             "per-epoch time ratios, the three trainers interleaved epoch by epoch. fit_s: "
             f"whole public fit of {args.fit_epochs} epochs vs the hand loop, median of "
             f"{args.repeats} interleaved repeats. Test loss: the training criterion on "
             f"{len(X_test)} held-out rows after those fits, same seeds "
             "(VAE: one posterior draw).\n\n"
             f"Transform: {transform_row}")
    print(write(f"speed-{device}", environment(device), rows, notes).read_text())


if __name__ == "__main__":
    main()
