"""benchmarks/cost.py (milliseconds per epoch of each method, next to the suite's accuracies) and
benchmarks/docsection.py (the section of a docs page that a benchmark script rewrites)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import cost  # noqa: E402
from docsection import write_section  # noqa: E402

from mutualgnn.bench import ResultStore, RunRecord, Suite  # noqa: E402

TINY = dict(
    name="tiny",
    datasets=["karate", "minigc"],
    methods=["independent", "dml", "gml"],
    cohorts={"node": ["gcn,gat"], "graph": ["gin,gcn"]},
    folds=2,
    settings={"train": {"epochs": 50, "patience": 5}},
)


def _run(method, seed, gcn, gat, variant=""):
    return RunRecord.from_dict(
        dict(
            suite="tiny",
            dataset="karate",
            task="node",
            cohort="gcn,gat",
            method=method,
            seed=seed,
            fold=None,
            variant=variant,
            seconds=1.0,
            peak_rss_mb=1.0,
            epochs_run=5,
            split_sha1="x",
            students=[
                dict(arch="gcn", test_acc=gcn, val_acc=0, best_epoch=1),
                dict(arch="gat", test_acc=gat, val_acc=0, best_epoch=1),
            ],
            ensemble=dict(test_acc=0.5, val_acc=0.5),
        )
    )


def test_cost_table_has_every_method_its_ratio_and_the_suite_accuracy(tmp_path):
    store = ResultStore(tmp_path)
    for record in (
        _run("independent", 0, 0.80, 0.70),
        _run("independent", 1, 0.90, 0.64),
        _run("gml", 0, 0.85, 0.75),
        _run("gml", 1, 0.5, 0.5),
    ):
        store.append(record)
    store.append(_run("gml", 2, 0.0, 0.0, variant="label_noise=0.5"))  # another variant
    table = cost.table(
        Suite(**TINY),
        ["karate", "minigc"],
        ["independent", "dml", "gml"],
        epochs=2,
        repeats=2,
        results=tmp_path,
    )
    assert list(zip(table.dataset, table.method)) == [
        ("karate", "independent"),
        ("karate", "dml"),
        ("karate", "gml"),
        ("minigc", "independent"),
        ("minigc", "dml"),
        ("minigc", "gml"),
    ]
    assert (table["ms/epoch (median)"] > 0).all()
    assert list(table.query("method == 'independent'")["x independent"]) == [1.0, 1.0]
    ms = table["ms/epoch (median)"]
    base = table.groupby("dataset")["ms/epoch (median)"].transform("first")
    # both shown rounded (ms to 0.1, the ratio to 0.01): allow for it; karate epochs are ~ms
    slack = 0.005 + (ms / base) * (0.05 / ms + 0.05 / base)
    assert ((table["x independent"] - ms / base).abs() <= slack).all()
    acc = table.set_index(["dataset", "method"])["student acc % (suite runs)"]
    assert acc[("karate", "independent")] == pytest.approx(100 * (0.80 + 0.70 + 0.90 + 0.64) / 4)
    assert acc[("karate", "gml")] == pytest.approx(100 * (0.85 + 0.75 + 0.5 + 0.5) / 4)
    assert acc.isna()[("karate", "dml")] and acc.isna()[("minigc", "gml")]


def test_each_method_leads_a_round_equally_often(monkeypatch):
    calls = []
    monkeypatch.setattr(
        cost, "epoch_ms", lambda config, dataset, split: calls.append(config.method) or 1.0
    )
    monkeypatch.setattr(cost, "run_once", lambda *args: None)  # the warm-up fit
    times = cost.measure(
        Suite(**TINY), "karate", "gcn,gat", ["independent", "dml", "gml"], epochs=2, repeats=6
    )
    rounds = [calls[i : i + 3] for i in range(0, 18, 3)]
    assert [r[0] for r in rounds] == ["independent", "dml", "gml"] * 2
    assert all(sorted(r) == ["dml", "gml", "independent"] for r in rounds)
    assert {m: len(v) for m, v in times.items()} == {"independent": 6, "dml": 6, "gml": 6}


def test_shortened_config_runs_fixed_epochs_on_one_thread():
    from mutualgnn.bench import RunSpec, spec_config

    config = cost.shortened(
        spec_config(Suite(**TINY), RunSpec("karate", "gcn,gat", "gml", 0, None)), 7
    )
    assert (config.train.epochs, config.train.patience, config.train.threads) == (7, 7, 1)
    assert config.method == "gml" and not config.train.progress


def test_write_section_replaces_only_its_section(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text("# Page\n\nIntro.\n\n## Cost\n\nold table\n\n## Reading\n\nKept.\n")
    write_section(doc, "Cost", "\nnew table\n")
    assert doc.read_text() == "# Page\n\nIntro.\n\n## Cost\n\nnew table\n\n## Reading\n\nKept.\n"
    write_section(doc, "Reading", "Rewritten.")
    assert doc.read_text().endswith("## Cost\n\nnew table\n\n## Reading\n\nRewritten.\n")


def test_write_section_appends_and_creates(tmp_path):
    doc = tmp_path / "page.md"
    write_section(doc, "Measured", "a", title="# Scaling")
    assert doc.read_text() == "# Scaling\n\n## Measured\n\na\n"
    write_section(doc, "Other", "b")
    assert doc.read_text() == "# Scaling\n\n## Measured\n\na\n\n## Other\n\nb\n"
    bare = tmp_path / "bare.md"
    write_section(bare, "First", "x")
    write_section(bare, "First", "y")  # a page that starts with the section
    assert bare.read_text() == "## First\n\ny\n"
