"""What mutual learning costs: milliseconds per epoch of each method on a suite's cohorts,
measured in one process, the methods interleaved and repeated in a rotating order (so a change
of load on the shared machine, and the slower first fit of a round, hit every method alike),
next to the accuracy the suite's results folder records.

    python benchmarks/cost.py --suite paper --results benchmarks/results/paper --epochs 10 --repeats 6 --doc docs/analyses.md

Each measurement is a fit of the suite's own configuration for (dataset, cohort, method) on seed
0 and the first fold, shortened to ``--epochs`` epochs with early stopping off; an epoch is what
`fit` does per epoch (one training step over the training rows, all mini-batches for graph
tasks, plus evaluation of every student). ``x independent`` is the ratio of medians to the same
cohort trained with ``independent`` (the students side by side, no mutual terms), same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics

import pandas as pd
import torch

from docsection import write_section
from mutualgnn import load_dataset
from mutualgnn.bench import ResultStore, RunSpec, load_suite, records_frame, spec_config
from mutualgnn.data import task_of
from mutualgnn.experiment import run_once
from mutualgnn.provenance import versions

METHODS = ("independent", "dml", "gml")


def epoch_ms(config, dataset, split) -> float:
    """Milliseconds per epoch of one fit of ``config`` (seed 0, ``split``)."""
    result = run_once(config, dataset, 0, split).fit
    return 1000 * result.seconds / result.epochs_run


def shortened(config, epochs: int):
    train = dataclasses.replace(
        config.train, epochs=epochs, patience=epochs, progress=False, threads=1
    )
    return dataclasses.replace(config, train=train)


def measure(
    suite, dataset_name: str, cohort: str, methods, epochs: int, repeats: int, data_dir=None
) -> dict:
    """{method: [ms per epoch, one per repeat]} for one dataset and cohort of ``suite``."""
    configs = {
        m: shortened(
            spec_config(suite, RunSpec(dataset_name, cohort, m, 0, 0, ""), data_dir), epochs
        )
        for m in methods
    }
    dataset = load_dataset(dataset_name, data_dir)
    split = dataset.splits(folds=suite.folds, seed=configs[methods[0]].split_seed)[0]
    run_once(shortened(configs[methods[0]], 2), dataset, 0, split)  # warm-up: lazy set-up, caches
    times = {m: [] for m in methods}
    for r in range(repeats):
        # rotate the order: the first fit of a round runs measurably slower here (PubMed:
        # independent first 730 ms/epoch, last 624 ms), so each method leads equally often
        for m in methods[r % len(methods) :] + methods[: r % len(methods)]:
            times[m].append(epoch_ms(configs[m], dataset, split))
    return times


def accuracy(results, dataset: str, cohort: str, method: str):
    """Mean single-student test accuracy (%) of ``method`` in a results folder, or None."""
    frame = records_frame(ResultStore(results).read()) if results else pd.DataFrame()
    if frame.empty:
        return None
    rows = frame.query(
        "dataset == @dataset and cohort == @cohort and method == @method "
        "and model != 'ensemble' and variant == ''"
    )
    return None if rows.empty else round(float(100 * rows.test_acc.mean()), 1)


def table(suite, datasets, methods, epochs, repeats, results=None, data_dir=None) -> pd.DataFrame:
    rows = []
    for name in datasets:
        for cohort in suite.cohorts_for(name, task_of(name)):
            times = measure(suite, name, cohort, methods, epochs, repeats, data_dir)
            base = statistics.median(times["independent"]) if "independent" in times else None
            for m in methods:
                ms = statistics.median(times[m])
                rows.append(
                    {
                        "dataset": name,
                        "cohort": cohort,
                        "method": m,
                        "ms/epoch (median)": round(ms, 1),
                        "x independent": round(ms / base, 2) if base else None,
                        "student acc % (suite runs)": accuracy(results, name, cohort, m),
                    }
                )
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="paper")
    ap.add_argument("--datasets", default=None, help="comma-separated; default: the suite's")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--results", default=None, help="the suite's results folder (accuracies)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=6, help="a multiple of the methods' count")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--doc", default=None, help="write the table into this markdown file")
    ap.add_argument("--section", default="Cost per epoch, the methods side by side")
    args = ap.parse_args()
    torch.set_num_threads(1)
    suite = load_suite(args.suite)
    datasets = args.datasets.split(",") if args.datasets else suite.datasets
    methods = args.methods.split(",")
    if args.repeats % len(methods):
        ap.error(
            f"--repeats {args.repeats}: use a multiple of {len(methods)} (the methods' count), "
            "so each method leads a round equally often"
        )
    frame = table(suite, datasets, methods, args.epochs, args.repeats, args.results, args.data_dir)
    text = frame.to_markdown(index=False)
    print(text)
    if args.doc:
        command = " ".join(
            ["python benchmarks/cost.py", f"--suite {args.suite}"]
            + ([f"--datasets {args.datasets}"] if args.datasets else [])
            + ([f"--results {args.results}"] if args.results else [])
            + [f"--epochs {args.epochs} --repeats {args.repeats} --doc {args.doc}"]
        )
        write_section(
            args.doc,
            args.section,
            f"""
Command: `{command}`

Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared; one torch thread.
Versions: {", ".join(f"{k} {v}" for k, v in versions().items())}.
Each time: median over {args.repeats} repeats of a {args.epochs}-epoch fit of the suite's
configuration (seed 0, first fold), the methods interleaved in one process, each leading a round
equally often; `x independent`: against the same cohort trained with `independent`, same run. Accuracy: mean single-student test
accuracy (%) of the suite's runs in `{args.results}`.

{text}
""",
        )


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
