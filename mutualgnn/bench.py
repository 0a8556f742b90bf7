"""Benchmark suites: a declared grid of runs, a resumable results store, and the runner.

A suite (YAML, see ``mutualgnn/suites/*.yaml``) names datasets, cohorts, methods, seeds, folds
and the settings every run shares. :func:`plan` expands it into :class:`RunSpec` units, one per
(dataset, cohort, method, seed, fold). :func:`run_suite` trains the units not yet in the store,
appending each finished one as a single JSON line to ``DIR/runs.jsonl`` at once, so an
interruption loses at most the runs in flight.

``independent`` and ``ensemble`` share their training: the ``ensemble`` method is the averaged
prediction of the independently trained students, so the runner trains ``independent`` once and
the tables read the ensemble from it.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import resource
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import resources
from multiprocessing import get_context
from pathlib import Path

from .config import (METHODS, ConfigError, ExperimentConfig, _check_keys, apply_overrides,
                     load_yaml, parse_seeds)
from .data import canonical_name, has_official_split, load_dataset, task_of

RUNS_FILE = "runs.jsonl"
HISTORIES_FILE = "histories.jsonl"
SUITE_FILE = "suite.json"
KEY = ("dataset", "cohort", "variant", "method", "seed", "fold")


# ---------------------------------------------------------------------------------- suites
@dataclass
class Suite:
    """A declared grid of runs.

    ``cohorts`` and ``seeds`` map a task (``node``, ``graph``) or a dataset name to its value; a
    dataset's own entry wins. ``grid`` maps ExperimentConfig keys (dotted, e.g. ``label_noise``
    or ``mutual.gamma``) to lists of values: every combination is a *variant* run with every
    method, seed and fold. ``settings`` holds :class:`~mutualgnn.config.ExperimentConfig` keys
    (``train``, ``mutual``, ``hparams``, ``split_seed``) shared by every run: they define the
    protocol, so a results folder belongs to one suite name and one ``settings``/``folds``.
    ``run_folds`` (e.g. ``0-2``) runs only some of the ``folds`` folds, for a quick tuning
    grid; the folds themselves stay those of the full ``folds``-fold split.
    """

    name: str
    datasets: list
    methods: list = field(default_factory=lambda: list(METHODS))
    cohorts: dict = field(default_factory=lambda: {"node": ["gcn,gat"], "graph": ["gin,gcn"]})
    seeds: dict = field(default_factory=lambda: {"node": "0-9", "graph": "0"})
    folds: int = 10
    run_folds: object = None
    settings: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("suite: 'name' must be a non-empty string")
        if not isinstance(self.datasets, list) or not self.datasets:
            raise ConfigError("suite: 'datasets' must be a non-empty list of dataset names")
        self.datasets = [canonical_name(d) for d in self.datasets]
        if not isinstance(self.methods, list) or not self.methods:
            raise ConfigError("suite: 'methods' must be a non-empty list")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ConfigError(f"suite: unknown method(s) {', '.join(map(str, bad))}; "
                              f"choose from: {', '.join(METHODS)}")
        for key in ("cohorts", "seeds"):
            if not isinstance(getattr(self, key), dict):
                raise ConfigError(f"suite: '{key}' must map a task (node, graph) or a dataset to "
                                  f"its {key}")
        if not isinstance(self.folds, int) or isinstance(self.folds, bool) or self.folds < 2:
            raise ConfigError("suite: 'folds' must be an integer >= 2")
        if self.run_folds is not None:
            self.run_folds = parse_seeds(self.run_folds)
            outside = [f for f in self.run_folds if not 0 <= f < self.folds]
            if outside:
                raise ConfigError(f"suite: run_folds {outside} outside 0-{self.folds - 1} "
                                  f"(folds: {self.folds})")
        if not isinstance(self.settings, dict):
            raise ConfigError("suite: 'settings' must be a mapping of ExperimentConfig keys")
        reserved = {"dataset", "students", "method", "seeds", "folds"} & set(self.settings)
        if reserved:
            raise ConfigError(f"suite: settings may not set {', '.join(sorted(reserved))}; "
                              "they are the suite's own keys")
        if not isinstance(self.grid, dict) or not all(isinstance(v, list) and v
                                                      for v in self.grid.values()):
            raise ConfigError("suite: 'grid' must map settings to non-empty lists of values, "
                              "e.g. grid: {label_noise: [0.0, 0.2]}")
        for _, assignments in self.variants():  # unknown keys and bad values fail here
            ExperimentConfig.from_dict(apply_overrides(self.settings, assignments))

    @classmethod
    def from_dict(cls, data: dict, source: str = "suite") -> "Suite":
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must hold a mapping of suite keys")
        try:
            _check_keys(data, cls, "")
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        return cls(**data)

    def identity(self) -> dict:
        """What makes two result sets comparable: the name and the shared protocol."""
        return {"name": self.name, "folds": self.folds, "settings": self.settings}

    def variants(self) -> list:
        """(label, ``key=value`` assignments) of every combination of ``grid``; one unnamed
        variant without a grid."""
        combos = [[]]
        for key, values in self.grid.items():
            combos = [c + [f"{key}={json.dumps(v)}"] for c in combos for v in values]
        return [(",".join(c), c) for c in combos]

    def cohorts_for(self, dataset: str, task: str) -> list:
        value = self.cohorts.get(dataset, self.cohorts.get(task))
        if value is None:
            raise ConfigError(f"suite {self.name}: no cohort for {dataset} (task {task}); add "
                              f"cohorts: {{{task}: ['gcn,gat']}}")
        return [value] if isinstance(value, str) else list(value)

    def seeds_for(self, dataset: str, task: str) -> list:
        value = self.seeds.get(dataset, self.seeds.get(task, 0))
        return parse_seeds(value)


def suite_names() -> list:
    """Names of the suites shipped with the package."""
    return sorted(p.name[:-5] for p in resources.files("mutualgnn.suites").iterdir()
                  if p.name.endswith(".yaml"))


def load_suite(name_or_path) -> Suite:
    """A shipped suite by name (``paper``, ``smoke``, ...) or a YAML file by path."""
    text = str(name_or_path)
    if text in suite_names():
        path = resources.files("mutualgnn.suites") / f"{text}.yaml"
    elif text.endswith((".yaml", ".yml")) or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"suite file {path} does not exist")
    else:
        raise ConfigError(f"unknown suite '{text}'; shipped suites: {', '.join(suite_names())}, "
                          "or give the path of a YAML file")
    return Suite.from_dict(load_yaml(path), source=f"suite {text}")


# ---------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class RunSpec:
    """One unit of a suite: a cohort trained with one method on one seed and fold."""

    dataset: str
    cohort: str
    method: str
    seed: int
    fold: int | None
    variant: str = ""          #: the grid's settings, e.g. "label_noise=0.2" ("" without a grid)

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, k) for k in KEY)

    def label(self) -> str:
        where = f"seed {self.seed}" + ("" if self.fold is None else f" fold {self.fold}")
        return " ".join(filter(None, (self.dataset, self.cohort, self.variant, self.method, where)))


def trained_methods(methods) -> list:
    """The methods that need training: ``ensemble`` is read from ``independent``."""
    out = []
    for m in methods:
        m = "independent" if m == "ensemble" else m
        if m not in out:
            out.append(m)
    return out


def plan(suite: Suite, datasets=None, methods=None) -> list:
    """Every :class:`RunSpec` of ``suite`` (optionally only some datasets / methods), ordered
    dataset, cohort, seed, fold, variant, method: each seed completes all methods before the
    next."""
    if datasets is not None:
        datasets = [canonical_name(d) for d in datasets]
    chosen = suite.datasets if datasets is None else [d for d in suite.datasets if d in datasets]
    if datasets is not None:
        missing = sorted(set(datasets) - set(suite.datasets))
        if missing:
            raise ConfigError(f"suite {suite.name} has no dataset(s) {', '.join(missing)}; "
                              f"it has: {', '.join(suite.datasets)}")
    names = trained_methods(suite.methods if methods is None else
                            [m for m in suite.methods if m in methods])
    if methods is not None:
        missing = sorted(set(methods) - set(suite.methods))
        if missing:
            raise ConfigError(f"suite {suite.name} has no method(s) {', '.join(missing)}; "
                              f"it has: {', '.join(suite.methods)}")
    specs = []
    for dataset in chosen:
        task = task_of(dataset)
        folds = ([None] if has_official_split(dataset) else
                 suite.run_folds or list(range(suite.folds)))
        for cohort in suite.cohorts_for(dataset, task):
            for seed in suite.seeds_for(dataset, task):
                for fold in folds:
                    for variant, _ in suite.variants():
                        specs.extend(RunSpec(dataset, cohort, m, seed, fold, variant)
                                     for m in names if _applies(m, cohort))
    return specs


def _applies(method: str, cohort: str) -> bool:
    """Mutual methods need two students or more; a one-student cohort runs ``independent``."""
    return method == "independent" or len(cohort.split(",")) > 1


def spec_config(suite: Suite, spec: RunSpec, data_dir=None, threads=None) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of one unit (``threads``: torch threads, not protocol)."""
    assignments = dict(suite.variants())[spec.variant]
    data = apply_overrides(suite.settings, assignments)  # a copy
    data.setdefault("train", {})
    data["train"]["progress"] = False
    if threads is not None:
        data["train"]["threads"] = threads
    data.update(dataset=spec.dataset, students=spec.cohort, method=spec.method,
                seeds=[spec.seed], folds=suite.folds)
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return ExperimentConfig.from_dict(data)


