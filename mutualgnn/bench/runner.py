"""Running a suite: train the units not yet in the store, one process or several, and store each
finished one at once, under the results folder's writer lock (:meth:`ResultStore.lock`).

A unit whose training diverges (:class:`~mutualgnn.training.DivergenceError`) is stored as a
failed record (``status: "failed"``, ``error``: the message) and the suite goes on; it counts as
done, so a resume does not retrain it: delete its line from ``runs.jsonl`` to retry it."""
from __future__ import annotations

import contextlib
import datetime
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
from ..provenance import pinned_kernels, versions
from ..progress import bar as progress_bar
from ..training import DivergenceError
from .curves import append_curve
from .record import result_fields
from .store import ResultStore, is_failed, record_key, split_seed_of
from .suite import TUNE, RunSpec, Suite, first_runs, plan, spec_config, where
from .teachers import load_teachers, save_teachers, teacher_key, teaches, unit_key
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


def execute(suite: Suite, spec: RunSpec, data_dir=None, keep_history: bool = False,
            threads=None, folder=None, choices=None) -> tuple:
    """Train one unit; returns (record, history or None). Datasets are cached per process.

    With a results ``folder``: a unit whose students teach another method of the suite keeps
    them there, and a distilling unit (``kd``) takes its teachers from there
    (:mod:`~.teachers`; absent, it trains them itself). ``choices``: the tuning's choices,
    for the final units of a tuning suite (:func:`~.suite.spec_config`).

    The record: the unit's key (dataset, cohort, variant, method, seed, fold), suite, task,
    metric, ``status`` ``"ok"``, students' and ensemble's test/val scores, epochs_run, wall
    seconds, memory, split_sha1, config, versions and finished (time). A unit whose training
    raises :class:`~mutualgnn.training.DivergenceError` (here, in a worker process too) returns
    instead a record with ``status`` ``"failed"``, ``error`` (the message), ``diverged``
    (student, arch, epoch) and no scores, and no history."""
    config = spec_config(suite, spec, data_dir, threads, choices)
    if spec.dataset not in _DATASETS:
        _DATASETS[spec.dataset] = load_dataset(spec.dataset, config.data_dir)
    dataset = _DATASETS[spec.dataset]
    splits = splits_for(config, dataset)
    split = splits[0] if spec.fold is None else splits[spec.fold]
    peak_memory_reset()
    rss_before = memory_mb("VmRSS")
    start = time.perf_counter()
    try:
        teachers = None
        if folder is not None and teacher_key(spec):
            teachers = load_teachers(folder, spec, lambda: build_cohort(config, dataset))
        run = run_once(config, dataset, spec.seed, split, teachers=teachers)
        if folder is not None and teaches(suite.methods, spec.method):
            save_teachers(folder, spec, run.students)
    except DivergenceError as exc:
        return dict(suite=suite.name, dataset=spec.dataset, task=dataset.task, cohort=spec.cohort,
                    variant=spec.variant, method=spec.method, split_seed=spec.split_seed,
                    seed=spec.seed, fold=spec.fold, status="failed", error=str(exc),
                    diverged=dict(student=exc.student, arch=exc.arch, epoch=exc.epoch),
                    seconds=round(time.perf_counter() - start, 3), config=config.to_dict(),
                    versions=versions(),
                    finished=datetime.datetime.now().isoformat(timespec="seconds")), None
    wall = time.perf_counter() - start
    record = dict(suite=suite.name, dataset=spec.dataset, task=dataset.task, cohort=spec.cohort,
                  variant=spec.variant, method=spec.method, split_seed=spec.split_seed,
                  seed=spec.seed, fold=spec.fold, status="ok",
                  metric=dataset.metric,  # what the test_acc / val_acc fields hold
                  **result_fields(run), seconds=round(wall, 3),
                  peak_rss_mb=round(memory_mb(), 1), rss_before_mb=round(rss_before, 1),
                  config=config.to_dict(), versions=versions(),
                  finished=datetime.datetime.now().isoformat(timespec="seconds"))
    history = [{k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
               for row in run.fit.history] if keep_history else None
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
            if is_failed(record):
                failed.append(record)
                unit = " ".join([str(record[k]) for k in ("dataset", "cohort", "variant", "method")
                                 if record[k] not in (None, "")]
                                + [where(record["split_seed"], record["seed"], record["fold"])])
                log(f"failed: {unit}: {record['error']}")
            bar.update()

        # a tuning suite trains in two stages: the tuning runs, then (with the choices they
        # give, written to tuning.md / tuning.json) the final runs
        tuning = {s.key for s in plan(suite, datasets, methods, "tune")} if suite.tuning else set()
        stages = [[s for s in todo if s.key in tuning], [s for s in todo if s.key not in tuning]]
        try:
            for number, stage in enumerate(stages):
                choices = None
                if suite.tuning and number == 1:
                    records = store.records()
                    write_choices(suite, records, store.dir)
                    choices = choose(suite, records)
                    left = _find_tuned(suite, stage, records, store, choices, data_dir, stored,
                                       first)
                    found, stage = len(stage) - len(left), left
                if jobs <= 1 and suite.kernels is None:
                    for spec in stage:
                        bar.set_postfix_str(spec.label())
                        stored(*execute(suite, spec, data_dir, spec.key in first, threads,
                                        store.dir, choices))
                else:
                    _run_parallel(suite, stage, first, jobs, data_dir, stored, store.dir,
                                  choices)
        finally:
            bar.close()
    return {"planned": len(specs), "skipped": len(specs) - len(todo), "ran": len(todo) - found,
            "found": found, "failed": len(failed)}


def _keep_curve(folder, record: dict, history) -> None:
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


def _find_tuned(suite, stage, records, store, choices, data_dir, stored, first) -> list:
    """Store, without training, each final unit whose computation a tuning run already made
    (its chosen point on a tuning seed or fold): the record is that run's, with the final
    unit's variant and ``same_as`` naming the tuning run's; returns the units left to train."""
    tuned = {}
    for r in records:
        if (r.get("variant") or "").startswith(TUNE) and not is_failed(r):
            tuned.setdefault((r["dataset"], r["cohort"], r["method"], split_seed_of(r), r["seed"],
                              r["fold"]), []).append(r)
    histories = {}
    if store.histories_path.is_file():
        for h in store.read(store.histories_path):
            histories[record_key(h)] = h["history"]
    left = []
    for spec in stage:
        candidates = tuned.get((spec.dataset, spec.cohort, spec.method, spec.split_seed,
                                spec.seed, spec.fold), [])
        if candidates:
            want = computation(spec_config(suite, spec, data_dir, 1, choices).to_dict())
            same = [r for r in candidates if computation(r["config"]) == want]
            if same:
                found = dict(same[0], variant=spec.variant, same_as=same[0]["variant"])
                stored(found, histories.get(record_key(same[0])) if spec.key in first else None)
                continue
        left.append(spec)
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


def _run_parallel(suite, todo, first, jobs, data_dir, stored, folder, choices=None):
    """Train ``todo`` in ``jobs`` spawned workers (their kernels pinned to ``suite.kernels``);
    ``stored(record, history)`` each finished one (a diverged unit comes back from
    :func:`execute` as a failed record). A distilling unit waits until the unit that trains
    its teachers has finished."""
    pinned = pinned_kernels(suite.kernels) if suite.kernels else {}
    with _environment(pinned):
        _run_pool(suite, todo, first, max(1, jobs), data_dir, stored, folder, choices)


def _run_pool(suite, todo, first, jobs, data_dir, stored, folder, choices):
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=_worker_init, initargs=(1,))
    pending = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < jobs:
                busy = {unit_key(s) for s in [*queue, *pending.values()]}
                ready = [i for i, s in enumerate(queue) if teacher_key(s) not in busy]
                if not ready:
                    break
                spec = queue.pop(ready[0])
                pending[pool.submit(execute, suite, spec, data_dir, spec.key in first, 1,
                                    folder, choices)] = spec
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


