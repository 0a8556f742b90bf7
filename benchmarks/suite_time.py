"""How long a bench suite takes: the measured seconds of the runs done so far, and the rest of
the suite's plan projected from them (median seconds of the same dataset and method, else of
the dataset), per dataset, as core-hours and as wall time on ``--jobs`` cores.

    python benchmarks/suite_time.py --suite paper --out benchmarks/results/paper --jobs 2 --doc docs/performance.md

The seconds are those each run recorded (``seconds`` in runs.jsonl), so they carry the load of
the machine at the time; the projection assumes the rest runs under the same load.
"""
from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

import pandas as pd

from docsection import write_section
from mutualgnn.bench import ResultStore, load_suite, plan, record_key

SECTION = "The paper suite's wall time"


def suite_time(suite_name: str, out, jobs: int) -> pd.DataFrame:
    suite = load_suite(suite_name)
    specs = plan(suite)
    records = {record_key(r): r for r in ResultStore(out).read()}
    by_method, by_dataset = defaultdict(list), defaultdict(list)
    for r in records.values():
        by_method[(r["dataset"], r["method"])].append(r["seconds"])
        by_dataset[r["dataset"]].append(r["seconds"])
    rows = {}
    for spec in specs:
        row = rows.setdefault(spec.dataset, dict(dataset=spec.dataset, runs=0, done=0,
                                                 measured_h=0.0, projected_h=0.0))
        row["runs"] += 1
        done = records.get(spec.key)
        if done is not None:
            row["done"] += 1
            row["measured_h"] += done["seconds"] / 3600
            row["projected_h"] += done["seconds"] / 3600
            continue
        like = by_method.get((spec.dataset, spec.method)) or by_dataset.get(spec.dataset)
        row["projected_h"] += statistics.median(like) / 3600 if like else float("nan")
    table = pd.DataFrame(rows.values())
    total = dict(dataset="all", runs=table["runs"].sum(), done=table["done"].sum(),
                 measured_h=table["measured_h"].sum(),
                 projected_h=table["projected_h"].sum(skipna=False))
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table[f"projected wall h, --jobs {jobs}"] = table["projected_h"] / jobs
    table = table.astype({c: float for c in ("measured_h", "projected_h")})
    return table.rename(columns={"measured_h": "core-hours measured",
                                 "projected_h": "core-hours projected"}).round(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="paper")
    ap.add_argument("--out", default="benchmarks/results/paper", help="the suite's results folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--doc", default=None, help="write the table into this markdown file")
    args = ap.parse_args()
    table = suite_time(args.suite, args.out, args.jobs).to_markdown(index=False)
    print(table)
    if args.doc:
        write_section(args.doc, SECTION, f"""
Command: `python benchmarks/suite_time.py --suite {args.suite} --out {args.out} --jobs {args.jobs} --doc {args.doc}`

Seconds as recorded by each run of `mutualgnn bench --suite {args.suite}` (one torch thread per
run, the machine shared with other jobs as it was); runs not done yet are projected with the
median seconds of the same dataset and method (of the dataset, before a method's first run).
Wall time on `--jobs {args.jobs}` cores is the core-hours divided by {args.jobs} (an ideal split).

{table}
""")


if __name__ == "__main__":
    main()