# ---------------------------------------------------------------------------------- store
class ResultStore:
    """``DIR/runs.jsonl``: one JSON line per finished run; ``DIR/suite.json``: the suite's
    identity; ``DIR/histories.jsonl``: per-epoch histories of the first seed/fold of each
    (dataset, cohort, method), for the plots. A partial last line (a write cut short) is ignored."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.runs_path = self.dir / RUNS_FILE
        self.histories_path = self.dir / HISTORIES_FILE

    def check_suite(self, suite: Suite) -> None:
        """Claim the folder for ``suite``; refuse one that holds another suite's results."""
        path = self.dir / SUITE_FILE
        if path.exists():
            try:
                held = json.loads(path.read_text())
            except json.JSONDecodeError:
                raise ConfigError(f"{path} is not valid JSON; is {self.dir} a mutualgnn results "
                                  "folder?") from None
            if held != _jsonable(suite.identity()):
                raise ConfigError(
                    f"{self.dir} holds results of another suite ('{held.get('name')}' with "
                    f"different settings); use a new --out folder for suite '{suite.name}'")
        elif self.runs_path.exists() and self.read():
            raise ConfigError(f"{self.dir} holds results but no {SUITE_FILE}; use a new --out folder")
        self.dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_jsonable(suite.identity()), indent=1, sort_keys=True) + "\n")

    def read(self, path=None) -> list:
        path = Path(path or self.runs_path)
        rows = []
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the partial line of an interrupted write
        return rows

    def done(self) -> set:
        return {record_key(r) for r in self.read()}

    def append(self, record: dict, history: list | None = None) -> None:
        self._append(self.runs_path, record)
        if history is not None:
            self._append(self.histories_path, {**{k: record[k] for k in KEY}, "history": history})

    @staticmethod
    def _append(path: Path, record: dict) -> None:
        line = json.dumps(_jsonable(record)) + "\n"
        with open(path, "a+b") as fh:  # a new line after a partial one, never glued to it
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")
            fh.write(line.encode())
            fh.flush()
            os.fsync(fh.fileno())

    def archive(self) -> Path | None:
        """Move existing results aside (``runs.<time>.jsonl``) so a fresh start keeps them."""
        if not self.runs_path.exists():
            return None
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.dir / f"runs.{stamp}.jsonl"
        self.runs_path.rename(target)
        if self.histories_path.exists():
            self.histories_path.rename(self.dir / f"histories.{stamp}.jsonl")
        return target


