"""A suite's units: :func:`plan` expands a :class:`~.suite.Suite` into :class:`RunSpec` units,
one per (dataset, cohort, variant, method, seed, fold), in the order they run;
:func:`spec_config` is the :class:`~mutualgnn.config.ExperimentConfig` of one.
``ensemble`` is read from the ``independent`` runs (:func:`~mutualgnn.mutual.trained_methods`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError, ExperimentConfig, apply_overrides
from ..data import canonical_name, has_official_split, task_of
from ..mutual import METHODS, trained_methods
from .suite import KEY, TUNE, Suite


@dataclass(frozen=True)
class RunSpec:
    """One unit of a suite: a cohort trained with one method on one seed and fold."""

    dataset: str
    cohort: str
    method: str
    seed: int
    fold: int | None
    variant: str = ""  #: the grid's settings, e.g. "label_noise=0.2" ("" without a grid)
    split_seed: int = 0  #: the seed its splits are drawn with

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, k) for k in KEY)

    def label(self) -> str:
        return run_label(self)


def run_label(run) -> str:
    """A run (a :class:`RunSpec` or a stored record) in words: ``cora gcn,gat gml split 1 seed
    0``."""
    place = where(run.split_seed, run.seed, run.fold)
    return " ".join(filter(None, (run.dataset, run.cohort, run.variant, run.method, place)))


def where(split_seed, seed, fold) -> str:
    """A run's place in words: ``seed 3``, ``seed 0 fold 2``, ``split 1 seed 0 fold 2``."""
    return (
        (f"split {split_seed} " if split_seed else "")
        + f"seed {seed}"
        + ("" if fold is None else f" fold {fold}")
    )


def plan(suite: Suite, datasets=None, methods=None, stage: str = "all") -> list:
    """Every :class:`RunSpec` of ``suite`` (optionally only some datasets / methods), ordered
    dataset, cohort, split seed, seed, fold, variant, method: each seed completes all methods before the
    next. With ``tuning``, ``stage`` picks the tuning runs (``"tune"``: every grid point of
    every tuned method on the tuning seeds and folds, after the final runs of the methods
    that teach them, which need no choice), the final runs (``"final"``), or both in that
    order (``"all"``)."""
    final = _plan(suite, datasets, methods)
    if not suite.tuning or stage == "final":
        return final
    tuned = [m for m in suite.tuning["methods"] if methods is None or m in methods]
    tune = []
    for spec in final:
        splits, seeds, folds = suite.tuning_runs(spec.dataset, task_of(spec.dataset))
        if spec.seed not in seeds or spec.split_seed not in splits:
            continue
        if spec.fold is not None and folds is not None and spec.fold not in folds:
            continue
        if spec.method in tuned:
            tune.extend(
                RunSpec(
                    spec.dataset,
                    spec.cohort,
                    spec.method,
                    spec.seed,
                    spec.fold,
                    label,
                    spec.split_seed,
                )
                for label, _ in suite.tuning_points()
            )
        elif any(METHODS[m].teachers == spec.method for m in tuned):
            tune.append(spec)  # teachers of tuned runs: final runs, needed first
    teachers = [s for s in tune if not s.variant.startswith(TUNE)]
    tune = teachers + [s for s in tune if s.variant.startswith(TUNE)]
    if stage == "tune":
        return tune
    return tune + [s for s in final if s not in set(teachers)]


def _plan(suite: Suite, datasets=None, methods=None) -> list:
    if datasets is not None:
        datasets = [canonical_name(d) for d in datasets]
    chosen = suite.datasets if datasets is None else [d for d in suite.datasets if d in datasets]
    if datasets is not None:
        missing = sorted(set(datasets) - set(suite.datasets))
        if missing:
            raise ConfigError(
                f"suite {suite.name} has no dataset(s) {', '.join(missing)}; "
                f"it has: {', '.join(suite.datasets)}"
            )
    names = trained_methods(
        suite.methods if methods is None else [m for m in suite.methods if m in methods]
    )
    if methods is not None:
        missing = sorted(set(methods) - set(suite.methods))
        if missing:
            raise ConfigError(
                f"suite {suite.name} has no method(s) {', '.join(missing)}; "
                f"it has: {', '.join(suite.methods)}"
            )
    specs = []
    for dataset in chosen:
        task = task_of(dataset)
        folds = (
            [None] if has_official_split(dataset) else suite.run_folds or list(range(suite.folds))
        )
        for cohort in suite.cohorts_for(dataset, task):
            for split_seed in suite.splits_for(dataset, task):
                for seed in suite.seeds_for(dataset, task):
                    for fold in folds:
                        for variant, _ in suite.variants():
                            specs.extend(
                                RunSpec(dataset, cohort, m, seed, fold, variant, split_seed)
                                for m in names
                                if _applies(m, cohort)
                            )
    return specs


def _applies(method: str, cohort: str) -> bool:
    """Mutual methods need two students or more; a one-student cohort runs ``independent``."""
    return method == "independent" or len(cohort.split(",")) > 1


def spec_config(
    suite: Suite, spec: RunSpec, data_dir=None, threads=None, choices=None
) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of one unit (``threads``: torch threads, not protocol).
    A tuning unit runs its grid point; a final unit of a tuned method runs its choice,
    ``choices[(dataset, cohort, method)]`` (assignments; :func:`~.tuning.choose`), which must
    be given; an inheriting method (``tuning.inherit``) runs its source's choice."""
    inherit = suite.tuning.get("inherit", {}) if suite.tuning else {}
    if spec.variant.startswith(TUNE):
        assignments = dict(suite.tuning_points())[spec.variant]
    elif suite.tuning and (spec.method in suite.tuning["methods"] or spec.method in inherit):
        source = inherit.get(spec.method, spec.method)
        choices = choices or {}
        chosen = choices.get(
            (spec.dataset, spec.cohort, source, spec.split_seed, spec.seed, spec.fold),
            choices.get((spec.dataset, spec.cohort, source)),
        )
        if chosen is None:
            raise ConfigError(
                f"suite {suite.name}: {spec.label()} runs with the setting "
                f"{source}'s tuning chooses; finish the tuning runs first"
            )
        assignments = chosen
    else:
        assignments = dict(suite.variants())[spec.variant]
    data = apply_overrides(suite.settings, assignments)  # a copy
    data.setdefault("train", {})
    data["train"]["progress"] = False
    if threads is not None:
        data["train"]["threads"] = threads
    data.update(
        dataset=spec.dataset,
        students=spec.cohort,
        method=spec.method,
        seeds=[spec.seed],
        folds=suite.folds,
        split_seed=spec.split_seed,
    )
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return ExperimentConfig.from_dict(data)


def first_runs(specs) -> set:
    """The first seed/fold of each (dataset, cohort, variant, method): their histories are kept."""
    seen, keys = set(), set()
    for s in specs:
        if (s.dataset, s.cohort, s.variant, s.method) not in seen:
            seen.add((s.dataset, s.cohort, s.variant, s.method))
            keys.add(s.key)
    return keys
