"""Saved cohorts: each student's best weights with the settings that made them, and the check
that reloading them reproduces the recorded test accuracy.

A saved folder is data, never code: every student's file holds only its weights (a flat dict of
parameter name -> tensor, read with ``torch.load(..., weights_only=True)``), and everything else
is JSON. Layout of a folder written by :func:`save_run` (one sub-folder per seed and fold)::

    DIR/config.json                the ExperimentConfig
    DIR/seed0/run.json             {"format": 2, "dataset", "method", "seed", "fold", "split",
                                    "versions" (mutualgnn.provenance.versions() of the run),
                                    "students": [{"file", "task", "hparams", "in_feats",
                                    "num_classes", "arch", "test_acc", "val_acc", "best_epoch",
                                    "last_test_acc", "last_val_acc"}, ...]}
    DIR/seed0/student0-gcn.pt      {parameter name: tensor} and nothing else
    DIR/seed0-fold3/...            (graph datasets: one per fold)

A student entry holds what rebuilds the student (``task`` ... ``num_classes``) and its numbers in
the run, a :class:`~mutualgnn.student_result.StudentResult` (the facts a suite's run record
keeps of it: ``arch`` to ``last_val_acc``; folders saved before ``last_test_acc`` and
``last_val_acc`` were written lack them and load alike).

A student of your own (``arch`` ``module.path:ClassName`` or a registered short name,
:mod:`mutualgnn.students.registry`) also records ``"class"``: its ``module:Class``, which
:func:`load_students` imports again to rebuild it (a new process knows a short name only once
its module is imported); ``hparams`` are then its constructor's keyword arguments (and
``lr``/``weight_decay``).

:func:`load_students` refuses (:class:`~mutualgnn.config.ConfigError`) a weights file that holds
anything but tensors; torch's weights-only reader stops at the first object that is not one,
before anything of it runs. Folders written before format 2 (``run.json`` without ``"format"``)
hold pickled checkpoints that can run code when loaded: they are refused with how to re-save
them, by retraining with ``mutualgnn run ... --save DIR`` or, for files you trust, once with
:func:`convert_legacy`, the only code here that unpickles.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import torch

from .config import ConfigError, ExperimentConfig
from .validation import first_line
from .data import Split, with_features
from .files import replacing_path, write_text
from .metrics import scorer
from .provenance import versions
from .student_result import student_results
from .students import (
    StudentError,
    build_named_student,
    is_built_in,
    lookup_hparams,
    named_hparams,
    student_path,
)
from .training import eval_batches, predict, predict_sampled

FORMAT = 2  #: the ``"format"`` of a run.json this version writes and reads
_MODEL_KEYS = ("arch", "task", "hparams", "in_feats", "num_classes")  # of each student entry


def run_folder(directory, seed: int, fold) -> Path:
    return Path(directory) / (f"seed{seed}" + ("" if fold is None else f"-fold{fold}"))


def save_run(directory, config: ExperimentConfig, dataset, run) -> Path:
    """Write the best checkpoints of ``run`` (an :class:`~mutualgnn.experiment.Run`)."""

    directory = Path(directory)
    folder = run_folder(directory, run.seed, run.split.fold)
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(directory / "config.json", config.to_dict(), sort_keys=True)
    students = []
    for k, (st, result) in enumerate(zip(run.fit.students, student_results(run.fit))):
        name = f"student{k}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', st.arch)}.pt"
        hparams = named_hparams(
            st.arch, dataset.task, dataset.name, lookup_hparams(config.hparams, st.arch)
        )
        save_weights(st.state_dict, folder / name)
        students.append(
            {
                "file": name,
                "task": dataset.task,
                "hparams": hparams,
                "in_feats": dataset.num_features,
                "num_classes": dataset.num_classes,
                **result.to_dict(),
                **({} if is_built_in(st.arch) else {"class": student_path(st.arch)}),
            }
        )
    _write_json(
        folder / "run.json",
        {
            "format": FORMAT,
            "dataset": dataset.name,
            "method": run.method,
            "seed": run.seed,
            "fold": run.split.fold,
            "split": run.split.as_lists(),
            "versions": versions(),
            "students": students,
        },
    )
    return folder


def save_weights(state_dict, path) -> None:
    """Write ``state_dict`` as a flat dict of name -> CPU tensor, which :func:`load_weights`
    (``torch.load(weights_only=True)``) reads back."""
    weights = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise TypeError(
                f"a saved student holds only named tensors; {name!r} is {type(value).__name__}"
            )
        weights[name] = value.detach().to("cpu")
    with replacing_path(path) as tmp:  # whole or not at all
        torch.save(weights, tmp)


def load_weights(path) -> dict:
    """The tensors of a student's weights file, read with ``weights_only=True`` only; a
    :class:`ConfigError` naming the file when it holds anything else (nothing of it runs)."""
    path = Path(path)
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ConfigError(
            f"refusing to load {path}: a saved student's file may hold only "
            f"tensors, and torch's weights-only reader refused this one "
            f"({_refusal(exc)}); nothing of it was run"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - not a torch file, truncated, ...: torch varies
        raise ConfigError(
            f"cannot read {path}: not a file torch.save wrote "
            f"({type(exc).__name__} {first_line(exc)})"
        ) from None
    if not isinstance(weights, dict):
        raise ConfigError(
            f"refusing to load {path}: a saved student's file holds a dict of "
            f"tensors, this one a {type(weights).__name__}"
        )
    for name, value in weights.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise ConfigError(
                f"refusing to load {path}: a saved student's file may hold only "
                f"tensors, and {name!r} is a {type(value).__name__}"
            )
    return weights


def load_students(folder) -> list:
    """The students saved in one run folder, in eval mode, at their best checkpoints."""
    folder = Path(folder)
    info = read_run(folder)
    students = []
    for entry in info["students"]:
        path = folder / entry["file"]
        try:
            model = build_named_student(
                entry.get("class") or entry["arch"],
                entry["task"],
                entry["in_feats"],
                entry["num_classes"],
                entry["hparams"],
            )
            model.arch = entry["arch"]  # its name in the run (a registered one: not "class")
        except StudentError as exc:
            raise StudentError(
                f"cannot rebuild a student saved in {folder / 'run.json'}: {exc}"
            ) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"{folder / 'run.json'}: student entry {entry.get('file')!r} "
                f"is incomplete or wrong ({exc})"
            ) from None
        try:
            model.load_state_dict(load_weights(path))
        except RuntimeError as exc:
            raise ConfigError(
                f"{path} does not fit its student ({entry['arch']}): {first_line(exc)}"
            ) from None
        students.append(model.eval())
    return students


def read_run(folder) -> dict:
    """``folder/run.json``, checked to be of this version's format."""
    path = Path(folder) / "run.json"
    info = _read_json(path)
    if not isinstance(info, dict):
        raise ConfigError(f"{path} is not a saved run (expected a JSON object)")
    version = info.get("format")
    if version is None:
        raise ConfigError(
            f"{Path(folder).parent} was written by an older mutualgnn whose checkpoints are "
            "pickles, which can run code when loaded; this version does not load them. Re-save "
            "it: retrain with `mutualgnn run ... --save DIR`, or, only if you trust its files, "
            "convert it once in Python with `mutualgnn.saved.convert_legacy(DIR)`"
        )
    if version != FORMAT:
        raise ConfigError(
            f"{path} has format {version!r}; this mutualgnn reads format {FORMAT} "
            "(a newer mutualgnn wrote it?)"
        )
    return info


