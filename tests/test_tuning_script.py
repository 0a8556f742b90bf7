"""benchmarks/tuning.py: settings compared on the units they share, chosen by validation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import tuning  # noqa: E402


def _store(folder: Path, settings: dict, runs: list) -> Path:
    folder.mkdir()
    (folder / "suite.json").write_text(
        json.dumps({"name": folder.name, "folds": 10, "settings": settings})
    )
    with open(folder / "runs.jsonl", "w") as fh:
        for method, variant, fold, (val, test) in runs:
            fh.write(
                json.dumps(
                    {
                        "suite": folder.name,
                        "dataset": "ENZYMES",
                        "task": "graph",
                        "cohort": "gin,gcn",
                        "method": method,
                        "variant": variant,
                        "seed": 0,
                        "fold": fold,
                        "students": [
                            {"arch": "gin", "val_acc": val, "test_acc": test, "best_epoch": 10},
                            {
                                "arch": "gcn",
                                "val_acc": val - 0.1,
                                "test_acc": test,
                                "best_epoch": 30,
                            },
                        ],
                        "ensemble": {"val_acc": val, "test_acc": test},
                    }
                )
                + "\n"
            )
    return folder


def test_candidates_are_paired_and_sorted_by_validation(tmp_path):
    paper = _store(
        tmp_path / "paper",
        {},
        [
            ("gml", "", 0, (0.5, 0.9)),
            ("gml", "", 1, (0.7, 0.9)),
            ("gml", "", 2, (0.9, 0.9)),
            ("dml", "", 0, (0.9, 0.1)),
        ],
    )  # fold 0 only
    tune = _store(
        tmp_path / "tune",
        {"features": "standard"},
        [("gml", "mutual.lam=0.1", 0, (0.6, 0.2)), ("gml", "mutual.lam=0.1", 1, (0.8, 0.2))],
    )
    runs = tuning.candidates([paper, tune], "ENZYMES", None, folds=[0, 1])
    assert sorted(runs["unit"].unique()) == ["0/0", "0/1"]  # fold 2 is not shared
    table = tuning.table(runs)
    assert list(table.index) == [
        'tune {"features": "standard"} | gml | mutual.lam=0.1',
        "paper | gml",
    ]  # dml lacks fold 1: dropped
    # students' mean validation: gin (0.6 + 0.8) / 2 and gcn 0.1 lower -> 65%
    assert table["val (students' mean)"].tolist() == [65.0, 55.0]
    assert table.loc["paper | gml", "test gin"] == 90.0  # shown, not used
    assert table["best epoch (median)"].tolist() == [20.0, 20.0]
    with pytest.raises(SystemExit, match="no runs of PROTEINS"):
        tuning.candidates([paper], "PROTEINS", None)
