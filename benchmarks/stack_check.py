"""The test suite on the installed stack, and its row in docs/install.md's ``## Tested stacks``.

    python benchmarks/stack_check.py [--doc docs/install.md] [PYTEST ARGS]

Runs ``pytest -q`` with the interpreter that runs this script (so in the environment of the
stack under test), offline (``MUTUALGNN_DOWNLOAD=0``) and on one thread, and prints the
versions it ran on, the counts and the wall time. With ``--doc``, the run must be the whole
suite (no pytest arguments): its row (keyed by the torch and DGL versions) replaces the row of
the same stack in the page's table and keeps the others, so each stack's row is written in its
own environment: the main stack's by this command in the ``constraints.txt`` environment, the
DGL 2.x stack's by ``.ci/dgl2 --doc docs/install.md``, which builds that environment first.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from docsection import write_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "Tested stacks"
COLUMNS = [
    "torch",
    "DGL",
    "numpy",
    "Python",
    "passed",
    "failed",
    "skipped",
    "pytest wall time",
    "machine",
    "date",
]
COUNTED = ("passed", "failed", "skipped", "error")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def stack() -> dict:
    """The versions the suite runs on, and the machine: the table's first and last columns."""
    import torch

    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU build"
    device = "a GPU" if torch.cuda.is_available() else "no GPU"
    return {
        "torch": f"{_version('torch')} ({build})",
        "DGL": _version("dgl"),
        "numpy": _version("numpy"),
        "Python": platform.python_version(),
        "machine": f"{os.cpu_count()} CPU cores, {device}",
        "date": datetime.date.today().isoformat(),
    }


def counts(summary: str) -> dict:
    """``{'passed': 5, 'failed': 0, 'skipped': 1, 'error': 0}`` from pytest's closing line
    (``5 passed, 1 skipped, 2 warnings in 3.2s``)."""
    found = {
        kind.rstrip("s"): int(n)
        for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)\b", summary)
    }
    return {kind: found.get(kind, 0) for kind in COUNTED}


def run_pytest(args: list) -> tuple:
    """pytest's exit status, its closing line and the wall time in seconds; its output is shown
    as it comes."""
    env = dict(
        os.environ, MUTUALGNN_DOWNLOAD="0", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1")
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )
    out = bytearray()
    while chunk := proc.stdout.read1(4096):
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        out += chunk
    status = proc.wait()
    lines = [line.strip("= ") for line in out.decode(errors="replace").splitlines() if line.strip()]
    return status, (lines[-1] if lines else ""), time.perf_counter() - start


def table_rows(section: str) -> list:
    """The rows of the table of ``section`` (the Markdown of ``## Tested stacks``), as dicts."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    return [dict(zip(COLUMNS, cells)) for cells in rows[2:] if len(cells) == len(COLUMNS)]


def section_of(page: str) -> str:
    return page.partition(f"\n## {HEADING}\n")[2].partition("\n## ")[0]


def render(rows: list) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row[c] for c in COLUMNS) + " |" for row in rows]
    return "\n".join(
        [
            "The whole test suite (`pytest -q`, offline, one thread) on each stack, one row a stack, "
            "each written in that stack's environment by `python benchmarks/stack_check.py --doc "
            "docs/install.md` (for DGL 2.x: `.ci/dgl2 --doc docs/install.md`, which builds the "
            "environment first).",
            "",
            *lines,
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--doc", type=Path, help="write this stack's row into this page")
    options, pytest_args = parser.parse_known_args()
    if options.doc and pytest_args:
        parser.error("--doc records the whole suite: give no pytest arguments with it")
    status, summary, seconds = run_pytest(pytest_args)
    row = {
        **stack(),
        **{k: str(v) for k, v in counts(summary).items() if k != "error"},
        "pytest wall time": f"{seconds // 60:.0f} min {seconds % 60:.0f} s",
    }
    errors = counts(summary)["error"]
    print(", ".join(f"{k} {row[k]}" for k in COLUMNS) + (f", errors {errors}" if errors else ""))
    if options.doc:
        if errors or not summary:
            print(f"not written into {options.doc}: pytest did not finish cleanly ({summary!r})")
            return status or 1
        page = options.doc.read_text() if options.doc.exists() else ""
        key = (row["torch"], row["DGL"])
        rows = [row if (r["torch"], r["DGL"]) == key else r for r in table_rows(section_of(page))]
        rows += [] if row in rows else [row]  # a new stack: last
        write_section(options.doc, HEADING, render(rows), title="# Install")
        print(f"wrote the row into {options.doc}")
    return status


if __name__ == "__main__":
    sys.exit(main())
