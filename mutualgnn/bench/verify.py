"""``mutualgnn verify``: rerun stored runs with the current code and demand the same numbers.

A refactor that is meant to change no number proves it here: each chosen run of a results
folder is trained again from its stored config (same dataset, seed, fold and settings) and every
recorded accuracy, best epoch and epoch count must be identical, not merely close. A difference
is reported with the run (its line in ``runs.jsonl``), the field, both values and the commit
that wrote the stored one.

The processor counts too: torch rounds differently at different CPU kernel levels
(:mod:`mutualgnn.provenance`), and a training run can turn a last-bit difference into another
best epoch. A run stored at another level than this process's is rerun in a child process at
the stored level (``ATEN_CPU_CAPABILITY``) when this machine has it; when it has not, or the
stored run records no level (written before mutualgnn recorded one), the result says so
(:attr:`Verified.notes`), so that a changed machine is told apart from a changed result.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ..config import ConfigError, ExperimentConfig
from ..data import load_dataset
from ..experiment import run_once, splits_for
from ..provenance import cpu_capability, cpu_model
from .record import RunRecord, differences, from_run
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
    notes: list = field(default_factory=list)  #: what differs in the machine, in words

    @property
    def ok(self) -> bool:
        return not self.differences


def stored_runs(directory) -> list:
    """``(line, record)`` of every run in a results folder, lines counted from 1."""
    store = ResultStore(directory)
    if not store.has_runs():
        raise ConfigError(f"no results in {directory} (expected {store.runs_path})")
    out = store.numbered()
    if not out:
        raise ConfigError(f"no results in {store.runs_path}")
    return out


def choose_runs(runs: list, sample: int, lines=None, cheap: bool = True, seed: int = 0) -> list:
    """The runs to verify: those on ``lines``, else ``sample`` of them drawn with ``seed``
    (reproducibly) from the cheaper half by stored wall time (``cheap``), or from all. Failed
    runs (``status`` failed: they stored a message, no numbers) are never drawn."""
    by_line = dict(runs)
    runs = [(n, r) for n, r in runs if not r.failed]
    if lines:
        missing = [n for n in lines if n not in by_line]
        if missing:
            raise ConfigError(
                f"no stored run on line(s) {missing}; the store has lines "
                f"{min(by_line)}-{max(by_line)}"
            )
        return [(n, by_line[n]) for n in lines]
    if sample < 1:
        raise ConfigError(f"--sample must be >= 1, got {sample}")
    pool = sorted(runs, key=lambda item: (item[1].seconds, item[0]))
    if cheap:
        pool = pool[: max(sample, (len(pool) + 1) // 2)]
    chosen = random.Random(seed).sample(pool, min(sample, len(pool)))
    return sorted(chosen, key=lambda item: item[0])


def rerun(record: RunRecord, data_dir=None, datasets: dict | None = None) -> RunRecord:
    """Train the run of ``record`` again; returns its record as :func:`~.record.from_run`
    makes it (same identity and config, the rerun's numbers, time and versions).
    ``datasets``: loaded datasets by name, reused."""
    settings = dict(record.config)
    if not settings:
        raise ConfigError(f"run '{record.label()}' stores no config: it cannot be rerun")
    settings["train"] = dict(settings.get("train") or {}, progress=False)
    if data_dir is not None:
        settings["data_dir"] = str(data_dir)
    try:
        config = ExperimentConfig.from_dict(settings)
    except ConfigError as exc:
        raise ConfigError(
            f"run '{record.label()}': its stored config no longer reads: {exc}"
        ) from None
    datasets = {} if datasets is None else datasets
    if config.dataset not in datasets:
        datasets[config.dataset] = load_dataset(config.dataset, config.data_dir)
    dataset = datasets[config.dataset]
    splits = splits_for(config, dataset)
    split = splits[0] if record.fold is None else splits[record.fold]
    identity = {
        k: getattr(record, k)
        for k in (
            "suite",
            "dataset",
            "task",
            "metric",
            "cohort",
            "variant",
            "method",
            "split_seed",
            "seed",
            "fold",
            "config",
        )
    }
    start = time.perf_counter()
    run = run_once(config, dataset, record.seed, split)
    return from_run(run, identity, time.perf_counter() - start)


def kernel_env(stored: dict, capability: str | None = None) -> dict:
    """The kernel settings a run whose ``versions`` are ``stored`` was computed with, as
    environment variables
    (``ATEN_CPU_CAPABILITY``, ``MKL_CBWR``: None where unset); ``capability`` overrides the
    stored level (and then MKL's path is left to MKL). A run written before they were
    recorded (no ``cpu_capability``) gives this process's own."""
    level = capability or stored.get("cpu_capability") or cpu_capability()
    cbwr = None if capability else stored.get("mkl_cbwr", "auto")
    return {
        "ATEN_CPU_CAPABILITY": level.lower(),
        "MKL_CBWR": None if cbwr in (None, "auto") else cbwr,
    }


def kernel_env_here() -> dict:
    """This process's kernel settings, as :func:`kernel_env` gives a stored run's."""
    return kernel_env(
        {"cpu_capability": cpu_capability(), "mkl_cbwr": os.environ.get("MKL_CBWR", "auto")}
    )


def rerun_at(record: RunRecord, env: dict, data_dir=None) -> tuple:
    """:func:`rerun` in a child process with the kernel settings ``env`` (:func:`kernel_env`;
    None removes a variable); returns (the rerun's record, the torch CPU level it ran at: lower
    than asked when this processor lacks the level asked for)."""
    child_env = {k: v for k, v in os.environ.items() if k not in env}
    child_env.update({k: v for k, v in env.items() if v is not None})
    ask = json.dumps(
        dict(record=record.to_dict(), data_dir=None if data_dir is None else str(data_dir))
    )
    child = subprocess.run(
        [sys.executable, "-m", __name__], input=ask, capture_output=True, text=True, env=child_env
    )
    if child.returncode != 0:
        raise ConfigError(
            f"run '{record.label()}': its rerun in a child process failed:\n"
            f"{child.stderr.strip()[-2000:]}"
        )
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    return RunRecord.from_dict(answer["now"]), answer["cpu_capability"]


def machine_notes(record: RunRecord, ran_at: str, asked: str | None = None) -> list:
    """What differs between the machine that stored ``record`` and this rerun at torch CPU
    level ``ran_at``, in words (empty when the stored CPU and level are this run's)."""
    stored = record.versions
    level, model, notes = stored.get("cpu_capability"), stored.get("cpu"), []
    if asked is not None and asked.upper() != (level or "").upper():
        notes.append(f"rerun at CPU capability {ran_at}, as asked (--cpu-capability)")
    elif level is None:
        notes.append(
            f"the stored run records no CPU capability (written before mutualgnn "
            f"recorded it): a difference may be the machine's, not the code's; rerun "
            f"here at {ran_at} ({cpu_model()})"
        )
    elif level.upper() != ran_at.upper():
        notes.append(
            f"the CPU differs: stored at capability {level}, which this machine lacks "
            f"(rerun at {ran_at}): a difference may be the machine's, not the code's"
        )
    if model is not None and model != cpu_model():
        notes.append(f"stored on {model}, rerun on {cpu_model()}")
    return notes


def verify(
    directory,
    sample: int = 3,
    lines=None,
    cheap: bool = True,
    seed: int = 0,
    data_dir=None,
    log=None,
    capability: str | None = None,
) -> list:
    """Rerun chosen runs of ``directory`` (:func:`choose_runs`) and compare them (:func:`~.record.differences`);
    returns one :class:`Verified` each, and calls ``log`` with each as it finishes.

    Each run is rerun with its stored kernel settings (:func:`kernel_env`), or at torch CPU
    level ``capability`` when given: in this process when they are this process's, else in a
    child process (:func:`rerun_at`)."""
    out, datasets = [], {}
    here = kernel_env_here()
    for line, record in choose_runs(stored_runs(directory), sample, lines, cheap, seed):
        start = time.perf_counter()
        env = kernel_env(record.versions, capability)
        if env == here:
            now, ran_at = rerun(record, data_dir, datasets), cpu_capability()
        else:
            now, ran_at = rerun_at(record, env, data_dir)
        result = Verified(
            line,
            record.label(),
            record.commit,
            time.perf_counter() - start,
            differences(record, now),
            machine_notes(record, ran_at, capability),
        )
        out.append(result)
        if log:
            log(result)
    return out


def _child() -> None:
    """``python -m mutualgnn.bench.verify``: rerun the record given on standard input as JSON
    (``{"record": ..., "data_dir": ...}``) and print ``{"now": ..., "cpu_capability": ...}``."""
    ask = json.loads(sys.stdin.read())
    now = rerun(RunRecord.from_dict(ask["record"]), ask.get("data_dir"))
    print(json.dumps(dict(now=now.to_dict(), cpu_capability=cpu_capability())))


if __name__ == "__main__":
    _child()
