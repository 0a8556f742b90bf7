"""A suite planned once: each run with everything it needs decided before any of them trains
(:func:`plan_runs`). The runner executes planned runs, in this process or in workers, and
reads no suite: a run's final config (its tuning choice or inherited setting, the suite's
settings and grid point), whether its history and its students are kept, and whose students
teach it are fields of its :class:`PlannedRun`.

A tuning suite is planned in two stages: its tuning runs first, then, with the choices they
give (:func:`~.tuning.choose`), its final runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ExperimentConfig
from .suite import Suite
from .units import RunSpec, spec_config
from .teachers import teacher_key, teaches, unit_key


@dataclass
class PlannedRun:
    """One run of suite ``suite``: what it is (``spec``) and its final ``config``;
    ``keep_history``: its per-epoch history is stored (the first seed and fold of each
    group); ``keeps_teachers``: its students teach another method of the suite and are kept
    in the results folder; ``taught_by``: the unit whose kept students it distils from
    (:func:`~.teachers.teacher_key`; "" for a method without teachers)."""

    suite: str
    spec: RunSpec
    config: ExperimentConfig
    keep_history: bool = False
    keeps_teachers: bool = False
    taught_by: str = ""

    @property
    def key(self) -> tuple:
        return self.spec.key

    @property
    def unit(self) -> str:
        """The run as :attr:`taught_by` names a teaching run."""
        return unit_key(self.spec)

    def label(self) -> str:
        return self.spec.label()


def plan_runs(suite: Suite, specs, first=(), data_dir=None, threads=None, choices=None) -> list:
    """The :class:`PlannedRun` of each of ``specs`` (units of ``suite``, :func:`~.units.plan`):
    ``first``, the keys whose histories are kept (:func:`~.units.first_runs`); ``data_dir``
    and ``threads`` (torch threads per run) go into every config; ``choices``, the tuning
    stage's (:func:`~.tuning.choose`), are needed for the final runs of tuned methods."""
    return [
        PlannedRun(
            suite.name,
            spec,
            spec_config(suite, spec, data_dir, threads, choices),
            keep_history=spec.key in first,
            keeps_teachers=teaches(suite.methods, spec.method),
            taught_by=teacher_key(spec),
        )
        for spec in specs
    ]
