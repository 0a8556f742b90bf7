"""Benchmark suites: a declared grid of runs (YAML, see ``mutualgnn/suites/*.yaml``).

A suite names datasets, cohorts, methods, seeds, folds and the settings every run shares;
:mod:`~.units` expands it into its units, each with its config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..config import (
    ConfigError,
    ExperimentConfig,
    apply_overrides,
    check_keys,
    load_yaml,
    parse_numbers,
)
from ..data import DatasetError, canonical_name
from ..mutual import METHOD_NAMES
from ..provenance import KERNELS

#: what names one run: its split is fold ``fold`` (None: the dataset's one split) of the splits
#: drawn with ``split_seed`` (a repetition of the cross-validation, or one random node split)
KEY = ("dataset", "cohort", "variant", "method", "split_seed", "seed", "fold")
TUNE = "tune:"  #: the variant of a tuning run starts so, then its grid point


@dataclass
class Suite:
    """A declared grid of runs.

    ``cohorts`` and ``seeds`` map a task (``node``, ``graph``) or a dataset name to its value; a
    dataset's own entry wins. ``grid`` maps ExperimentConfig keys (dotted, e.g. ``label_noise``
    or ``mutual.gamma``) to lists of values: every combination is a *variant* run with every
    method, seed and fold. ``settings`` holds :class:`~mutualgnn.config.ExperimentConfig` keys
    (``train``, ``mutual``, ``hparams``, ``split_seed``) shared by every run: they define the
    protocol, so a results folder belongs to one suite name and one ``settings``/``folds``.
    ``run_folds`` (e.g. ``0-2``) runs only some of the ``folds`` folds, for a quick tuning
    grid; the folds themselves stay those of the full ``folds``-fold split.

    ``splits`` (per task or dataset, e.g. ``{node: 0-4, graph: 0-2}``) are the split seeds
    every run is repeated on: repetitions of the cross-validation, or random node splits with
    ``settings: {node_split: random}``; by default the one ``settings.split_seed`` (0).
    ``kernels`` (``avx2``, ``default`` or ``avx512``) runs every unit in a worker process pinned
    to that CPU kernel level (:func:`~mutualgnn.provenance.pinned_kernels`), so that its numbers
    are the same on every processor that has the level.

    ``tuning`` declares an equal tuning budget: ``grid`` (settings -> values, e.g.
    ``{mutual.lam: [0.1, 0.3, 1.0], mutual.temperature: [1.0, 2.0]}``), ``seeds`` (per task
    or dataset, default the suite's) and ``run_folds`` (folds, or a mapping of task or dataset
    to folds; default the suite's) and ``splits`` (split seeds per task or dataset; default each
    dataset's first) of the tuning runs, ``nested`` (datasets or tasks whose choice is made
    inside each outer split and fold, on its own validation rows: every tuned method runs every
    grid point on every split seed and fold, and each final run is its fold's choice, found
    in the tuning runs), ``methods`` (default: every method of
    the suite but ``independent``, ``ensemble`` and those in ``inherit``, which have no such
    settings or take another's), and ``inherit`` (method -> tuned method, e.g. an ablation
    ``{gml-no-alw: gml}`` that runs GML's choice, so that it differs from GML in one thing
    only). Every point of the grid is run for every tuned method on the same tuning seeds and
    folds (variant ``tune:...``); each method's final runs then use its point of best mean
    validation accuracy (:mod:`~.tuning`), an inheriting method its source's.
    """

    name: str
    datasets: list
    methods: list = field(default_factory=lambda: list(METHOD_NAMES))
    cohorts: dict = field(default_factory=lambda: {"node": ["gcn,gat"], "graph": ["gin,gcn"]})
    seeds: dict = field(default_factory=lambda: {"node": "0-9", "graph": "0"})
    folds: int = 10
    run_folds: object = None
    splits: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    tuning: dict = field(default_factory=dict)
    kernels: str | None = None
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("suite: 'name' must be a non-empty string")
        if not isinstance(self.datasets, list) or not self.datasets:
            raise ConfigError("suite: 'datasets' must be a non-empty list of dataset names")
        try:
            self.datasets = [canonical_name(d) for d in self.datasets]
        except DatasetError as exc:
            raise ConfigError(f"suite: datasets: {exc}") from None
        if not isinstance(self.methods, list) or not self.methods:
            raise ConfigError("suite: 'methods' must be a non-empty list")
        bad = [m for m in self.methods if m not in METHOD_NAMES]
        if bad:
            raise ConfigError(
                f"suite: unknown method(s) {', '.join(map(str, bad))}; "
                f"choose from: {', '.join(METHOD_NAMES)}"
            )
        for key in ("cohorts", "seeds"):
            if not isinstance(getattr(self, key), dict):
                raise ConfigError(
                    f"suite: '{key}' must map a task (node, graph) or a dataset to its {key}"
                )
        self.cohorts = {key: _cohorts(key, value) for key, value in self.cohorts.items()}
        for key, value in self.seeds.items():
            try:
                parse_numbers(value)
            except ConfigError as exc:
                raise ConfigError(f"suite: seeds of {key}: {exc}") from None
        if not isinstance(self.folds, int) or isinstance(self.folds, bool) or self.folds < 2:
            raise ConfigError("suite: 'folds' must be an integer >= 2")
        if self.run_folds is not None:
            self.run_folds = parse_numbers(self.run_folds, "run_folds")
            outside = [f for f in self.run_folds if not 0 <= f < self.folds]
            if outside:
                raise ConfigError(
                    f"suite: run_folds {outside} outside 0-{self.folds - 1} (folds: {self.folds})"
                )
        if not isinstance(self.settings, dict):
            raise ConfigError("suite: 'settings' must be a mapping of ExperimentConfig keys")
        if not isinstance(self.splits, dict):
            raise ConfigError(
                "suite: 'splits' must map a task (node, graph) or a dataset to "
                "split seeds, e.g. {node: 0-4, graph: 0-2}"
            )
        for key, value in self.splits.items():
            try:
                parse_numbers(value, "split seeds")
            except ConfigError as exc:
                raise ConfigError(f"suite: splits of {key}: {exc}") from None
        if self.splits and "split_seed" in self.settings:
            raise ConfigError(
                "suite: give split seeds in 'splits' or settings.split_seed, not both"
            )
        if self.kernels is not None and self.kernels not in KERNELS:
            raise ConfigError(
                f"suite: unknown kernels {self.kernels!r}; choose from: {', '.join(KERNELS)}"
            )
        reserved = {"dataset", "students", "method", "seeds", "folds"} & set(self.settings)
        if reserved:
            raise ConfigError(
                f"suite: settings may not set {', '.join(sorted(reserved))}; "
                "they are the suite's own keys"
            )
        if not isinstance(self.grid, dict) or not all(
            isinstance(v, list) and v for v in self.grid.values()
        ):
            raise ConfigError(
                "suite: 'grid' must map settings to non-empty lists of values, "
                "e.g. grid: {label_noise: [0.0, 0.2]}"
            )
        for _, assignments in self.variants():  # unknown keys and bad values fail here
            ExperimentConfig.from_dict(apply_overrides(self.settings, assignments))
        self._check_tuning()

    def _check_tuning(self) -> None:
        tuning = self.tuning
        if not isinstance(tuning, dict):
            raise ConfigError(
                "suite: 'tuning' must be a mapping with grid, seeds, run_folds, methods"
            )
        if not tuning:
            return
        valid = {"grid", "seeds", "run_folds", "splits", "nested", "methods", "inherit"}
        unknown = sorted(set(tuning) - valid)
        if unknown:
            raise ConfigError(
                f"suite: tuning: unknown key(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(valid))}"
            )
        for value in (tuning.get("splits") or {}).values():
            parse_numbers(value, "split seeds")
        nested = tuning.get("nested", [])  # not set by default: a suite's identity keeps its form
        if not isinstance(nested, list) or not all(isinstance(n, str) for n in nested):
            raise ConfigError("suite: tuning: 'nested' must list datasets or tasks, e.g. [MUTAG]")
        if self.grid:
            raise ConfigError("suite: a suite tunes (tuning) or sweeps variants (grid), not both")
        grid = tuning.get("grid")
        if (
            not isinstance(grid, dict)
            or not grid
            or not all(isinstance(v, list) and v for v in grid.values())
        ):
            raise ConfigError(
                "suite: tuning: 'grid' must map settings to non-empty lists of "
                "values, e.g. grid: {mutual.lam: [0.1, 0.3, 1.0]}"
            )
        seeds = tuning.setdefault("seeds", dict(self.seeds))
        if not isinstance(seeds, dict):
            raise ConfigError("suite: tuning: 'seeds' must map a task or dataset to seeds")
        for value in seeds.values():
            parse_numbers(value)
        folds = tuning.get("run_folds")
        for value in folds.values() if isinstance(folds, dict) else [folds]:
            if value is None:
                continue
            outside = [f for f in parse_numbers(value, "run_folds") if not 0 <= f < self.folds]
            if outside:
                raise ConfigError(f"suite: tuning: run_folds {outside} outside 0-{self.folds - 1}")
        inherit = tuning.setdefault("inherit", {})
        if not isinstance(inherit, dict):
            raise ConfigError(
                "suite: tuning: 'inherit' must map a method to the tuned method "
                "whose choice it runs, e.g. {gml-no-alw: gml}"
            )
        untuned = ("independent", "ensemble")
        methods = tuning.setdefault(
            "methods", [m for m in self.methods if m not in untuned and m not in inherit]
        )
        bad = [m for m in methods if m not in self.methods or m in untuned or m in inherit]
        if not isinstance(methods, list) or bad:
            raise ConfigError(
                f"suite: tuning: methods must be methods of the suite other than "
                f"independent, ensemble and those in inherit; not "
                f"{', '.join(map(str, bad))}"
            )
        bad = [
            f"{m}: {source}"
            for m, source in inherit.items()
            if m not in self.methods or m in untuned or source not in methods
        ]
        if bad:
            raise ConfigError(
                f"suite: tuning: inherit maps a method of the suite (not "
                f"independent or ensemble) to a tuned method; not "
                f"{', '.join(map(str, bad))}"
            )
        for _, assignments in self.tuning_points():
            ExperimentConfig.from_dict(apply_overrides(self.settings, assignments))

    def tuning_runs(self, dataset: str, task: str) -> tuple:
        """(split seeds, seeds, folds or None for all) of the tuning runs on ``dataset``; a
        nested dataset (:meth:`nested`) tunes on all of its final runs' split seeds and folds."""
        if self.nested(dataset, task):
            return self.splits_for(dataset, task), self.seeds_for(dataset, task), None
        seeds, folds = self.tuning["seeds"], self.tuning.get("run_folds")
        if isinstance(folds, dict):
            folds = folds.get(dataset, folds.get(task))
        splits = self.tuning.get("splits") or {}
        splits = splits.get(dataset, splits.get(task))
        return (
            self.splits_for(dataset, task)[:1]
            if splits is None
            else parse_numbers(splits, "split seeds"),
            parse_numbers(seeds.get(dataset, seeds.get(task, 0))),
            None if folds is None else parse_numbers(folds, "run_folds"),
        )

    def nested(self, dataset: str, task: str) -> bool:
        """Whether ``dataset``'s settings are chosen inside each outer split and fold."""
        nested = self.tuning.get("nested", []) if self.tuning else []
        return dataset in nested or task in nested

    def tuning_points(self) -> list:
        """(variant label ``tune:key=value,...``, assignments) of every point of the tuning
        grid; none without tuning."""
        if not self.tuning:
            return []
        combos = [[]]
        for key, values in self.tuning["grid"].items():
            combos = [c + [f"{key}={json.dumps(v)}"] for c in combos for v in values]
        return [(TUNE + ",".join(c), c) for c in combos]

    @classmethod
    def from_dict(cls, data: dict, source: str = "suite") -> Suite:
        if not isinstance(data, dict):
            raise ConfigError(f"{source} must hold a mapping of suite keys")
        try:
            check_keys(data, cls, "")
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:  # a value of an unexpected shape
            raise ConfigError(
                f"{source}: a value has the wrong type or shape ({exc}); the shipped "
                f"suites show the format (mutualgnn/suites/paper.yaml)"
            ) from None

    def identity(self) -> dict:
        """What makes two result sets comparable: the name and the shared protocol."""
        out = {"name": self.name, "folds": self.folds, "settings": self.settings}
        if self.tuning:
            out["tuning"] = self.tuning
        if self.kernels is not None:
            out["kernels"] = self.kernels
        return out

    def variants(self) -> list:
        """(label, ``key=value`` assignments) of every combination of ``grid``; one unnamed
        variant without a grid."""
        combos = [[]]
        for key, values in self.grid.items():
            combos = [c + [f"{key}={json.dumps(v)}"] for c in combos for v in values]
        return [(",".join(c), c) for c in combos]

    def cohorts_for(self, dataset: str, task: str) -> list:
        """The cohorts run on ``dataset``, each as ``"gcn,gat"``."""
        value = self.cohorts.get(dataset, self.cohorts.get(task))
        if value is None:
            raise ConfigError(
                f"suite {self.name}: no cohort for {dataset} (task {task}); add "
                f"cohorts: {{{task}: ['gcn,gat']}}"
            )
        return list(value)

    def seeds_for(self, dataset: str, task: str) -> list:
        value = self.seeds.get(dataset, self.seeds.get(task, 0))
        return parse_numbers(value)

    def splits_for(self, dataset: str, task: str) -> list:
        """The split seeds of ``dataset``'s runs (default: ``settings.split_seed``, else 0)."""
        value = self.splits.get(dataset, self.splits.get(task))
        return parse_numbers(value if value is not None else self.settings.get("split_seed", 0))


