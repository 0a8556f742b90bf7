"""What a stored run says about its numbers, made in one place from a finished run: the bench
runner stores it (:func:`~.runner.execute`) and ``mutualgnn verify`` rebuilds it from a rerun
and compares the two (:func:`~.verify.differences`).

Fields: ``students`` (per student: ``arch``; ``test_acc``, ``val_acc`` at its ``best_epoch`` of
validation; ``last_test_acc``, ``last_val_acc`` at the last epoch run, to show what early
stopping is worth; a run trained alone also keeps its per-epoch ``curve``, ``{"val": [...],
"test": [...]}`` rounded to 4 decimals, from which a published protocol's own selection can be
recomputed), ``ensemble`` (``test_acc``, ``val_acc``), ``epochs_run`` and ``split_sha1`` (the
first 12 hex digits of the SHA-1 of the split's row lists).
"""
from __future__ import annotations

import hashlib
import json

#: the per-student fields every stored run has (older stores: the first four only)
STUDENT_FIELDS = ("arch", "test_acc", "val_acc", "best_epoch", "last_test_acc", "last_val_acc")
#: methods whose runs keep each student's per-epoch curve
CURVES = ("independent",)


def split_sha1(split) -> str:
    """A :class:`~mutualgnn.data.Split`'s fingerprint: 12 hex digits of its rows' SHA-1."""
    return hashlib.sha1(json.dumps(split.as_lists(), sort_keys=True).encode()).hexdigest()[:12]


def result_fields(run) -> dict:
    """The numbers of ``run`` (a :class:`~mutualgnn.experiment.Run`) as a stored record holds
    them (see the module docstring)."""
    fit = run.fit
    rows = run.rows()
    last = {row["student"]: row for row in fit.history if row["epoch"] == fit.epochs_run}
    students = []
    for k, row in enumerate(rows[:-1]):
        student = {key: row[key] for key in STUDENT_FIELDS[:4]}
        student.update(last_test_acc=last[k]["test_acc"], last_val_acc=last[k]["val_acc"])
        if run.method in CURVES:
            mine = [h for h in fit.history if h["student"] == k]
            student["curve"] = {part: [round(h[f"{part}_acc"], 4) for h in mine]
                                for part in ("val", "test")}
        students.append(student)
    return dict(students=students, ensemble={k: rows[-1][k] for k in ("test_acc", "val_acc")},
                epochs_run=fit.epochs_run, split_sha1=split_sha1(run.split))
