"""Running a suite: plan the units not yet in the store once (:func:`~.planned.plan_runs`: each
with its final config), train them in one process or several, and store each finished one at
once, under the results folder's writer lock (:meth:`ResultStore.lock`).

A unit whose training diverges (:class:`~mutualgnn.training.DivergenceError`) is stored as a
failed record (``status: "failed"``, ``error``: the message) and the suite goes on; it counts as
done, so a resume does not retrain it: delete its line from ``runs.jsonl`` to retry it."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import resource
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

import torch

from ..data import load_dataset
from ..experiment import build_cohort, run_once, splits_for
from ..provenance import pinned_kernels
from ..progress import bar as progress_bar
from ..training import DivergenceError
from .curves import append_curve
from .planned import PlannedRun, plan_runs
from .record import RunRecord, failed_run, from_run
from .store import ResultStore, history_key
from .suite import Suite, first_runs, plan
from .teachers import load_teachers, save_teachers
from .tuning import choose, write_choices


def peak_memory_reset() -> None:
    """Reset this process's peak resident memory (Linux); elsewhere the peak is the process's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def memory_mb(field: str = "VmHWM") -> float:
    """The process's peak (``VmHWM``) or current (``VmRSS``) resident memory in MB."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(field + r":\s+(\d+)", status).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_DATASETS: dict = {}


def execute(run: PlannedRun, folder=None) -> tuple:
    """Train one planned run; returns (record, history or None). Datasets are cached per
    process.

    With a results ``folder``: a run whose students teach another method of the suite
    (``run.keeps_teachers``) keeps them there, and a distilling run (``kd``) takes its
    teachers from there (:mod:`~.teachers`; absent, it trains them itself).

    The record: a :class:`~.record.RunRecord` (:func:`~.record.from_run`). A run whose
    training raises :class:`~mutualgnn.training.DivergenceError` (here, in a worker process
    too) returns instead a failed record (:func:`~.record.failed_run`) and no history."""
    spec, config = run.spec, run.config
    if spec.dataset not in _DATASETS:
        _DATASETS[spec.dataset] = load_dataset(spec.dataset, config.data_dir)
    dataset = _DATASETS[spec.dataset]
    splits = splits_for(config, dataset)
    split = splits[0] if spec.fold is None else splits[spec.fold]
    identity = dict(suite=run.suite, dataset=spec.dataset, task=dataset.task,
                    metric=dataset.metric, cohort=spec.cohort, variant=spec.variant,
                    method=spec.method, split_seed=spec.split_seed, seed=spec.seed,
                    fold=spec.fold, config=config.to_dict())
    peak_memory_reset()
    rss_before = memory_mb("VmRSS")
    start = time.perf_counter()
    try:
        teachers = None
        if folder is not None and run.taught_by:
            teachers = load_teachers(folder, spec, lambda: build_cohort(config, dataset))
        trained = run_once(config, dataset, spec.seed, split, teachers=teachers)
        if folder is not None and run.keeps_teachers:
            save_teachers(folder, spec, trained.students)
    except DivergenceError as exc:
        return failed_run(exc, identity, time.perf_counter() - start), None
    record = from_run(trained, identity, time.perf_counter() - start,
                      dict(peak_rss_mb=round(memory_mb(), 1), rss_before_mb=round(rss_before, 1)))
    history = [{k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
               for row in trained.fit.history] if run.keep_history else None
    return record, history


def _worker_init(threads):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


def run_suite(suite: Suite, out, jobs: int = 1, resume: bool = True, datasets=None,
              methods=None, data_dir=None, threads=None, progress: bool = True, log=print) -> dict:
    """Train every unit of ``suite`` not yet in ``out``; returns counts: ``planned``,
    ``skipped`` (already stored, failed ones included), ``ran`` (trained now), ``found`` (final
    units of a tuning suite whose computation a tuning run already made: stored from it with
    ``same_as``, not retrained) and ``failed`` (of those trained, the ones that diverged,
    stored with ``status: "failed"``).

    The folder's writer lock is held throughout (released however this ends): a second
    run_suite on the same folder raises :class:`~mutualgnn.config.ConfigError` naming this one.
    A failed unit is not retried by a later call; delete its line in ``runs.jsonl`` to retry it.
    ``jobs > 1`` trains units in that many worker processes, one torch thread each; with one
    job, ``threads`` torch threads (default: the suite's ``train.threads``, else the cores). A
    suite with ``kernels`` trains every unit in worker processes (one with one job) started with
    its kernel level pinned (:func:`~mutualgnn.provenance.pinned_kernels`).
    """
    store = ResultStore(out)
    with store.lock():
        store.check_suite(suite)
        if not resume:
            moved = store.archive()
            if moved is not None:
                log(f"--no-resume: earlier results moved to {moved}")
        specs = plan(suite, datasets, methods)
        for name in {s.dataset for s in specs}:  # a missing dataset fails before any training
            load_dataset(name, data_dir)
        done = store.done()
        todo = [s for s in specs if s.key not in done]
        first = first_runs(specs)
        bar = progress_bar(total=len(specs), initial=len(specs) - len(todo),
                           desc=f"suite {suite.name}", unit="run", enabled=progress)
        failed, found = [], 0

        def stored(record, history):
            store.append(record, history)
            _keep_curve(store.dir, record, history)
            if record.failed:
                failed.append(record)
                log(f"failed: {record.label()}: {record.error}")
            bar.update()

        # a tuning suite trains in two stages: the tuning runs, then (with the choices they
        # give, written to tuning.md / tuning.json) the final runs
        tuning = {s.key for s in plan(suite, datasets, methods, "tune")} if suite.tuning else set()
        stages = [[s for s in todo if s.key in tuning], [s for s in todo if s.key not in tuning]]
        parallel = jobs > 1 or suite.kernels is not None
        per_run = 1 if parallel else threads  # torch threads of each run
        try:
            for number, stage in enumerate(stages):
                choices = None
                if suite.tuning and number == 1:
                    records = store.records()
                    write_choices(suite, records, store.dir)
                    choices = choose(suite, records)
                planned = plan_runs(suite, stage, first, data_dir, per_run, choices)
                if suite.tuning and number == 1:
                    left = _find_tuned(planned, records, store, stored)
                    found, planned = len(planned) - len(left), left
                if not parallel:
                    for run in planned:
                        bar.set_postfix_str(run.label())
                        stored(*execute(run, store.dir))
                else:
                    _run_parallel(suite.kernels, planned, jobs, stored, store.dir)
        finally:
            bar.close()
    return {"planned": len(specs), "skipped": len(specs) - len(todo), "ran": len(todo) - found,
            "found": found, "failed": len(failed)}


def _keep_curve(folder, record: RunRecord, history) -> None:
    """Keep a stored run's per-epoch curves, compactly, in ``DIR/curves.jsonl`` for the
    figures (:mod:`~.curves`: the first final run of each dataset, cohort, variant, method)."""
    if history is not None:
        append_curve(folder, record, history)


#: config keys that say where or how fast a run goes, not what it computes
_NOT_COMPUTATION = {"data_dir": None, "train": {"threads": None, "progress": None}}


def computation(config: dict) -> dict:
    """A stored run's config without the keys that do not change its numbers (data folder,
    threads, progress bar): two runs with equal ``computation`` compute the same numbers."""
    out = json.loads(json.dumps(config))
    for key, inner in _NOT_COMPUTATION.items():
        if inner is None:
            out.pop(key, None)
        else:
            for k in inner:
                out.get(key, {}).pop(k, None)
    return out


def _find_tuned(planned, records, store, stored) -> list:
    """Store, without training, each planned final run whose computation a tuning run already
    made (its chosen point on a tuning seed or fold): the record is that run's, with the final
    run's variant and ``same_as`` naming the tuning run's; returns the runs left to train."""
    tuned = {}
    for r in records:
        if r.tuning and not r.failed:
            tuned.setdefault((r.dataset, r.cohort, r.method, r.split_seed, r.seed, r.fold),
                             []).append(r)
    histories = {history_key(h): h["history"] for h in store.histories()}
    left = []
    for run in planned:
        spec = run.spec
        candidates = tuned.get((spec.dataset, spec.cohort, spec.method, spec.split_seed,
                                spec.seed, spec.fold), [])
        want = computation(run.config.to_dict())
        same = [r for r in candidates if computation(r.config) == want]
        if same:
            found = dataclasses.replace(same[0], variant=spec.variant, same_as=same[0].variant)
            stored(found, histories.get(same[0].key) if run.keep_history else None)
        else:
            left.append(run)
    return left


@contextlib.contextmanager
def _environment(changes: dict):
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


def _run_parallel(kernels, planned, jobs, stored, folder):
    """Train ``planned`` runs in ``jobs`` spawned workers (their kernels pinned to ``kernels``,
    a suite's level, where given); ``stored(record, history)`` each finished one (a diverged
    run comes back from :func:`execute` as a failed record). A distilling run waits until the
    run that trains its teachers has finished."""
    pinned = pinned_kernels(kernels) if kernels else {}
    with _environment(pinned):
        _run_pool(planned, max(1, jobs), stored, folder)


def _run_pool(planned, jobs, stored, folder):
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=_worker_init, initargs=(1,))
    pending = {}
    queue = list(planned)
    try:
        while queue or pending:
            while queue and len(pending) < jobs:
                busy = {run.unit for run in [*queue, *pending.values()]}
                ready = [i for i, run in enumerate(queue) if run.taught_by not in busy]
                if not ready:
                    break
                run = queue.pop(ready[0])
                pending[pool.submit(execute, run, folder)] = run
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                stored(*future.result())
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()  # runs in flight are lost; finished ones are stored
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
