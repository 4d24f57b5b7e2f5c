"""Data-parallel training on :mod:`torch.distributed`: one ``fit`` over many processes.

skvae does not start processes: a launcher does (``torchrun``, ``accelerate launch``,
Spark's ``TorchDistributor``, Ray's ``TorchTrainer``, Slurm's ``srun``), and each
process runs the same script with the same ``X``. When ``fit`` finds an initialised
process group (``distributed="auto"``, the default), or is asked to start one from the
launcher's environment (``distributed=True``), it trains data-parallel with
:class:`torch.nn.parallel.DistributedDataParallel`:

* every rank draws the same permutation of the rows each epoch, splits each global
  batch of ``batch_size`` rows into contiguous shards (one per rank, sizes differing
  by at most one, possibly empty) and scales its loss so that DDP's averaged gradient
  is the gradient of the global batch mean: the optimisation of one process with the
  same ``batch_size``;
* rank 0's seed and validation rows are broadcast; per-rank randomness (dropout,
  input noise, the VAE's draws) is seeded from the seed and the rank;
* the epoch's loss sums, term sums and the Ctrl-C flag are summed over the ranks in
  one ``all_reduce`` per epoch, so every rank records the same history and makes the
  same early-stopping and divergence decisions;
* post-fit summaries are computed on rank 0 and broadcast; after ``fit`` every rank
  holds the same plain, single-process estimator (no DDP wrapper in it).

Why not skorch's ``AccelerateMixin``: it shards ``DataLoader`` objects only (skvae's
batch iterator would not be split), its training step would replace skvae's, and
its per-epoch history is not synchronised, so a stop decision on one rank could hang
the others. The launchers remain usable; the data parallelism is here.
See the user guide's "Scaling out" page.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass

import torch
import torch.distributed as dist

if dist.is_available():
    # torch.distributed.nn.functional binds ``group=group.WORLD`` as default arguments
    # when it is imported. DistributedDataParallel imports it on first use; imported
    # after init_process_group, those defaults hold the default process group for
    # good, destroy_process_group cannot free it, and gloo's threads are still running
    # when the interpreter exits: an occasional "terminate called without an active
    # exception" abort of a finished rank. Imported now (2.5 ms), before any group
    # exists, the defaults are None.
    import torch.distributed.nn

__all__ = ["World", "choose_backend", "init_from_environment", "resolve_world", "training_device"]

#: What ``init_process_group(init_method="env://")`` reads; launchers set them.
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class World:
    """This process's place in the process group: ``rank`` of ``size`` processes.

    Examples
    --------
    >>> import torch
    >>> World(rank=1, size=2).shard(torch.arange(5))
    tensor([3, 4])
    >>> World(rank=1, size=2).shard(torch.arange(1))  # an empty shard
    tensor([], dtype=torch.int64)
    """

    rank: int
    size: int

    def shard(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous part of a global batch's row ``index``."""
        return torch.tensor_split(index, self.size)[self.rank]

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over the ranks (in place, and returned)."""
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def broadcast(self, obj):
        """Rank 0's ``obj`` (any picklable object), on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def resolve_world(distributed, device) -> World | None:
    """The process group ``fit`` trains in, or None to train in this process alone.

    ``distributed="auto"`` uses an initialised group; ``True`` initialises one from the
    launcher's environment when none is (see :func:`init_from_environment`) and
    requires one; ``False`` ignores any group. A group of one process is None.
    ``device`` is the resolved training device (it picks the backend).
    """
    if distributed is False:
        return None
    if not (dist.is_available() and dist.is_initialized()):
        if distributed == "auto":
            return None
        init_from_environment(device)
    size = dist.get_world_size()
    return World(dist.get_rank(), size) if size > 1 else None


def init_from_environment(device) -> None:
    """Initialise the default process group from a launcher's environment variables.

    The backend is NCCL when ``device`` (the resolved training device, e.g. ``"cpu"``
    or ``torch.device("cuda")``) is CUDA and each rank has a GPU of its own, gloo
    otherwise (:func:`choose_backend`). Raises a ``ValueError``
    naming the missing variables when no launcher set them.
    """
    if not dist.is_available():
        raise ValueError("distributed=True needs torch.distributed, which this torch build "
                         "lacks. Use distributed='auto' or False.")
    missing = [name for name in LAUNCHER_VARIABLES if name not in os.environ]
    if missing:
        raise ValueError(
            f"distributed=True initialises torch.distributed from the launcher's environment, "
            f"but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Start "
            "the script with a launcher (e.g. torchrun --nproc_per_node 2 script.py), call "
            "torch.distributed.init_process_group yourself, or use distributed='auto'."
        )
    backend = choose_backend(device)
    if torch.device(device).type == "cuda":
        torch.cuda.set_device(local_rank() % torch.cuda.device_count())
    dist.init_process_group(backend=backend, init_method="env://")


def choose_backend(device) -> str:
    """``"nccl"`` when ``device`` is CUDA and every rank on this machine has a GPU of
    its own; ``"gloo"`` otherwise.

    NCCL refuses two ranks on one GPU ("Duplicate GPU detected"), so ranks that share
    GPUs (``LOCAL_WORLD_SIZE``, set by the launchers, above ``torch.cuda.device_count()``)
    use gloo, which all-reduces CUDA tensors too, more slowly.
    """
    if torch.device(device).type != "cuda":
        return "gloo"
    ranks_here = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", 1)))
    return "nccl" if ranks_here <= torch.cuda.device_count() else "gloo"


def local_rank() -> int:
    """This process's index on its machine (``LOCAL_RANK``, set by the launchers)."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    return dist.get_rank() % max(torch.cuda.device_count(), 1)


def training_device(device: torch.device, world: World | None) -> torch.device:
    """The device a rank trains on: its own GPU (``cuda:LOCAL_RANK``) when ``device`` is
    CUDA without an index; ``device`` itself otherwise."""
    if world is None or device.type != "cuda" or device.index is not None:
        return device
    # two ranks may share one GPU (e.g. with gloo): LOCAL_RANK modulo the GPUs there are
    return torch.device("cuda", local_rank() % torch.cuda.device_count())


def on_rank_zero(world: World | None, estimator, compute) -> None:
    """Run ``compute()`` (which sets fitted attributes of ``estimator``) on rank 0 only,
    and give every other rank the attributes it set or replaced."""
    if world is None:
        compute()
        return
    before = dict(estimator.__dict__)
    if world.rank == 0:
        compute()
    changed = {key: value for key, value in estimator.__dict__.items()
               if key not in before or before[key] is not value}
    # every rank, rank 0 included, keeps the unpickled copy: identical to the last byte
    shared = world.broadcast(pickle.dumps(changed) if world.rank == 0 else None)
    estimator.__dict__.update(pickle.loads(shared))
