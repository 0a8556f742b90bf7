"""Write docs/results.md from a `mutualgnn bench` results folder (the paper suite by default).

    python benchmarks/results_doc.py --results benchmarks/results/paper --doc docs/results.md

Regenerates the folder's tables and plots (`mutualgnn table`), then the page: the commands, how
much of the suite is done, the tables, the figures and the wall time. A hand-written
"## Reading" section at the end of an existing page is kept.
"""
from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore, load_suite, plan, records_frame, report
from mutualgnn.tables import accuracy_table, cost_table, paired_table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="benchmarks/results/paper")
    ap.add_argument("--suite", default="paper")
    ap.add_argument("--doc", default="docs/results.md")
    args = ap.parse_args()
    results, doc = Path(args.results), Path(args.doc)
    suite = load_suite(args.suite)
    store = ResultStore(results)
    records = store.read()
    report(results, ("md", "csv", "latex"))
    runs = records_frame(records)

    planned = pd.DataFrame([s.__dict__ for s in plan(suite)])
    done = pd.DataFrame(records)[["dataset", "method"]]
    progress = (planned.groupby("dataset", sort=False).size().rename("planned").to_frame()
                .join(done.groupby("dataset").size().rename("done")).fillna(0).astype(int))
    finished = pd.to_datetime(pd.DataFrame(records)["finished"])
    seconds = sum(r["seconds"] for r in records)
    versions = records[-1]["versions"]
    rel = os.path.relpath(results, doc.parent)
    protocol = args.suite if args.suite.endswith((".yaml", ".yml")) else f"mutualgnn/suites/{suite.name}.yaml"
    figures = "\n\n".join(f"![{name}]({rel}/{name}.png)" for name in
                          ("accuracy", "training_curves", "coordinator")
                          if (results / f"{name}.png").exists())
    reading = doc.read_text().partition("\n## Reading")[2] if doc.exists() else ""
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(f"""# Results: the `{suite.name}` suite on this machine

Produced by

    mutualgnn bench --suite {args.suite} --out {results} --threads 1 [--datasets ...]
    python benchmarks/results_doc.py --results {results} --suite {args.suite} --doc {doc}

on a shared 2-core CPU machine (no GPU), one run at a time with one torch thread, resumed across
sessions (`--resume`). Results: `{results}/runs.jsonl`, one line per run; tables and figures
next to it (`accuracy.*`, `paired.*`, `cost.*`, `*.png`). Protocol: `{protocol}`
and docs/method.md. Test accuracy of each student at its own best validation epoch; mean ± std
over seeds (node) or folds (graph). Versions of the latest run: {", ".join(f"{k} {v}" for k, v in versions.items())}.

## Progress

{progress.reset_index().to_markdown(index=False)}

{len(records)} of {len(planned)} runs done; training time {seconds / 3600:.1f} h in total
(sum of runs), first run finished {finished.min():%Y-%m-%d %H:%M}, last {finished.max():%Y-%m-%d %H:%M} UTC.

## Accuracy (%)

{accuracy_table(runs).to_markdown(index=False)}

## Each method against the same student trained alone (same seed / fold)

{paired_table(runs).to_markdown(index=False) if len(paired_table(runs)) else "(not enough runs yet)"}

## Cost per run

{cost_table(runs).to_markdown(index=False)}

## Figures

{figures}
""" + (f"\n## Reading{reading}" if reading else ""))
    print(f"wrote {doc} ({len(records)} runs; {datetime.datetime.now():%H:%M})")


if __name__ == "__main__":
    main()
