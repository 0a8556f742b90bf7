"""The per-epoch curves a results folder keeps for its figures: ``DIR/curves.jsonl``, small
enough to commit beside ``runs.jsonl`` (``histories.jsonl``, every logged value of every epoch,
is not committed).

One line per kept run: the first run of each (dataset, cohort, variant, method) of the final
stage (never a tuning run), written by the bench runner as the run is stored. The line holds the
run's key (:data:`~.suite.KEY`), its ``task`` and ``metric``, ``epoch`` (the epochs kept) and per
student ``arch``, ``best_epoch`` (the epoch validation selected), ``val`` and ``test`` (the
scores at those epochs, as fractions rounded to :data:`DIGITS` decimals) and, where the
coordinator weighted the peers' targets (some weight other than 1), ``weight`` (its mean
adaptive weight) and ``entropy`` (the student's mean predictive entropy, nats).

A run of more than :data:`POINTS` epochs keeps every k-th epoch (k the smallest that fits), its
last and each student's best: about a panel's width at page size, so a line stays a few kB.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .record import RunRecord
from .store import history_key
from .suite import KEY

CURVES_FILE = "curves.jsonl"
#: the most epochs a curve keeps
POINTS = 200
#: decimals kept of each value
DIGITS = 4


def curve_entry(record: RunRecord, history: list, points: int = POINTS) -> dict | None:
    """The curves line of a stored ``record`` from its per-epoch ``history`` (the fit's rows:
    ``epoch``, ``student``, ``arch``, ``val_acc``, ``test_acc``, ``weight``, ``entropy``); None
    for a tuning run, a failed run or an empty history."""
    if not history or record.failed or record.tuning:
        return None
    epochs = sorted({row["epoch"] for row in history})
    step = max(1, math.ceil(len(epochs) / points))
    kept = epochs[step - 1 :: step]
    if kept[-1] != epochs[-1]:
        kept = kept[1:] + [epochs[-1]] if len(kept) == points else kept + [epochs[-1]]
    at = {(row["student"], row["epoch"]): row for row in history}
    stored = record.students
    kept = sorted(set(kept) | {s.best_epoch for s in stored if s.best_epoch in epochs})
    weighted = any(row.get("weight", 1.0) != 1.0 for row in history)
    students = []
    for k in sorted({row["student"] for row in history}):
        rows = [at[(k, e)] for e in kept]
        student = {
            "arch": rows[0]["arch"],
            "best_epoch": stored[k].best_epoch if k < len(stored) else None,
            "val": [round(r["val_acc"], DIGITS) for r in rows],
            "test": [round(r["test_acc"], DIGITS) for r in rows],
        }
        if weighted:
            student.update(
                weight=[round(r["weight"], DIGITS) for r in rows],
                entropy=[round(r["entropy"], DIGITS) for r in rows],
            )
        students.append(student)
    return dict(
        zip(KEY, record.key), task=record.task, metric=record.metric, epoch=kept, students=students
    )


def append_curve(directory, record: RunRecord, history: list | None) -> dict | None:
    """Append ``record``'s curves line (:func:`curve_entry`) to ``DIR/curves.jsonl`` unless
    the file already holds one for its (dataset, cohort, variant, method); returns the line
    written, or None."""
    entry = curve_entry(record, history or [])
    if entry is None:
        return None
    path = Path(directory) / CURVES_FILE
    group = _group(entry)
    if any(_group(e) == group for e in read_curves(directory)):
        return None
    with open(path, "a") as fh:
        fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return entry


def read_curves(directory) -> list:
    """The lines of ``DIR/curves.jsonl`` (none if absent; a partial last line is skipped)."""
    path = Path(directory) / CURVES_FILE
    out = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def curves_from_histories(records: list, histories: list) -> list:
    """Curves lines made from ``histories.jsonl``'s lines (a folder written before
    ``curves.jsonl`` existed), each with its run's record (:class:`~.record.RunRecord`), the
    first of each group; a history without its run's record is left out."""
    by_key = {r.key: r for r in records}
    out, seen = [], set()
    for h in histories:
        record = by_key.get(history_key(h))
        if record is None:
            continue
        entry = curve_entry(record, h.get("history") or [])
        if entry is not None and _group(entry) not in seen:
            seen.add(_group(entry))
            out.append(entry)
    return out


def _group(entry: dict) -> tuple:
    return tuple(entry.get(k) or "" for k in ("dataset", "cohort", "variant", "method"))
