"""How long a bench suite takes, as core-hours and as wall time on ``--jobs`` cores.

Recorded: the ``seconds`` each stored run recorded (runs.jsonl), with the load of the machine at
the time; runs not done yet get the median of the same dataset and method.

    python benchmarks/suite_time.py --suite paper --out benchmarks/results/paper --jobs 2 --doc docs/performance.md

Measured (on an idle machine, once per code version; ``/tmp/before``: a ``git worktree`` of the
older commit): the first seed/fold of every (dataset, cohort, method) of the plan, trained through
the bench's own path (``spec_config``, ``run_once``) for a fixed number of epochs (patience =
epochs), one torch thread; saves s/epoch and set-up seconds per configuration.

    PYTHONPATH=/tmp/before python benchmarks/suite_time.py --suite paper --measure --save before.json
    python benchmarks/suite_time.py --suite paper --measure --save after.json [--epochs-node 10 --epochs-graph 4 --repeats 1 --datasets cora,PROTEINS]

Projection: each run of the plan costs its stored ``epochs_run`` (not stored: the median of its
dataset and method) x the measured s/epoch of its configuration + its set-up seconds.

    python benchmarks/suite_time.py --suite paper --out benchmarks/results/paper --compare before.json after.json --jobs 2 --doc docs/performance.md
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections import Counter, defaultdict

import pandas as pd
import torch

import mutualgnn
from docsection import write_section
from mutualgnn import load_dataset
from mutualgnn.bench import ResultStore, first_runs, load_suite, plan, spec_config
from mutualgnn.experiment import run_once
from mutualgnn.provenance import versions

SECTION = "The paper suite's wall time"
MEASURED_SECTION = "The paper suite's core-hours, measured on an idle machine"


def suite_time(suite_name: str, out, jobs: int) -> pd.DataFrame:
    suite = load_suite(suite_name)
    specs = plan(suite)
    records = {r.key: r for r in ResultStore(out).records()}
    by_method, by_dataset = defaultdict(list), defaultdict(list)
    for r in records.values():
        by_method[(r.dataset, r.method)].append(r.seconds)
        by_dataset[r.dataset].append(r.seconds)
    rows = {}
    for spec in specs:
        row = rows.setdefault(
            spec.dataset,
            dict(dataset=spec.dataset, runs=0, done=0, measured_h=0.0, projected_h=0.0),
        )
        row["runs"] += 1
        done = records.get(spec.key)
        if done is not None:
            row["done"] += 1
            row["measured_h"] += done.seconds / 3600
            row["projected_h"] += done.seconds / 3600
            continue
        like = by_method.get((spec.dataset, spec.method)) or by_dataset.get(spec.dataset)
        row["projected_h"] += statistics.median(like) / 3600 if like else float("nan")
    table = pd.DataFrame(rows.values())
    total = dict(
        dataset="all",
        runs=table["runs"].sum(),
        done=table["done"].sum(),
        measured_h=table["measured_h"].sum(),
        projected_h=table["projected_h"].sum(skipna=False),
    )
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table[f"projected wall h, --jobs {jobs}"] = table["projected_h"] / jobs
    table = table.astype({c: float for c in ("measured_h", "projected_h")})
    return table.rename(
        columns={"measured_h": "core-hours measured", "projected_h": "core-hours projected"}
    ).round(2)


# ------------------------------------------------------------------------------ measured mode
def time_unit(suite, spec, dataset, epochs: int) -> tuple:
    """(s/epoch, set-up s) of one run of ``spec`` cut to ``epochs`` epochs, as the bench runs it
    (:func:`mutualgnn.bench.execute`): set-up = split + ``run_once`` outside ``fit``'s seconds."""
    # a tuned method's final runs time like its tuning runs: the grid's first point stands in
    # for the choice, which does not change the cost of an epoch
    first_point = suite.tuning_points()[0][1] if suite.tuning else None
    config = spec_config(
        suite, spec, threads=1, choices={(spec.dataset, spec.cohort, spec.method): first_point}
    )
    config = dataclasses.replace(
        config, train=dataclasses.replace(config.train, epochs=epochs, patience=epochs)
    )
    gc.collect()
    start = time.perf_counter()
    splits = dataset.splits(folds=suite.folds, seed=config.split_seed)
    run = run_once(
        config, dataset, spec.seed, splits[0] if spec.fold is None else splits[spec.fold]
    )
    wall = time.perf_counter() - start
    return run.fit.seconds / run.fit.epochs_run, wall - run.fit.seconds


