"""The process a fit runs in: seeds and thread counts."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

from .._dgl_compat import dgl


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and DGL: the same seed gives the same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    dgl.seed(seed)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads and DGL's OpenMP threads (a pool of its own, used by its
    kernels and samplers) to ``threads`` (default: the cores available); warn on
    oversubscription. One count for both keeps ``--jobs N --threads 1`` at N busy threads. DGL's
    neighbour sampler repeats under a seed only with one thread (with more it draws by thread
    schedule), so ``threads=1`` is what makes sampled runs reproducible."""
    cores = available_cores()
    if threads is None:
        threads = cores
    if threads < 1:
        raise ValueError("threads must be >= 1")
    if threads > cores:
        warnings.warn(
            f"{threads} threads asked for but only {cores} cores are available; "
            "oversubscribed threads make DGL and torch much slower",
            stacklevel=2,
        )
    torch.set_num_threads(threads)
    dgl.utils.set_num_threads(threads)
    return threads
