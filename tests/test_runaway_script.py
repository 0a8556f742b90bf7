"""benchmarks/runaway.py: each variant changes the one setting it names, GML's learned
weights start at 1 where the fixed sharpening holds w from the first epoch, and the section is
written into the page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import runaway  # noqa: E402

from mutualgnn import ExperimentConfig  # noqa: E402
from mutualgnn.bench.record import RunRecord  # noqa: E402
from mutualgnn.bench.store import ResultStore  # noqa: E402


def test_the_variants_change_one_setting_each_and_the_section_is_written(tmp_path, monkeypatch):
    kernels = []  # the runs it asks to rerun at their stored kernel settings
    monkeypatch.setattr(runaway, "at_stored_kernels", kernels.append)
    config = ExperimentConfig.from_dict(
        {
            "dataset": "karate",
            "students": ["gcn", "gcn"],
            "method": "gml-sharpen",
            "mutual": {"lam": 1.0, "temperature": 2.0, "sharpen": 2.0},
            "train": {"epochs": 12, "progress": False, "threads": 1},
        }
    ).to_dict()
    (tmp_path / "store").mkdir()
    store = ResultStore(tmp_path / "store")
    store.append(
        RunRecord(
            suite="t",
            dataset="karate",
            task="node",
            cohort="gcn,gcn",
            method="gml-sharpen",
            seed=0,
            config=config,
        )
    )
    doc = tmp_path / "analyses.md"
    doc.write_text("# Analyses\n\n## Another section\n\nkept\n")
    runaway.main(
        [
            str(tmp_path / "store"),
            "--dataset",
            "karate",
            "--cohort",
            "gcn,gcn",
            "--runs",
            "1",
            "--doc",
            str(doc),
        ]
    )
    assert [r.dataset for r in kernels[0]] == ["karate"]
    text = doc.read_text()
    assert "## Another section\n\nkept" in text
    assert "give their stored test accuracies again: no" in text  # the record stores none
    section = text.split(f"## {runaway.SECTIONS['gml-sharpen']}")[1]
    rows = {
        cells[0]: cells
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| variant")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    # variant, lam, T, runs, acc, best epoch, runs peaking early, w at epochs 1, 10, 50
    # (this run stops at 12)
    assert rows["as stored"][1:3] == ["1", "2"] and rows["as stored"][7] == "2"
    assert rows["w = 1 (no sharpening)"][7] == "1"
    assert rows["lam = 0.3"][1:3] == ["0.3", "2"]
    assert rows["T = 1"][1:3] == ["1", "1"]
    assert float(rows["GML (learned w), same setting"][7]) == pytest.approx(1.0, abs=0.05)
    assert all(len(cells) == 10 for cells in rows.values()) and len(rows) == 6
