"""``mutualgnn verify``: rerun stored runs with the current code and demand the same numbers.

A refactor that is meant to change no number proves it here: each chosen run of a results
folder is trained again from its stored config (same dataset, seed, fold and settings) and every
recorded accuracy, best epoch and epoch count must be identical, not merely close. A difference
is reported with the run (its line in ``runs.jsonl``), the field, both values and the commit
that wrote the stored one.
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field

from ..config import ConfigError, ExperimentConfig
from ..data import load_dataset
from ..experiment import run_once
from .store import ResultStore


@dataclass
class Verified:
    """One rerun: its line in ``runs.jsonl`` (1-based), what it is, and each field that
    differs as ``(field, stored, now)``."""

    line: int
    label: str
    commit: str
    seconds: float
    differences: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def stored_runs(directory) -> list:
    """``(line, record)`` of every run in a results folder, lines counted from 1."""
    store = ResultStore(directory)
    if not store.runs_path.exists():
        raise ConfigError(f"no results in {directory} (expected {store.runs_path})")
    out = []
    for number, text in enumerate(store.runs_path.read_text().splitlines(), 1):
        try:
            out.append((number, json.loads(text)))
        except json.JSONDecodeError:
            continue  # the partial line of an interrupted write
    if not out:
        raise ConfigError(f"no results in {store.runs_path}")
    return out


def choose(runs: list, sample: int, lines=None, cheap: bool = True, seed: int = 0) -> list:
    """The runs to verify: those on ``lines``, else ``sample`` of them drawn with ``seed``
    (reproducibly) from the cheaper half by stored wall time (``cheap``), or from all. Failed
    runs (``status`` failed: they stored a message, no numbers) are never drawn."""
    by_line = dict(runs)
    runs = [(n, r) for n, r in runs if r.get("status", "ok") != "failed"]
    if lines:
        missing = [n for n in lines if n not in by_line]
        if missing:
            raise ConfigError(f"no stored run on line(s) {missing}; the store has lines "
                              f"{min(by_line)}-{max(by_line)}")
        return [(n, by_line[n]) for n in lines]
    if sample < 1:
        raise ConfigError(f"--sample must be >= 1, got {sample}")
    pool = sorted(runs, key=lambda item: (item[1].get("seconds") or 0.0, item[0]))
    if cheap:
        pool = pool[:max(sample, (len(pool) + 1) // 2)]
    chosen = random.Random(seed).sample(pool, min(sample, len(pool)))
    return sorted(chosen, key=lambda item: item[0])


def label(record: dict) -> str:
    where = f"seed {record.get('seed')}" + ("" if record.get("fold") is None
                                            else f" fold {record['fold']}")
    return " ".join(filter(None, (record.get("dataset"), record.get("cohort"),
                                  record.get("variant"), record.get("method"), where)))


def rerun(record: dict, data_dir=None, datasets: dict | None = None) -> dict:
    """Train the run of ``record`` again; returns the same fields as stored (students,
    ensemble, epochs_run, split_sha1). ``datasets``: loaded datasets by name, reused."""
    settings = dict(record.get("config") or {})
    if not settings:
        raise ConfigError(f"run '{label(record)}' stores no config: it cannot be rerun")
    settings["train"] = dict(settings.get("train") or {}, progress=False)
    if data_dir is not None:
        settings["data_dir"] = str(data_dir)
    try:
        config = ExperimentConfig.from_dict(settings)
    except ConfigError as exc:
        raise ConfigError(f"run '{label(record)}': its stored config no longer reads: {exc}") from None
    datasets = {} if datasets is None else datasets
    if config.dataset not in datasets:
        datasets[config.dataset] = load_dataset(config.dataset, config.data_dir)
    dataset = datasets[config.dataset]
    splits = dataset.splits(folds=config.folds, seed=config.split_seed)
    fold = record.get("fold")
    split = splits[0] if fold is None else splits[fold]
    run = run_once(config, dataset, record["seed"], split)
    rows = run.rows()
    return dict(students=[{k: r[k] for k in ("arch", "test_acc", "val_acc", "best_epoch")}
                          for r in rows[:-1]],
                ensemble={k: rows[-1][k] for k in ("test_acc", "val_acc")},
                epochs_run=run.fit.epochs_run,
                split_sha1=hashlib.sha1(json.dumps(split.as_lists(), sort_keys=True)
                                        .encode()).hexdigest()[:12])


def differences(stored: dict, now: dict) -> list:
    """``(field, stored value, current value)`` for every compared field that is not equal."""
    out = []
    if stored.get("split_sha1") and stored["split_sha1"] != now["split_sha1"]:
        out.append(("split_sha1", stored["split_sha1"], now["split_sha1"]))
    if stored.get("epochs_run") != now["epochs_run"]:
        out.append(("epochs_run", stored.get("epochs_run"), now["epochs_run"]))
    stored_students = stored.get("students") or []
    if len(stored_students) != len(now["students"]):
        return out + [("students", len(stored_students), len(now["students"]))]
    for k, (old, new) in enumerate(zip(stored_students, now["students"])):
        for key in ("arch", "test_acc", "val_acc", "best_epoch"):
            if old.get(key) != new[key]:
                out.append((f"students[{k}] ({new['arch']}).{key}", old.get(key), new[key]))
    for key in ("test_acc", "val_acc"):
        old = (stored.get("ensemble") or {}).get(key)
        if old != now["ensemble"][key]:
            out.append((f"ensemble.{key}", old, now["ensemble"][key]))
    return out


def verify(directory, sample: int = 3, lines=None, cheap: bool = True, seed: int = 0,
           data_dir=None, log=None) -> list:
    """Rerun chosen runs of ``directory`` (:func:`choose`) and compare them (:func:`differences`);
    returns one :class:`Verified` each, and calls ``log`` with each as it finishes."""
    out, datasets = [], {}
    for line, record in choose(stored_runs(directory), sample, lines, cheap, seed):
        start = time.perf_counter()
        now = rerun(record, data_dir, datasets)
        result = Verified(line, label(record), (record.get("versions") or {}).get("commit", "?"),
                          time.perf_counter() - start, differences(record, now))
        out.append(result)
        if log:
            log(result)
    return out
