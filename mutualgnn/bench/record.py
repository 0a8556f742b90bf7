"""One record of a run: :class:`RunRecord`, made in one place from a finished run
(:func:`from_run`, :func:`failed_run`), written as one line of ``runs.jsonl`` by the store
(:meth:`RunRecord.to_dict`) and read back, older line shapes included, by one function
(:meth:`RunRecord.from_dict`). The bench runner stores it, ``mutualgnn verify`` rebuilds it from
a rerun and compares the two field by field (:func:`differences`), the tables and the results
page read it.

A run's numbers: ``students`` (per student, a :class:`~mutualgnn.student_result.StudentResult`,
the facts a saved model shares: ``arch``; ``test_acc``, ``val_acc`` at its ``best_epoch`` of
validation; ``last_test_acc``, ``last_val_acc`` at the last epoch run; a run of a method in
:data:`CURVES` also keeps its per-epoch ``curve``), ``ensemble`` (``{"test_acc", "val_acc"}``),
``epochs_run`` and ``split_sha1`` (the first 12 hex digits of the SHA-1 of the split's row
lists). ``test_acc`` and ``val_acc`` hold the dataset's ``metric``.

Formats: lines with ``"format": 3`` are written by this version. Lines without ``format`` were
written before it existed; :meth:`RunRecord.from_dict` reads them (no ``status``: ok; no
``variant``: ""; no ``split_seed``: the config's, else 0; no ``metric``: accuracy; students
without the ``last_*`` fields).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from dataclasses import dataclass, field

from ..config import ConfigError
from ..provenance import versions as current_versions
from ..student_result import StudentResult, student_results
from .suite import KEY, TUNE
from .units import run_label

FORMAT = 3  #: the ``format`` of the lines this version writes
#: methods whose runs keep each student's per-epoch curve
CURVES = ("independent",)


@dataclass
class RunRecord:
    """A run of a suite: what it is (:data:`~.suite.KEY` with ``suite``, ``task``), whether it
    finished (``status`` ``"ok"``, or ``"failed"`` with ``error`` and ``diverged`` and no
    numbers), its numbers, what it cost (``seconds``, memory in MB), its ``config``
    (:meth:`~mutualgnn.config.ExperimentConfig.to_dict`), the ``versions`` and machine it ran
    on (:func:`~mutualgnn.provenance.versions`) and when it ``finished``. ``same_as``: the
    variant of the tuning run whose computation this final run is (stored without training);
    ``reused_from``: the results folder a line was copied from."""

    suite: str
    dataset: str
    task: str
    cohort: str
    method: str
    seed: int
    fold: int | None = None
    variant: str = ""
    split_seed: int = 0
    status: str = "ok"
    metric: str = "acc"
    students: list = field(default_factory=list)  #: of :class:`StudentResult`
    ensemble: dict | None = None  #: ``{"test_acc": ..., "val_acc": ...}``
    epochs_run: int | None = None
    split_sha1: str | None = None
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    rss_before_mb: float | None = None
    config: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    finished: str | None = None
    error: str | None = None
    diverged: dict | None = None  #: ``{"student", "arch", "epoch"}``
    same_as: str | None = None
    reused_from: str | None = None

    @property
    def key(self) -> tuple:
        """The run's :data:`~.suite.KEY` (dataset, cohort, variant, method, split seed, seed,
        fold): one line of a store per key counts."""
        return tuple(getattr(self, k) for k in KEY)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def tuning(self) -> bool:
        """Whether the run belongs to a suite's tuning stage (variant ``tune:...``)."""
        return self.variant.startswith(TUNE)

    @property
    def commit(self) -> str:
        return self.versions.get("commit", "?")

    def label(self) -> str:
        """The run in words (:func:`~.units.run_label`)."""
        return run_label(self)

    def numbers(self) -> dict:
        """What a rerun must reproduce, flat: ``split_sha1``, ``epochs_run``, each student's
        fields as ``students[k].field`` and ``ensemble.test_acc`` / ``ensemble.val_acc``."""
        out = {
            "split_sha1": self.split_sha1,
            "epochs_run": self.epochs_run,
            "students": len(self.students),
        }
        for k, student in enumerate(self.students):
            for name, value in dataclasses.asdict(student).items():
                out[f"students[{k}].{name}"] = value
        for name, value in (self.ensemble or {}).items():
            out[f"ensemble.{name}"] = value
        return out

    def to_dict(self) -> dict:
        """The record as one JSON object of ``runs.jsonl`` (``format`` first; fields that are
        None and only some records have are left out)."""
        out = {"format": FORMAT}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in _OPTIONAL:
                continue
            if f.name == "students":
                value = [s.to_dict() for s in value]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, line: dict) -> RunRecord:
        """A record from a line of ``runs.jsonl`` of any format (the one place older shapes
        are read); :class:`ConfigError` naming the keys for a line that is no run record."""
        line = dict(line)
        version = line.pop("format", 1)
        if version > FORMAT:
            raise ConfigError(
                f"a run record of format {version}, newer than this mutualgnn "
                f"reads ({FORMAT}); upgrade mutualgnn"
            )
        if line.get("variant") is None:
            line["variant"] = ""
        if line.get("split_seed") is None:  # written before runs were repeated over splits
            line["split_seed"] = (line.get("config") or {}).get("split_seed", 0)
        line.setdefault("status", "ok")  # written before failed runs were stored
        line.setdefault("metric", "acc")  # written before ogb's datasets: all accuracy
        line["students"] = [StudentResult(**s) for s in line.get("students") or []]
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(line) - names)
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in line
        )
        if unknown or missing:
            raise ConfigError(
                "not a mutualgnn run record: "
                + "; ".join(
                    filter(
                        None,
                        (
                            unknown and f"unknown keys {unknown}",
                            missing and f"missing keys {missing}",
                        ),
                    )
                )
            )
        return cls(**line)


