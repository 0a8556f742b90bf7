"""Saved students: `run --save` keeps the best checkpoints; `predict` reloads them and reproduces
the recorded test accuracy exactly."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mutualgnn.cli import main
from mutualgnn.saved import load_students


@pytest.mark.parametrize("dataset, students, extra", [
    ("karate", "gcn,gat", ["--seeds", "0-1"]),
    ("minigc", "gin,gcn", ["--folds", "3"]),
    ("minigc", "gin,gcn", ["--folds", "3", "--features", "standard"]),
])
def test_save_then_predict_reproduces(tmp_path, dataset, students, extra):
    out = tmp_path / "model"
    args = ["run", "-d", dataset, "-s", students, "-m", "gml", "--epochs", "15", "--threads", "1",
            "--no-progress", "--save", str(out), "--output", str(tmp_path / "rows.json")] + extra
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    runs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert runs == (["seed0", "seed1"] if dataset == "karate" else
                    ["seed0-fold0", "seed0-fold1", "seed0-fold2"])
    recorded = json.loads((tmp_path / "rows.json").read_text())
    info = json.loads((out / runs[-1] / "run.json").read_text())
    row = next(r for r in recorded if r["student"] == 1 and
               (r["seed"], r["fold"]) == (info["seed"], info["fold"]))
    assert info["students"][1]["test_acc"] == row["test_acc"]
    assert [m.arch for m in load_students(out / runs[0])] == students.split(",")

    shown = CliRunner().invoke(main, ["predict", "--model", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == len(runs) * 2 and "False" not in shown.output


def test_predict_detects_a_changed_checkpoint(tmp_path):
    import torch

    out = tmp_path / "model"
    CliRunner().invoke(main, ["run", "-d", "karate", "-s", "gcn,gcn", "-m", "dml", "--epochs", "20",
                              "--threads", "1", "--no-progress", "--save", str(out)])
    path = out / "seed0" / "student0-gcn.pt"
    saved = torch.load(path, weights_only=False)
    saved["state_dict"] = {k: torch.zeros_like(v) for k, v in saved["state_dict"].items()}
    torch.save(saved, path)
    result = CliRunner().invoke(main, ["predict", "--model", str(out)])
    assert result.exit_code != 0 and "differs from the recorded" in result.output


def test_predict_errors(tmp_path):
    result = CliRunner().invoke(main, ["predict", "--model", str(tmp_path)])
    assert result.exit_code != 0 and "no config.json" in result.output
    out = tmp_path / "model"
    CliRunner().invoke(main, ["run", "-d", "karate", "-s", "gcn", "--epochs", "3", "--threads", "1",
                              "--no-progress", "--save", str(out)])
    result = CliRunner().invoke(main, ["predict", "--model", str(out), "-d", "minigc"])
    assert result.exit_code != 0 and "trained on karate, not minigc" in result.output


def test_predict_on_the_cpu_reads_a_config_that_trained_on_cuda(tmp_path):
    """A GPU run saves CPU checkpoints and ``train.device: cuda`` in its config; ``predict``
    reloads it on the CPU (here the device is rewritten: this machine trains on the CPU)."""
    out = tmp_path / "model"
    trained = CliRunner().invoke(main, ["run", "-d", "karate", "-s", "gcn,sage", "--epochs", "5",
                                        "--threads", "1", "--no-progress", "--save", str(out)])
    assert trained.exit_code == 0, trained.output
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["device"] == "cpu"
    config["train"]["device"] = "cuda"
    (out / "config.json").write_text(json.dumps(config))
    shown = CliRunner().invoke(main, ["predict", "--model", str(out)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("True") == 2 and "False" not in shown.output
