"""benchmarks/cohort_table.py: per cohort and method, the single students' mean, the ensemble and
the median time per epoch, from the results store's lines."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import cohort_table  # noqa: E402


def _run(cohort, method, seed, accs, ensemble, seconds, epochs, dataset="citeseer"):
    return {"dataset": dataset, "cohort": cohort, "method": method, "seed": seed,
            "students": [{"arch": a, "test_acc": x} for a, x in zip(cohort.split(","), accs)],
            "ensemble": {"test_acc": ensemble}, "seconds": seconds, "epochs_run": epochs}


def test_means_medians_and_the_suites_order(tmp_path):
    runs = [_run("gcn,gat", "gml", 0, [0.70, 0.74], 0.75, 10.0, 100),
            _run("gcn,gat", "gml", 1, [0.72, 0.76], 0.77, 30.0, 100),
            _run("gcn,gat", "gml", 2, [0.71, 0.75], 0.76, 4.0, 100),
            _run("gcn", "independent", 0, [0.60], 0.60, 2.0, 50),
            _run("gcn,gat", "independent", 0, [0.65, 0.66], 0.70, 5.0, 250),
            _run("gcn", "independent", 0, [0.99], 0.99, 1.0, 1, dataset="cora")]
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs)
                                         + '{"dataset": "cit')  # an interrupted last line
    table = cohort_table.cohort_table(tmp_path, "citeseer")
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


def test_a_dataset_without_runs_is_a_clear_error(tmp_path):
    (tmp_path / "runs.jsonl").write_text(json.dumps(_run("gcn", "gml", 0, [0.5], 0.5, 1, 1)) + "\n")
    with pytest.raises(SystemExit, match="no runs of 'pubmed'"):
        cohort_table.cohort_table(tmp_path, "pubmed")
