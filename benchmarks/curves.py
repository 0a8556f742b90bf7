"""Write ``curves.jsonl`` (the per-epoch curves a results folder's figures draw, see
mutualgnn/bench/curves.py) for a folder stored before the bench runner kept them.

From the folder's ``histories.jsonl`` (the runner's per-epoch log, not committed). The
representative run of each dataset (its first final run with each ``--methods`` method) that
it lacks is first trained again from its stored record by the package's own path
(:func:`mutualgnn.bench.verify.rerun`, as ``mutualgnn verify`` does), one at a time; its
history is appended to ``histories.jsonl`` only when the rerun gives every stored number again
(:func:`mutualgnn.bench.verify.differences`), else the differences are printed.
A group already in ``curves.jsonl`` is kept as it is.

    python benchmarks/curves.py benchmarks/results/fair --methods gml
    python benchmarks/figures.py benchmarks/results/fair   # then redraws the figures from it
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time

from mutualgnn.bench.curves import CURVES_FILE, append_curve
from mutualgnn.bench.record import differences
from mutualgnn.bench.store import ResultStore, history_key
from mutualgnn.bench.suite import KEY

# the module (the package's name `verify` is its function)
verifying = importlib.import_module("mutualgnn.bench.verify")
#: set in the script run again at the stored kernel settings (:func:`at_stored_kernels`)
AGAIN = "MUTUALGNN_CURVES_AT_STORED_KERNELS"


def representatives(records: list, methods, datasets=None) -> list:
    """The first final, non-failed record of each (dataset, method)."""
    chosen = {}
    for r in records:
        if r.failed or r.tuning:
            continue
        if r.method in methods and (not datasets or r.dataset in datasets):
            chosen.setdefault((r.dataset, r.method), r)
    return list(chosen.values())


def rerun_history(record, data_dir=None, datasets=None):
    """(the rerun's record, its per-epoch history): :func:`verify.rerun`, with the fit
    it makes kept (its ``run_once`` wrapped, nothing else changed)."""
    made = []
    plain = verifying.run_once

    def keeping(*args, **kwargs):
        made.append(plain(*args, **kwargs))
        return made[-1]

    verifying.run_once = keeping
    try:
        now = verifying.rerun(record, data_dir, datasets)
    finally:
        verifying.run_once = plain
    history = [
        {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
        for row in made[-1].fit.history
    ]
    return now, history


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--methods", default="gml", help="comma-separated (default gml)")
    ap.add_argument("--datasets", default=None, help="comma-separated (default: all)")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    store = ResultStore(args.folder)
    records = store.records()
    rerun_missing(store, records, args)
    by_key = {r.key: r for r in records}
    kept = sum(
        append_curve(args.folder, by_key[history_key(h)], h["history"]) is not None
        for h in store.histories()
        if history_key(h) in by_key
    )
    print(f"{kept} run(s) from {store.histories_path} added to {CURVES_FILE}")


def at_stored_kernels(todo: list) -> None:
    """Run this script again, in place, with the kernel settings the runs of ``todo`` were
    computed with (:func:`verify.kernel_env`: torch's CPU level and MKL's path) where they are
    not this process's: a run computed at pinned kernels reruns to its numbers only at them.
    Returns when this process already has them (or is the script run again)."""
    envs = {tuple(sorted(verifying.kernel_env(r.versions).items())) for r in todo}
    if len(envs) > 1:
        raise SystemExit(f"the runs to rerun were computed with several kernel settings: {envs}")
    if not envs or dict(next(iter(envs))) == verifying.kernel_env_here():
        return
    if os.environ.get(AGAIN):
        print("this machine cannot rerun at the stored kernel settings; rerunning here")
        return
    env = {k: v for k, v in os.environ.items() if k not in dict(next(iter(envs)))}
    env.update({k: v for k, v in next(iter(envs)) if v is not None}, **{AGAIN: "1"})
    print(f"rerunning at the stored kernel settings {dict(next(iter(envs)))}", flush=True)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def rerun_missing(store, records, args) -> None:
    """Rerun each representative run the folder's ``histories.jsonl`` lacks (at its stored
    kernel settings, :func:`at_stored_kernels`) and, when its numbers are the stored ones,
    append its history there (as the runner would have)."""
    have = {history_key(h) for h in store.histories()}
    datasets = args.datasets.split(",") if args.datasets else None
    loaded = {}
    todo = [
        r for r in representatives(records, args.methods.split(","), datasets) if r.key not in have
    ]
    at_stored_kernels(todo)
    for record in todo:
        start = time.perf_counter()
        now, history = rerun_history(record, args.data_dir, loaded)
        differs = differences(record, now)
        took = time.perf_counter() - start
        if differs:
            print(f"{record.label()}: rerun differs ({took:.0f} s), not kept: {differs}")
            continue
        with open(store.histories_path, "a") as fh:
            fh.write(json.dumps({**dict(zip(KEY, record.key)), "history": history}) + "\n")
        print(f"{record.label()}: the same numbers again ({took:.0f} s); history kept", flush=True)


if __name__ == "__main__":
    main()
