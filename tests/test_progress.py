"""Progress off a terminal: a few lines (one per run or seed), never redrawn bars."""

from __future__ import annotations

import os
import subprocess
import sys

from mutualgnn.progress import LineProgress, bar


def _cli(*args, cwd):
    env = dict(os.environ, COLUMNS="80")
    return subprocess.run(
        [sys.executable, "-m", "mutualgnn", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
    )


def test_run_off_a_terminal_writes_one_line_per_seed(tmp_path):
    proc = _cli(
        "run",
        "--dataset",
        "karate",
        "--students",
        "gcn,gat",
        "--method",
        "gml",
        "--seeds",
        "0-2",
        "--epochs",
        "30",
        "--threads",
        "1",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    announcement, *lines = proc.stderr.splitlines()
    assert announcement.startswith(
        "karate: gcn, gat trained with gml, 3 seed(s), at most 30 epochs each"
    )
    assert [line.split(" (")[0] for line in lines] == [f"karate gml: {i}/3" for i in (1, 2, 3)]


def test_bench_off_a_terminal_writes_one_line_per_run(tmp_path):
    (tmp_path / "tiny.yaml").write_text(
        "name: tiny\ndatasets: [karate]\nmethods: [independent, dml]\n"
        "cohorts: {node: 'gcn,gat'}\nseeds: {node: 0-1}\nsettings: {train: {epochs: 5}}\n"
    )
    proc = _cli(
        "bench",
        "--suite",
        "tiny.yaml",
        "--out",
        "out",
        "--threads",
        "1",
        "--format",
        "md",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("suite tiny:")]
    assert len(lines) == 4 and len(proc.stderr.splitlines()) <= 6, proc.stderr
    assert lines[-1].startswith("suite tiny: 4/4 karate gcn,gat dml seed 1")


def test_line_progress_counts_and_a_silent_bar_writes_nothing(capsys):
    assert list(bar(range(3), desc="x", enabled=False)) == [0, 1, 2]
    progress = LineProgress(range(2), desc="runs", stream=sys.stdout)
    progress.set_postfix_str("seed 0")
    assert list(progress) == [0, 1]
    out = capsys.readouterr()
    assert [line.split(" (")[0] for line in out.out.splitlines()] == [
        "runs: 1/2 seed 0",
        "runs: 2/2 seed 0",
    ]
    assert out.err == ""
