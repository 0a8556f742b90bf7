"""What a suite will cost before it runs (``mutualgnn bench --plan``): per dataset and method,
the runs its plan holds, how many a results folder stores already, and the core-hours left.

A run not stored yet costs the median seconds of the stored runs of its dataset, cohort and
method (their load included: the machine that ran them, as busy as it was); where none is
stored, a probe times the configuration for :data:`PROBE_EPOCHS` epochs in this process, one
torch thread, and scales it to the run's epoch budget, every epoch run: an upper bound, since
early stopping ends most runs sooner. Wall time on ``jobs`` workers is the core-hours divided
by them, if every worker stays busy.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import pandas as pd

from ..data import load_dataset
from ..experiment import run_once, splits_for
from .cluster import size
from .store import ResultStore
from .suite import TUNE, Suite
from .units import plan, spec_config

#: epochs a probe trains a configuration for
PROBE_EPOCHS = 3


def probe_seconds(suite: Suite, spec, data_dir=None, epochs: int = PROBE_EPOCHS) -> float:
    """Seconds one run of ``spec`` takes if it runs its whole epoch budget: ``epochs`` epochs
    timed (set-up included) and scaled. A tuned method's final run is timed at the grid's first
    point, which costs an epoch what its choice costs."""
    choices = (
        {(spec.dataset, spec.cohort, spec.method): suite.tuning_points()[0][1]}
        if suite.tuning
        else None
    )
    inherit = (suite.tuning or {}).get("inherit", {})
    if spec.method in inherit:
        choices[(spec.dataset, spec.cohort, inherit[spec.method])] = suite.tuning_points()[0][1]
    config = spec_config(suite, spec, data_dir, 1, choices)
    budget = config.train.resolved(_task(spec.dataset, data_dir)).epochs
    short = dataclasses.replace(
        config, train=dataclasses.replace(config.train, epochs=epochs, patience=epochs)
    )
    dataset = _loaded(spec.dataset, data_dir)
    split = splits_for(short, dataset)[spec.fold or 0]
    start = time.perf_counter()
    run = run_once(short, dataset, spec.seed, split)
    wall = time.perf_counter() - start
    per_epoch = run.fit.seconds / run.fit.epochs_run
    return wall - run.fit.seconds + per_epoch * budget


def projection(
    suite: Suite, out=None, datasets=None, methods=None, data_dir=None, probe=True
) -> pd.DataFrame:
    """One row per (dataset, method) of ``suite``'s plan: ``runs`` planned (tuning runs
    included), ``stored`` in the results folder ``out``, ``core_hours`` of the runs stored and
    ``core_hours_left``, and ``from``: what the runs left are costed by (``stored runs`` or
    ``probe``: :func:`probe_seconds`, or the function given as ``probe``). With ``probe``
    false, the runs of a configuration nothing stored costs are left uncosted (``uncosted``
    counts them)."""
    probe = probe_seconds if probe is True else (probe or None)
    store = ResultStore(out) if out is not None else None
    stored = {r.key: r for r in store.records()} if store and store.has_runs() else {}
    seconds: dict = {}
    for r in stored.values():
        if not r.failed and r.same_as is None:
            seconds.setdefault((r.dataset, r.cohort, r.method), []).append(r.seconds)
    costs, probed, rows = {}, set(), {}
    for spec in plan(suite, datasets, methods):
        row = rows.setdefault(
            (spec.dataset, spec.method),
            dict(
                dataset=spec.dataset,
                method=spec.method,
                runs=0,
                stored=0,
                core_hours=0.0,
                core_hours_left=0.0,
                uncosted=0,
                sources=set(),
            ),
        )
        row["runs"] += 1
        if spec.key in stored:
            row["stored"] += 1
            row["core_hours"] += stored[spec.key].seconds / 3600
            continue
        group = (spec.dataset, spec.cohort, spec.method)
        if group not in costs:
            if seconds.get(group):
                costs[group] = statistics.median(seconds[group])
            elif probe is None:
                costs[group] = None
            else:
                base = (
                    dataclasses.replace(spec, variant="") if spec.variant.startswith(TUNE) else spec
                )
                costs[group] = probe(suite, base, data_dir)
                probed.add(group)
        if costs[group] is None:
            row["uncosted"] += 1
            continue
        row["core_hours_left"] += costs[group] / 3600
        row["sources"].add("probe" if group in probed else "stored runs")
    table = pd.DataFrame(rows.values())
    if len(table):
        table["from"] = [", ".join(sorted(s)) or "-" for s in table.pop("sources")]
        table[["core_hours", "core_hours_left"]] = table[["core_hours", "core_hours_left"]].round(2)
    return table


def plan_summary(
    table: pd.DataFrame,
    jobs: int,
    full: bool = False,
    cluster: str | None = None,
    kernels: str | None = None,
) -> str:
    """The projection in one line: runs planned and stored, core-hours left, wall time on
    ``jobs`` workers, or on the workers of ``cluster`` (an address of ``bench --cluster``, whose
    workers, checked for the suite's ``kernels``, are counted; ``local:N``: N); with ``full``,
    the table (markdown) above it."""
    if cluster is not None:
        jobs = size(cluster, kernels)
    left = float(table["core_hours_left"].sum()) if len(table) else 0.0
    planned, stored, uncosted = (
        int(table[c].sum()) if len(table) else 0 for c in ("runs", "stored", "uncosted")
    )
    unknown = (
        f" ({uncosted} not costed: nothing like them stored; --plan probes them)"
        if uncosted
        else ""
    )
    head = table.to_markdown(index=False) + "\n" if full and len(table) else ""
    return (
        head + f"plan: {planned} run(s), {stored} stored; {planned - stored} left, projected "
        f"{left:.2f} core-hours{unknown}, about {left / max(1, jobs):.2f} h on {jobs} "
        + ("worker(s)" if cluster else "job(s)")
    )


_DATASETS: dict = {}


def _loaded(name: str, data_dir):
    if name not in _DATASETS:
        _DATASETS[name] = load_dataset(name, data_dir)
    return _DATASETS[name]


def _task(name: str, data_dir) -> str:
    return _loaded(name, data_dir).task