def measure(args) -> dict:
    torch.set_num_threads(1)
    suite = load_suite(args.suite)
    # a tuning suite's tuning runs cost what its final runs of the same method cost: time those
    specs = plan(suite, args.datasets.split(",") if args.datasets else None, stage="final")
    first = first_runs(specs)
    units = [s for s in specs if s.key in first]
    began, load_before, configs = time.perf_counter(), os.getloadavg(), []
    for name in dict.fromkeys(s.dataset for s in units):
        dataset = load_dataset(name)
        epochs = args.epochs_node if dataset.task == "node" else args.epochs_graph
        mine = [s for s in units if s.dataset == name]
        for spec in mine:  # warm-up: caches, lazy initialisation, first calls of each method
            time_unit(suite, spec, dataset, 1)
        samples = defaultdict(list)
        for _ in range(args.repeats):  # interleaved: a change of load hits every config alike
            for spec in mine:
                samples[spec].append(time_unit(suite, spec, dataset, epochs))
        for spec in mine:
            configs.append(
                dict(
                    dataset=spec.dataset,
                    cohort=spec.cohort,
                    variant=spec.variant,
                    method=spec.method,
                    seed=spec.seed,
                    fold=spec.fold,
                    epochs=epochs,
                    s_per_epoch=statistics.median(t for t, _ in samples[spec]),
                    setup_s=statistics.median(s for _, s in samples[spec]),
                    samples=[[round(t, 5), round(s, 4)] for t, s in samples[spec]],
                )
            )
            print(
                {
                    k: round(v, 4) if isinstance(v, float) else v
                    for k, v in configs[-1].items()
                    if k != "samples"
                },
                flush=True,
            )
    env = " ".join(f"{k}={os.environ[k]}" for k in ("PYTHONPATH",) if os.environ.get(k))
    return dict(
        suite=args.suite,
        datasets=list(dict.fromkeys(s.dataset for s in units)),
        configs=configs,
        versions=versions(),
        package=os.path.dirname(mutualgnn.__file__),
        command=" ".join(
            filter(None, [env, "python benchmarks/suite_time.py", shlex.join(sys.argv[1:])])
        ),
        arguments=dict(
            epochs_node=args.epochs_node,
            epochs_graph=args.epochs_graph,
            repeats=args.repeats,
            datasets=args.datasets,
            threads=1,
        ),
        machine=dict(
            cores=os.cpu_count(),
            usable_cores=len(os.sched_getaffinity(0)),
            processor=platform.processor() or platform.machine(),
            load_before=[round(x, 2) for x in load_before],
            load_after=[round(x, 2) for x in os.getloadavg()],
        ),
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        measure_seconds=round(time.perf_counter() - began, 1),
    )


def config_key(c) -> tuple:
    return c["dataset"], c["cohort"], c["variant"], c["method"]


