"""A resumable JSON-lines results file shared by the benchmark scripts.

Each finished run is appended as whole lines in one write; a partial last line (an interrupted
write) is ignored when reading, so a rerun skips what is done and redoes only the run in flight.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def read(path: Path) -> list:
    rows = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def finished(path: Path, keys: tuple) -> set:
    return {tuple(row.get(k) for k in keys) for row in read(path)}


def append(path: Path, records: pd.DataFrame) -> None:
    lines = []
    for rec in records.drop(columns=["config"], errors="ignore").to_dict("records"):
        rec["fold"] = None if pd.isna(rec["fold"]) else int(rec["fold"])
        if rec.get("best_epoch") is not None and not pd.isna(rec["best_epoch"]):
            rec["best_epoch"] = int(rec["best_epoch"])
        else:
            rec["best_epoch"] = None
        lines.append(json.dumps(rec) + "\n")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with Path(path).open("a") as fh:
        fh.write("".join(lines))
