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
import re
import resource
import time
from pathlib import Path
from typing import NamedTuple

from ..data import load_dataset
from ..experiment import build_cohort, run_once, splits_for
from ..progress import bar as progress_bar
from ..training import DivergenceError
from . import workers
from .cluster import connect, run_on_cluster
from .curves import append_curve
from .planned import PlannedRun, plan_runs
from .record import RunRecord, failed_run, from_run
from .store import ResultStore, history_key
from .suite import Suite
from .units import first_runs, plan
from .teachers import read_teachers, rebuild_teachers, save_teachers, teacher_payload
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


def _dataset(run: PlannedRun):
    """The run's dataset, loaded once per process."""
    if run.spec.dataset not in _DATASETS:
        _DATASETS[run.spec.dataset] = load_dataset(run.spec.dataset, run.config.data_dir)
    return _DATASETS[run.spec.dataset]


def _identity(run: PlannedRun, dataset) -> dict:
    spec = run.spec
    return dict(
        suite=run.suite,
        dataset=spec.dataset,
        task=dataset.task,
        metric=dataset.metric,
        cohort=spec.cohort,
        variant=spec.variant,
        method=spec.method,
        split_seed=spec.split_seed,
        seed=spec.seed,
        fold=spec.fold,
        config=run.config.to_dict(),
    )


class Outcome(NamedTuple):
    """What training a planned run gives the process that stores it: the ``record``
    (:class:`~.record.RunRecord`), the per-epoch ``history`` (list of dicts) of a run that keeps
    it, and the ``teachers`` (:func:`~.teachers.teacher_payload`) of a run whose students teach
    another method of the suite (else None)."""

    record: RunRecord
    history: list | None = None
    teachers: dict | None = None


