"""Models trained on CUDA, pickled, then loaded and used on a machine without CUDA.

Two phases on two machines (the CUDA checklist, ``../shared/GPU.md`` item 3):

    python benchmarks/bench_portability.py --save DIR    # on the CUDA machine
    python benchmarks/bench_portability.py --check DIR   # on a CPU-only machine

``--save`` fits four models on the GPU -- a dense AE and a dense VAE (MNIST, or noise
without the data), a conv VAE on 28 x 28 images, and a VAE on the house-prices
DataFrame when the data is there -- pickles each (``pickle.dumps`` of the estimator,
as users save them), and stores what each computes on the GPU: ``transform``,
``inverse_transform`` of those codes, ``score_samples`` and ``sample(16,
random_state=0)``, once with torch's default CUDA settings and once with TF32 off
(cuDNN convolutions may use TF32 by default, which rounds inputs to 10 bits). It also
stores every weight as the GPU held it.

``--check`` refuses to run where CUDA is available (the point is a machine without
it), unpickles each model (skorch maps the tensors to the CPU and warns), checks the
weights bitwise against the stored ones, recomputes the four outputs on the CPU and
reports the largest absolute and relative differences from the GPU's. Writes
``benchmarks/results/portability-<GPU name>.json`` and ``.md``.

``--smoke`` runs both phases in one process on whatever device there is (tiny data,
one epoch), so CI checks that the script works.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _report import data_file, default_device, device_tag, environment, parse_args, write

from skvae import AutoencoderTransformer, VAETransformer
from skvae.datasets import load_house_prices, load_mnist

#: float32 tolerance for "the same transform": outputs of one model on two devices
#: differ by the order in which the devices sum products, not by more.
RTOL, ATOL = 1e-4, 1e-5
#: Rows whose outputs are stored and compared (the GPU's outputs travel back in files).
OUTPUT_ROWS = 200
SMOKE = dict(rows=256, epochs=1)


def images(rows):
    """(name, X): MNIST pixels in [0, 1] when the data is there, else uniform noise."""
    if data_file("mnist.npz") is not None:
        return "MNIST", load_mnist().X_train[:rows]
    return "noise", np.random.RandomState(0).rand(rows, 784).astype(np.float32)


def models(args, device):
    """(name, unfitted estimator, X) for every model the check covers."""
    name, X = images(args.rows)
    common = dict(max_epochs=args.epochs, device=device, random_state=0)
    found = [
        (f"dense AE ({name})", AutoencoderTransformer(8, **common), X),
        (f"dense VAE bce ({name})", VAETransformer(8, reconstruction_loss="bce", **common), X),
        (f"conv VAE bce ({name})", VAETransformer(8, architecture="conv",
                                                  image_shape=(1, 28, 28),
                                                  reconstruction_loss="bce", **common), X),
    ]
    if data_file("house_prices/train.csv.gz") is not None:
        houses = load_house_prices().data.iloc[:args.rows]
        found.append(("DataFrame VAE (house prices)", VAETransformer(4, **common), houses))
    return found


def outputs(est, X) -> dict:
    """What a user computes with a fitted model: float64 arrays, and the text columns of
    a DataFrame's reconstructions and samples as string arrays."""
    Z = est.transform(X)
    out = {"transform": Z, "inverse_transform": est.inverse_transform(Z),
           "score_samples": est.score_samples(X), "sample": est.sample(16, random_state=0)}
    arrays = {}
    for key, value in out.items():
        if isinstance(value, pd.DataFrame):
            numeric = value.select_dtypes("number")
            arrays[f"{key} (numeric)"] = numeric.to_numpy(np.float64)
            arrays[f"{key} (text)"] = value.drop(columns=numeric.columns).to_numpy(str)
        else:
            arrays[key] = np.asarray(value, dtype=np.float64)
    return arrays


def no_tf32():
    """A context in which CUDA float32 matrix products and convolutions use full float32."""
    class Context:
        def __enter__(self):
            self.saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False

        def __exit__(self, *exc):
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved
    return Context()