def project(suite, out, measured: dict, epochs_from=None) -> dict:
    """Core-hours per dataset of the plan's runs (on ``measured``'s datasets) at its speeds; a
    tuning run at its final run's speed. Epochs: a run's own in ``out``, else the median of its
    dataset and method (else of its dataset) in ``out``, or in ``epochs_from`` when given (a
    suite not run yet borrows another's, e.g. the paper suite's)."""
    speed = {config_key(c): c for c in measured["configs"]}
    records = {r.key: r for r in ResultStore(out).records() if r.epochs_run}
    source = (
        records
        if epochs_from is None
        else {r.key: r for r in ResultStore(epochs_from).records() if r.epochs_run}
    )
    by_method, by_dataset = defaultdict(list), defaultdict(list)
    for r in source.values():
        by_method[(r.dataset, r.method)].append(r.epochs_run)
        by_dataset[r.dataset].append(r.epochs_run)
    hours = defaultdict(float)
    for spec in plan(suite, measured["datasets"]):
        done = records.get(spec.key)
        like = by_method.get((spec.dataset, spec.method)) or by_dataset.get(spec.dataset)
        epochs = done.epochs_run if done else statistics.median(like) if like else float("nan")
        c = speed.get(
            config_key(
                dict(vars(spec), variant="" if spec.variant.startswith("tune:") else spec.variant)
            )
        )
        hours[spec.dataset] += (
            (epochs * c["s_per_epoch"] + c["setup_s"]) / 3600 if c else float("nan")
        )
    return hours


def compare(args, files: list) -> tuple:
    suite = load_suite(args.suite)
    runs = [json.load(open(f)) for f in files]
    if any(r["suite"] != args.suite for r in runs):
        raise SystemExit(f"--compare: a measurement is not of suite {args.suite}")
    datasets = [d for d in runs[0]["datasets"] if all(d in r["datasets"] for r in runs)]
    runs = [dict(r, datasets=datasets) for r in runs]
    recorded = suite_time(args.suite, args.out, args.jobs).set_index("dataset")
    names = ["BEFORE", "AFTER"] if len(runs) == 2 else ["measured"]
    hours = [project(suite, args.out, r, args.epochs_from) for r in runs]
    table = pd.DataFrame(
        [
            {
                "dataset": d,
                "runs": recorded.loc[d, "runs"],
                "core-h recorded": recorded.loc[d, "core-hours projected"],
                **{f"core-h {n} speed": h[d] for n, h in zip(names, hours)},
            }
            for d in datasets
        ]
    )
    total = table.drop(columns="dataset").sum(skipna=False)
    table = pd.concat([table, pd.DataFrame([dict(dataset="all", **total)])], ignore_index=True)
    table["runs"] = table["runs"].astype(int)
    last = f"core-h {names[-1]} speed"
    if len(runs) == 2:
        table["AFTER/BEFORE"] = (table[last] / table["core-h BEFORE speed"]).round(3)
    table[f"wall h {names[-1]}, --jobs {args.jobs}"] = table[last] / args.jobs
    per = [{config_key(c): c["s_per_epoch"] for c in r["configs"]} for r in runs]
    speeds = pd.DataFrame(
        [
            dict(
                zip(("dataset", "cohort", "variant", "method"), key),
                **{f"s/epoch {n}": p.get(key) for n, p in zip(names, per)},
            )
            for key in per[-1]
            if key[0] in datasets
        ]
    )
    if len(runs) == 2:
        speeds["AFTER/BEFORE"] = (speeds["s/epoch AFTER"] / speeds["s/epoch BEFORE"]).round(3)
    if not speeds["variant"].any():
        speeds = speeds.drop(columns="variant")
    return table.round(2), speeds.round(4), runs, names


def describe(run: dict, name: str) -> str:
    v, m, a = run["versions"], run["machine"], run["arguments"]
    return (
        f"- {name}: `{run['command']}` (commit {v.get('commit', 'unknown')}, package "
        f"{v['mutualgnn']}, torch {v['torch']}, dgl {v['dgl']}; {run['date']}; "
        f"{m['usable_cores']} of {m['cores']} cores ({m['processor']}), load average "
        f"{m['load_before'][0]} before, {m['load_after'][0]} after; {a['epochs_node']} epochs "
        f"(node) / {a['epochs_graph']} (graph), median of {a['repeats']}; took "
        f"{run['measure_seconds']:.0f} s)"
    )


