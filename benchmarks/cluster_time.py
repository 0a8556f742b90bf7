"""Wall time of one suite on ``--cluster local:N`` against ``--jobs N``, in one sitting.

Each repeat runs the suite twice into fresh folders, once per engine, the order alternating
between repeats so that a change of the machine's load falls on both alike; the wall time is
run_suite's whole (starting the workers or the cluster included; the tables, written after it by
``bench``, are not). Both store the same numbers (tests/test_cluster.py checks it); this checks
the time.

    python benchmarks/cluster_time.py --suite quickstart --workers 2 --repeats 3 --doc docs/cluster.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsection import write_section  # noqa: E402

from mutualgnn.bench import ResultStore, load_suite, run_suite  # noqa: E402


def timed(suite, workers: int, engine: str) -> tuple:
    """(wall seconds of run_suite, the seconds its runs recorded, summed)."""
    with tempfile.TemporaryDirectory() as out:
        kind = dict(jobs=workers) if engine == "jobs" else dict(cluster=f"local:{workers}")
        start = time.perf_counter()
        run_suite(suite, out, progress=False, log=lambda *_: None, **kind)
        wall = time.perf_counter() - start
        return wall, sum(r.seconds for r in ResultStore(out).read())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="quickstart")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--doc", default=None, help="write the table into this page's section")
    args = parser.parse_args(argv)
    suite = load_suite(args.suite)
    walls, inside = {"jobs": [], "cluster": []}, {"jobs": [], "cluster": []}
    loads = [os.getloadavg()[0]]
    for repeat in range(args.repeats):
        order = ("jobs", "cluster") if repeat % 2 == 0 else ("cluster", "jobs")
        for engine in order:
            wall, runs = timed(suite, args.workers, engine)
            walls[engine].append(wall)
            inside[engine].append(runs)
            print(engine, f"{wall:.1f} s, runs {runs:.1f} s", flush=True)
        loads.append(os.getloadavg()[0])
    jobs, cluster = (statistics.median(walls[k]) for k in ("jobs", "cluster"))
    n = args.workers
    rows = "".join(
        f"| `{name}` | {statistics.median(walls[k]):.1f} | "
        f"{', '.join(f'{w:.1f}' for w in walls[k])} | {statistics.median(inside[k]):.1f} |\n"
        for k, name in (("jobs", f"--jobs {n}"), ("cluster", f"--cluster local:{n}"))
    )
    text = (
        "| engine | wall time, median (s) | each repeat (s) | the runs' own seconds, "
        "summed (median) |\n|---|---:|---|---:|\n" + rows + "\n"
        f"`--cluster local:{n}` / `--jobs {n}`: **{cluster / jobs:.2f}** (medians). The suite "
        f"`{args.suite}`, fresh folders, the order alternating; {os.cpu_count()} cores, load "
        f"average {min(loads):.1f}-{max(loads):.1f} (the machine is shared). Command: `python "
        f"benchmarks/cluster_time.py --suite {args.suite} --workers {n} --repeats "
        f"{args.repeats}" + (f" --doc {args.doc}" if args.doc else "") + "`."
    )
    print(text)
    if args.doc:
        write_section(args.doc, "Local cluster against `--jobs`", text)


if __name__ == "__main__":
    main()