def convert_legacy(directory) -> list:
    """Rewrite a folder saved by an older mutualgnn (pickled checkpoints) in the current format;
    returns the run folders converted (those already current are left alone).

    WARNING: THIS UNPICKLES THE OLD CHECKPOINTS (``torch.load(weights_only=False)``). Unpickling
    runs whatever code a file asks for: a checkpoint that someone edited can run any command
    as you. Call this once, knowingly, and only on a folder whose files you wrote yourself or
    otherwise trust. It is the only code of mutualgnn that loads a file this way; everything
    else, ``mutualgnn predict`` included, refuses such folders.
    """

    directory = Path(directory)
    folders = sorted(p.parent for p in directory.glob("*/run.json"))
    if not folders:
        raise ConfigError(f"no saved models in {directory} (expected {directory}/seed*/run.json)")
    converted = []
    for folder in folders:
        info = _read_json(folder / "run.json")
        if info.get("format") is not None:
            continue
        students, weights = [], {}
        for entry in info["students"]:
            path = folder / entry["file"]
            old = torch.load(path, map_location="cpu", weights_only=False)  # see the warning
            if not isinstance(old, dict) or "state_dict" not in old:
                raise ConfigError(f"{path} is not a checkpoint of an older mutualgnn")
            weights[path] = old["state_dict"]
            students.append(dict(entry, **{k: old[k] for k in _MODEL_KEYS}))
        for path, state in weights.items():
            save_weights(state, path.with_name(path.name + ".tmp"))
        for path in weights:
            os.replace(path.with_name(path.name + ".tmp"), path)
        _write_json(
            folder / "run.json",
            dict(info, format=FORMAT, versions=None, converted_by=versions(), students=students),
        )
        converted.append(folder)
    return converted


