"""Each student's best-validation checkpoint while :func:`~.loop.fit` trains, and the early
stopping count (:class:`Checkpoints`); a student's best checkpoint with its scores
(:class:`StudentCheckpoint`; a run record keeps the scores as a
:class:`~mutualgnn.student_result.StudentResult`). Checkpoints are CPU copies of the weights,
whatever the device."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from torch import nn


@dataclass
class StudentCheckpoint:
    """One student's best-validation checkpoint: its epoch, the scores there (``val_acc`` and
    ``test_acc`` hold the dataset's metric: accuracy, or ROC-AUC for ogbg-molhiv)."""

    arch: str
    best_epoch: int
    val_acc: float
    val_loss: float
    test_acc: float
    state_dict: dict = field(repr=False, default_factory=dict)


class Checkpoints:
    """Each student's best-validation checkpoint during :func:`fit` and the early-stopping
    count: a student improves when its validation score rises, or stays and its validation loss
    falls; ``stale`` counts the epochs since any student improved."""

    def __init__(self, num_students: int, patience: int):
        self.patience, self.stale = patience, 0
        self.best = [
            dict(acc=-1.0, loss=float("inf"), epoch=-1, test=0.0, state={}, probs=None)
            for _ in range(num_students)
        ]

    @property
    def val_accs(self) -> list:
        return [b["acc"] for b in self.best]

    @property
    def probs(self) -> list:
        """Per student: (validation, test) probabilities at its best epoch, (n, C) each."""
        return [b["probs"] for b in self.best]

    def update(self, epoch: int, evaluation: list, cohort, students) -> None:
        """Keep each improved student's checkpoint (``evaluation``: the runner's per-student
        scores of ``epoch``); a checkpoint is a CPU copy of its weights."""
        improved = False
        for k, ev in enumerate(evaluation):
            b = self.best[k]
            if ev["val_acc"] > b["acc"] or (
                ev["val_acc"] == b["acc"] and ev["val_loss"] < b["loss"]
            ):
                cohort.sync(k)
                state = _cpu_state(students[k]) if k in cohort.local else None
                b.update(
                    acc=ev["val_acc"],
                    loss=ev["val_loss"],
                    epoch=epoch,
                    test=ev["test_acc"],
                    state=state,
                    probs=ev["probs"],
                )
                improved = True
        self.stale = 0 if improved else self.stale + 1

    def restore(self, cohort, students, names) -> list:
        """Load every student's best checkpoint into it (gathered from the other ranks in a
        distributed cohort); returns a :class:`StudentCheckpoint` each."""
        for b, state in zip(self.best, cohort.collect([b["state"] for b in self.best])):
            b["state"] = state
        for student, b in zip(students, self.best):
            student.load_state_dict(b["state"])
        return [
            StudentCheckpoint(name, b["epoch"], b["acc"], b["loss"], b["test"], b["state"])
            for name, b in zip(names, self.best)
        ]


def _cpu_state(module: nn.Module) -> dict:
    """A copy of ``module``'s state dict with every tensor on the CPU: checkpoints are kept,
    saved and sent between ranks there, whatever device the module trains on."""
    state = module.state_dict()
    out = copy.copy(state)  # the same OrderedDict type, with its ``_metadata``
    for name, tensor in state.items():
        out[name] = tensor.to("cpu", copy=True)
    return out
