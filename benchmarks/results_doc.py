"""Write docs/results.md from a `mutualgnn bench` results folder (the paper suite by default).

    python benchmarks/results_doc.py --results benchmarks/results/paper --doc docs/results.md

Regenerates the folder's tables and plots (`mutualgnn table`), then the page: the commands, how
much of the suite is done, the target (does a GML student beat its architecture trained alone,
is GML above DML), the tables, the figures and the wall time. A hand-written "## Reading"
section at the end of an existing page is kept. ``--also DIR`` (repeatable) adds another results
folder's rows to the target table, labelled by the folder's name (e.g. a dataset rerun with
settings chosen on validation), and a second count in which they replace their dataset's row.
``--pairs DIR`` (repeatable) adds the same-architecture pairs' folders as a target table of their own.
"""
from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore, load_suite, plan, records_frame, report
from mutualgnn.bench.tables import accuracy_table, cost_table, paired_table, target_table


def count(table: pd.DataFrame) -> str:
    """The target's counts over a :func:`mutualgnn.tables.target_table`, one row per dataset."""
    beats = next(c for c in table.columns if c.startswith("beats "))
    sig = next(c for c in table.columns if c.startswith("significantly"))
    mean = table["gml − dml, students' mean"].dropna()
    rival = (f"GML − DML (students' mean) averages {mean.mean():+.2f} points over {len(mean)} "
             "datasets" if len(mean) else "no DML runs to compare with")
    return (f"a GML student beats the same architecture trained alone by the mean on "
            f"{(table[beats] == 'yes').sum()} of {len(table)} datasets, significantly on "
            f"{(table[sig] == 'yes').sum()}; {rival}")


def target_section(runs: pd.DataFrame, also: dict) -> str:
    """The target table of ``runs`` plus each ``also`` folder's rows, and the counts the
    GML issue's target is judged by. ``also``: {label: runs frame}."""
    main = target_table(runs)
    if not len(main):
        return "(not enough runs yet)"
    extra = [target_table(frame).assign(dataset=lambda t, n=name: t["dataset"] + f" ({n})")
             for name, frame in also.items()]
    extra = pd.concat([t for t in extra if len(t)] or [main.iloc[:0]], ignore_index=True)

    lines = [pd.concat([main, extra], ignore_index=True).to_markdown(index=False, missingval="–"), "",
             f"* This suite: {count(main)}."]
    if len(extra):
        replaced = set(extra["dataset"].str.split(" (", regex=False).str[0])
        swapped = pd.concat([main[~main["dataset"].isin(replaced)], extra], ignore_index=True)
        lines.append(f"* With the rows in parentheses in place of their dataset's: {count(swapped)}.")
    lines.append("* The target: at least 5 of 6 datasets, significantly on at least 3, and "
                 "GML − DML ≥ 0 on average.")
    return "\n".join(lines)


def pairs_section(runs: pd.DataFrame) -> str:
    """The target table of the same-architecture pairs (``runs``: their folders' runs, one
    cohort per dataset) and its counts, judged like the suite's cohorts."""
    table = target_table(runs)
    if not len(table):
        return "(not enough runs yet)"
    return f"{table.to_markdown(index=False, missingval='–')}\n\n* These pairs: {count(table)}."


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="benchmarks/results/paper")
    ap.add_argument("--suite", default="paper")
    ap.add_argument("--doc", default="docs/results.md")
    ap.add_argument("--also", action="append", default=[], metavar="DIR",
                    help="another results folder whose rows join the target table")
    ap.add_argument("--pairs", action="append", default=[], metavar="DIR",
                    help="a results folder of same-architecture pairs, for their own target table")
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
    pairs = "" if not args.pairs else (
        "\n## The same-architecture pairs against training alone and against DML\n\n"
        f"From {', '.join(f'`{d}`' for d in args.pairs)}: the same seeds, folds, epochs and "
        "hyper-parameters as this suite, only the cohort differs.\n\n"
        + pairs_section(pd.concat([records_frame(ResultStore(d).read()) for d in args.pairs],
                                  ignore_index=True)) + "\n")
    reading = doc.read_text().partition("\n## Reading")[2] if doc.exists() else ""
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(f"""# Results: the `{suite.name}` suite on this machine

Produced by

    mutualgnn bench --suite {args.suite} --out {results} --threads 1 [--datasets ...]
    python benchmarks/results_doc.py --results {results} --suite {args.suite} --doc {doc}{"".join(f" --also {d}" for d in args.also)}{"".join(f" --pairs {d}" for d in args.pairs)}

on a shared 2-core CPU machine (no GPU), one torch thread per run, one or two runs at a time, resumed across
sessions (`--resume`). Results: `{results}/runs.jsonl`, one line per run; tables and figures
next to it (`accuracy.*`, `paired.*`, `cost.*`, `*.png`). Protocol: `{protocol}`
and docs/method.md. Test accuracy of each student at its own best validation epoch; mean ± std
over seeds (node) or folds (graph). Versions of the latest run: {", ".join(f"{k} {v}" for k, v in versions.items())}.

## Progress

{progress.reset_index().to_markdown(index=False)}

{len(records)} of {len(planned)} runs done; training time {seconds / 3600:.1f} h in total
(sum of runs), first run finished {finished.min():%Y-%m-%d %H:%M}, last {finished.max():%Y-%m-%d %H:%M} UTC.

## The target: GML against training alone and against DML

{target_section(runs, {Path(d).name: records_frame(ResultStore(d).read()) for d in args.also})}
{pairs}
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
