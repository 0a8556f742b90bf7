"""Benchmark suites: loading and validation, the plan, the resumable store, the runner, tables."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mutualgnn import bench
from mutualgnn.bench import ResultStore, RunRecord, RunSpec, Suite, load_suite, plan, run_suite
from mutualgnn.cli import main
from mutualgnn.config import ConfigError
from mutualgnn.bench.tables import accuracy_table, cost_table, paired_table, write_tables

TINY = """\
name: tiny
datasets: [karate, minigc]
methods: [independent, ensemble, gml]
cohorts: {node: ["gcn,gat"], graph: ["gin,gcn"]}
seeds: {node: 0-1, graph: 0}
folds: 2
settings:
  train: {epochs: 2, patience: 2}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


# ------------------------------------------------------------------------------ suites
BENCHMARK_SUITES = sorted(
    (Path(__file__).resolve().parents[1] / "benchmarks" / "suites").glob("*.yaml")
)


@pytest.mark.parametrize("path", BENCHMARK_SUITES, ids=[p.stem for p in BENCHMARK_SUITES])
def test_benchmark_suites_load(path):
    """The follow-up suites in benchmarks/suites (tuning grids, chosen settings) stay valid."""
    suite = load_suite(path)
    assert suite.name == path.stem and plan(suite)


@pytest.mark.parametrize("name", ["paper", "smoke", "noise", "cohort-size", "quickstart"])
def test_shipped_suites_load(name):
    suite = load_suite(name)
    assert name in bench.suite_names()
    if name == "quickstart":  # the README's first job: each student alone and with GML
        specs = plan(suite)
        assert {(s.dataset, s.cohort) for s in specs} == {("cora", "gcn,gat")}
        assert sorted((s.method, s.seed) for s in specs) == sorted(
            (m, seed) for m in ("independent", "gml") for seed in range(3)
        )
        return
    if name == "noise":
        assert suite.grid == {"label_noise": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]}
        return
    if name == "cohort-size":  # one-student cohorts run independent only
        specs = plan(suite, datasets=["cora"])
        assert {s.method for s in specs if s.cohort == "gcn"} == {"independent"}
        assert {s.method for s in specs if s.cohort == "gcn,gcn,gcn"} == {"independent", "gml"}
        assert len(specs) == 5 * (1 + 7 * 2)
        return
    assert suite.datasets == ["cora", "citeseer", "pubmed", "MUTAG", "PROTEINS", "ENZYMES"]
    assert set(suite.methods) == {
        "independent",
        "ensemble",
        "dml",
        "gml",
        "gml-no-alw",
        "gml-no-entropy",
    }


def test_paper_suite_plan_is_the_protocol():
    specs = plan(load_suite("paper"))
    # ensemble is read from independent: 5 trained methods; node 10 seeds, graph 10 folds
    assert len(specs) == 6 * 10 * 5
    cora = [s for s in specs if s.dataset == "cora"]
    assert {s.seed for s in cora} == set(range(10)) and {s.fold for s in cora} == {None}
    mutag = [s for s in specs if s.dataset == "MUTAG"]
    assert {s.seed for s in mutag} == {0} and {s.fold for s in mutag} == set(range(10))
    assert {s.cohort for s in mutag} == {"gin,gcn"}
    assert "ensemble" not in {s.method for s in specs}


def test_plan_order_and_filters(tiny):
    suite = load_suite(tiny)
    specs = plan(suite)
    assert specs[:2] == [
        RunSpec("karate", "gcn,gat", "independent", 0, None),
        RunSpec("karate", "gcn,gat", "gml", 0, None),
    ]
    assert specs[0].key == ("karate", "gcn,gat", "", "independent", 0, 0, None)
    assert len(specs) == 2 * 2 + 2 * 2
    only = plan(suite, datasets=["MINIGC"], methods=["gml"])
    assert [(s.dataset, s.method, s.fold) for s in only] == [
        ("minigc", "gml", 0),
        ("minigc", "gml", 1),
    ]
    with pytest.raises(ConfigError, match="no dataset.*cora.*it has: karate, minigc"):
        plan(suite, datasets=["cora"])
    with pytest.raises(ConfigError, match="no method.*dml"):
        plan(suite, methods=["dml"])


