"""Saved cohorts: each student's best checkpoint with the config that made it, and the check that
reloading them reproduces the recorded test accuracy.

Layout of a folder written by :func:`save_run` (one sub-folder per seed and fold)::

    DIR/config.json                       the ExperimentConfig
    DIR/seed0/run.json                    dataset, seed, fold, split, recorded accuracies
    DIR/seed0/student0-gcn.pt             {"arch", "task", "hparams", "in_feats", "num_classes",
                                           "state_dict"}
    DIR/seed0-fold3/...                   (graph datasets: one per fold)
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .config import ConfigError, ExperimentConfig
from .data import Split, standardize_features
from .metrics import scorer
from .students import build_student, student_hparams
from .training import eval_batches, predict, predict_sampled


def run_folder(directory, seed: int, fold) -> Path:
    return Path(directory) / (f"seed{seed}" + ("" if fold is None else f"-fold{fold}"))


def save_run(directory, config: ExperimentConfig, dataset, run) -> Path:
    """Write the best checkpoints of ``run`` (an :class:`~mutualgnn.experiment.Run`)."""
    directory = Path(directory)
    folder = run_folder(directory, run.seed, run.split.fold)
    folder.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config.to_dict(), indent=1, sort_keys=True))
    students = []
    for k, st in enumerate(run.fit.students):
        name = f"student{k}-{st.arch}.pt"
        hparams = student_hparams(st.arch, dataset.task, dataset.name, config.hparams.get(st.arch))
        torch.save({"arch": st.arch, "task": dataset.task, "hparams": hparams,
                    "in_feats": dataset.num_features, "num_classes": dataset.num_classes,
                    "state_dict": st.state_dict}, folder / name)
        students.append({"file": name, "arch": st.arch, "test_acc": st.test_acc,
                         "val_acc": st.val_acc, "best_epoch": st.best_epoch})
    (folder / "run.json").write_text(json.dumps(
        {"dataset": dataset.name, "method": run.method, "seed": run.seed, "fold": run.split.fold,
         "split": run.split.as_lists(), "students": students}, indent=1))
    return folder


def load_students(folder) -> list:
    """The students saved in one run folder, in eval mode, at their best checkpoints."""
    folder = Path(folder)
    info = _read_json(folder / "run.json")
    students = []
    for entry in info["students"]:
        saved = torch.load(folder / entry["file"], map_location="cpu", weights_only=False)
        model = build_student(saved["arch"], saved["task"], saved["in_feats"],
                              saved["num_classes"], **saved["hparams"])
        model.load_state_dict(saved["state_dict"])
        students.append(model.eval())
    return students


def evaluate_saved(directory, dataset) -> list:
    """Reload every saved run of ``directory`` and recompute each student's test score (the
    dataset's metric, as in training) on ``dataset``; returns one dict per (run, student) with
    ``recorded`` and ``reproduced``."""
    directory = Path(directory)
    folders = sorted(p.parent for p in directory.glob("*/run.json"))
    if not folders:
        raise ConfigError(f"no saved models in {directory} (expected {directory}/seed*/run.json; "
                          "save them with `mutualgnn run ... --save DIR`)")
    config = ExperimentConfig.from_dict(_read_json(directory / "config.json"))
    train = config.train
    raw = dataset
    rows = []
    for folder in folders:
        info = _read_json(folder / "run.json")
        if info["dataset"] != dataset.name:
            raise ConfigError(f"{folder} was trained on {info['dataset']}, not {dataset.name}")
        split = Split(**{k: torch.tensor(v, dtype=torch.long) for k, v in info["split"].items()},
                      fold=info["fold"])
        if config.features == "standard":  # the features the students were trained on
            dataset = standardize_features(raw, split.train)
        students = load_students(folder)
        if dataset.task == "node" and train.fanouts:  # as the run evaluated: batches of nodes
            test_logits = [zt for _, zt in predict_sampled(students, dataset, split, train)]
            test_labels = dataset.labels[split.test]
        elif dataset.task == "node":
            logits = predict(students, dataset.graph)
            labels = dataset.labels
            test_logits = [z[split.test] for z in logits]
            test_labels = labels[split.test]
        else:  # the batches training evaluated on
            batches = eval_batches(dataset.graphs, dataset.labels, split.test)
            per_batch = [predict(students, graph) for graph, _ in batches]
            test_logits = [torch.cat(zs) for zs in zip(*per_batch)]
            test_labels = torch.cat([y for _, y in batches])
        for entry, z in zip(info["students"], test_logits):
            rows.append({"run": folder.name, "arch": entry["arch"], "recorded": entry["test_acc"],
                         "reproduced": scorer(dataset.name)(z, test_labels)})
    return rows


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
