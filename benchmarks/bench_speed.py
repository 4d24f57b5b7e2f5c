"""Training and inference speed of skvae against a hand-written PyTorch loop and plain skorch.

For the MLP autoencoder and VAE (784-256-128-2, Adam, lr 1e-3) on MNIST-sized data
(60000 x 784: the real MNIST training images when ``SKVAE_DATA_HOME`` holds
``mnist.npz``, else uniform noise), at each batch size, three trainers share the
module class, loss, optimizer (Adam with torch's multi-tensor ``foreach`` update, as
skvae builds it), batch size and device:

(a) ``skvae``: the estimator's public ``fit``;
(b) ``hand``: a hand-written loop -- data as one tensor on the device, ``randperm``
    slices, the loss accumulated on the device and read once per epoch;
(c) ``skorch``: a plain ``skorch.NeuralNet`` with its default data path
    (``Dataset`` + ``DataLoader``).

Epoch timing: the three are interleaved *epoch by epoch* (a, b, c, a, b, c, ...), so
slow phases of a shared, noisy machine hit all three alike; each ratio is the median
over epochs 2..N of the paired per-epoch ratios. skvae trains through its public
``fit`` with an :class:`Interleave` callback (``callbacks=[...]``) whose
``on_epoch_end`` runs one epoch of (b) and one of (c), each timed with
``time.perf_counter``; skvae's own epoch time is its history's ``dur``. skorch runs its
default callbacks first, so its ``EpochTimer`` has recorded ``dur`` before the
interleaved epochs start, and restarts the clock in the next ``on_epoch_begin``: they
are not part of skvae's ``dur``.

Whole fits: the public ``fit`` (validation, data transfer, training and, for the
AE, the latent density used by ``sample``) against the hand loop's total time,
interleaved over repeats; both from the same seed, so they must also reach the same
test loss (reported; the fast path changes speed, not results).

Inference: ``transform`` on 60000 rows against a raw ``module.encode`` loop over
1024-row chunks, interleaved.

    python benchmarks/bench_speed.py [--epochs 8] [--fit-epochs 3] [--repeats 3]
    python benchmarks/bench_speed.py --smoke --results-dir DIR   # seconds: does it run?

Writes ``benchmarks/results/speed-<device>.json`` and ``.md`` (``--results-dir``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, write
from skorch import NeuralNet
from skorch.callbacks import Callback

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_mnist
from skvae.losses import ELBOLoss, ReconstructionLoss
from skvae.modules import Autoencoder, VariationalAutoencoder

MODELS = {
    "AE": (AutoencoderTransformer, Autoencoder, lambda: ReconstructionLoss("mse")),
    "VAE": (VAETransformer, VariationalAutoencoder, lambda: ELBOLoss("mse")),
}
SIZES = dict(n_components=2, hidden_layer_sizes=(256, 128))
LR = 1e-3
#: What ``--smoke`` changes: 1024 training rows, the fewest epochs a paired ratio needs.
SMOKE = dict(epochs=2, fit_epochs=1, repeats=1, batch_sizes=[128], train_rows=1024)


def load_data(train_rows=None):
    """(name, X_train, X_test): MNIST when ``SKVAE_DATA_HOME`` has it, else uniform noise."""
    if data_file("mnist.npz") is not None:
        mnist = load_mnist()
        return "MNIST", mnist.X_train[:train_rows], mnist.X_test
    rng = np.random.RandomState(0)
    return ("uniform noise", rng.rand(train_rows or 60000, 784).astype(np.float32),
            rng.rand(10000, 784).astype(np.float32))


def torch_seed(random_state: int) -> int:
    """The torch seed skvae's ``fit`` derives from ``random_state`` (what the hand loop
    must start from to reach the same weights)."""
    return int(np.random.RandomState(random_state).randint(np.iinfo(np.int32).max))


def cuda_devices(device) -> list:
    """The CUDA devices whose random state ``torch.random.fork_rng`` must save."""
    device = torch.device(device)
    return [device.index or 0] if device.type == "cuda" else []


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
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=LR, foreach=True)
        self.data = torch.as_tensor(X, device=device)
        self.batch_size, self.device = batch_size, device
        # skvae's shuffle: its own generator, seeded from torch's RNG after the module
        self.shuffle = torch.Generator(device=device).manual_seed(int(torch.randint(2**62, (1,))))

    def epoch(self):
        self.module.train()
        total = torch.zeros((), device=self.device)
        order = torch.randperm(len(self.data), device=self.device, generator=self.shuffle)
        for i in range(0, len(self.data), self.batch_size):
            xb = self.data[order[i:i + self.batch_size]]
            self.optimizer.zero_grad()
            loss = self.criterion(self.module(xb), xb)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * len(xb)
        return total.item() / len(self.data)  # the epoch's one sync


class Skorch:
    """Plain skorch with its default Dataset/DataLoader path, one epoch per call."""

    def __init__(self, model, X, batch_size, device, seed):
        _, module_cls, make_criterion = MODELS[model]
        torch.manual_seed(torch_seed(seed))
        self.net = NeuralNet(module_cls, module__n_features=X.shape[1],
                             **{f"module__{k}": v for k, v in SIZES.items()},
                             criterion=make_criterion(), optimizer=torch.optim.Adam,
                             optimizer__foreach=True, lr=LR,
                             batch_size=batch_size, train_split=None,
                             iterator_train__shuffle=True, device=device,
                             verbose=0).initialize()
        self.X = X

    def epoch(self):
        self.net.partial_fit(self.X, self.X, epochs=1)


class Race:
    """The hand loop and plain skorch, run one epoch each per call, and their epoch times.

    One object, never copied: the estimator deep-copies its callbacks before training,
    and a copy would duplicate the data and modules and keep the times where this
    script does not look.
    """

    def __init__(self, model, X, batch_size, device, seed):
        with torch.random.fork_rng(devices=cuda_devices(device)):
            self.trainers = {"hand": Hand(model, X, batch_size, device, seed),
                             "skorch": Skorch(model, X, batch_size, device, seed)}
        self.times = {name: [] for name in self.trainers}
        self.device = device

    def __deepcopy__(self, memo):
        return self

    def epoch(self):
        """One timed epoch of each; under a forked RNG, so skvae's own random stream
        (shuffles, VAE noise) is what an uninterrupted ``fit`` would draw."""
        with torch.random.fork_rng(devices=cuda_devices(self.device)):
            for name, trainer in self.trainers.items():
                start = time.perf_counter()
                trainer.epoch()
                self.times[name].append(time.perf_counter() - start)


class Interleave(Callback):
    """Runs one epoch of the race's trainers after each skvae epoch.

    ``on_epoch_end`` of user callbacks comes after skorch's ``EpochTimer`` (a default
    callback, first in ``net.callbacks_``) has recorded the epoch's ``dur``.
    """

    def __init__(self, race):
        self.race = race

    def on_epoch_end(self, net, **kwargs):
        self.race.epoch()


def bench_epochs(model, X, batch_size, args, device):
    """Epoch-interleaved timing; returns median paired ratios and median epoch times."""
    race = Race(model, X, batch_size, device, 0)
    est = MODELS[model][0](**SIZES, batch_size=batch_size, lr=LR, max_epochs=args.epochs,
                           device=device, random_state=0, callbacks=[Interleave(race)])
    est.fit(X)
    if dict(est.net_.callbacks_)["Interleave"].race is not race:
        raise RuntimeError("the estimator's copy of the callback does not share the race")
    times = {"skvae": list(est.history_[:, "dur"]), **race.times}
    if any(len(t) != args.epochs for t in times.values()):
        raise RuntimeError(f"expected {args.epochs} epochs of each trainer, got "
                           f"{ {name: len(t) for name, t in times.items()} }")
    later = {name: t[1:] for name, t in times.items()}
    ratio = {name: statistics.median(a / b for a, b in zip(later[name], later["hand"], strict=True))
             for name in ("skvae", "skorch")}
    return ratio, {name: statistics.median(t) for name, t in later.items()}


def hand_fit(model, X, X_test, batch_size, epochs, device, seed):
    with torch.random.fork_rng(devices=cuda_devices(device)):
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


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8,
                        help="interleaved timing epochs (at least 2: the first is dropped)")
    parser.add_argument("--fit-epochs", type=int, default=3, help="epochs of each whole fit")
    parser.add_argument("--repeats", type=int, default=3, help="whole fits per trainer")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--train-rows", type=int, default=None,
                        help="use only the first N training rows (smoke runs)")
    parser.add_argument("--device", default="auto",
                        help="'auto' (CUDA when available), 'cpu' or 'cuda'")
    args = parse_args(parser, SMOKE)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (ratios drop the first epoch)")
    return args


def main():
    args = parse()
    device = default_device() if args.device == "auto" else args.device
    name, X, X_test = load_data(args.train_rows)
    transform_row = bench_transform(X, args, device)
    rows = bench_training(X, X_test, args, device)
    notes = (f"Data: {name} {X.shape}. Ratios: median over epochs 2..{args.epochs} of paired "
             "per-epoch time ratios, the three trainers interleaved epoch by epoch (skvae: "
             "its public fit's history `dur`; the others: one epoch each in a callback's "
             "on_epoch_end, outside `dur`). fit_s: "
             f"whole public fit of {args.fit_epochs} epochs vs the hand loop, median of "
             f"{args.repeats} interleaved repeats. Test loss: the training criterion on "
             f"{len(X_test)} held-out rows after those fits, same seeds "
             "(VAE: one posterior draw).\n\n"
             f"Transform: {transform_row}")
    path = write(f"speed-{device_tag(device)}", environment(device), rows, notes,
                 results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


if __name__ == "__main__":
    main()