def execute(run: PlannedRun, teachers: dict | None = None) -> Outcome:
    """Train one planned run (datasets are cached per process); it reads and writes no
    results folder, so it runs alike here, in a local worker or on a cluster's worker.

    ``teachers``: for a distilling run (``kd``), the kept students of the run that teaches it
    (:func:`~.teachers.read_teachers`); None, it trains its teachers itself. A run whose
    training raises :class:`~mutualgnn.training.DivergenceError` gives a failed record
    (:func:`~.record.failed_run`) and no history."""
    spec, config = run.spec, run.config
    dataset = _dataset(run)
    splits = splits_for(config, dataset)
    split = splits[0] if spec.fold is None else splits[spec.fold]
    peak_memory_reset()
    rss_before = memory_mb("VmRSS")
    start = time.perf_counter()
    try:
        if teachers is not None:
            teachers = rebuild_teachers(teachers, lambda: build_cohort(config, dataset))
        trained = run_once(config, dataset, spec.seed, split, teachers=teachers)
    except DivergenceError as exc:
        return Outcome(failed_run(exc, _identity(run, dataset), time.perf_counter() - start))
    record = from_run(
        trained,
        _identity(run, dataset),
        time.perf_counter() - start,
        dict(peak_rss_mb=round(memory_mb(), 1), rss_before_mb=round(rss_before, 1)),
    )
    history = (
        [
            {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
            for row in trained.fit.history
        ]
        if run.keep_history
        else None
    )
    kept = teacher_payload(spec, trained.students) if run.keeps_teachers else None
    return Outcome(record, history, kept)


def lost(run: PlannedRun, message: str, seconds: float = 0.0) -> Outcome:
    """The outcome of a run that did not come back (its worker died): a failed record whose
    ``error`` is ``message``."""
    return Outcome(failed_run(RuntimeError(message), _identity(run, _dataset(run)), seconds))


def run_suite(
    suite: Suite,
    out,
    jobs: int = 1,
    resume: bool = True,
    datasets=None,
    methods=None,
    data_dir=None,
    threads=None,
    progress: bool = True,
    log=print,
    cluster: str | None = None,
) -> dict:
    """Train every unit of ``suite`` not yet in ``out``; returns counts: ``planned``,
    ``skipped`` (already stored, failed ones included), ``ran`` (trained now), ``found`` (final
    units of a tuning suite whose computation a tuning run already made: stored from it with
    ``same_as``, not retrained) and ``failed`` (of those trained, the ones that diverged or
    whose worker died twice, stored with ``status: "failed"``).

    The folder's writer lock is held throughout (released however this ends): a second
    run_suite on the same folder raises :class:`~mutualgnn.config.ConfigError` naming this one.
    This process is the folder's only writer: runs train elsewhere (:func:`execute`) and come
    back to be stored, teachers included. A failed unit is not retried by a later call; delete
    its line in ``runs.jsonl`` to retry it.

    Where runs train (:mod:`~.workers`): ``cluster``, a Dask scheduler's address or
    ``local:N`` (:mod:`~.cluster`), trains each run as a task of that cluster, one torch
    thread each; else ``jobs > 1`` trains units in that many local worker processes, one torch
    thread each; with one job, here with ``threads`` torch threads (default: the suite's
    ``train.threads``, else the cores). A suite with ``kernels`` trains every unit in worker
    processes (one with one job) started with its kernel level pinned
    (:func:`~mutualgnn.provenance.pinned_kernels`).
    """
    store = ResultStore(out)
    with store.lock():
        specs, stages = _stages(suite, store, resume, datasets, methods, data_dir, log)
        todo = [s for stage in stages for s in stage]
        first = first_runs(specs)
        bar = progress_bar(
            total=len(specs),
            initial=len(specs) - len(todo),
            desc=f"suite {suite.name}",
            unit="run",
            enabled=progress,
        )
        failed = []

        def stored(record, history):
            store.append(record, history)
            _keep_curve(store.dir, record, history)
            if record.failed:
                failed.append(record)
                log(f"failed: {record.label()}: {record.error}")
            bar.update()

        def finish(outcome: Outcome):
            if outcome.teachers is not None:  # kept before the record that says they exist
                save_teachers(store.dir, outcome.teachers)
            stored(outcome.record, outcome.history)

        def teachers_of(run: PlannedRun):
            return read_teachers(store.dir, run.taught_by) if run.taught_by else None

        parallel = cluster is not None or jobs > 1 or suite.kernels is not None
        per_run = 1 if parallel else threads  # torch threads of each run
        with contextlib.ExitStack() as closing:
            closing.callback(bar.close)
            engine = _engine(jobs, suite.kernels, cluster, closing, bar.set_postfix_str)
            work = workers.Work(execute, teachers_of, finish, lost)
            found = _train(suite, stages, store, stored, engine, work, first, data_dir, per_run)
    return {
        "planned": len(specs),
        "skipped": len(specs) - len(todo),
        "ran": len(todo) - found,
        "found": found,
        "failed": len(failed),
    }


def _train(suite: Suite, stages, store, stored, engine, work, first, data_dir, per_run) -> int:
    """Train ``stages`` in order with ``engine`` (:func:`_engine`), each planned once
    (:func:`~.planned.plan_runs`); before a tuning suite's final stage its choices are written
    and made (:func:`~.tuning.choose`), and the final runs a tuning run already computed are
    stored from it (``stored``), not trained: returns how many."""
    found = 0
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
        engine(planned, work)
    return found


def _stages(suite: Suite, store: ResultStore, resume: bool, datasets, methods, data_dir, log):
    """The units :func:`run_suite` plans, and those not yet stored in the order they train, as
    stages: a tuning suite trains in two, the tuning runs, then (with the choices they give,
    written to tuning.md / tuning.json) the final runs. Without ``resume`` the folder's earlier
    results are moved aside first; a missing dataset fails here, before any training."""
    store.check_suite(suite)
    if not resume:
        moved = store.archive()
        if moved is not None:
            log(f"--no-resume: earlier results moved to {moved}")
    specs = plan(suite, datasets, methods)
    for name in {s.dataset for s in specs}:
        load_dataset(name, data_dir)
    done = store.done()
    todo = [s for s in specs if s.key not in done]
    tuning = {s.key for s in plan(suite, datasets, methods, "tune")} if suite.tuning else set()
    return specs, [[s for s in todo if s.key in tuning], [s for s in todo if s.key not in tuning]]


def outcome_lines(name: str, counts: dict, out) -> tuple:
    """What ``bench`` says when :func:`run_suite` returns ``counts``: the line of what was done,
    and the warning about failed runs ("" when none failed)."""
    found = (
        f", {counts['found']} found in the tuning runs (the same computation)"
        if counts.get("found")
        else ""
    )
    done = (
        f"suite {name}: {counts['ran']} run(s) trained{found}, {counts['skipped']} already "
        f"done, results in {out}"
    )
    failed = (
        f"{counts['failed']} run(s) failed (diverged, or their workers died), left out "
        f"of the tables: see {Path(out) / 'failed.md'}"
        if counts.get("failed")
        else ""
    )
    return done, failed


def _engine(jobs: int, kernels: str | None, cluster: str | None, closing, show):
    """Where the runs train, as ``engine(planned, work)`` (:mod:`~.workers`): a cluster
    (connected here, once, and closed by the ExitStack ``closing``), ``jobs`` local workers,
    or this process (one job, no pinned ``kernels``; ``show`` names the run training)."""
    if cluster is not None:
        client = closing.enter_context(connect(cluster, kernels))
        return lambda planned, work: run_on_cluster(client, planned, work)
    if jobs > 1 or kernels is not None:
        return lambda planned, work: workers.run_local(planned, work, max(1, jobs), kernels)
    return lambda planned, work: workers.run_here(planned, work, show)


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
            tuned.setdefault(
                (r.dataset, r.cohort, r.method, r.split_seed, r.seed, r.fold), []
            ).append(r)
    histories = {history_key(h): h["history"] for h in store.histories()}
    left = []
    for run in planned:
        spec = run.spec
        candidates = tuned.get(
            (spec.dataset, spec.cohort, spec.method, spec.split_seed, spec.seed, spec.fold), []
        )
        want = computation(run.config.to_dict())
        same = [r for r in candidates if computation(r.config) == want]
        if same:
            found = dataclasses.replace(same[0], variant=spec.variant, same_as=same[0].variant)
            stored(found, histories.get(same[0].key) if run.keep_history else None)
        else:
            left.append(run)
    return left
