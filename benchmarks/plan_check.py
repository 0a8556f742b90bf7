"""How close ``mutualgnn bench --plan`` comes to what a finished suite cost.

For a suite whose runs are all stored (``--store``), per dataset: the core-hours its runs
recorded (their ``seconds``, under the load of the time) against two projections made as a user
would before running it:

- **probe**: an empty results folder, so every configuration is probed
  (:func:`mutualgnn.bench.projection.probe_seconds`: a few epochs, scaled to the epoch budget);
- **half stored**: a folder holding every other stored run (lines 1, 3, 5, ...), so the rest are
  costed by the median seconds of their stored configuration.

    python benchmarks/plan_check.py --suite fair --store benchmarks/results/fair --doc docs/cluster.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsection import write_section  # noqa: E402

from mutualgnn.bench import ResultStore, load_suite  # noqa: E402
from mutualgnn.bench.projection import projection  # noqa: E402


def recorded(store: ResultStore, keys=None) -> pd.Series:
    """Core-hours per dataset of the stored runs (of ``keys`` only, if given) that trained."""
    rows = [
        (r.dataset, r.seconds / 3600)
        for r in store.records()
        if not r.failed and r.same_as is None and (keys is None or r.key in keys)
    ]
    return pd.DataFrame(rows, columns=["dataset", "h"]).groupby("dataset", sort=False)["h"].sum()


def half_store(store: ResultStore, folder: Path) -> set:
    """Copy every other line of ``store`` (and its suite) into ``folder``; the keys left out."""
    lines = store.runs_path.read_text().splitlines(keepends=True)
    (folder / "runs.jsonl").write_text("".join(lines[0::2]))
    shutil.copy(store.dir / "suite.json", folder / "suite.json")
    kept = {r.key for r in ResultStore(folder).records()}
    return {r.key for r in store.records()} - kept


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="fair")
    parser.add_argument("--store", default="benchmarks/results/fair")
    parser.add_argument("--doc", default=None, help="write the table into this page's section")
    args = parser.parse_args(argv)
    suite, store = load_suite(args.suite), ResultStore(args.store)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    probed = (
        projection(suite, out=None, probe=True)
        .groupby("dataset", sort=False)["core_hours_left"]
        .sum()
    )
    probe_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        left_out = half_store(store, Path(tmp))
        halved = (
            projection(suite, out=tmp, probe=False)
            .groupby("dataset", sort=False)["core_hours_left"]
            .sum()
        )
    table = pd.DataFrame(
        {
            "recorded": recorded(store),
            "probe": probed,
            "left out (recorded)": recorded(store, left_out),
            "half stored": halved,
        }
    )
    table.loc["all"] = table.sum()
    table["probe / recorded"] = table["probe"] / table["recorded"]
    table["half stored / left out"] = table["half stored"] / table["left out (recorded)"]
    table = table.round(2).reset_index(names="dataset")
    cols = [
        "dataset",
        "recorded",
        "probe",
        "probe / recorded",
        "left out (recorded)",
        "half stored",
        "half stored / left out",
    ]
    text = (
        table[cols].to_markdown(index=False) + "\n\nCore-hours. **recorded**: the "
        "`seconds` the suite's runs recorded. **probe**: `--plan` into an empty folder, "
        "every configuration probed: each run costed at its whole epoch budget, an upper "
        "bound, since early stopping ends most runs sooner. **half stored**: `--plan` into a "
        "folder holding every other stored run, the rest costed by the median seconds of "
        "their stored configuration, against what those runs recorded (**left out**). "
        "Command: `python "
        f"benchmarks/plan_check.py --suite {args.suite} --store {args.store}"
        + (f" --doc {args.doc}" if args.doc else "")
        + "` "
        f"({os.cpu_count()} cores, load average "
        f"{load:.1f} at the start; the probes took {probe_s:.0f} s)."
    )
    print(text)
    if args.doc:
        write_section(args.doc, f"How close the plan comes: the {args.suite} suite", text)


if __name__ == "__main__":
    main()