_OPTIONAL = {
    "error",
    "diverged",
    "same_as",
    "reused_from",
    "ensemble",
    "epochs_run",
    "split_sha1",
    "peak_rss_mb",
    "rss_before_mb",
}


def split_sha1(split) -> str:
    """A :class:`~mutualgnn.data.Split`'s fingerprint: 12 hex digits of its rows' SHA-1."""
    return hashlib.sha1(json.dumps(split.as_lists(), sort_keys=True).encode()).hexdigest()[:12]


def from_run(run, identity: dict, seconds: float, memory: dict | None = None) -> RunRecord:
    """The record of ``run`` (a finished :class:`~mutualgnn.experiment.Run`): ``identity``
    holds ``suite``, ``dataset``, ``task``, ``metric``, ``cohort``, ``variant``, ``method``,
    ``split_seed``, ``seed``, ``fold`` and ``config``; ``memory`` the MB fields."""
    fit = run.fit
    students = student_results(fit, curves=run.method in CURVES)
    return RunRecord(
        **identity,
        students=students,
        ensemble={k: fit.ensemble[k] for k in ("test_acc", "val_acc")},
        epochs_run=fit.epochs_run,
        split_sha1=split_sha1(run.split),
        seconds=round(seconds, 3),
        **(memory or {}),
        versions=current_versions(),
        finished=_now(),
    )


def failed_run(error, identity: dict, seconds: float) -> RunRecord:
    """The record of a run that did not finish: its training raised ``error`` (a
    :class:`~mutualgnn.training.DivergenceError`: ``diverged`` names the student and epoch), or
    its worker died (``error``: a message saying so): no numbers."""
    diverged = (
        dict(student=error.student, arch=error.arch, epoch=error.epoch)
        if hasattr(error, "epoch")
        else None
    )
    return RunRecord(
        **identity,
        status="failed",
        error=str(error),
        diverged=diverged,
        seconds=round(seconds, 3),
        versions=current_versions(),
        finished=_now(),
    )


def differences(stored: RunRecord, now: RunRecord) -> list:
    """``(field, stored value, current value)`` for every number of :meth:`RunRecord.numbers`
    that differs; a field the stored line lacks (written before it was recorded) is not
    compared; a curve shows as its length."""
    old, new = stored.numbers(), now.numbers()
    if old["students"] != new["students"]:
        return [("students", old["students"], new["students"])]
    out = []
    for name, value in old.items():
        if value is not None and value != new.get(name):
            out.append((_named(name, now), _short(value), _short(new.get(name))))
    return out


def _named(name: str, record: RunRecord) -> str:
    """``students[1].test_acc`` -> ``students[1] (gat).test_acc``."""
    if name.startswith("students["):
        k = int(name[len("students[") : name.index("]")])
        return name.replace("]", f"] ({record.students[k].arch})", 1)
    return name


def _short(value):
    """A value as a difference shows it: a per-epoch curve by its length."""
    return f"<curve of {len(value['test'])} epochs>" if isinstance(value, dict) else value


def _now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")
