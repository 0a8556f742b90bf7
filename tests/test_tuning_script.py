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
    (folder / "suite.json").write_text(json.dumps({"name": folder.name, "folds": 10,
                                                   "settings": settings}))
    with open(folder / "runs.jsonl", "w") as fh:
        for method, variant, fold, (val, test) in runs:
            fh.write(json.dumps({
                "dataset": "ENZYMES", "task": "graph", "cohort": "gin,gcn", "method": method,
                "variant": variant, "seed": 0, "fold": fold,
                "students": [{"arch": "gin", "val_acc": val, "test_acc": test, "best_epoch": 10},
                             {"arch": "gcn", "val_acc": val - 0.1, "test_acc": test, "best_epoch": 30}],
                "ensemble": {"val_acc": val, "test_acc": test}}) + "\n")
    return folder


def test_candidates_are_paired_and_sorted_by_validation(tmp_path):
    paper = _store(tmp_path / "paper", {}, [("gml", "", 0, (0.5, 0.9)), ("gml", "", 1, (0.7, 0.9)),
                                            ("gml", "", 2, (0.9, 0.9)),
                                            ("dml", "", 0, (0.9, 0.1))])     # fold 0 only
    tune = _store(tmp_path / "tune", {"features": "standard"},
                  [("gml", "mutual.lam=0.1", 0, (0.6, 0.2)), ("gml", "mutual.lam=0.1", 1, (0.8, 0.2))])
    runs = tuning.candidates([paper, tune], "ENZYMES", None, folds=[0, 1])
    assert sorted(runs["unit"].unique()) == ["0/0", "0/1"]              # fold 2 is not shared
    table = tuning.table(runs)
    assert list(table.index) == ['tune {"features": "standard"} | gml | mutual.lam=0.1',
                                 "paper | gml"]                          # dml lacks fold 1: dropped
    # students' mean validation: gin (0.6 + 0.8) / 2 and gcn 0.1 lower -> 65%
    assert table["val (students' mean)"].tolist() == [65.0, 55.0]
    assert table.loc["paper | gml", "test gin"] == 90.0                  # shown, not used
    assert table["best epoch (median)"].tolist() == [20.0, 20.0]
    with pytest.raises(SystemExit, match="no runs of PROTEINS"):
        tuning.candidates([paper], "PROTEINS", None)


def test_reuse_copies_only_the_same_computation(tmp_path):
    import reuse_runs

    from mutualgnn.bench import ResultStore, load_suite, plan, spec_config

    def suite_file(name, settings):
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"name: {name}\ndatasets: [karate]\nmethods: [independent, gml]\n"
                        f"cohorts: {{node: ['gcn,gat']}}\nseeds: {{node: 0-1}}\n"
                        f"settings: {json.dumps(settings)}\n")
        return path

    source_suite = load_suite(suite_file("base", {"features": "standard"}))
    source = ResultStore(tmp_path / "base")
    source.check_suite(source_suite)
    for spec in plan(source_suite):
        config = spec_config(source_suite, spec, threads=2).to_dict()
        source.append({"suite": "base", "dataset": spec.dataset, "cohort": spec.cohort,
                       "variant": "", "method": spec.method, "seed": spec.seed, "fold": None,
                       "students": [], "ensemble": {}, "config": config},
                      history=[{"epoch": 1}] if spec.seed == 0 else None)
    target_file = suite_file("lam", {"features": "standard", "mutual": {"lam": 0.3}})
    messages = []
    assert reuse_runs.reuse(tmp_path / "base", tmp_path / "lam", target_file,
                            log=messages.append) == 2
    copied = ResultStore(tmp_path / "lam").read()
    assert {(r["method"], r["seed"]) for r in copied} == {("independent", 0), ("independent", 1)}
    assert {r["suite"] for r in copied} == {"lam"}
    assert sum("another computation" in m for m in messages) == 2   # gml: lam differs
    history = [json.loads(line) for line in open(tmp_path / "lam" / "histories.jsonl")]
    assert [(h["method"], h["seed"]) for h in history] == [("independent", 0)]
    assert reuse_runs.reuse(tmp_path / "base", tmp_path / "lam", target_file, log=print) == 0
    other = suite_file("raw", {})  # other features: another computation, even for independent
    assert reuse_runs.reuse(tmp_path / "base", tmp_path / "raw", other, log=print) == 0
    # the config decides, not the variant label: a grid's lam=0.3 run serves settings lam: 0.3
    grid = tmp_path / "grid.yaml"
    grid.write_text(target_file.read_text().replace("name: lam", "name: grid")
                    .replace(', "mutual": {"lam": 0.3}', "") + "grid: {mutual.lam: [0.3]}\n")
    grid_suite = load_suite(grid)
    store = ResultStore(tmp_path / "grid")
    store.check_suite(grid_suite)
    spec = [s for s in plan(grid_suite) if s.method == "gml"][0]
    store.append({"suite": "grid", "dataset": "karate", "cohort": "gcn,gat", "variant": spec.variant,
                  "method": "gml", "seed": spec.seed, "fold": None, "students": [], "ensemble": {},
                  "config": spec_config(grid_suite, spec).to_dict()})
    assert reuse_runs.reuse(tmp_path / "grid", tmp_path / "lam", target_file, log=print) == 1
    reused = ResultStore(tmp_path / "lam").read()[-1]
    assert (reused["method"], reused["variant"], reused["suite"]) == ("gml", "", "lam")


def test_reuse_ignores_the_batch_size_only_where_training_reads_none():
    import reuse_runs

    from mutualgnn.config import ExperimentConfig

    def effective(dataset, **train):
        config = ExperimentConfig.from_dict({"dataset": dataset, "train": train}).to_dict()
        return reuse_runs.effective(config, "gml")

    # full-batch node task: no batch size is read (old runs stored 32 there)
    assert effective("cora", batch_size=32) == effective("cora")
    # sampled node task and graph task: the batch size is the computation
    assert effective("cora", fanouts=[5, 5], batch_size=32) != effective("cora", fanouts=[5, 5])
    assert effective("MUTAG", batch_size=32) == effective("MUTAG")   # 32 is the graph default
    assert effective("MUTAG", batch_size=64) != effective("MUTAG")
