"""One student's numbers in a finished run: :class:`StudentResult`, the facts that a suite's run
record (:class:`~mutualgnn.bench.RunRecord`, a line of ``runs.jsonl``) and a saved model (a
student entry of ``run.json``, :mod:`mutualgnn.saved`) share, made from a fit in one place
(:func:`student_results`).

``test_acc`` and ``val_acc`` hold the dataset's metric (accuracy, or ROC-AUC for ogbg-molhiv)
at the student's ``best_epoch`` of validation; ``last_test_acc`` and ``last_val_acc`` the same
at the last epoch run, to show what early stopping is worth; ``curve`` (kept only where asked
for) the per-epoch scores, ``{"val": [...], "test": [...]}`` rounded to 4 decimals, from which
a published protocol's own selection can be recomputed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

#: fields that files written before they existed lack; left out of :meth:`StudentResult.to_dict`
#: when None
OPTIONAL = ("last_test_acc", "last_val_acc", "curve")


@dataclass
class StudentResult:
    """One student's numbers in a run (see the module docstring)."""

    arch: str
    test_acc: float
    val_acc: float
    best_epoch: int
    last_test_acc: float | None = None  #: None in files written before it was recorded
    last_val_acc: float | None = None
    curve: dict | None = None  #: ``{"val": [...], "test": [...]}``, per epoch

    def to_dict(self) -> dict:
        """The fields as a JSON object; the :data:`OPTIONAL` ones only where set."""
        return {
            k: v for k, v in dataclasses.asdict(self).items() if v is not None or k not in OPTIONAL
        }


def student_results(fit, curves: bool = False) -> list:
    """One :class:`StudentResult` per student of ``fit`` (a
    :class:`~mutualgnn.training.FitResult`), with its per-epoch ``curve`` where ``curves``."""
    last = {row["student"]: row for row in fit.history if row["epoch"] == fit.epochs_run}
    out = []
    for k, student in enumerate(fit.students):
        curve = None
        if curves:
            mine = [h for h in fit.history if h["student"] == k]
            curve = {part: [round(h[f"{part}_acc"], 4) for h in mine] for part in ("val", "test")}
        out.append(
            StudentResult(
                student.arch,
                student.test_acc,
                student.val_acc,
                student.best_epoch,
                last[k]["test_acc"],
                last[k]["val_acc"],
                curve,
            )
        )
    return out