def record_key(record: dict) -> tuple:
    """The :data:`KEY` of a stored record (records without a variant have variant "")."""
    return tuple((record.get(k) or "") if k == "variant" else record.get(k) for k in KEY)


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


# ---------------------------------------------------------------------------------- runner
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
            threads=None) -> tuple:
    """Train one unit; returns (record, history or None). Datasets are cached per process."""
    from .experiment import run_once, versions

    config = spec_config(suite, spec, data_dir, threads)
    if spec.dataset not in _DATASETS:
        _DATASETS[spec.dataset] = load_dataset(spec.dataset, config.data_dir)
    dataset = _DATASETS[spec.dataset]
    splits = dataset.splits(folds=suite.folds, seed=config.split_seed)
    split = splits[0] if spec.fold is None else splits[spec.fold]
    peak_memory_reset()
    rss_before = memory_mb("VmRSS")
    start = time.perf_counter()
    run = run_once(config, dataset, spec.seed, split)
    wall = time.perf_counter() - start
    split_sha = hashlib.sha1(json.dumps(split.as_lists(), sort_keys=True).encode()).hexdigest()[:12]
    rows = run.rows()
    record = dict(suite=suite.name, dataset=spec.dataset, task=dataset.task, cohort=spec.cohort,
                  variant=spec.variant, method=spec.method, seed=spec.seed, fold=spec.fold,
                  metric=dataset.metric,  # what test_acc / val_acc hold
                  students=[{k: r[k] for k in ("arch", "test_acc", "val_acc", "best_epoch")}
                            for r in rows[:-1]],
                  ensemble={k: rows[-1][k] for k in ("test_acc", "val_acc")},
                  epochs_run=run.fit.epochs_run, seconds=round(wall, 3),
                  peak_rss_mb=round(memory_mb(), 1),
                  rss_before_mb=round(rss_before, 1), split_sha1=split_sha,
                  config=config.to_dict(), versions=versions(),
                  finished=datetime.datetime.now().isoformat(timespec="seconds"))
    history = [{k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
               for row in run.fit.history] if keep_history else None
    return record, history


def _worker_init(threads):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def run_suite(suite: Suite, out, jobs: int = 1, resume: bool = True, datasets=None,
              methods=None, data_dir=None, threads=None, progress: bool = True, log=print) -> dict:
    """Train every unit of ``suite`` not yet in ``out``; returns counts (planned, skipped, ran).

    ``jobs > 1`` trains units in that many worker processes, one torch thread each; with one
    job, ``threads`` torch threads (default: the suite's ``train.threads``, else the cores).
    """
    from tqdm.auto import tqdm

    store = ResultStore(out)
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
    first = _first_runs(specs)
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc=f"suite {suite.name}",
               unit="run", disable=not progress, dynamic_ncols=True)
    try:
        if jobs <= 1:
            for spec in todo:
                bar.set_postfix_str(spec.label())
                record, history = execute(suite, spec, data_dir, spec.key in first, threads)
                store.append(record, history)
                bar.update()
        else:
            _run_parallel(suite, todo, first, store, jobs, data_dir, bar)
    finally:
        bar.close()
    return {"planned": len(specs), "skipped": len(specs) - len(todo), "ran": len(todo)}