def _cohorts(key, value) -> list:
    """A suite's cohorts for one task or dataset as a list of ``"a,b"`` strings: ``"gcn,gat"``
    (one cohort), ``[gcn, gat]`` inside a list (``[[gcn, gat], [gin, gin]]``), or a list of
    ``"a,b"`` strings."""
    items = [value] if isinstance(value, str) else value
    out = []
    if isinstance(items, list) and items:
        for item in items:
            names = item.split(",") if isinstance(item, str) else item
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                break
            names = [n.strip() for n in names if n.strip()]
            if not names:
                break
            out.append(",".join(names))
        else:
            return out
    raise ConfigError(
        f'suite: cohorts of {key} must be a cohort such as "gcn,gat" or a list of '
        f'cohorts, each "gcn,gat" or [gcn, gat]; got {value!r}'
    )


def suite_names() -> list:
    """Names of the suites shipped with the package."""
    return sorted(
        p.name[:-5]
        for p in resources.files("mutualgnn.suites").iterdir()
        if p.name.endswith(".yaml")
    )


def load_suite(name_or_path) -> Suite:
    """A shipped suite by name (``paper``, ``smoke``, ...) or a YAML file by path."""
    text = str(name_or_path)
    if text in suite_names():
        path = resources.files("mutualgnn.suites") / f"{text}.yaml"
    elif text.endswith((".yaml", ".yml")) or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"suite file {path} does not exist")
    else:
        raise ConfigError(
            f"unknown suite '{text}'; shipped suites: {', '.join(suite_names())}, "
            "or give the path of a YAML file"
        )
    return Suite.from_dict(load_yaml(path), source=f"suite {text}")
