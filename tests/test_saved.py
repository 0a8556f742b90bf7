"""Saved students: `run --save` keeps the best checkpoints; `predict` reloads them and reproduces
the recorded test accuracy exactly. A saved folder is data: weights files hold only tensors and
are read with ``weights_only=True``, so a checkpoint that would run code when unpickled is
refused before anything of it runs."""

from __future__ import annotations

import collections
import dataclasses
import json
import pathlib

import pytest
import torch
from click.testing import CliRunner

from mutualgnn.cli import main
from mutualgnn.config import ConfigError
from mutualgnn.saved import FORMAT, convert_legacy, load_students
from mutualgnn.student_result import StudentResult


class TouchesAFile:
    """Unpickling this creates ``marker``: what an edited checkpoint could do (os.system ...)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _save(out, students="gcn,gcn", epochs=3, extra=()):
    result = CliRunner().invoke(
        main,
        [
            "run",
            "-d",
            "karate",
            "-s",
            students,
            "-m",
            "dml",
            "--epochs",
            str(epochs),
            "--threads",
            "1",
            "--no-progress",
            "--save",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def _refused(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.output.count("Error:") == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize(
    "dataset, students, extra",
    [
        ("karate", "gcn,gat", ["--seeds", "0-1"]),
        ("minigc", "gin,gcn", ["--folds", "3"]),
        ("minigc", "gin,gcn", ["--folds", "3", "--features", "standard"]),
    ],
)
def test_save_then_predict_reproduces(tmp_path, dataset, students, extra):
    out = tmp_path / "model"
    args = [
        "run",
        "-d",
        dataset,
        "-s",
        students,
        "-m",
        "gml",
        "--epochs",
        "15",
        "--threads",
        "1",
        "--no-progress",
        "--save",
        str(out),
        "--output",
        str(tmp_path / "rows.json"),
    ] + extra
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    runs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert runs == (
        ["seed0", "seed1"] if dataset == "karate" else ["seed0-fold0", "seed0-fold1", "seed0-fold2"]
    )
    recorded = json.loads((tmp_path / "rows.json").read_text())
    info = json.loads((out / runs[-1] / "run.json").read_text())
    row = next(
        r
        for r in recorded
        if r["student"] == 1 and (r["seed"], r["fold"]) == (info["seed"], info["fold"])
    )
    assert info["students"][1]["test_acc"] == row["test_acc"]
    assert [m.arch for m in load_students(out / runs[0])] == students.split(",")

    shown = CliRunner().invoke(main, ["predict", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == len(runs) * 2 and "False" not in shown.output


def test_saved_folder_is_tensors_and_json(tmp_path):
    out = _save(tmp_path / "model", "gcn,sage")
    info = json.loads((out / "seed0" / "run.json").read_text())
    assert info["format"] == FORMAT and info["versions"]["mutualgnn"]
    assert {"dataset", "method", "seed", "fold", "split"} <= set(info)
    for entry in info["students"]:
        assert {"arch", "task", "hparams", "in_feats", "num_classes", "test_acc"} <= set(entry)
        weights = torch.load(out / "seed0" / entry["file"], weights_only=True, map_location="cpu")
        assert type(weights) is dict and weights
        assert all(isinstance(v, torch.Tensor) for v in weights.values())


def test_run_json_holds_each_students_result_and_older_entries_load(tmp_path):
    # a student entry: what rebuilds it and its StudentResult, the facts a run record keeps
    out = _save(tmp_path / "model")
    path = out / "seed0" / "run.json"
    info = json.loads(path.read_text())
    for entry in info["students"]:
        result = StudentResult(
            **{f.name: entry[f.name] for f in dataclasses.fields(StudentResult) if f.name in entry}
        )
        assert result.last_val_acc is not None and result.curve is None
        assert {k: entry[k] for k in result.to_dict()} == result.to_dict()
    # saved before the last epoch's scores were: format 2 all the same, and it loads alike
    for entry in info["students"]:
        del entry["last_test_acc"], entry["last_val_acc"]
    path.write_text(json.dumps(info, indent=1))
    shown = CliRunner().invoke(main, ["predict", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == 2 and "False" not in shown.output


def test_predict_detects_a_changed_checkpoint(tmp_path):
    out = _save(tmp_path / "model", epochs=20)
    path = out / "seed0" / "student0-gcn.pt"
    saved = torch.load(path, weights_only=True)
    torch.save({k: torch.zeros_like(v) for k, v in saved.items()}, path)
    result = CliRunner().invoke(main, ["predict", str(out)])
    assert result.exit_code != 0 and "differs from the recorded" in result.output


def test_predict_errors(tmp_path):
    result = CliRunner().invoke(main, ["predict", str(tmp_path)])
    assert result.exit_code != 0 and "no config.json" in result.output
    out = tmp_path / "model"
    CliRunner().invoke(
        main,
        [
            "run",
            "-d",
            "karate",
            "-s",
            "gcn",
            "--epochs",
            "3",
            "--threads",
            "1",
            "--no-progress",
            "--save",
            str(out),
        ],
    )
    result = CliRunner().invoke(main, ["predict", str(out), "-d", "minigc"])
    assert result.exit_code != 0 and "trained on karate, not minigc" in result.output


def test_predict_on_the_cpu_reads_a_config_that_trained_on_cuda(tmp_path):
    """A GPU run saves CPU checkpoints and ``train.device: cuda`` in its config; ``predict``
    reloads it on the CPU (here the device is rewritten: this machine trains on the CPU)."""
    out = tmp_path / "model"
    trained = CliRunner().invoke(
        main,
        [
            "run",
            "-d",
            "karate",
            "-s",
            "gcn,sage",
            "--epochs",
            "5",
            "--threads",
            "1",
            "--no-progress",
            "--save",
            str(out),
        ],
    )
    assert trained.exit_code == 0, trained.output
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["device"] == "cpu"
    config["train"]["device"] = "cuda"
    (out / "config.json").write_text(json.dumps(config))
    shown = CliRunner().invoke(main, ["predict", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == 2 and "False" not in shown.output


@pytest.mark.parametrize(
    "payload",
    [
        lambda marker: {"layers.0.weight": TouchesAFile(marker)},  # among the tensors
        lambda marker: TouchesAFile(marker),  # the whole file
    ],
)
def test_a_checkpoint_that_would_run_code_is_refused_unrun(tmp_path, monkeypatch, payload):
    out = _save(tmp_path / "model")
    marker = tmp_path / "ran"
    path = out / "seed0" / "student1-gcn.pt"
    torch.save(payload(marker), path)
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(k) or real_load(*a, **k))
    with pytest.raises(ConfigError, match=r"refusing to load .*student1-gcn\.pt.*only tensors"):
        load_students(out / "seed0")
    _refused(
        CliRunner().invoke(main, ["predict", str(out)]),
        "refusing to load",
        "student1-gcn.pt",
        "only tensors",
    )
    assert not marker.exists()
    assert loads and all(k.get("weights_only") is True for k in loads)


def test_a_checkpoint_holding_more_than_tensors_is_refused(tmp_path):
    out = _save(tmp_path / "model")
    path = out / "seed0" / "student0-gcn.pt"
    weights = torch.load(path, weights_only=True)
    torch.save({"arch": "gcn", "state_dict": weights}, path)  # loads under weights_only: not ok
    _refused(
        CliRunner().invoke(main, ["predict", str(out)]),
        "refusing to load",
        "student0-gcn.pt",
        "'arch' is a str",
    )
    path.write_text("not a checkpoint")
    _refused(CliRunner().invoke(main, ["predict", str(out)]), "student0-gcn.pt")
    path.unlink()
    _refused(CliRunner().invoke(main, ["predict", str(out)]), "cannot read", "student0-gcn.pt")


def _rewrite_the_old_way(out):
    """What mutualgnn wrote before format 2: pickled {"arch", ..., "state_dict"} checkpoints
    (the module's own state dict, an OrderedDict) and a run.json without "format"."""
    for folder in sorted(p.parent for p in out.glob("*/run.json")):
        info = json.loads((folder / "run.json").read_text())
        models = load_students(folder)
        for entry, model in zip(info["students"], models):
            assert isinstance(model.state_dict(), collections.OrderedDict)
            model_keys = {k: entry.pop(k) for k in ("task", "hparams", "in_feats", "num_classes")}
            torch.save(
                {"arch": entry["arch"], **model_keys, "state_dict": model.state_dict()},
                folder / entry["file"],
            )
        del info["format"], info["versions"]
        (folder / "run.json").write_text(json.dumps(info, indent=1))


def test_an_old_folder_asks_to_be_resaved_and_converts(tmp_path):
    out = _save(tmp_path / "model", "gcn,gat", epochs=10, extra=["--seeds", "0-1"])
    _rewrite_the_old_way(out)
    _refused(
        CliRunner().invoke(main, ["predict", str(out)]),
        "older mutualgnn",
        "pickles",
        "mutualgnn run ... --save DIR",
        "mutualgnn.saved.convert_legacy",
    )
    with pytest.raises(ConfigError, match="older mutualgnn"):
        load_students(out / "seed1")

    assert [p.name for p in convert_legacy(out)] == ["seed0", "seed1"]
    info = json.loads((out / "seed1" / "run.json").read_text())
    assert info["format"] == FORMAT and info["students"][1]["arch"] == "gat"
    shown = CliRunner().invoke(main, ["predict", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == 4 and "False" not in shown.output
    assert convert_legacy(out) == []  # already current: left alone
