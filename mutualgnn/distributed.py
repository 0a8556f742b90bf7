"""A cohort spread over processes with ``torch.distributed``: each rank trains a share of the
students and the ranks exchange logits every iteration.

Placement: student k lives on rank ``k % W`` (W ranks, W <= K). Every rank builds the whole
cohort under the same seed (so initial weights agree) but trains only its own students. Each
iteration:

1. every rank runs its students on the same rows (the same graph, or the same mini-batch: the
   graph loader shuffles from torch's global stream, which every rank seeds alike);
2. one ``all_gather`` gives every rank all K students' logits (detached copies of the remote
   ones: peers' targets carry no gradient, docs/method.md);
3. the coordinator runs identically on every rank (same inputs, same replica, same update), and
   each rank steps its own students' optimiser on the sum of its students' losses.

Evaluation uses the gathered logits, so model selection, early stopping and the ensemble are the
same on every rank; at the end the best checkpoints travel to every rank (``all_gather_object``).
Each student draws its dropout masks from its own stream (:func:`student_generator`), which is
what makes a W-rank run give the same numbers as a one-process run with
``train.student_rng = True`` (tests/test_distributed.py).

Collectives time out after ``timeout`` seconds (``$MUTUALGNN_DIST_TIMEOUT``, default 300), so a
rank that dies or hangs ends the run with an error on every rank instead of a hang.

Launch: :func:`run_distributed` (what ``mutualgnn run --distributed W`` calls) spawns W local
processes; under ``torchrun`` :func:`from_environment` joins the job that torchrun set up
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``).

Devices: a run on the CPU uses gloo. A run on cuda gives each rank one GPU, ``cuda:LOCAL_RANK``
(the rank's index on its machine: torchrun's ``LOCAL_RANK``, or the spawned rank), makes it the
rank's current device and uses nccl; the exchanged tensors are on that GPU. Both launchers
therefore take the run's device, since the process group is created before the config is read
by the rank. The cuda/nccl path has not been run on a GPU (docs/scaling.md).
"""
from __future__ import annotations

import datetime
import os
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from .fused import Cohort

DEFAULT_TIMEOUT = 300.0


class DistributedError(RuntimeError):
    """A rank failed or a collective timed out; the message names the rank and the cause."""


def student_generator(seed: int, k: int, device="cpu") -> torch.Generator:
    """The random stream of student ``k`` under run seed ``seed`` (numpy's ``SeedSequence``
    of ``[seed, k]``): independent of every other student's and of torch's global stream. A
    generator draws on one device, ``device`` (the student's); the same seed draws other
    numbers on a GPU than on the CPU."""
    state = int(np.random.SeedSequence([seed, k]).generate_state(1, dtype=np.uint64)[0])
    return torch.Generator(device=device).manual_seed(state)


def rank_device(device, local_rank: int) -> torch.device:
    """The device of the rank with index ``local_rank`` on its machine in a run on ``device``
    (a ``torch.device`` or its name, e.g. ``"cpu"``, ``"cuda"``): ``cuda:local_rank`` (one GPU
    per rank, whatever index ``device`` names) when it is a cuda device, else the CPU."""
    if torch.device(device).type != "cuda":
        return torch.device("cpu")
    gpus = torch.cuda.device_count()
    if local_rank >= gpus:
        raise DistributedError(f"local rank {local_rank} trains on cuda:{local_rank} but this "
                               f"machine has {gpus} GPU(s): start at most {gpus} ranks per "
                               f"machine, or train on the CPU (--device cpu)")
    return torch.device("cuda", local_rank)


