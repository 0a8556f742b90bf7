"""Epoch time and peak memory of a cohort of K = 1, 2, 4 same-architecture students, with the
students run one by one (``train.fuse=False``) and fused (``train.fuse=True``), measured in the
same process, interleaved, repeated; the table reports medians and the ratios to one student.

    python benchmarks/speed.py --cases cora:gcn,citeseer:gcn,pubmed:gcn --epochs 20 --repeats 5 --doc docs/performance.md

An epoch is what `fit` does per epoch: one training step over the training rows (graph tasks:
all mini-batches) plus the evaluation of every student on validation and test rows. GML terms
are on (lam 1, gamma 0.05, the ALW coordinator), as in the method's runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import torch

from docsection import write_section
from mutualgnn import TrainConfig, build_student, fit, load_dataset, seed_everything
from mutualgnn.bench import memory_mb, peak_memory_reset
from mutualgnn.provenance import versions
from mutualgnn.training.fused import fusion_key
from mutualgnn.students import student_hparams


def measure(dataset, arch, k, fuse, epochs):
    seed_everything(0)
    hp = student_hparams(arch, dataset.task, dataset.name, None)
    students = [
        build_student(arch, dataset.task, dataset.num_features, dataset.num_classes, **hp)
        for _ in range(k)
    ]
    split = dataset.split if dataset.task == "node" else dataset.splits(10, 0)[0]
    peak_memory_reset()
    before = memory_mb("VmRSS")
    result = fit(
        students,
        dataset,
        split,
        method="gml" if k > 1 else "independent",
        train=TrainConfig(epochs=epochs, patience=epochs, progress=False, threads=1, fuse=fuse),
    )
    return 1000 * result.seconds / result.epochs_run, memory_mb() - before


def _fresh(name, arch, k, fuse, epochs):
    torch.set_num_threads(1)
    return measure(load_dataset(name), arch, k, fuse, epochs)


def measure_fresh(name, arch, k, fuse, epochs):
    """:func:`measure` in a new process: its peak memory is this fit's alone (in the bench's
    long-lived process, memory freed by earlier fits is reused unseen)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_fresh, name, arch, k, fuse, epochs).result()


def _fusable(dataset, arch: str) -> bool:
    student = build_student(
        arch,
        dataset.task,
        dataset.num_features,
        dataset.num_classes,
        **student_hparams(arch, dataset.task, dataset.name, None),
    )
    return fusion_key(student) is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cases",
        default="cora:gcn,citeseer:gcn,pubmed:gcn",
        help="dataset:arch pairs, e.g. cora:gcn,cora:gat,PROTEINS:gin",
    )
    ap.add_argument("--sizes", default="1,2,4")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="each fit in a new process (memory per K; slower: imports per fit)",
    )
    ap.add_argument("--doc", default=None, help="write the table into this markdown file")
    ap.add_argument(
        "--section",
        default="Cohort epoch time: fused vs one by one",
        help="the heading of --doc's section that the table replaces (or adds)",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for case in args.cases.split(","):
        name, arch = case.split(":")
        dataset = load_dataset(name)
        if not args.fresh:
            measure(dataset, arch, 1, True, 2)  # warm-up: caches, lazy initialisation
        times = {}
        for _ in range(args.repeats):  # interleaved, so load changes hit every variant alike
            for k in map(int, args.sizes.split(",")):
                # an architecture without a fused implementation runs one by one either way
                for fuse in (False, True) if _fusable(dataset, arch) else (False,):
                    times.setdefault((k, fuse), []).append(
                        measure_fresh(name, arch, k, fuse, args.epochs)
                        if args.fresh
                        else measure(dataset, arch, k, fuse, args.epochs)
                    )
        one = statistics.median(t for t, _ in times[(1, False)])
        for (k, fuse), samples in times.items():
            ms = statistics.median(t for t, _ in samples)
            rows.append(
                {
                    "dataset": dataset.name,
                    "arch": arch,
                    "K": k,
                    "path": "fused" if fuse else "one by one",
                    "ms/epoch (median)": round(ms, 1),
                    "x one student": round(ms / one, 2),
                    "peak extra MB": round(statistics.median(m for _, m in samples), 1),
                }
            )
            print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    if args.fresh:  # a new process's first epochs include lazy set-up: times are not comparable
        frame = frame.drop(columns=["ms/epoch (median)", "x one student"])
    table = frame.to_markdown(index=False)
    print(table)
    if args.doc:
        section = (
            "" if args.section == ap.get_default("section") else f" --section '{args.section}'"
        )
        section += " --fresh" if args.fresh else ""
        timing = "" if args.fresh else '; "x one student": against K = 1 run one by one, same run'
        memory = (
            "a new process per fit: the peak resident memory of the fit above the process's "
            "memory once the dataset is loaded"
            if args.fresh
            else "the process's peak resident memory during the fit above its resident memory "
            "before it (a lower bound: memory freed by earlier fits is reused unseen)"
        )
        write_section(
            args.doc,
            args.section,
            f"""
Command: `python benchmarks/speed.py --cases {args.cases} --sizes {args.sizes} --epochs {args.epochs} --repeats {args.repeats} --doc {args.doc}{section}`

Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared; one torch thread.
Versions: {", ".join(f"{k} {v}" for k, v in versions().items())}. Each cell: median over
{args.repeats} repeats of a {args.epochs}-epoch fit (train step + evaluation per epoch, GML terms
on for K > 1){timing}. Peak extra MB: {memory}.

{table}
""",
            title="# Performance",
        )


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
