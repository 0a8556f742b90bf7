"""One experiment: a cohort trained with one method over seeds (and, for graph sets, folds).

:func:`run_experiment` is what ``mutualgnn run`` calls; it returns an :class:`ExperimentResult`
whose ``records`` hold one row per (seed, fold, student) plus one ``ensemble`` row per
(seed, fold).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .progress import bar as progress_bar
from .config import ExperimentConfig
from .files import replacing, write_text
from .data import flip_labels, load_dataset, with_features, with_labels
from .metrics import metric_of
from .mutual import method as method_named
from .mutual import teacher_of
from .provenance import versions
from .saved import save_run
from .students import (
    build_named_student,
    lookup_hparams,
    named_hparams,
    student_generator,
    use_generator,
)
from .training import available_cores, fit, seed_everything, set_threads


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    records: pd.DataFrame  #: one row per (seed, fold, student) and an ensemble row each;
    #: ``split`` holds the fold's train/val/test indices (JSON) for cross-validated datasets
    histories: list  #: per run: the per-epoch history of :func:`fit`

    def summary(self) -> pd.DataFrame:
        """Mean and std of test accuracy per student position and for the ensemble."""
        return summarise(self.records)

    def write(self, path) -> Path:
        """Write :attr:`records` to ``path``: CSV when it ends in ``.csv``, else JSON (a list
        of rows; every float exact, unlike ``DataFrame.to_json``, which keeps 15 digits)."""
        path = Path(path)
        if path.suffix.lower() == ".csv":
            with replacing(path) as fh:
                self.records.to_csv(fh, index=False)
            return path
        rows = self.records.astype(object).where(self.records.notna(), None)
        return write_text(path, json.dumps(rows.to_dict("records"), indent=1))


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    grouped = records.groupby(["student", "arch"], sort=False)["test_acc"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["std"] = out["std"].fillna(0.0)
    return out


def build_cohort(config: ExperimentConfig, dataset):
    """The students of ``config`` for ``dataset``, built in order under the current seed: each
    a built-in, ``module.path:ClassName`` or a registered short name
    (:mod:`mutualgnn.students.registry`)."""
    return [
        build_named_student(
            arch,
            dataset.task,
            dataset.num_features,
            dataset.num_classes,
            model_hparams(config, arch, dataset),
        )
        for arch in config.students
    ]


def model_hparams(config, arch, dataset) -> dict:
    """The hyper-parameters of student ``arch`` in ``config``'s cohort on ``dataset``: a
    built-in's defaults with ``config.hparams[arch]``, or a class of yours' settings as given."""
    return named_hparams(arch, dataset.task, dataset.name, lookup_hparams(config.hparams, arch))


def run_experiment(
    config: ExperimentConfig,
    dataset=None,
    progress: bool | None = None,
    cache_dir=None,
    save_dir=None,
    exchange=None,
) -> ExperimentResult:
    """Run ``config``; ``dataset`` (already loaded) skips loading by name. ``save_dir`` keeps
    every student's best checkpoint (see :mod:`mutualgnn.saved`). ``exchange``: this process is
    one rank of a distributed cohort (:mod:`mutualgnn.training.distributed`; :func:`mutualgnn.launch.run_distributed` starts them)."""
    dataset = dataset or load_dataset(config.dataset, config.data_dir, cache_dir=cache_dir)
    config = _with_progress(config, progress)
    if exchange is not None:  # per-student streams make the ranks' numbers the one-process ones;
        # the machine's cores are split between the ranks on it; each rank trains on its device
        threads = config.train.threads or max(1, available_cores() // exchange.local_size)
        config = dataclasses.replace(
            config,
            train=dataclasses.replace(
                config.train, student_rng=True, threads=threads, device=str(exchange.device)
            ),
        )
    splits = splits_for(config, dataset)
    runs = [(seed, split) for seed in config.seeds for split in splits]
    bar = progress_bar(
        runs, desc=f"{config.dataset} {config.method}", enabled=config.train.progress
    )
    rows, histories = [], []
    for seed, split in bar:
        run = run_once(config, dataset, seed, split, exchange)
        if save_dir is not None:
            save_run(save_dir, config, dataset, run)
        rows.extend(run.rows(with_split=split.fold is not None))
        histories.append(
            dict(
                seed=seed,
                fold=split.fold,
                history=run.fit.history,
                split=split.as_lists() if split.fold is not None else None,
            )
        )
    records = pd.DataFrame(rows)
    records["config"] = json.dumps(config.to_dict(), sort_keys=True)
    records["versions"] = json.dumps(versions(), sort_keys=True)
    return ExperimentResult(config=config, records=records, histories=histories)


def splits_for(config: ExperimentConfig, dataset) -> list:
    """The splits ``config`` runs ``dataset`` on: its ``folds`` folds of cross-validation drawn
    with ``split_seed`` (graph datasets), or its public or random split (``node_split``)."""
    return dataset.splits(folds=config.folds, seed=config.split_seed, scheme=config.node_split)


@dataclass
class Run:
    """One training run of a cohort: a (seed, split) of an experiment."""

    dataset: str
    method: str
    seed: int
    split: object  #: the :class:`~mutualgnn.data.Split` trained on
    fit: object  #: the :class:`~mutualgnn.training.FitResult`
    students: list = field(default_factory=list, repr=False)  #: trained, at their best epochs

    def rows(self, with_split: bool = False) -> list:
        """One dict per student and one for the cohort ensemble (``student="ensemble"``);
        ``test_acc`` and ``val_acc`` hold the score named by ``metric`` ("acc", or "rocauc" for
        ogbg-molhiv)."""
        result = self.fit
        base = dict(
            dataset=self.dataset,
            method=self.method,
            metric=metric_of(self.dataset),
            seed=self.seed,
            fold=self.split.fold,
            epochs_run=result.epochs_run,
            seconds=result.seconds,
            split=json.dumps(self.split.as_lists()) if with_split else None,
        )
        rows = [
            dict(
                base,
                student=k,
                arch=st.arch,
                test_acc=st.test_acc,
                val_acc=st.val_acc,
                best_epoch=st.best_epoch,
            )
            for k, st in enumerate(result.students)
        ]
        rows.append(
            dict(
                base,
                student="ensemble",
                arch="+".join(st.arch for st in result.students),
                test_acc=result.ensemble["test_acc"],
                val_acc=result.ensemble["val_acc"],
                best_epoch=None,
            )
        )
        return rows


def run_once(
    config: ExperimentConfig, dataset, seed: int, split, exchange=None, teachers=None
) -> Run:
    """Train ``config``'s cohort with ``config.method`` once: seed ``seed``, split ``split``
    (one of ``dataset.splits(...)``); ``exchange``: as in :func:`run_experiment`.

    A method that distils from teachers (``kd``) takes ``teachers`` (K trained modules, teacher
    k for student k; a bench reuses its stored ``independent`` run's students) or, without
    them, first trains the teacher method's cohort on the same seed and split here and takes
    its students (:func:`teachers_for`)."""
    for arch in config.students:  # fail early on an unknown student or hyper-parameter
        model_hparams(config, arch, dataset)
    taught_by = method_named(config.method).teachers
    if taught_by and teachers is None:
        trained = run_once(
            dataclasses.replace(config, method=taught_by), dataset, seed, split, exchange
        )
        teachers = teachers_for(trained.students)
    set_threads(config.train.threads)
    if config.label_noise:  # training labels only; validation and test stay clean
        noisy = flip_labels(
            dataset.labels,
            split.train,
            config.label_noise,
            dataset.num_classes,
            seed=seed * 1_000_003 + (split.fold or 0),
        )
        dataset = with_labels(dataset, noisy)
    dataset = with_features(dataset, config.features, split.train)
    seed_everything(seed)
    students = build_cohort(config, dataset)
    if config.train.student_rng:
        device = config.train.torch_device()
        for k, student in enumerate(students):
            use_generator(student, student_generator(seed, k, device))
    result = fit(
        students,
        dataset,
        split,
        train=config.train,
        method=config.method,
        mutual=config.mutual,
        exchange=exchange,
        teachers=teachers,
    )
    return Run(
        dataset=dataset.name,
        method=config.method,
        seed=seed,
        split=split,
        fit=result,
        students=students,
    )


def teachers_for(students) -> list:
    """The teachers of a cohort from the same cohort trained alone: student k is taught by
    ``students[teacher_of(k, K)]`` (in a pair, the other one)."""
    return [students[teacher_of(k, len(students))] for k in range(len(students))]


def _with_progress(config, progress):
    if progress is None:
        return config
    return dataclasses.replace(config, train=dataclasses.replace(config.train, progress=progress))