def _first_runs(specs) -> set:
    """The first seed/fold of each (dataset, cohort, variant, method): their histories are kept."""
    seen, keys = set(), set()
    for s in specs:
        if (s.dataset, s.cohort, s.variant, s.method) not in seen:
            seen.add((s.dataset, s.cohort, s.variant, s.method))
            keys.add(s.key)
    return keys


def _run_parallel(suite, todo, first, store, jobs, data_dir, bar):
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=_worker_init, initargs=(1,))
    pending = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < jobs:
                spec = queue.pop(0)
                pending[pool.submit(execute, suite, spec, data_dir, spec.key in first, 1)] = spec
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                record, history = future.result()
                store.append(record, history)
                bar.update()
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()  # runs in flight are lost; finished ones are stored
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def records_frame(records: list):
    """Stored run records -> one row per (run, student) plus one ``ensemble`` row per run,
    and the ``ensemble`` method's rows (the ensemble of each ``independent`` run)."""
    import pandas as pd

    rows = []
    for r in records:
        base = {k: r.get(k) for k in ("dataset", "task", "cohort", "method", "seed", "fold",
                                       "seconds", "peak_rss_mb", "rss_before_mb", "epochs_run",
                                       "split_sha1")}
        base["variant"] = r.get("variant") or ""
        base["metric"] = r.get("metric") or "acc"  # records before ogb's datasets were all accuracy
        labels = student_labels([s["arch"] for s in r["students"]])
        for k, (label, st) in enumerate(zip(labels, r["students"])):
            rows.append(dict(base, student=k, model=label, arch=st["arch"],
                             test_acc=st["test_acc"], val_acc=st["val_acc"],
                             best_epoch=st["best_epoch"]))
        ens = dict(base, student="ensemble", model="ensemble", arch=r["cohort"],
                   test_acc=r["ensemble"]["test_acc"], val_acc=r["ensemble"]["val_acc"],
                   best_epoch=None)
        rows.append(ens)
        if r["method"] == "independent":
            rows.append(dict(ens, method="ensemble"))
    return pd.DataFrame(rows)


def student_labels(archs) -> list:
    """Column labels of a cohort's students: the architecture, numbered when it repeats
    (``gcn, gat``; ``gin#0, gin#1``)."""
    return [a if archs.count(a) == 1 else f"{a}#{archs[:i].count(a)}" for i, a in enumerate(archs)]



def report(directory, formats=("md", "csv", "latex"), plots: bool = True) -> list:
    """Write the tables (and PNG plots) of the results in ``directory``; returns the paths."""
    from . import tables

    store = ResultStore(directory)
    records = store.read()
    if not records:
        raise ConfigError(f"no results in {directory} (expected {store.runs_path}); run "
                          "`mutualgnn bench --out DIR` first")
    runs = records_frame(records)
    paths = tables.write_tables(runs, store.dir, formats)
    if plots:
        from . import plots as figures

        histories = store.read(store.histories_path)
        paths.append(figures.accuracy_bars(runs, store.dir / "accuracy.png"))
        for made in (figures.training_curves(histories, store.dir / "training_curves.png"),
                     figures.coordinator_curves(histories, store.dir / "coordinator.png"),
                     figures.grid_curves(runs, store.dir / "grid.png")):
            if made is not None:
                paths.append(made)
    return paths