def _join(device: torch.device, **init) -> None:
    """Create this process's group: nccl on its GPU ``device`` (made the current device, which
    nccl's object collectives use), else gloo; ``init``: ``init_process_group``'s arguments."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            timeout=datetime.timedelta(seconds=timeout_seconds()), **init)


def timeout_seconds() -> float:
    return float(os.environ.get("MUTUALGNN_DIST_TIMEOUT", DEFAULT_TIMEOUT))


class Exchange:
    """The collectives a sharded cohort needs, over torch's default process group. ``device``:
    this rank's device (:func:`rank_device`), where its students train and the exchanged tensors
    are (nccl needs them on the rank's GPU)."""

    def __init__(self, device="cpu"):
        if not dist.is_initialized():
            raise DistributedError("no process group: start with launch() or under torchrun")
        self.device = torch.device(device)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        #: ranks on this machine (torchrun sets ``LOCAL_WORLD_SIZE``; launch() runs all here)
        self.local_size = int(os.environ.get("LOCAL_WORLD_SIZE", self.world_size))

    def owner(self, k: int) -> int:
        return k % self.world_size

    def local(self, num_students: int) -> list:
        """Indices of the students this rank trains."""
        if num_students < self.world_size:
            raise DistributedError(f"{self.world_size} ranks for {num_students} students: "
                                   "use at most one rank per student")
        return [k for k in range(num_students) if self.owner(k) == self.rank]

    def gather(self, local_logits: list, num_students: int) -> list:
        """This rank's students' logits (each (n, C), in :meth:`local` order) -> all K
        students' logits; local entries are returned as given (with their gradient), remote
        ones are detached copies. All are on :attr:`device`, where the local ones are."""
        slots = -(-num_students // self.world_size)  # ceil: students per rank at most
        n_local = len(local_logits)
        shape = local_logits[0].shape
        padded = torch.zeros((slots, *shape), dtype=local_logits[0].dtype, device=self.device)
        padded[:n_local] = torch.stack([z.detach() for z in local_logits])
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        self._run(dist.all_gather, parts, padded)
        out = []
        for k in range(num_students):
            rank, slot = self.owner(k), k // self.world_size
            out.append(local_logits[slot] if rank == self.rank else parts[rank][slot])
        return out

    def sum(self, values: list) -> list:
        """Element-wise sum over ranks of a list of numbers."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        self._run(dist.all_reduce, t)
        return t.tolist()

    def gather_objects(self, obj) -> list:
        """One picklable object per rank -> the list of every rank's object, by rank (tensors in
        it should be on the CPU: they are unpickled on the device they were sent from)."""
        out = [None] * self.world_size
        self._run(dist.all_gather_object, out, obj)
        return out

    def _run(self, collective, *args):
        try:
            collective(*args)
        except RuntimeError as exc:  # gloo raises on a timeout or a closed peer connection
            raise DistributedError(f"rank {self.rank}: {collective.__name__} failed, another rank "
                                   f"died or stalled (timeout {timeout_seconds():g} s): {exc}") from exc


class ShardedCohort(nn.Module):
    """The share of a cohort one rank trains, with :class:`~mutualgnn.fused.Cohort`'s interface:
    ``forward`` returns all K students' logits (see :meth:`Exchange.gather`), ``groups`` hold
    the local groups with global student indices, :attr:`local`, :meth:`share` and
    :meth:`collect` complete per-student numbers and checkpoints across ranks."""

    def __init__(self, students, exchange: Exchange, fuse: bool = True):
        super().__init__()
        self.students, self.exchange = list(students), exchange
        self._local = exchange.local(len(self.students))
        self.inner = Cohort([self.students[k] for k in self._local], fuse)
        self.groups = [(module, [self._local[i] for i in idx], fused)
                       for module, idx, fused in self.inner.groups]

    @property
    def local(self) -> list:
        return list(self._local)

    @property
    def fused(self) -> bool:
        return self.inner.fused

    def forward(self, graph, feat) -> list:
        return self.exchange.gather(self.inner(graph, feat), len(self.students))

    def share(self, values: list) -> list:
        mine = [v if k in self._local else 0.0 for k, v in enumerate(values)]
        return self.exchange.sum(mine)

    def collect(self, items: list) -> list:
        mine = {k: items[k] for k in self._local}
        merged = {}
        for part in self.exchange.gather_objects(mine):
            merged.update(part)
        return [merged[k] for k in range(len(self.students))]

    def sync(self, k: int) -> None:
        if k in self._local:
            self.inner.sync(self._local.index(k))


# ----------------------------------------------------------------------------- launching

def launch(world_size: int, fn, *args, device="cpu"):
    """Run ``fn(exchange, *args)`` on ``world_size`` spawned local processes (one torch thread
    each) and return rank 0's return value. ``device``: the run's; cuda gives rank r the GPU
    ``cuda:r`` and nccl, else gloo on the CPU (:func:`rank_device`). A rank that raises ends the
    run: the others are stopped and :class:`DistributedError` carries the failing rank's
    traceback."""
    if world_size < 1:
        raise ValueError("world_size must be >= 1")
    rank_device(device, world_size - 1)  # every rank's GPU exists, before anything starts
    with tempfile.TemporaryDirectory(prefix="mutualgnn-dist-") as tmp:
        result_path = Path(tmp) / "result.pt"
        try:
            mp.spawn(_worker, args=(world_size, _free_port(), str(result_path), fn, args, device),
                     nprocs=world_size, join=True)
        except mp.ProcessRaisedException as exc:
            raise DistributedError(f"a rank failed; its error:\n{exc}") from None
        except mp.ProcessExitedException as exc:
            raise DistributedError(f"a rank exited unexpectedly: {exc}") from None
        return torch.load(result_path, weights_only=False)


def _worker(rank, world_size, port, result_path, fn, args, device):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    device = rank_device(device, rank)  # spawned ranks are all on this machine
    _join(device, rank=rank, world_size=world_size)
    try:
        result = fn(Exchange(device), *args)
        if rank == 0:
            torch.save(result, result_path)
        dist.barrier()
    except DistributedError:
        # a collective failed because another rank did: let that rank's error (the cause)
        # reach launch() first, which reports the first failure it sees
        time.sleep(2)
        raise
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def from_environment(device="cpu") -> Exchange | None:
    """Join the process group torchrun describes in the environment (``WORLD_SIZE`` > 1), or
    None when this process was not started by a distributed launcher. ``device``: the run's;
    cuda gives this rank ``cuda:LOCAL_RANK`` and nccl, else gloo (:func:`rank_device`)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    device = rank_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        _join(device, init_method="env://")
    return Exchange(device)


def run_distributed(config, world_size: int, dataset=None, progress: bool | None = None,
                    save_dir=None):
    """:func:`mutualgnn.experiment.run_experiment` with the cohort spread over ``world_size``
    spawned local processes, on ``config.train.device`` (cuda: rank r on ``cuda:r``, nccl);
    returns the same :class:`~mutualgnn.experiment.ExperimentResult` (rank 0's, which every
    rank agrees with)."""
    from .data import load_dataset

    students = len(config.students)
    if not 1 <= world_size <= students:
        raise DistributedError(f"--distributed {world_size}: need 1 <= ranks <= students "
                               f"({students}); each rank trains at least one student")
    device = config.train.torch_device()  # a clear error before any rank starts
    dataset = dataset or load_dataset(config.dataset, config.data_dir)  # once, before the ranks
    return launch(world_size, _run_rank, config, dataset, progress, save_dir, device=device)


def _run_rank(exchange, config, dataset, progress, save_dir):
    from .experiment import run_experiment

    first = exchange.rank == 0
    return run_experiment(config, dataset, progress=progress if first else False,
                          save_dir=save_dir if first else None, exchange=exchange)