def test_run_folds_runs_a_subset_of_the_same_split():
    suite = Suite(
        name="t",
        datasets=["MUTAG", "cora"],
        methods=["gml"],
        folds=10,
        run_folds="0-1,7",
        seeds={"node": "0", "graph": "0"},
    )
    assert [(s.dataset, s.fold) for s in plan(suite)] == [
        ("MUTAG", 0),
        ("MUTAG", 1),
        ("MUTAG", 7),
        ("cora", None),
    ]
    assert suite.identity() == {"name": "t", "folds": 10, "settings": {}}  # same split as all folds


def test_unknown_suite_name():
    with pytest.raises(ConfigError, match="unknown suite 'nope'.*paper.*smoke"):
        load_suite("nope")


def test_missing_suite_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_suite(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "must hold a mapping"),
        ("name: x\ndatasets: [cora]\nepochs: 3", "unknown config key.*epochs.*valid:.*settings"),
        ("name: x\ndatasets: [cora]\nmethods: [gml, magic]", "unknown method.*magic"),
        ("name: x\ndatasets: []", "datasets.*non-empty"),
        ("name: x\ndatasets: [cora]\nfolds: 1", "folds.*>= 2"),
        ("name: x\ndatasets: [cora]\nfolds: 5\nrun_folds: 3-5", r"run_folds \[5\] outside 0-4"),
        (
            "name: x\ndatasets: [cora]\nsettings: {train: {epoch: 3}}",
            "unknown config key.*train.epoch",
        ),
        ("name: x\ndatasets: [cora]\nsettings: {method: gml}", "may not set method"),
        ("name: x\ndatasets: [cora]\ngrid: {label_noise: 0.1}", "grid.*lists of values"),
        (
            "name: x\ndatasets: [cora]\ngrid: {label_noise: [0.1, 1.5]}",
            "label_noise must be a fraction",
        ),
        (
            "name: x\ndatasets: [cora]\ngrid: {mutual.gama: [0.1]}",
            "unknown config key.*mutual.gama",
        ),
    ],
)
def test_malformed_suites(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_suite(path)


# ------------------------------------------------------------------------------ store
def _line(**fields) -> RunRecord:
    """A stored run with ``fields``; the rest as a suite named "test" writes them."""
    return RunRecord.from_dict({"suite": "test", "task": "node", "fold": None, **fields})


def test_store_ignores_a_partial_last_line(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_line(dataset="a", cohort="x", method="gml", seed=0))
    with open(store.runs_path, "a") as fh:
        fh.write('{"dataset": "b", "coh')  # a write cut short by a kill
    assert store.done() == {("a", "x", "", "gml", 0, 0, None)}
    store.append(
        _line(dataset="c", cohort="x", variant="label_noise=0.1", method="gml", seed=1, fold=2)
    )
    assert store.done() == {
        ("a", "x", "", "gml", 0, 0, None),
        ("c", "x", "label_noise=0.1", "gml", 0, 1, 2),
    }
    assert json.loads(store.runs_path.read_text().splitlines()[-1])["dataset"] == "c"


def test_out_of_another_suite_is_refused_and_kept(tmp_path, tiny):
    suite = load_suite(tiny)
    store = ResultStore(tmp_path / "out")
    store.check_suite(suite)
    store.append(_line(dataset="karate", cohort="gcn,gat", method="gml", seed=0))
    before = {p.name: p.read_bytes() for p in store.dir.iterdir() if p.name != ".lock"}
    other = Suite(name="tiny", datasets=["karate"], settings={"train": {"epochs": 3}})
    with pytest.raises(ConfigError, match="holds results of another suite.*new --out"):
        store.check_suite(other)
    with pytest.raises(ConfigError, match="holds results of another suite"):
        run_suite(other, store.dir, progress=False)
    assert {p.name: p.read_bytes() for p in store.dir.iterdir() if p.name != ".lock"} == before


# ------------------------------------------------------------------------------ runner
def test_run_resume_and_interrupt(tmp_path, tiny, monkeypatch):
    suite = load_suite(tiny)
    out = tmp_path / "out"
    total = len(plan(suite))
    calls = []
    real = bench.runner.execute

    def flaky(*args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the fourth run
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(bench.runner, "execute", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out, progress=False, threads=1)
    store = ResultStore(out)
    assert len(store.read()) == 3
    monkeypatch.setattr(bench.runner, "execute", real)
    # a kill in the middle of a write leaves a partial line: that run is redone
    text = store.runs_path.read_text().splitlines(keepends=True)
    store.runs_path.write_text("".join(text[:2]) + text[2][:40])
    counts = run_suite(suite, out, progress=False, threads=1)
    assert counts == {"planned": total, "skipped": 2, "ran": total - 2, "found": 0, "failed": 0}
    records = store.read()
    assert len(records) == total and len({r.key for r in records}) == total
    assert run_suite(suite, out, progress=False)["ran"] == 0  # all done: nothing retrained

    rec = next(r for r in records if r.dataset == "minigc" and r.method == "gml")
    assert [s.arch for s in rec.students] == ["gin", "gcn"]
    assert rec.config["train"]["epochs"] == 2 and rec.fold in (0, 1)
    assert set(rec.versions) >= {"mutualgnn", "torch", "dgl", "numpy", "python"}
    assert rec.seconds > 0 and rec.peak_rss_mb > 0
    # the same folds for every method of a dataset
    shas = {(r.method, r.fold): r.split_sha1 for r in records if r.dataset == "minigc"}
    assert shas[("independent", 0)] == shas[("gml", 0)] != shas[("gml", 1)]
    # histories of the first seed/fold of each (dataset, cohort, method)
    hist = store.histories()
    assert {(h["dataset"], h["method"], h["seed"], h["fold"]) for h in hist} == {
        ("karate", "independent", 0, None),
        ("karate", "gml", 0, None),
        ("minigc", "independent", 0, 0),
        ("minigc", "gml", 0, 0),
    }


def test_the_runner_executes_planned_runs_and_reads_no_suite(tmp_path, tiny, monkeypatch):
    seen = []
    real = bench.runner.execute

    def spy(*args, **kwargs):
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(bench.runner, "execute", spy)
    suite = load_suite(tiny)
    run_suite(suite, tmp_path / "out", threads=1, progress=False, datasets=["karate"])
    assert len(seen) == len(plan(suite, datasets=["karate"]))
    for args in seen:  # each run's config decided before it trains: no suite goes with it
        run = args[0]
        assert isinstance(run, bench.PlannedRun) and not any(isinstance(a, Suite) for a in args)
        assert (run.config.method, run.config.seeds) == (run.spec.method, [run.spec.seed])
        assert run.config.train.threads == 1 and run.suite == suite.name


def test_parallel_jobs_match_one_job(tmp_path, tiny):
    suite = load_suite(tiny)
    run_suite(suite, tmp_path / "one", jobs=1, threads=1, progress=False, datasets=["karate"])
    run_suite(suite, tmp_path / "two", jobs=2, progress=False, datasets=["karate"])
    accs = [
        {r.key: [s.test_acc for s in r.students] for r in ResultStore(tmp_path / name).read()}
        for name in ("one", "two")
    ]
    assert accs[0] == accs[1] and len(accs[0]) == 4


def test_ctrl_c_stops_the_workers_of_jobs(tmp_path, tiny, monkeypatch):
    import multiprocessing
    import signal
    from multiprocessing.context import SpawnProcess

    started, start = [], SpawnProcess.start

    def spied(self):  # the pool's workers, as they start
        started.append(self)
        start(self)

    def interrupted(self, record, history=None):
        raise KeyboardInterrupt  # Ctrl-C as the first run comes back

    monkeypatch.setattr(SpawnProcess, "start", spied)
    monkeypatch.setattr(ResultStore, "append", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suite(load_suite(tiny), tmp_path, jobs=2, progress=False, datasets=["karate"])
    # the pool's own thread may still be reaping a worker, which then looks alive for an
    # instant (a race inside multiprocessing): look again until it settles
    deadline = time.monotonic() + 2
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started and not multiprocessing.active_children()
    # stopped, not left to finish their runs and exit (which gives exit code 0)
    assert {p.exitcode for p in started} <= {-signal.SIGTERM, -signal.SIGKILL}


def test_no_resume_moves_old_results_aside(tmp_path, tiny):
    suite = load_suite(tiny)
    out = tmp_path / "out"
    run_suite(suite, out, threads=1, progress=False, datasets=["karate"], methods=["gml"])
    old = ResultStore(out).runs_path.read_text()
    counts = run_suite(
        suite,
        out,
        threads=1,
        progress=False,
        datasets=["karate"],
        methods=["gml"],
        resume=False,
        log=lambda msg: None,
    )
    assert counts["ran"] == 2
    archived = list(out.glob("runs.*.jsonl"))
    assert len(archived) == 1 and archived[0].read_text() == old


# ------------------------------------------------------------------------------ tables
def _records():
    """Two node runs of a gcn,gat cohort with hand-picked accuracies."""
    out = []
    acc = {
        ("independent", 0): (0.80, 0.70, 0.78),
        ("independent", 1): (0.82, 0.74, 0.80),
        ("gml", 0): (0.84, 0.70, 0.85),
        ("gml", 1): (0.83, 0.76, 0.84),
    }
    for (method, seed), (a, b, e) in acc.items():
        out.append(
            _line(
                dataset="cora",
                cohort="gcn,gat",
                method=method,
                seed=seed,
                students=[
                    dict(arch="gcn", test_acc=a, val_acc=a, best_epoch=3),
                    dict(arch="gat", test_acc=b, val_acc=b, best_epoch=4),
                ],
                ensemble=dict(test_acc=e, val_acc=e),
                seconds=1.0,
                peak_rss_mb=10.0,
                epochs_run=5,
                split_sha1="x",
            )
        )
    return out


def test_accuracy_table_by_hand():
    table = accuracy_table(bench.records_frame(_records())).set_index("method")
    assert list(table.index) == ["independent", "ensemble", "gml"]
    # gcn independent: mean 81.0, sample std of (80, 82) = 1.414
    assert table.loc["independent", "gcn"] == "81.0 ± 1.4"
    assert table.loc["gml", "gat"] == "73.0 ± 4.2"
    assert table.loc["ensemble", "ensemble"] == "79.0 ± 1.4"  # the independent runs' ensemble
    assert table.loc["ensemble", "gcn"] == "" and table.loc["independent", "ensemble"] == ""
    assert table.loc["gml", "ensemble"] == "84.5 ± 0.7"
    assert "gcn 81.5" in table.loc["independent", "literature"]
    # the validation table: the runs' val_acc (here 10 points below test_acc), no literature column
    records = [
        dataclasses.replace(
            r, students=[dataclasses.replace(s, val_acc=s.test_acc - 0.1) for s in r.students]
        )
        for r in _records()
    ]
    val = accuracy_table(bench.records_frame(records), score="val_acc").set_index("method")
    assert val.loc["independent", "gcn"] == "71.0 ± 1.4" and "literature" not in val


def test_accuracy_table_names_a_metric_other_than_accuracy(tmp_path):
    assert "metric" not in accuracy_table(bench.records_frame(_records()))  # all accuracy
    molhiv = [
        dataclasses.replace(r, dataset="ogbg-molhiv", task="graph", metric="rocauc")
        for r in _records()
    ]
    table = accuracy_table(bench.records_frame(_records() + molhiv))
    assert dict(zip(table["dataset"], table["metric"])) == {"cora": "acc", "ogbg-molhiv": "rocauc"}
    from mutualgnn.bench import plots

    assert plots.accuracy_plot(bench.records_frame(molhiv), tmp_path / "a.png").stat().st_size > 0


def test_cost_table_by_hand():
    records = _records()
    for r, (sec, epochs, before, peak) in zip(
        records,
        [
            (2.0, 10, 100.0, 130.0),
            (3.0, 10, 110.0, 130.0),
            (4.0, 20, 100.0, 150.0),
            (6.0, 20, 100.0, 170.0),
        ],
    ):
        r.seconds, r.epochs_run, r.rss_before_mb, r.peak_rss_mb = sec, epochs, before, peak
    cost = cost_table(bench.records_frame(records)).set_index("method")
    assert list(cost.index) == ["independent", "gml"]  # `ensemble` trains nothing of its own
    assert cost.loc["independent", "median_seconds"] == 2.5
    assert cost.loc["independent", "median_ms_per_epoch"] == 250.0  # (200 + 300) / 2
    assert cost.loc["gml", "median_ms_per_epoch"] == 250.0  # (200 + 300) / 2
    # load's trace: 90th over 10th percentile of (200, 300) ms, interpolated: 290 / 210
    assert cost.loc["gml", "ms_per_epoch_spread"] == round(290 / 210, 1) == 1.4
    assert cost.loc["independent", "median_epochs"] == 10.0
    assert cost.loc["gml", "median_epochs_with_teachers"] == 20.0  # gml needs no teachers
    assert cost.loc["independent", "median_peak_growth_mb"] == 25.0  # (30 + 20) / 2
    assert cost.loc["gml", "median_peak_growth_mb"] == 60.0
    # mean over both students and both seeds: (80 + 70 + 82 + 74) / 4
    assert cost.loc["independent", "mean_student_acc"] == 76.5


def test_paired_table_by_hand():
    paired = paired_table(bench.records_frame(_records())).set_index("student")
    gcn, gat = paired.loc["gcn"], paired.loc["gat"]
    assert gcn["diff vs independent (pts)"] == pytest.approx(100 * np.mean([0.04, 0.01]))
    assert gcn["wins/ties/losses"] == "2/0/0" and gat["wins/ties/losses"] == "1/1/0"
    assert gcn["runs"] == 2
    # gcn: differences +4, +1 points: mean 2.5 +- t_0.975(1) * sd / sqrt 2 = 12.706 * 1.5
    assert gcn["95% CI (pts)"] == f"[{2.5 - 12.706205 * 1.5:+.2f}, {2.5 + 12.706205 * 1.5:+.2f}]"
    # Holm over the table's two comparisons: the smaller p doubled, the larger kept (or raised)
    p = sorted([gcn["t-test p"], gat["t-test p"]])
    holm = sorted([gcn["Holm p"], gat["Holm p"]])
    assert holm[0] == pytest.approx(min(1, 2 * p[0]), rel=0.05)
    assert holm[1] == pytest.approx(max(holm[0], p[1]), rel=0.05)


def test_write_tables_formats(tmp_path):
    runs = bench.records_frame(_records())
    runs.loc[runs["model"] == "gat", "model"] = "gat#1"  # a LaTeX special character
    paths = write_tables(runs, tmp_path, ("md", "csv", "latex"))
    assert {p.name for p in paths} == {
        f"{t}.{e}"
        for t in ("accuracy", "validation", "paired", "cost")
        for e in ("md", "csv", "tex")
    }
    tex = (tmp_path / "accuracy.tex").read_text()
    assert "\\textbf{84.5 $\\pm$ 0.7}" in tex and "gat\\#1" in tex
    assert (
        "\\textbf{81.0 $\\pm$ 1.4}" in tex and "\\textbf{72.0" not in tex
    )  # best of each row only
    csv = pd.read_csv(tmp_path / "accuracy.csv")
    assert list(csv["method"]) == ["independent", "ensemble", "gml"]
    with pytest.raises(ValueError, match="unknown table format"):
        write_tables(runs, tmp_path, ("pdf",))


# ------------------------------------------------------------------------------ CLI
def test_cli_bench_end_to_end(tmp_path, tiny):
    out = tmp_path / "out"
    args = [
        "bench",
        "--suite",
        str(tiny),
        "--out",
        str(out),
        "--datasets",
        "minigc",
        "--threads",
        "1",
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "4 run(s) trained" in result.output and "| minigc" in result.output
    for name in (
        "accuracy.md",
        "accuracy.tex",
        "paired.csv",
        "cost.md",
        "accuracy.png",
        "training_curves.png",
        "coordinator.png",
    ):
        assert (out / name).exists(), name
    assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = CliRunner().invoke(main, args)
    assert "0 run(s) trained, 4 already done" in again.output
    table = CliRunner().invoke(main, ["table", str(out), "--format", "csv", "--no-plots"])
    assert table.exit_code == 0 and "wrote 4 file(s)" in table.output


def test_cli_bench_run_folds_runs_only_those_folds_of_the_suite_split(tmp_path, tiny):
    out = tmp_path / "out"
    args = [
        "bench",
        "--suite",
        str(tiny),
        "-o",
        str(out),
        "-d",
        "MiniGC",
        "-m",
        "GML,independent",
        "--threads",
        "1",
        "--no-progress",
        "--format",
        "CSV",
    ]
    result = CliRunner().invoke(main, args + ["--run-folds", "1"])
    assert result.exit_code == 0, result.output
    assert "2 run(s) trained" in result.output
    assert sorted((r.method, r.fold) for r in ResultStore(out).read()) == [
        ("gml", 1),
        ("independent", 1),
    ]
    rest = CliRunner().invoke(main, args)  # the same folder: the folds are the same split
    assert "2 run(s) trained, 2 already done" in rest.output
    bad = CliRunner().invoke(main, args + ["--run-folds", "2"])
    assert bad.exit_code != 0 and "run_folds [2] outside 0-1" in bad.output


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["bench", "--suite", "nope"], "unknown suite 'nope'"),
        (["table", "EMPTY"], "no results in"),
    ],
)
def test_cli_bench_errors(tmp_path, args, fragment):
    args = [str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and fragment in result.output
    assert "Traceback" not in result.output


def test_cli_bench_list():
    result = CliRunner().invoke(main, ["bench", "--list"])
    assert result.exit_code == 0 and "paper:" in result.output and "smoke:" in result.output


def test_smoke_suite_on_the_six_datasets(tmp_path, shared_data):
    """The shipped smoke suite end to end, two jobs: every dataset and method runs."""
    out = tmp_path / "smoke"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--suite",
            "smoke",
            "--out",
            str(out),
            "--jobs",
            "2",
            "--no-progress",
            "--format",
            "md",
        ],
    )
    assert result.exit_code == 0, result.output
    records = ResultStore(out).read()
    assert len(records) == len(plan(load_suite("smoke"))) == 3 * 5 + 3 * 2 * 5
    table = (out / "accuracy.md").read_text()
    for name in ("cora", "citeseer", "pubmed", "MUTAG", "PROTEINS", "ENZYMES"):
        assert f"| {name}" in table
    assert all(r.epochs_run <= 3 for r in records)


