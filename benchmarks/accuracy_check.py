"""Did the speed work change accuracy? The first measurements (single models:
`benchmarks/results/legacy/baselines.jsonl`; cohorts: `benchmarks/results/legacy/mutual.jsonl`, both made
before fused Adam, the faster dropout and fused cohorts) side by side with the `paper` suite's
runs of the same method, architecture, seed and fold, made after them.

    python benchmarks/accuracy_check.py --doc docs/performance.md

The two runs of a pair draw different random numbers (the dropout sampler changed), so they
differ by seed noise; a paired t-test says whether the mean moved by more than that.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from docsection import write_section
from mutualgnn.bench import ResultStore, paired, records_frame
from mutualgnn.mutual import METHOD_NAMES

SECTION = "Accuracy before and after the speed work"
KEYS = ["dataset", "method", "arch", "seed", "fold"]


def _before(*paths) -> pd.DataFrame:
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line]
    frame = pd.DataFrame(rows)
    frame = frame[frame["student"].astype(str) != "ensemble"]
    return frame.assign(fold=frame["fold"].astype("float"))[KEYS + ["test_acc"]]


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    after = after[after["student"] != "ensemble"]
    after = after.assign(fold=after["fold"].astype("float"))[KEYS + ["test_acc"]]
    pairs = before.merge(after, on=KEYS, suffixes=(" before", " after"))
    rows = []
    for (dataset, method, arch), grp in pairs.groupby(["dataset", "method", "arch"], sort=False):
        a, b = grp["test_acc after"].to_numpy(float), grp["test_acc before"].to_numpy(float)
        p = paired(a, b).t_p
        rows.append({"dataset": dataset, "method": method, "student": arch, "runs": len(grp),
                     "before (%)": f"{100 * b.mean():.1f} ± {100 * b.std(ddof=1):.1f}",
                     "after (%)": f"{100 * a.mean():.1f} ± {100 * a.std(ddof=1):.1f}",
                     "after − before (pts)": round(100 * (a - b).mean(), 2),
                     "paired t-test p": float(f"{p:.2g}")})
    order = {"method": list(METHOD_NAMES), "dataset": list(dict.fromkeys(after["dataset"]))}
    return pd.DataFrame(rows).sort_values(["method", "dataset"], kind="stable", key=lambda col: col.map(
        lambda v: order[col.name].index(v) if v in order[col.name] else len(order[col.name])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", nargs="+", default=["benchmarks/results/legacy/baselines.jsonl",
                                                    "benchmarks/results/legacy/mutual.jsonl"])
    ap.add_argument("--after", default="benchmarks/results/paper")
    ap.add_argument("--doc", default=None)
    args = ap.parse_args()
    before = _before(*args.before)
    before = before.drop_duplicates(KEYS)  # baselines and mutual both hold `independent` runs
    table = compare(before, records_frame(ResultStore(args.after).read())).to_markdown(index=False)
    print(table)
    if args.doc:
        write_section(args.doc, SECTION, f"""
Command: `python benchmarks/accuracy_check.py --doc {args.doc}`

Before: {", ".join(f"`{p}`" for p in args.before)} (made before fused Adam, the faster dropout
sampler and fused cohorts). After: the `paper` suite (`{args.after}`). Pairs share method,
architecture, seed and fold; they draw different dropout masks, so they differ by seed noise.

{table}
""")


if __name__ == "__main__":
    main()