def measured_doc(args, table, speeds, runs, names) -> str:
    datasets, suite = runs[0]["datasets"], load_suite(args.suite)
    stored = Counter(str(r.versions.get("commit")) for r in ResultStore(args.out).read())
    which = (
        ""
        if len(datasets) == len(suite.datasets)
        else f" ({', '.join(datasets)}: {len(datasets)} of the suite's {len(suite.datasets)})"
    )
    return f"""
Command: `python benchmarks/suite_time.py --suite {args.suite} --out {args.out} --compare {" ".join(args.compare)} --jobs {args.jobs} --doc {args.doc}`, from the measurements

{chr(10).join(describe(r, n) for r, n in zip(runs, names))}

Measured{which}: the first seed/fold of every (dataset, cohort, method) of the plan,
trained through the bench's own path (`spec_config`, `run_once`: the suite's hyper-parameters, methods
and cohorts) for a fixed number of epochs (patience = epochs: no early stop), one torch thread,
after one warm-up epoch of each; s/epoch is `fit`'s seconds / epochs, set-up the rest of the run
(split, students). Held fixed: the number of epochs of each run, its `epochs_run` as stored in
`{args.out}` (runs not stored: the median of their dataset and method). A run's core-seconds
are epochs_run x s/epoch of its configuration + its set-up seconds. "core-h recorded" sums the
seconds the runs recorded under the load of their time ({len(stored)} commits, most runs
{stored.most_common(1)[0][0]}); wall h is core-hours / {args.jobs} (an ideal split).

{table.to_markdown(index=False)}

Per configuration, s/epoch:

{speeds.to_markdown(index=False)}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="paper")
    ap.add_argument("--out", default="benchmarks/results/paper", help="the suite's results folder")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--doc", default=None, help="write the table into this markdown file")
    ap.add_argument("--measure", action="store_true", help="measure s/epoch of every config")
    ap.add_argument("--save", default=None, help="--measure: write the measurement (JSON) here")
    for name, default in (("--epochs-node", 10), ("--epochs-graph", 4), ("--repeats", 1)):
        ap.add_argument(name, type=int, default=default)
    ap.add_argument("--datasets", default=None, help="--measure: only these, e.g. cora,PROTEINS")
    ap.add_argument(
        "--epochs-from",
        default=None,
        metavar="DIR",
        help="--compare: take runs' epochs from this results folder (a suite not "
        "run yet), e.g. benchmarks/results/paper",
    )
    ap.add_argument(
        "--compare",
        nargs="+",
        metavar="JSON",
        help="project from BEFORE.json [AFTER.json] (saved by --measure --save)",
    )
    args = ap.parse_args()
    if args.measure:
        result = measure(args)
        if args.save:
            with open(args.save, "w") as fh:
                json.dump(result, fh, indent=1)
            print(f"saved {args.save} ({result['measure_seconds']} s)")
        return
    if args.compare:
        if len(args.compare) > 2:
            ap.error("--compare takes BEFORE.json and AFTER.json (or one measurement)")
        table, speeds, runs, names = compare(args, args.compare)
        print(speeds.to_markdown(index=False), "\n")
        print(table.to_markdown(index=False))
        if args.doc:
            write_section(
                args.doc, MEASURED_SECTION, measured_doc(args, table, speeds, runs, names)
            )
        return
    table = suite_time(args.suite, args.out, args.jobs).to_markdown(index=False)
    print(table)
    if args.doc:
        write_section(
            args.doc,
            SECTION,
            f"""
Command: `python benchmarks/suite_time.py --suite {args.suite} --out {args.out} --jobs {args.jobs} --doc {args.doc}`

Seconds as recorded by each run of `mutualgnn bench --suite {args.suite}` (one torch thread per
run, the machine shared with other jobs as it was); runs not done yet are projected with the
median seconds of the same dataset and method (of the dataset, before a method's first run).
Wall time on `--jobs {args.jobs}` cores is the core-hours divided by {args.jobs} (an ideal split).

{table}
""",
        )


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