def save(folder: Path, args, device):
    """Fit on ``device``; write each pickle, its weights and outputs, and the environment."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index, (name, est, X) in enumerate(models(args, device)):
        est.fit(X)
        weights = {k: v.detach().cpu().numpy() for k, v in est.net_.module_.state_dict().items()}
        with no_tf32():
            strict = outputs(est, X[:OUTPUT_ROWS])
        default = outputs(est, X[:OUTPUT_ROWS])
        (folder / f"model{index}.pkl").write_bytes(pickle.dumps(est))
        np.savez_compressed(folder / f"model{index}.npz",
                            **{f"weight:{k}": v for k, v in weights.items()},
                            **{f"default:{k}": v for k, v in default.items()},
                            **{f"strict:{k}": v for k, v in strict.items()})
        names.append(name)
        print(f"saved {name}", flush=True)
    meta = {"env": environment(device), "tag": device_tag(device), "models": names}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))


def differences(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float, bool]:
    """Largest absolute difference, largest relative one, and whether within float32
    tolerance; for text, the share of cells that differ (twice) and whether none does.
    Missing values (a table's drawn NaN) match missing values; NaN against a number
    counts as an infinite difference."""
    if ours.dtype.kind == "U":
        share = float(np.mean(ours != theirs))
        return share, share, share == 0
    both = np.isnan(ours) & np.isnan(theirs)
    gap = np.where(both, 0.0, np.abs(ours - theirs))
    gap = np.where(np.isnan(gap), np.inf, gap)
    scale = np.maximum(np.abs(np.nan_to_num(theirs)), ATOL / RTOL)
    return float(gap.max()), float((gap / scale).max()), bool(
        np.allclose(ours, theirs, RTOL, ATOL, equal_nan=True))


def check(folder: Path, args, device):
    """Load each pickle on the CPU, compare weights and outputs with the GPU's."""
    meta = json.loads((folder / "meta.json").read_text())
    rows = []
    for index, ((name, _, X), saved_name) in enumerate(zip(models(args, "cpu"), meta["models"],
                                                           strict=True)):
        if not (folder / f"model{index}.pkl").is_file():
            print(f"not in {folder}: {name} (model{index}.pkl)", flush=True)
            continue
        if name != saved_name:
            raise RuntimeError(f"model {index} is {saved_name!r} in {folder}, {name!r} here: "
                               "run --check with the data --save had")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = pickle.loads((folder / f"model{index}.pkl").read_bytes())
        stored = np.load(folder / f"model{index}.npz")
        weights = est.net_.module_.state_dict()
        same_weights = all(np.array_equal(weights[k.split(":", 1)[1]].numpy(), stored[k])
                           for k in stored.files if k.startswith("weight:"))
        ours = outputs(est, X[:OUTPUT_ROWS])
        for key, value in ours.items():
            row = {"model": name, "output": key, "shape": "x".join(map(str, value.shape)),
                   "weights_bitwise_equal": same_weights,
                   "loaded_on": str(next(est.net_.module_.parameters()).device),
                   "load_warnings": len(caught)}
            for mode in ("default", "strict"):
                gap, rel, ok = differences(value, stored[f"{mode}:{key}"])
                row |= {f"{mode}_max_abs_diff": gap, f"{mode}_max_rel_diff": rel,
                        f"{mode}_within_tol": ok}
            rows.append(row)
            print(row, flush=True)
    gpu_env = meta["env"]
    notes = (f"Trained and pickled on: {gpu_env['device']} (torch {gpu_env['torch']}, "
             f"{gpu_env['date']}); loaded and run here on the CPU. `default`: the GPU's outputs "
             "under torch's default CUDA settings; `strict`: with TF32 off. Tolerance: "
             f"rtol={RTOL}, atol={ATOL} (`np.allclose`). `sample` uses random_state=0.")
    path = write(f"portability-{meta['tag']}", environment(device), rows, notes,
                 {"gpu_env": gpu_env}, results_dir=args.results_dir, smoke=args.smoke)
    print(path.read_text())


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    phase = parser.add_mutually_exclusive_group()
    phase.add_argument("--save", type=Path, metavar="DIR", help="fit on CUDA, write DIR")
    phase.add_argument("--check", type=Path, metavar="DIR", help="load DIR on the CPU, compare")
    parser.add_argument("--rows", type=int, default=5000, help="training rows per model")
    parser.add_argument("--epochs", type=int, default=3)
    args = parse_args(parser, SMOKE)
    if not (args.smoke or args.save or args.check):
        parser.error("give --save DIR (on the CUDA machine) or --check DIR (without CUDA)")
    return args


def main():
    args = parse()
    if args.save:
        if default_device() != "cuda":
            raise SystemExit("--save must run where CUDA is available")
        save(args.save, args, "cuda")
    elif args.check:
        if torch.cuda.is_available():
            raise SystemExit("--check must run where CUDA is missing: that is what it checks")
        check(args.check, args, "cpu")
    else:  # smoke: both phases here, on this machine's device
        with tempfile.TemporaryDirectory() as folder:
            save(Path(folder), args, default_device())
            check(Path(folder), args, "cpu")


if __name__ == "__main__":
    main()
