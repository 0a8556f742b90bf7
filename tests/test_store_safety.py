"""A results folder stays sound: one writer at a time (the folder's lock), every run counted
once by the tables (duplicated lines reported), and diverged runs stored as failed, not lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pandas as pd
import pytest

from mutualgnn import bench
from mutualgnn.bench import ResultStore, RunRecord, StudentResult, load_suite, plan, run_suite
from mutualgnn.bench.record import FORMAT
from mutualgnn.bench.table import DuplicateRunsWarning
from mutualgnn.config import ConfigError

TINY = """\
name: tiny
datasets: [karate]
methods: [independent, dml, gml]
cohorts: {node: ["gcn,gat"]}
seeds: {node: 0-3}
settings:
  train: {epochs: 5}
"""

DIVERGING = """\
name: diverging
datasets: [karate]
methods: [independent]
cohorts: {node: ["gcn,gat"]}
seeds: {node: "0"}
settings:
  train: {epochs: 5}
grid: {hparams.gcn.lr: [0.01, 1.0e+30]}
"""


def _suite(tmp_path, text, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def _md_table(path) -> pd.DataFrame:
    """A markdown table written by pandas' to_markdown, back as strings."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return pd.DataFrame(cells[2:], columns=cells[0])


# ------------------------------------------------------------------------------ the lock
def _bench_together(tmp_path, out):
    """Two `mutualgnn bench` processes on one folder, started together; returns both
    ``(process, output, finished at)``, in the order they finished."""
    args = [
        sys.executable,
        "-m",
        "mutualgnn",
        "bench",
        "--suite",
        "tiny.yaml",
        "--out",
        str(out),
        "--threads",
        "1",
        "--no-progress",
        "--format",
        "md",
    ]
    procs = [
        subprocess.Popen(
            args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    ended = {}
    while len(ended) < 2:
        for p in procs:
            if p not in ended and p.poll() is not None:
                ended[p] = time.monotonic()
        time.sleep(0.05)
    return sorted(((p, p.stdout.read(), ended[p]) for p in procs), key=lambda item: item[2])


def test_two_bench_processes_on_one_folder(tmp_path):
    _suite(tmp_path, TINY, "tiny")
    for attempt in range(3):  # both ending 0 means one finished before the other started
        out = tmp_path / f"out{attempt}"
        (first, first_out, _), (last, last_out, _) = _bench_together(tmp_path, out)
        if first.returncode or last.returncode:
            break
    # the one that found the folder locked stopped at once, before the other finished
    assert first.returncode == 1, first_out
    assert last.returncode == 0, last_out
    assert "is being written by another process" in first_out
    assert f"pid {last.pid} on " in first_out and "since " in first_out
    assert "Traceback" not in first_out and "run(s) trained" not in first_out
    assert "12 run(s) trained" in last_out

    store = ResultStore(out)
    records = store.read()
    keys = [r.key for r in records]
    assert len(records) == len(plan(load_suite(tmp_path / "tiny.yaml"))) == 12
    assert len(set(keys)) == 12 and not store.duplicates()
    assert all(r.status == "ok" for r in records)
    table = _md_table(out / "accuracy.md")
    assert list(table["method"]) == ["independent", "ensemble", "dml", "gml"]
    assert set(table["runs"]) == {"4"}  # seeds 0-3, each once
    assert store.lock_path.read_text() == ""  # released: no holder named


def test_lock_names_its_holder_and_a_killed_holder_leaves_none(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom mutualgnn.bench import ResultStore\n"
            "with ResultStore(sys.argv[1]).lock():\n    print('locked', flush=True)\n"
            "    time.sleep(600)\n",
            str(tmp_path / "out"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        info = json.loads((tmp_path / "out" / ".lock").read_text())
        assert info["pid"] == holder.pid and info["host"] and info["since"]
        with pytest.raises(ConfigError, match=f"pid {holder.pid} on .*since .*another --out"):
            run_suite(load_suite(_suite(tmp_path, TINY, "tiny")), tmp_path / "out", progress=False)
        assert not (tmp_path / "out" / "runs.jsonl").exists()  # it wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with ResultStore(tmp_path / "out").lock():  # the kernel released the killed one's lock
        assert json.loads((tmp_path / "out" / ".lock").read_text())["pid"] == os.getpid()


def test_lock_is_released_when_run_suite_raises(tmp_path, monkeypatch):
    suite = load_suite(_suite(tmp_path, TINY, "tiny"))
    out = tmp_path / "out"
    with ResultStore(out).lock():  # one holder per folder, in one process too
        with pytest.raises(ConfigError, match=f"pid {os.getpid()} on "):
            run_suite(suite, out, progress=False)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(bench.runner, "execute", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run_suite(suite, out, progress=False, threads=1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.runner, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out, progress=False, threads=1)
    with ResultStore(out).lock():
        pass
    assert ResultStore(out).lock_path.read_text() == ""


# ------------------------------------------------------------------------------ duplicates
def _record(seed, gcn, gat, method="independent"):
    return RunRecord(
        suite="test",
        dataset="cora",
        task="node",
        cohort="gcn,gat",
        variant="",
        method=method,
        seed=seed,
        fold=None,
        status="ok",
        students=[StudentResult("gcn", gcn, gcn, 3), StudentResult("gat", gat, gat, 4)],
        ensemble=dict(test_acc=gcn, val_acc=gcn),
        seconds=1.0,
        peak_rss_mb=10.0,
        rss_before_mb=5.0,
        epochs_run=5,
        split_sha1="x",
    )


def test_a_duplicated_run_counts_once_and_is_reported(tmp_path):
    store = ResultStore(tmp_path)
    first = _record(0, 0.80, 0.70)
    store.append(first)
    store.append(_record(1, 0.82, 0.74))
    store.append(replace(first, students=[replace(s, test_acc=0.1) for s in first.students]))
    store.append(replace(_record(1, 0.82, 0.74), method="gml"))
    store.append(_record(1, 0.82, 0.74))
    assert len(store.read()) == 5 and len(store.records()) == 3
    assert store.duplicates() == {
        ("cora", "gcn,gat", "", "independent", 0, 0, None): [1, 3],
        ("cora", "gcn,gat", "", "independent", 0, 1, None): [2, 5],
    }
    assert store.records()[0].students[0].test_acc == 0.8
    with pytest.warns(
        DuplicateRunsWarning,
        match=r"2 run\(s\) stored more than once.*"
        r"cora gcn,gat independent seed 0 on lines 1, 3; .*seed 1 on lines 2, 5",
    ):
        paths = bench.tabulate(tmp_path, ("md",), plots=False)
    assert tmp_path / "failed.md" not in paths
    table = _md_table(tmp_path / "accuracy.md").set_index("method")
    # the first line of each: gcn (80, 82), not the duplicate's 10
    assert table.loc["independent", "runs"] == "2" and table.loc["gml", "runs"] == "1"
    assert table.loc["independent", "gcn"] == "81.0 ± 1.4"
    frame = bench.records_frame(store.records())
    assert len(frame[(frame["method"] == "independent") & (frame["model"] == "gcn")]) == 2


# ------------------------------------------------------------------------------ packed store
def test_a_packed_store_reads_as_the_plain_one_and_a_write_goes_on_from_it(tmp_path):
    import gzip

    plain, packed = ResultStore(tmp_path / "plain"), ResultStore(tmp_path / "packed")
    plain.dir.mkdir()
    for seed in range(3):
        plain.append(_record(seed, 0.80 + seed / 100, 0.70))
    packed.dir.mkdir()
    packed.packed_runs_path.write_bytes(gzip.compress(plain.runs_path.read_bytes(), mtime=0))
    assert packed.has_runs() and not packed.runs_path.exists()
    assert packed.numbered() == plain.numbered() and len(packed.records()) == 3
    assert packed.done() == plain.done()
    assert ResultStore(tmp_path / "empty").has_runs() is False
    (tmp_path / "none").mkdir()  # a packed copy of an empty store: no runs, no error
    ResultStore(tmp_path / "none").packed_runs_path.write_bytes(gzip.compress(b"", mtime=0))
    assert ResultStore(tmp_path / "none").read() == []
    # a resumed suite appends after the packed runs, in a plain runs.jsonl that then counts
    packed.append(_record(3, 0.9, 0.7))
    assert [r.seed for r in packed.read()] == [0, 1, 2, 3]
    assert packed.packed_runs_path.read_bytes() == gzip.compress(
        plain.runs_path.read_bytes(), mtime=0
    )  # the copy is left as it was


# ------------------------------------------------------------------------------ failed runs
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_diverged_unit_is_stored_failed_and_the_suite_goes_on(tmp_path, monkeypatch, jobs):
    suite = load_suite(_suite(tmp_path, DIVERGING, "diverging"))
    out = tmp_path / "out"
    logged = []
    counts = run_suite(suite, out, jobs=jobs, threads=1, progress=False, log=logged.append)
    assert counts == {"planned": 2, "skipped": 0, "ran": 2, "found": 0, "failed": 1}
    store = ResultStore(out)
    by_variant = {r.variant: r for r in store.read()}
    ok, failed = by_variant["hparams.gcn.lr=0.01"], by_variant["hparams.gcn.lr=1e+30"]
    assert ok.status == "ok" and len(ok.students) == 2
    assert failed.status == "failed" and failed.students == [] and failed.ensemble is None
    assert "student 0 (gcn) diverged at epoch" in failed.error and "lr 1e+30" in failed.error
    assert failed.diverged["arch"] == "gcn" and failed.config["hparams"]["gcn"]["lr"] == 1e30
    assert failed.versions and failed.finished
    line = next(
        json.loads(text)
        for text in store.runs_path.read_text().splitlines()
        if json.loads(text)["status"] == "failed"
    )
    assert "ensemble" not in line and line["students"] == [] and line["format"] == FORMAT
    assert [
        m
        for m in logged
        if m.startswith(
            "failed: karate gcn,gat hparams.gcn.lr=1e+30 "
            "independent seed 0: student 0 (gcn) diverged"
        )
    ]
    # the histories hold the ok unit's only (the first seed of each variant, had it trained)
    assert [h["variant"] for h in store.histories()] == ["hparams.gcn.lr=0.01"]

    paths = bench.tabulate(out, ("md",), plots=False)
    assert out / "failed.md" in paths
    listed = _md_table(out / "failed.md")
    assert list(listed.columns) == [
        "line",
        "dataset",
        "cohort",
        "variant",
        "method",
        "split_seed",
        "seed",
        "fold",
        "error",
    ]
    assert (
        listed.loc[0, "variant"] == "hparams.gcn.lr=1e+30" and "diverged" in listed.loc[0, "error"]
    )
    accuracy = (out / "accuracy.md").read_text()
    assert "hparams.gcn.lr=0.01" in accuracy and "1e+30" not in accuracy
    assert set(bench.records_frame(store.records())["variant"]) == {"hparams.gcn.lr=0.01"}

    def retrained(*args, **kwargs):
        raise AssertionError("a stored unit was trained again")

    monkeypatch.setattr(bench.runner, "execute", retrained)
    again = run_suite(suite, out, threads=1, progress=False)
    assert again == {"planned": 2, "skipped": 2, "ran": 0, "found": 0, "failed": 0}


def test_a_folder_of_failed_runs_only(tmp_path):
    store = ResultStore(tmp_path)
    store.append(
        RunRecord(
            suite="test",
            dataset="karate",
            task="node",
            cohort="gcn",
            method="independent",
            seed=0,
            status="failed",
            error="student 0 (gcn) diverged at epoch 1",
        )
    )
    with pytest.raises(ConfigError, match="every run in .* failed.*failed.md"):
        bench.tabulate(tmp_path, ("md",), plots=False)
    assert "diverged at epoch 1" in (tmp_path / "failed.md").read_text()
