"""The label-noise table of docs/analyses.md for one dataset of a `noise` suite results folder:
test accuracy per noise level, method and student, and GML minus the same student trained alone.

    python benchmarks/noise_table.py benchmarks/results/noise citeseer

Reads the folder's `accuracy.csv` and `paired.csv` (written by `mutualgnn bench` / `mutualgnn
table`); prints a Markdown table. Made for the noise suite's two-student cohorts.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


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
            f"{d:+.1f} ({w}, {t:.2g})" for d, w, t in
            zip(p["diff vs independent (pts)"], p["wins/ties/losses"], p["t-test p"])]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("dataset")
    args = ap.parse_args()
    print(noise_table(args.folder, args.dataset).to_markdown())


if __name__ == "__main__":
    main()