def read_config(directory) -> ExperimentConfig:
    """The :class:`ExperimentConfig` a folder written by ``mutualgnn run --save`` was trained
    with (``DIR/config.json``)."""
    try:
        data = json.loads((Path(directory) / "config.json").read_text())
    except (OSError, ValueError):
        raise ConfigError(
            f"{directory} holds no config.json; is it a folder written by `mutualgnn run --save`?"
        ) from None
    return ExperimentConfig.from_dict(data)


def evaluate_saved(directory, dataset) -> list:
    """Reload every saved run of ``directory`` and recompute each student's test score (the
    dataset's metric, as in training) on ``dataset``; returns one dict per (run, student) with
    ``recorded`` and ``reproduced``."""
    directory = Path(directory)
    folders = sorted(p.parent for p in directory.glob("*/run.json"))
    if not folders:
        raise ConfigError(
            f"no saved models in {directory} (expected {directory}/seed*/run.json; "
            "save them with `mutualgnn run ... --save DIR`)"
        )
    config = read_config(directory)
    train = config.train
    raw = dataset
    rows = []
    for folder in folders:
        info = read_run(folder)
        if info["dataset"] != dataset.name:
            raise ConfigError(f"{folder} was trained on {info['dataset']}, not {dataset.name}")
        split = Split(
            **{k: torch.tensor(v, dtype=torch.long) for k, v in info["split"].items()},
            fold=info["fold"],
        )
        dataset = with_features(raw, config.features, split.train)  # as trained on
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
            rows.append(
                {
                    "run": folder.name,
                    "arch": entry["arch"],
                    "recorded": entry["test_acc"],
                    "reproduced": scorer(dataset.name)(z, test_labels),
                }
            )
    return rows


def _refusal(exc) -> str:
    """What torch's weights-only reader refused, without its advice to load with
    ``weights_only=False``."""
    text = " ".join(str(exc).split())
    named = re.search(r"GLOBAL (\S+)", text)
    if named:
        return f"it asks for {named[1]}, which is not a tensor"
    other = re.search(r"WeightsUnpickler error: ([^.]*)|(Unsupported [^.]*)", text)
    return (other[1] or other[2]) if other else "not a file of tensors"


def _write_json(path: Path, data, sort_keys: bool = False) -> None:
    write_text(path, json.dumps(data, indent=1, sort_keys=sort_keys))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
