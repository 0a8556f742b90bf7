"""The one registry of training methods: what each name means for the mutual-learning terms.

A method is a name and the settings it forces on the user's
:class:`~mutualgnn.config.MutualConfig`; everything it does not force comes from the user.

========================  ========================  ==========  ==========
method                    coordinator               lam         gamma
========================  ========================  ==========  ==========
independent, ensemble     uniform                   0           0
dml                       uniform                   mutual.lam  0
gml                       mutual.coordinator        mutual.lam  mutual.gamma
gml-no-alw                uniform                   mutual.lam  mutual.gamma
gml-no-entropy            mutual.coordinator        mutual.lam  0
gml-sharpen               sharpen (mutual.sharpen)  mutual.lam  mutual.gamma
online-ensemble           gate                      mutual.lam  0
kd                        uniform, over teachers    mutual.lam  0
========================  ========================  ==========  ==========

``ensemble`` trains exactly as ``independent`` (:attr:`Method.trained_as`): it is the averaged
prediction of the independently trained students, so a benchmark trains it once. ``kd``
distils each student from a teacher trained alone (:attr:`Method.teachers`: the ``independent``
run of the same cohort, seed and split; :func:`teacher_of` says which of its students).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    forces: dict = field(default_factory=dict)  #: MutualConfig fields this method sets
    trained_as: str | None = None  #: the method whose training it reuses
    teachers: str | None = None  #: the method that trains its teachers first

    @property
    def mutual(self) -> bool:
        """Whether the students learn from each other (needs K >= 2)."""
        return self.forces.get("lam", None) != 0.0


_INDEPENDENT = dict(coordinator="uniform", lam=0.0, gamma=0.0, alternating=False)

#: every method by name, in the order tables show them
METHODS = {
    m.name: m
    for m in (
        Method("independent", "each student trained alone on the labels", _INDEPENDENT),
        Method(
            "ensemble",
            "the independent students' averaged probabilities",
            _INDEPENDENT,
            trained_as="independent",
        ),
        Method(
            "dml",
            "deep mutual learning (Zhang et al. 2018): peers' plain predictions",
            dict(coordinator="uniform", gamma=0.0),
        ),
        Method("gml", "graph mutual learning: the coordinator's targets and entropy enhancement"),
        Method(
            "gml-no-alw",
            "gml without the coordinator's learned weights",
            dict(coordinator="uniform"),
        ),
        Method("gml-no-entropy", "gml without entropy enhancement", dict(gamma=0.0)),
        Method(
            "gml-sharpen",
            "gml with every peer's prediction sharpened by the fixed "
            "mutual.sharpen in place of the learned weights: the control for ALW",
            dict(coordinator="sharpen"),
        ),
        Method(
            "online-ensemble",
            "online distillation from a gated ensemble of the cohort "
            "(the gate coordinator; Lan et al. 2018, ONE): one teacher for every student",
            dict(coordinator="gate", gamma=0.0),
        ),
        Method(
            "kd",
            "knowledge distillation (Hinton et al. 2015): student k learns from student "
            "k+1 of the cohort trained alone first (the other architecture of a pair)",
            dict(coordinator="uniform", gamma=0.0, alternating=False),
            teachers="independent",
        ),
    )
}


def teacher_of(k: int, num_students: int) -> int:
    """Which student of the independently trained cohort teaches student ``k`` under ``kd``:
    the next one, (k + 1) mod K (in a pair, the other)."""
    return (k + 1) % num_students


METHOD_NAMES = tuple(METHODS)


def method(name: str) -> Method:
    """The :class:`Method` called ``name``; ValueError naming the valid ones otherwise."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown method {name!r}; choose from: {', '.join(METHOD_NAMES)}"
        ) from None


def method_settings(name: str, mutual):
    """The mutual-learning settings method ``name`` runs with: a copy of ``mutual`` (a
    :class:`~mutualgnn.config.MutualConfig`) with the method's forced fields set."""
    return dataclasses.replace(mutual, **method(name).forces)


def trained_methods(names) -> list:
    """The methods of ``names`` that need training, in order: ``ensemble`` is ``independent``'s,
    and a method with teachers (``kd``) comes after the method that trains them, added if
    absent."""
    out = []
    for name in names:
        m = method(name)
        for needed in (m.teachers, m.trained_as or name):
            if needed is not None and needed not in out:
                out.append(needed)
    return out
