"""Starting a distributed cohort: one call in, ranks out.

:func:`run_distributed` (what ``mutualgnn run --distributed W`` calls) spawns W local processes,
each a rank of :func:`mutualgnn.experiment.run_experiment` with an
:class:`~mutualgnn.training.distributed.Exchange`; under ``torchrun``, :func:`from_environment`
joins the job that torchrun set up (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``). What the ranks exchange while training is :mod:`mutualgnn.training.distributed`.
"""
from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .data import load_dataset
from .experiment import run_experiment
from .training.distributed import DistributedError, Exchange, join_group, rank_device


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
    join_group(device, rank=rank, world_size=world_size)
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
        join_group(device, init_method="env://")
    return Exchange(device)


def run_distributed(config, world_size: int, dataset=None, progress: bool | None = None,
                    save_dir=None):
    """:func:`mutualgnn.experiment.run_experiment` with the cohort spread over ``world_size``
    spawned local processes, on ``config.train.device`` (cuda: rank r on ``cuda:r``, nccl);
    returns the same :class:`~mutualgnn.experiment.ExperimentResult` (rank 0's, which every
    rank agrees with)."""
    students = len(config.students)
    if not 1 <= world_size <= students:
        raise DistributedError(f"--distributed {world_size}: need 1 <= ranks <= students "
                               f"({students}); each rank trains at least one student")
    device = config.train.torch_device()  # a clear error before any rank starts
    dataset = dataset or load_dataset(config.dataset, config.data_dir)  # once, before the ranks
    return launch(world_size, _run_rank, config, dataset, progress, save_dir, device=device)


def _run_rank(exchange, config, dataset, progress, save_dir):
    first = exchange.rank == 0
    return run_experiment(config, dataset, progress=progress if first else False,
                          save_dir=save_dir if first else None, exchange=exchange)
