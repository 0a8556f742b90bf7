"""Starting a distributed cohort: one call in, ranks out.

:func:`run_distributed` (what ``mutualgnn run --distributed W`` calls) spawns W local processes,
each a rank of :func:`mutualgnn.experiment.run_experiment` with an
:class:`~mutualgnn.training.distributed.Exchange`; under ``torchrun``, :func:`from_environment`
joins the job that torchrun set up (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``). What the ranks exchange while training is :mod:`mutualgnn.training.distributed`.

Rank 0's result reaches the parent as JSON, never as a pickle: the parent unpickles nothing.
:func:`launch` carries JSON values, tuples, dicts with any JSON keys, numpy scalars, tensors,
pandas DataFrames, :class:`~mutualgnn.config.ExperimentConfig` and
:class:`~mutualgnn.experiment.ExperimentResult`, every number exactly (``json.dumps`` of Python
floats round-trips; ``DataFrame.to_json`` would round them to 15 digits).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .config import ExperimentConfig
from .data import load_dataset
from .experiment import ExperimentResult, run_experiment
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
        result_path = Path(tmp) / "result.json"
        try:
            mp.spawn(
                _worker,
                args=(world_size, _free_port(), str(result_path), fn, args, device),
                nprocs=world_size,
                join=True,
            )
        except mp.ProcessRaisedException as exc:
            raise DistributedError(f"a rank failed; its error:\n{exc}") from None
        except mp.ProcessExitedException as exc:
            raise DistributedError(f"a rank exited unexpectedly: {exc}") from None
        return decode(json.loads(result_path.read_text()))


def _worker(rank, world_size, port, result_path, fn, args, device):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    device = rank_device(device, rank)  # spawned ranks are all on this machine
    join_group(device, rank=rank, world_size=world_size)
    try:
        result = fn(Exchange(device), *args)
        if rank == 0:
            Path(result_path).write_text(json.dumps(encode(result)))
        dist.barrier()
    except DistributedError:
        # a collective failed because another rank did: let that rank's error (the cause)
        # reach launch() first, which reports the first failure it sees
        time.sleep(2)
        raise
    finally:
        dist.destroy_process_group()


def encode(value):
    """``value`` as plain JSON data (:func:`decode` rebuilds it): what JSON lacks is a one-key
    object tagged ``"__kind__"``; a TypeError names a value it cannot carry."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return {"__numpy__": [value.dtype.str, value.item()]}
    for plain in (bool, int, float, str):  # a subclass (an IntEnum, ...): its plain value
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return {
            "__tensor__": [
                str(value.dtype).removeprefix("torch."),
                list(value.shape),
                value.flatten().tolist(),
            ]
        }
    if isinstance(value, pd.DataFrame):
        index = value.index
        plain = isinstance(index, pd.RangeIndex) and index.equals(pd.RangeIndex(len(value)))
        return {
            "__frame__": {
                "rows": len(value),
                "columns": [encode(c) for c in value.columns],
                "dtypes": [str(d) for d in value.dtypes],
                "data": [encode(value.iloc[:, i].tolist()) for i in range(value.shape[1])],
                "index": None if plain else encode(index.tolist()),
            }
        }
    if isinstance(value, ExperimentConfig):
        return {"__config__": value.to_dict()}
    if isinstance(value, ExperimentResult):
        return {
            "__experiment__": {
                "config": encode(value.config),
                "records": encode(value.records),
                "histories": encode(value.histories),
            }
        }
    raise TypeError(
        f"launch() returns rank 0's result as JSON and cannot carry a "
        f"{type(value).__name__}: {value!r:.80}"
    )


def decode(data):
    """The value :func:`encode` wrote as ``data``."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    ((kind, payload),) = data.items()
    if kind == "__tuple__":
        return tuple(decode(v) for v in payload)
    if kind == "__dict__":
        return {decode(k): decode(v) for k, v in payload}
    if kind == "__numpy__":
        return np.dtype(payload[0]).type(payload[1])
    if kind == "__tensor__":
        dtype, shape, values = payload
        return torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
    if kind == "__frame__":
        return _decode_frame(payload)
    if kind == "__config__":
        return ExperimentConfig.from_dict(payload)
    if kind == "__experiment__":
        return ExperimentResult(
            config=decode(payload["config"]),
            records=decode(payload["records"]),
            histories=decode(payload["histories"]),
        )
    raise ValueError(f"not a value encode() writes: {kind!r}")


def _decode_frame(payload) -> pd.DataFrame:
    columns = []
    for values, dtype in zip(payload["data"], payload["dtypes"]):
        column = pd.Series(decode(values), dtype=object if dtype == "object" else None)
        columns.append(column if str(column.dtype) == dtype else column.astype(dtype))
    frame = pd.DataFrame(dict(enumerate(columns)), index=pd.RangeIndex(payload["rows"]))
    frame.columns = [decode(c) for c in payload["columns"]]
    if payload["index"] is not None:
        frame.index = pd.Index(decode(payload["index"]))
    return frame


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


def run_distributed(
    config, world_size: int, dataset=None, progress: bool | None = None, save_dir=None
):
    """:func:`mutualgnn.experiment.run_experiment` with the cohort spread over ``world_size``
    spawned local processes, on ``config.train.device`` (cuda: rank r on ``cuda:r``, nccl);
    returns the same :class:`~mutualgnn.experiment.ExperimentResult` (rank 0's, which every
    rank agrees with)."""
    students = len(config.students)
    if not 1 <= world_size <= students:
        raise DistributedError(
            f"--distributed {world_size}: need 1 <= ranks <= students "
            f"({students}); each rank trains at least one student"
        )
    device = config.train.torch_device()  # a clear error before any rank starts
    dataset = dataset or load_dataset(config.dataset, config.data_dir)  # once, before the ranks
    return launch(world_size, _run_rank, config, dataset, progress, save_dir, device=device)


def _run_rank(exchange, config, dataset, progress, save_dir):
    first = exchange.rank == 0
    return run_experiment(
        config,
        dataset,
        progress=progress if first else False,
        save_dir=save_dir if first else None,
        exchange=exchange,
    )
