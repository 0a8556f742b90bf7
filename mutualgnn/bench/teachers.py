"""Teachers kept between runs of a suite: a method that distils (``kd``) learns from the
students of the suite's own run of its teacher method (``independent``) on the same dataset,
cohort, variant, split seed, seed and fold, so that run is trained once and found, never
retrained or copied.

The run of the teacher method returns its students' best checkpoints
(:func:`teacher_payload`: the unit's key (JSON), the students' names and their state dicts)
and the process that owns the results folder keeps them there, ``teachers/<key>.pt``, read
back with ``torch.load(weights_only=True)``; it hands them to the distilling run, which loads
them into freshly built students (:func:`rebuild_teachers`). Workers, local or on a cluster,
never write the results folder. Without the file a distilling run trains the teachers itself
(:func:`~mutualgnn.experiment.run_once`), as ``mutualgnn run --method kd`` does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import torch

from ..experiment import teachers_for
from ..files import replacing_path
from ..mutual import METHODS
from ..mutual import method as method_named
from .suite import TUNE
from .units import RunSpec

FOLDER = "teachers"


def teacher_key(spec: RunSpec) -> str:
    """The unit whose students teach ``spec``'s (its method's teacher method, the rest the
    same; for a tuning unit, the final unit), as a JSON string; "" when ``spec``'s method has
    no teachers."""
    taught_by = method_named(spec.method).teachers
    if taught_by is None:
        return ""
    if spec.variant.startswith(TUNE):  # tuning runs learn from the final run's students
        spec = dataclasses.replace(spec, variant="")
    return unit_key(spec, taught_by)


def unit_key(spec: RunSpec, method: str | None = None) -> str:
    """The key of unit ``spec`` (with ``method`` in place of its own, if given) as JSON."""
    key = dict(
        dataset=spec.dataset,
        cohort=spec.cohort,
        variant=spec.variant,
        method=method or spec.method,
        seed=spec.seed,
        fold=spec.fold,
    )
    if spec.split_seed:  # a repetition's own teachers (split seed 0 keeps the older key)
        key["split_seed"] = spec.split_seed
    return json.dumps(key, sort_keys=True)


def teaches(suite_methods, method: str) -> bool:
    """Whether runs of ``method`` teach some method of the suite (their students are kept)."""
    return any(METHODS[m].teachers == method for m in suite_methods)


def _path(folder: Path, key: str) -> Path:
    return Path(folder) / FOLDER / (hashlib.sha1(key.encode()).hexdigest()[:16] + ".pt")


def teacher_payload(spec: RunSpec, students) -> dict:
    """What is kept of the trained ``students`` of unit ``spec``: its key (JSON), the students'
    names and their state dicts (CPU tensors). Made where the run trains (a worker), written
    by the process that owns the results folder (:func:`save_teachers`)."""
    return dict(
        key=unit_key(spec),
        names=[getattr(s, "arch", type(s).__name__) for s in students],
        states=[{k: v.detach().cpu() for k, v in s.state_dict().items()} for s in students],
    )


def save_teachers(folder, payload: dict) -> Path:
    """Keep a :func:`teacher_payload` in the results ``folder`` (written whole or not at all)."""
    path = _path(folder, payload["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_teachers(folder, key: str) -> dict | None:
    """The :func:`teacher_payload` kept in ``folder`` for teaching unit ``key`` (a run's
    ``taught_by``, :func:`teacher_key`); None when nothing is kept."""
    path = _path(folder, key)
    if not key or not path.is_file():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("key") != key:
        raise ValueError(
            f"{path} holds the students of {payload.get('key')}, not of {key}: "
            f"delete it to have the teachers trained again"
        )
    return payload


def rebuild_teachers(payload: dict, build) -> list:
    """The teachers a :func:`teacher_payload` holds: ``build()`` (a fresh cohort of the same
    students: built under the current random state, then overwritten) given the kept weights,
    reordered by :func:`~mutualgnn.experiment.teachers_for`."""
    students = build()
    for student, state in zip(students, payload["states"]):
        student.load_state_dict(state)
    return teachers_for(students)