def test_grid_variants_run_tabulate_and_plot(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text(TINY.replace("name: tiny", "name: grid") + "grid: {label_noise: [0.0, 0.5]}\n")
    suite = load_suite(path)
    assert [v for v, _ in suite.variants()] == ["label_noise=0.0", "label_noise=0.5"]
    specs = plan(suite, datasets=["karate"], methods=["gml"])
    assert [(s.seed, s.variant) for s in specs] == [
        (0, "label_noise=0.0"),
        (0, "label_noise=0.5"),
        (1, "label_noise=0.0"),
        (1, "label_noise=0.5"),
    ]
    assert bench.spec_config(suite, specs[1]).label_noise == 0.5
    out = tmp_path / "out"
    run_suite(suite, out, threads=1, progress=False, datasets=["karate"], methods=["independent"])
    records = ResultStore(out).read()
    assert sorted(r.variant for r in records) == ["label_noise=0.0"] * 2 + ["label_noise=0.5"] * 2
    assert all(r.config["label_noise"] == float(r.variant.split("=")[1]) for r in records)
    paths = bench.tabulate(out, ("md",))
    table = (out / "accuracy.md").read_text()
    assert "label_noise=0.5" in table and "variant" in table
    assert out / "grid.png" in paths


def test_several_cohorts_on_one_dataset_tabulate_and_plot(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text(
        TINY.replace("name: tiny", "name: k").replace(
            'node: ["gcn,gat"]', 'node: ["gcn", "gcn,gat", "gcn,gcn"]'
        )
    )  # "gcn" in two cohorts
    out = tmp_path / "out"
    run_suite(
        load_suite(path),
        out,
        threads=1,
        progress=False,
        datasets=["karate"],
        methods=["independent", "gml"],
    )
    paths = bench.tabulate(out, ("md",))
    assert out / "accuracy.png" in paths
    table = (out / "accuracy.md").read_text()
    assert "| karate    | gcn,gcn  | gml" in table and "gcn#1" in table
