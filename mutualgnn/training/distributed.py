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
Each student draws its dropout masks from its own stream
(:func:`mutualgnn.students.student_generator`), which is
what makes a W-rank run give the same numbers as a one-process run with
``train.student_rng = True`` (tests/test_distributed.py).

Collectives time out after ``timeout`` seconds (``$MUTUALGNN_DIST_TIMEOUT``, default 300), so a
rank that dies or hangs ends the run with an error on every rank instead of a hang.

Processes are started and joined by :mod:`mutualgnn.launch`: this module only exchanges.

Devices: a run on the CPU uses gloo. A run on cuda gives each rank one GPU, ``cuda:LOCAL_RANK``
(the rank's index on its machine: torchrun's ``LOCAL_RANK``, or the spawned rank), makes it the
rank's current device and uses nccl; the exchanged tensors are on that GPU. Both launchers
therefore take the run's device, since the process group is created before the config is read
by the rank. The cuda/nccl path has not been run on a GPU (docs/scaling.md).
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist
from torch import nn

from .fused import Cohort

DEFAULT_TIMEOUT = 300.0


class DistributedError(RuntimeError):
    """A rank failed or a collective timed out; the message names the rank and the cause."""


def rank_device(device, local_rank: int) -> torch.device:
    """The device of the rank with index ``local_rank`` on its machine in a run on ``device``
    (a ``torch.device`` or its name, e.g. ``"cpu"``, ``"cuda"``): ``cuda:local_rank`` (one GPU
    per rank, whatever index ``device`` names) when it is a cuda device, else the CPU."""
    if torch.device(device).type != "cuda":
        return torch.device("cpu")
    gpus = torch.cuda.device_count()
    if local_rank >= gpus:
        raise DistributedError(
            f"local rank {local_rank} trains on cuda:{local_rank} but this "
            f"machine has {gpus} GPU(s): start at most {gpus} ranks per "
            f"machine, or train on the CPU (--device cpu)"
        )
    return torch.device("cuda", local_rank)


def join_group(device: torch.device, **init) -> None:
    """Create this process's group: nccl on its GPU ``device`` (made the current device, which
    nccl's object collectives use), else gloo; ``init``: ``init_process_group``'s arguments."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(
        "nccl" if device.type == "cuda" else "gloo",
        timeout=datetime.timedelta(seconds=timeout_seconds()),
        **init,
    )


def timeout_seconds() -> float:
    return float(os.environ.get("MUTUALGNN_DIST_TIMEOUT", DEFAULT_TIMEOUT))


class Exchange:
    """The collectives a sharded cohort needs, over torch's default process group. ``device``:
    this rank's device (:func:`rank_device`), where its students train and the exchanged tensors
    are (nccl needs them on the rank's GPU)."""

    def __init__(self, device="cpu"):
        if not dist.is_initialized():
            raise DistributedError(
                "no process group: start with mutualgnn.launch or under torchrun"
            )
        self.device = torch.device(device)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        #: ranks on this machine (torchrun sets ``LOCAL_WORLD_SIZE``; launch() runs all here)
        self.local_size = int(os.environ.get("LOCAL_WORLD_SIZE", self.world_size))

    def owner(self, k: int) -> int:
        return k % self.world_size

    def local(self, num_students: int) -> list:
        """Indices of the students this rank trains."""
        if num_students < self.world_size:
            raise DistributedError(
                f"{self.world_size} ranks for {num_students} students: "
                "use at most one rank per student"
            )
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
            raise DistributedError(
                f"rank {self.rank}: {collective.__name__} failed, another rank "
                f"died or stalled (timeout {timeout_seconds():g} s): {exc}"
            ) from exc


class ShardedCohort(nn.Module):
    """The share of a cohort one rank trains, with :class:`~mutualgnn.training.fused.Cohort`'s interface:
    ``forward`` returns all K students' logits (see :meth:`Exchange.gather`), ``groups`` hold
    the local groups with global student indices, :attr:`local`, :meth:`share` and
    :meth:`collect` complete per-student numbers and checkpoints across ranks."""

    def __init__(self, students, exchange: Exchange, fuse: bool = True):
        super().__init__()
        self.students, self.exchange = list(students), exchange
        self._local = exchange.local(len(self.students))
        self.inner = Cohort([self.students[k] for k in self._local], fuse)
        self.groups = [
            (module, [self._local[i] for i in idx], fused)
            for module, idx, fused in self.inner.groups
        ]

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
