"""Benchmark suites: a declared grid of runs, a resumable results store, and the runner.

A suite (YAML, see ``mutualgnn/suites/*.yaml``) names datasets, cohorts, methods, seeds, folds
and the settings every run shares. :func:`plan` expands it into :class:`RunSpec` units, one per
(dataset, cohort, method, seed, fold). :func:`run_suite` trains the units not yet in the store,
appending each finished one as a single JSON line to ``DIR/runs.jsonl`` at once, so an
interruption loses at most the runs in flight.

``independent`` and ``ensemble`` share their training: the ``ensemble`` method is the averaged
prediction of the independently trained students, so the runner trains ``independent`` once and
the tables read the ensemble from it.

Modules: :mod:`~.suite` (the YAML grid), :mod:`~.units` (its plan: the units and each one's
config), :mod:`~.record` (one run's record, a line of ``runs.jsonl``), :mod:`~.store` (the
results folder), :mod:`~.planned` (each run's final config, decided once), :mod:`~.projection`
(its cost before it runs), :mod:`~.runner` (training the plan and storing it: :mod:`~.workers`
where the runs train, :mod:`~.cluster` on a Dask cluster), :mod:`~.tables` (records to tables),
:mod:`~.table` (``mutualgnn table``: a folder's tables and figures written beside its runs),
:mod:`~.report` (``mutualgnn report``: the results page; :mod:`~.coverage` the runs it judges,
:mod:`~.glance` the README's block), :mod:`~.plots` and :mod:`~.curve_plots` (the figures,
:mod:`~.figstyle` their shared style; :mod:`~.curves`, the per-epoch values they draw),
:mod:`~.stats` (paired statistics, the corrected t-test, TOST), :mod:`~.verdict` (GML against
every baseline, declared rules), :mod:`~.verify` (rerun stored runs and demand the same
numbers).
"""

from .record import RunRecord, StudentResult
from .table import tabulate
from .tables import records_frame, student_labels
from .planned import PlannedRun, plan_runs
from .projection import plan_summary, probe_seconds, projection
from .runner import Outcome, execute, memory_mb, outcome_lines, peak_memory_reset, run_suite
from .stats import MeanTest, Paired, holm, mean_test, paired
from .store import HISTORIES_FILE, RUNS_FILE, SUITE_FILE, ResultStore
from .suite import KEY, Suite, load_suite, suite_names
from .units import RunSpec, first_runs, plan, spec_config
from .verify import Verified, verify

__all__ = [
    "RunRecord",
    "StudentResult",
    "records_frame",
    "tabulate",
    "student_labels",
    "PlannedRun",
    "plan_runs",
    "projection",
    "probe_seconds",
    "plan_summary",
    "execute",
    "Outcome",
    "outcome_lines",
    "memory_mb",
    "peak_memory_reset",
    "run_suite",
    "MeanTest",
    "Paired",
    "holm",
    "mean_test",
    "paired",
    "HISTORIES_FILE",
    "RUNS_FILE",
    "SUITE_FILE",
    "ResultStore",
    "KEY",
    "RunSpec",
    "Suite",
    "first_runs",
    "load_suite",
    "plan",
    "spec_config",
    "suite_names",
    "Verified",
    "verify",
]
