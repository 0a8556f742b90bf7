"""The cohort-size table of docs/analyses.md for one dataset of a `cohort-size` results folder:
per cohort and method, the test accuracy (%) of a single student (mean over the cohort's students
and the seeds), of the cohort's ensemble, and the median milliseconds per epoch (a run's seconds
over its epochs run: train step + evaluation of every student).

    python benchmarks/cohort_table.py benchmarks/results/cohort-size citeseer

Reads the folder's `runs.jsonl` (one line per run, written by `mutualgnn bench`); prints a
Markdown table with the cohorts in the suite's order.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore


def cohort_table(folder: Path, dataset: str) -> pd.DataFrame:
    rows = [dict(cohort=r["cohort"], method=r["method"],
                 student=100 * sum(s["test_acc"] for s in r["students"]) / len(r["students"]),
                 ensemble=100 * r["ensemble"]["test_acc"],
                 ms=1000 * r["seconds"] / r["epochs_run"])
            for r in ResultStore(folder).read() if r["dataset"] == dataset]
    if not rows:
        raise SystemExit(f"no runs of {dataset!r} in {folder / 'runs.jsonl'}")
    runs = pd.DataFrame(rows)
    order = list(dict.fromkeys(runs.cohort))
    table = runs.groupby(["cohort", "method"]).agg(
        student=("student", "mean"), ensemble=("ensemble", "mean"), ms=("ms", "median"),
        runs=("ms", "size"))
    wide = table.unstack("method")
    out = pd.DataFrame(index=pd.Index(order, name="cohort"))
    out["K"] = [len(c.split(",")) for c in order]
    for method in [m for m in ("independent", "gml") if m in runs.method.values]:
        out[f"{method}: mean single student"] = wide[("student", method)].round(1)
        out[f"{method}: ensemble"] = wide[("ensemble", method)].round(1)
        out[f"{method}: ms/epoch"] = wide[("ms", method)].round(0)
        out[f"{method}: runs"] = wide[("runs", method)].astype("Int64")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("dataset")
    args = ap.parse_args()
    table = cohort_table(args.folder, args.dataset)
    print(table.astype(object).where(table.notna(), "").to_markdown())


if __name__ == "__main__":
    main()
