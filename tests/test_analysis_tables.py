"""benchmarks/analysis_tables.py: the label-noise table puts each cell under its method and
student; the cohort-size table averages, takes medians and keeps the suite's order."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import analysis_tables  # noqa: E402


def _folder(tmp_path: Path) -> Path:
    acc, paired = [], []
    for noise in (0.2, 0.0):  # out of order on purpose
        for method, base in (("independent", 70), ("dml", 60), ("gml", 80)):
            acc.append(
                dict(
                    dataset="citeseer",
                    cohort="gcn,gat",
                    variant=f"label_noise={noise}",
                    method=method,
                    gcn=f"{base + noise:.1f} ± 0.1",
                    gat=f"{base + 1 + noise:.1f} ± 0.2",
                    ensemble="",
                    runs=5,
                )
            )
            for student, diff in (("gcn", 1.3), ("gat", -0.5)):
                paired.append(
                    {
                        "dataset": "citeseer",
                        "cohort": "gcn,gat",
                        "variant": f"label_noise={noise}",
                        "student": student,
                        "method": method,
                        "runs": 5,
                        "diff vs independent (pts)": diff + (method == "gml") * noise,
                        "wins/ties/losses": "4/0/1",
                        "t-test p": 0.0123,
                        "Wilcoxon p": 0.06,
                    }
                )
    acc.append(dict(acc[0], dataset="cora", gcn="99.0 ± 0.0"))  # another dataset: left out
    pd.DataFrame(acc).to_csv(tmp_path / "accuracy.csv", index=False)
    pd.DataFrame(paired).to_csv(tmp_path / "paired.csv", index=False)
    return tmp_path


def test_noise_cells_go_under_their_method_and_student(tmp_path):
    table = analysis_tables.noise_table(_folder(tmp_path), "citeseer")
    assert list(table.index) == [0.0, 0.2]
    assert table.loc[0.2, "independent GCN"] == "70.2 ± 0.1"
    assert table.loc[0.2, "dml GAT"] == "61.2 ± 0.2"
    assert table.loc[0.0, "gml GCN"] == "80.0 ± 0.1"
    # GML's paired row only: diff, wins/ties/losses, t-test p
    assert table.loc[0.2, "GML − alone GCN (w/t/l, t-test p)"] == "+1.5 (4/0/1, 0.012)"
    assert table.loc[0.0, "GML − alone GAT (w/t/l, t-test p)"] == "-0.5 (4/0/1, 0.012)"


def test_noise_level_without_paired_runs_is_blank(tmp_path):
    folder = _folder(tmp_path)
    paired = pd.read_csv(folder / "paired.csv")
    paired[paired.variant != "label_noise=0.2"].to_csv(folder / "paired.csv", index=False)
    table = analysis_tables.noise_table(folder, "citeseer")
    assert pd.isna(table.loc[0.2, "GML − alone GCN (w/t/l, t-test p)"])
    assert table.loc[0.0, "GML − alone GCN (w/t/l, t-test p)"] == "+1.3 (4/0/1, 0.012)"


def test_noise_without_the_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no runs of 'pubmed'"):
        analysis_tables.noise_table(_folder(tmp_path), "pubmed")


# ----------------------------------------------------------------------------- cohort size


def _run(cohort, method, seed, accs, ensemble, seconds, epochs, dataset="citeseer"):
    return {
        "suite": "cohort-size",
        "dataset": dataset,
        "task": "node",
        "cohort": cohort,
        "method": method,
        "seed": seed,
        "fold": None,
        "students": [
            {"arch": a, "test_acc": x, "val_acc": x, "best_epoch": 1}
            for a, x in zip(cohort.split(","), accs)
        ],
        "ensemble": {"test_acc": ensemble, "val_acc": ensemble},
        "seconds": seconds,
        "epochs_run": epochs,
    }


def test_cohort_means_medians_and_the_suites_order(tmp_path):
    runs = [
        _run("gcn,gat", "gml", 0, [0.70, 0.74], 0.75, 10.0, 100),
        _run("gcn,gat", "gml", 1, [0.72, 0.76], 0.77, 30.0, 100),
        _run("gcn,gat", "gml", 2, [0.71, 0.75], 0.76, 4.0, 100),
        _run("gcn", "independent", 0, [0.60], 0.60, 2.0, 50),
        _run("gcn,gat", "independent", 0, [0.65, 0.66], 0.70, 5.0, 250),
        _run("gcn", "independent", 0, [0.99], 0.99, 1.0, 1, dataset="cora"),
    ]
    (tmp_path / "runs.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in runs) + '{"dataset": "cit'
    )  # an interrupted last line
    table = analysis_tables.cohort_table(tmp_path, "citeseer")
    assert list(table.index) == ["gcn,gat", "gcn"]  # first seen first
    assert list(table["K"]) == [2, 1]
    row = table.loc["gcn,gat"]
    assert row["gml: mean single student"] == pytest.approx(73.0)  # (70+74+72+76+71+75) / 6
    assert row["gml: ensemble"] == pytest.approx(76.0)
    assert row["gml: ms/epoch"] == 100  # median of 100, 300 and 40 ms
    assert row["gml: runs"] == 3
    assert row["independent: ms/epoch"] == 20
    assert table.loc["gcn", "independent: mean single student"] == pytest.approx(60.0)
    assert pd.isna(table.loc["gcn", "gml: runs"])  # a one-student cohort has no GML run


def test_cohort_without_the_dataset_is_a_clear_error(tmp_path):
    (tmp_path / "runs.jsonl").write_text(json.dumps(_run("gcn", "gml", 0, [0.5], 0.5, 1, 1)) + "\n")
    with pytest.raises(SystemExit, match="no runs of 'pubmed'"):
        analysis_tables.cohort_table(tmp_path, "pubmed")


def test_the_command_line_prints_markdown_with_blank_cells(tmp_path, capsys, monkeypatch):
    (tmp_path / "runs.jsonl").write_text(
        json.dumps(_run("gcn", "independent", 0, [0.6], 0.6, 2.0, 50))
        + "\n"
        + json.dumps(_run("gcn,gat", "gml", 0, [0.7, 0.8], 0.8, 1.0, 10))
        + "\n"
    )
    monkeypatch.setattr(sys, "argv", ["analysis_tables.py", "cohort", str(tmp_path), "citeseer"])
    analysis_tables.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| cohort") and "gml: mean single student" in lines[0]
    assert "nan" not in "\n".join(lines)  # a missing cell is blank
    assert "75" in lines[3]  # gcn,gat: (70 + 80) / 2
