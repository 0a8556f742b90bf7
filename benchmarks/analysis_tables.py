"""The per-dataset tables of docs/analyses.md, from a `mutualgnn bench` results folder.

    python benchmarks/analysis_tables.py noise benchmarks/results/noise citeseer
    python benchmarks/analysis_tables.py cohort benchmarks/results/cohort-size citeseer

`noise` (a `noise` suite folder, two-student cohorts): test accuracy per noise level, method and
student, and GML minus the same student trained alone; from the folder's `accuracy.csv` and
`paired.csv` (written by `mutualgnn bench` / `mutualgnn table`).

`cohort` (a `cohort-size` suite folder): per cohort and method, the test accuracy (%) of a single
student (mean over the cohort's students and the seeds), of the cohort's ensemble, and the median
milliseconds per epoch (a run's seconds over its epochs run: train step + evaluation of every
student); from the folder's `runs.jsonl`, cohorts in the suite's order.

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore


def noise_table(folder: Path, dataset: str) -> pd.DataFrame:
    acc = pd.read_csv(folder / "accuracy.csv").query("dataset == @dataset")
    paired = pd.read_csv(folder / "paired.csv").query("dataset == @dataset and method == 'gml'")
    if acc.empty:
        raise SystemExit(f"no runs of {dataset!r} in {folder / 'accuracy.csv'}")
    level = lambda variant: variant.str.split("=").str[1].astype(float)  # noqa: E731
    acc, paired = acc.assign(noise=level(acc.variant)), paired.assign(noise=level(paired.variant))
    students = acc.cohort.iloc[0].split(",")
    wide = acc.pivot(index="noise", columns="method", values=students)
    out = pd.DataFrame(index=wide.index.rename("training labels flipped"))
    for method in ("independent", "dml", "gml"):
        for s in students:
            out[f"{method} {s.upper()}"] = wide[(s, method)]
    for s in students:
        p = paired.query("student == @s").set_index("noise").reindex(out.index)
        out[f"GML − alone {s.upper()} (w/t/l, t-test p)"] = [
            f"{d:+.1f} ({w}, {t:.2g})" if pd.notna(d) else None  # fewer than 2 paired runs
            for d, w, t in zip(p["diff vs independent (pts)"], p["wins/ties/losses"], p["t-test p"])
        ]
    return out


def cohort_table(folder: Path, dataset: str) -> pd.DataFrame:
    rows = [
        dict(
            cohort=r.cohort,
            method=r.method,
            student=100 * sum(s.test_acc for s in r.students) / len(r.students),
            ensemble=100 * r.ensemble["test_acc"],
            ms=1000 * r.seconds / r.epochs_run,
        )
        for r in ResultStore(folder).records()
        if r.dataset == dataset
    ]
    if not rows:
        raise SystemExit(f"no runs of {dataset!r} in {folder / 'runs.jsonl'}")
    runs = pd.DataFrame(rows)
    order = list(dict.fromkeys(runs.cohort))
    table = runs.groupby(["cohort", "method"]).agg(
        student=("student", "mean"),
        ensemble=("ensemble", "mean"),
        ms=("ms", "median"),
        runs=("ms", "size"),
    )
    wide = table.unstack("method")
    out = pd.DataFrame(index=pd.Index(order, name="cohort"))
    out["K"] = [len(c.split(",")) for c in order]
    for method in [m for m in ("independent", "gml") if m in runs.method.values]:
        out[f"{method}: mean single student"] = wide[("student", method)].round(1)
        out[f"{method}: ensemble"] = wide[("ensemble", method)].round(1)
        out[f"{method}: ms/epoch"] = wide[("ms", method)].round(0)
        out[f"{method}: runs"] = wide[("runs", method)].astype("Int64")
    return out


TABLES = {"noise": noise_table, "cohort": cohort_table}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", choices=sorted(TABLES))
    ap.add_argument("folder", type=Path)
    ap.add_argument("dataset")
    args = ap.parse_args()
    table = TABLES[args.table](args.folder, args.dataset)
    print(table.astype(object).where(table.notna(), "").to_markdown())


if __name__ == "__main__":
    main()
