"""Where a suite's planned runs train: in this process, in ``jobs`` local worker processes
(``mutualgnn bench --jobs N``) or on a Dask cluster (``--cluster ADDRESS``, :mod:`.cluster`).

Every engine takes one stage's planned runs and a :class:`Work`: how to train a run (in a
worker: ``execute(run, teachers)`` gives an :class:`~.runner.Outcome`), and, in this process,
the teachers a run needs (``teachers_of(run)``), what to do with a finished run
(``finish(outcome)``: keep its teachers and store it) and the outcome of a run whose worker died
(``lost(run, message)``). Workers never touch the results folder: this process is its only
writer. A distilling run is submitted only once the run that trains its teachers has finished
(:func:`dispatch`)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from ..provenance import pinned_kernels


@dataclass
class Work:
    """What an engine needs of the runner (see the module docstring)."""

    execute: Callable
    teachers_of: Callable
    finish: Callable
    lost: Callable


def dispatch(planned, capacity: int, submit, wait_first, collect) -> None:
    """Submit ``planned`` runs in order, at most ``capacity`` in flight: ``submit(run)`` gives
    a future, ``wait_first(futures)`` the ones finished among them (waiting for one at
    least) and ``collect(run, future)`` takes each finished one's result, in the order they
    finish. A run whose teachers (``run.taught_by``) are queued or in flight waits until they
    are done."""
    pending, queue = {}, list(planned)
    while queue or pending:
        while queue and len(pending) < capacity:
            busy = {run.unit for run in [*queue, *pending.values()]}
            ready = next((i for i, run in enumerate(queue) if run.taught_by not in busy), None)
            if ready is None:
                break
            run = queue.pop(ready)
            pending[submit(run)] = run
        for future in wait_first(list(pending)):
            collect(pending.pop(future), future)


def run_here(planned, work: Work, show=lambda label: None) -> None:
    """Train ``planned`` runs one after the other in this process (``show(label)`` names the
    one training, for a progress bar)."""
    for run in planned:
        show(run.label())
        work.finish(work.execute(run, work.teachers_of(run)))


def _worker_init(threads):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def run_local(planned, work: Work, jobs: int, kernels: str | None = None) -> None:
    """Train ``planned`` runs in ``jobs`` spawned worker processes of one torch thread each,
    their kernels pinned to ``kernels`` (a suite's level) where given. On an error or Ctrl-C
    here, the workers are stopped (runs in flight are lost; finished ones are stored)."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(1,),
    )
    try:
        with environment(pinned_kernels(kernels) if kernels else {}):  # workers start in here
            dispatch(
                planned,
                jobs,
                lambda run: pool.submit(work.execute, run, work.teachers_of(run)),
                lambda futures: wait(futures, return_when=FIRST_COMPLETED)[0],
                lambda run, future: work.finish(future.result()),
            )
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stopping = multiprocessing.active_children()  # the pool's workers
        for process in stopping:
            process.terminate()
        for process in stopping:
            process.join(timeout=10)
            if process.is_alive():  # not gone in 10 s (a loaded machine): no more asking
                process.kill()
                process.join(timeout=10)
        raise
    pool.shutdown()


@contextlib.contextmanager
def environment(changes: dict):
    """``os.environ`` with ``changes`` while inside (processes started then inherit them)."""
    saved = {key: os.environ.get(key) for key in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
