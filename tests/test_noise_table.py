"""benchmarks/noise_table.py: the label-noise table puts each cell under its method and student."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import noise_table  # noqa: E402


def _folder(tmp_path: Path) -> Path:
    acc, paired = [], []
    for noise in (0.2, 0.0):  # out of order on purpose
        for method, base in (("independent", 70), ("dml", 60), ("gml", 80)):
            acc.append(dict(dataset="citeseer", cohort="gcn,gat", variant=f"label_noise={noise}",
                            method=method, gcn=f"{base + noise:.1f} ± 0.1",
                            gat=f"{base + 1 + noise:.1f} ± 0.2", ensemble="", runs=5))
            for student, diff in (("gcn", 1.3), ("gat", -0.5)):
                paired.append({"dataset": "citeseer", "cohort": "gcn,gat",
                               "variant": f"label_noise={noise}", "student": student,
                               "method": method, "runs": 5,
                               "diff vs independent (pts)": diff + (method == "gml") * noise,
                               "wins/ties/losses": "4/0/1", "t-test p": 0.0123,
                               "Wilcoxon p": 0.06})
    acc.append(dict(acc[0], dataset="cora", gcn="99.0 ± 0.0"))  # another dataset: left out
    pd.DataFrame(acc).to_csv(tmp_path / "accuracy.csv", index=False)
    pd.DataFrame(paired).to_csv(tmp_path / "paired.csv", index=False)
    return tmp_path


def test_cells_go_under_their_method_and_student(tmp_path):
    table = noise_table.noise_table(_folder(tmp_path), "citeseer")
    assert list(table.index) == [0.0, 0.2]
    assert table.loc[0.2, "independent GCN"] == "70.2 ± 0.1"
    assert table.loc[0.2, "dml GAT"] == "61.2 ± 0.2"
    assert table.loc[0.0, "gml GCN"] == "80.0 ± 0.1"
    # GML's paired row only: diff, wins/ties/losses, t-test p
    assert table.loc[0.2, "GML − alone GCN (w/t/l, t-test p)"] == "+1.5 (4/0/1, 0.012)"
    assert table.loc[0.0, "GML − alone GAT (w/t/l, t-test p)"] == "-0.5 (4/0/1, 0.012)"


def test_a_dataset_without_runs_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no runs of 'pubmed'"):
        noise_table.noise_table(_folder(tmp_path), "pubmed")
