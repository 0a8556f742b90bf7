"""Mutual learning against its baselines on the six datasets (issue: Graph Mutual Learning).

For each dataset and cohort, trains the methods independent (which also gives the ensemble row),
dml, gml, gml-no-alw and gml-no-entropy on identical seeds / folds and hyper-parameters, then
reports each student's test accuracy (mean ± std), the ensemble, and the paired difference
gml - independent per student with a paired t-test and a Wilcoxon signed-rank test (scipy).

Resumable: each finished (dataset, cohort, method, seed) is appended to --out at once.

    python benchmarks/mutual.py --datasets cora,MUTAG --seeds 0-9 --out benchmarks/results/mutual.jsonl --doc docs/mutual.md
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
from scipy import stats

import _store
from mutualgnn.config import ExperimentConfig, apply_overrides, parse_seeds
from mutualgnn.data import load_dataset
from mutualgnn.experiment import run_experiment

COHORTS = {"node": ["gcn,gat", "gcn,gcn"], "graph": ["gin,gcn", "gin,gin"]}
METHODS = ["independent", "dml", "gml", "gml-no-alw", "gml-no-entropy"]
KEYS = ("dataset", "cohort", "method", "seed", "fold", "student")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="cora,citeseer,pubmed,MUTAG,PROTEINS,ENZYMES")
    ap.add_argument("--cohorts", default=None, help="e.g. gcn,gat;gcn,gcn (default: per task)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0-9", help="node datasets: seeds (graph: seed 0, all folds)")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", dest="assignments", action="append", default=[],
                    help="override a setting for every run, e.g. mutual.gamma=0.1")
    ap.add_argument("--out", default="benchmarks/results/mutual.jsonl")
    ap.add_argument("--doc", default="docs/mutual.md")
    ap.add_argument("--doc-only", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    for name in ([] if args.doc_only else args.datasets.split(",")):
        dataset = load_dataset(name)
        cohorts = args.cohorts.split(";") if args.cohorts else COHORTS[dataset.task]
        seeds = parse_seeds(args.seeds) if dataset.task == "node" else [0]
        for cohort in cohorts:
            for seed in seeds:
                for method in args.methods.split(","):
                    done = _store.finished(out, ("dataset", "cohort", "method", "seed"))
                    if (dataset.name, cohort, method, seed) in done:
                        continue
                    base = {"dataset": dataset.name, "students": cohort, "method": method,
                            "seeds": [seed], "folds": args.folds,
                            "train": {"threads": args.threads, "progress": False}}
                    config = ExperimentConfig.from_dict(apply_overrides(base, args.assignments))
                    start = time.perf_counter()
                    result = run_experiment(config, dataset=dataset)
                    records = result.records.assign(cohort=cohort)
                    _store.append(out, records)
                    singles = records[records.student != "ensemble"]
                    print(f"{dataset.name:9s} {cohort:8s} {method:15s} seed {seed}: "
                          + " ".join(f"{100 * a:.1f}" for a in singles.groupby("student").test_acc.mean())
                          + f" ({time.perf_counter() - start:.0f} s)", flush=True)
    write_doc(out, Path(args.doc), args)


def tables(df: pd.DataFrame):
    """(summary, paired) tables from the stored rows."""
    df = df.copy()
    df["model"] = [f"student {s}" if s != "ensemble" else "ensemble" for s in df.student]
    summary = (df.groupby(["dataset", "cohort", "method", "model"], sort=False)["test_acc"]
               .agg(lambda x: f"{100 * x.mean():.1f} ± {100 * x.std(ddof=1):.1f}")
               .unstack("model"))
    summary = summary.reset_index()
    rows = []
    single = df[df.student != "ensemble"]
    for (dataset, cohort, student), grp in single.groupby(["dataset", "cohort", "student"], sort=False):
        ind = grp[grp.method == "independent"].set_index(["seed", "fold"], drop=False)
        for method in grp.method.unique():
            if method == "independent":
                continue
            other = grp[grp.method == method].set_index(["seed", "fold"], drop=False)
            common = ind.index.intersection(other.index)
            if len(common) < 2:
                continue
            a, b = other.loc[common, "test_acc"].values, ind.loc[common, "test_acc"].values
            diff = a - b
            t_p = stats.ttest_rel(a, b).pvalue if diff.std() > 0 else 1.0
            w_p = stats.wilcoxon(a, b).pvalue if (diff != 0).any() else 1.0
            rows.append({"dataset": dataset, "cohort": cohort, "student": f"{student} ({grp.arch.iloc[0]})",
                         "method": method, "runs": len(common),
                         "diff vs independent (pts)": round(100 * diff.mean(), 2),
                         "wins/ties/losses": f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()}",
                         "t-test p": f"{t_p:.2g}", "Wilcoxon p": f"{w_p:.2g}"})
    return summary, pd.DataFrame(rows)


def write_doc(results: Path, doc: Path, args) -> None:
    df = pd.DataFrame(_store.read(results))
    if df.empty:
        print("no results yet")
        return
    summary, paired = tables(df)
    seconds = df.drop_duplicates(["dataset", "cohort", "method", "seed", "fold"]).groupby(
        ["dataset", "method"], sort=False).seconds.median().round(1).unstack("method")
    doc.parent.mkdir(parents=True, exist_ok=True)
    # a hand-written "## Reading" section (the commands run, what the numbers say) survives
    reading = doc.read_text().partition("\n## Reading")[2] if doc.exists() else ""
    doc.write_text(f"""# Mutual learning against its baselines

Produced by `benchmarks/mutual.py` (the exact commands are under Reading; results:
`{results}`, resumable; this page: `python benchmarks/mutual.py --doc-only`). Same seeds, folds, epochs, early stopping and per-architecture
hyper-parameters for every method. Test accuracy of each student at its own best validation
epoch, mean ± std over runs (node: seeds on the public split; graph: stratified folds).
Defaults: `mutualgnn/config.py` (`MutualConfig`) and `mutualgnn/students.py` (`DEFAULTS`).

## Accuracy (%)

{summary.to_markdown(index=False)}

## Paired difference to the same student trained alone (same seed / fold)

{paired.to_markdown(index=False) if not paired.empty else "(not enough runs yet)"}

## Median seconds per run (whole cohort)

{seconds.to_markdown()}
""" + (f"\n## Reading{reading}" if reading else ""))
    print(summary.to_markdown(index=False))
    print(paired.to_markdown(index=False) if not paired.empty else "")


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
