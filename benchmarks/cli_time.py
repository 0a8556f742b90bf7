"""How fast the command line answers, and its reference: writes two sections of docs/cli.md.

    python benchmarks/cli_time.py --repeats 5 --doc docs/cli.md

``## Commands``: every command's ``--help`` as click prints it (100 columns), so that the page
is the command line's own text (tests/test_cli.py checks that it names every command and option).
``## Time to answer --help``: ``mutualgnn --help`` and each command's ``--help`` timed as whole
processes (``python -m mutualgnn ...``, what the ``mutualgnn`` script runs: interpreter start,
imports, parsing, printing), the median of ``--repeats`` runs, the commands interleaved so that
a change in the machine's load hits them alike; beside them, the interpreter alone and the
import of the training stack (torch, DGL, pandas: what a command pays once it runs).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import click

from docsection import write_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mutualgnn.cli import main as cli  # noqa: E402

WIDTH = 100


def help_text(args: list) -> str:
    """What ``mutualgnn ARGS --help`` prints, at a fixed width."""
    ctx = click.Context(
        cli,
        info_name="mutualgnn",
        terminal_width=WIDTH,
        **{**cli.context_settings, "max_content_width": WIDTH},
    )
    if not args:
        return cli.get_help(ctx)
    command = cli.commands[args[0]]
    return command.get_help(
        click.Context(
            command, info_name=args[0], parent=ctx, terminal_width=WIDTH, max_content_width=WIDTH
        )
    )


def reference() -> str:
    """The ``## Commands`` section: the group's help, then each command's."""
    parts = [
        "Every command's `--help` as it prints it, written by `python benchmarks/cli_time.py "
        "--doc docs/cli.md`\n(`tests/test_cli.py` checks that it names every command and option).",
        "",
        "```text",
        help_text([]),
        "```",
    ]
    for name in sorted(cli.commands):
        parts += ["", f"### mutualgnn {name}", "", "```text", help_text([name]), "```"]
    return "\n".join(parts)


def measure(cases: dict, repeats: int) -> dict:
    """Seconds of wall time per run of each case (a command line), ``repeats`` rounds."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    times = {label: [] for label in cases}
    for _ in range(repeats):
        for label, argv in cases.items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - start)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs of each command (median)")
    ap.add_argument("--doc", default=None, help="write the two sections into this page")
    args = ap.parse_args()
    python = [sys.executable]
    cases = {"mutualgnn --help": python + ["-m", "mutualgnn", "--help"]}
    cases.update(
        {
            f"mutualgnn {name} --help": python + ["-m", "mutualgnn", name, "--help"]
            for name in sorted(cli.commands)
        }
    )
    context = {
        "python -c pass (the interpreter alone)": python + ["-c", "pass"],
        "python -c 'import mutualgnn.experiment' (torch, DGL, pandas)": python
        + ["-c", "import mutualgnn.experiment"],
    }
    times = measure({**cases, **context}, args.repeats)
    rows = ["| command | median (s) | min (s) | max (s) |", "|---|---:|---:|---:|"]
    for label, samples in times.items():
        rows.append(
            f"| `{label}` | {statistics.median(samples):.2f} | {min(samples):.2f} | "
            f"{max(samples):.2f} |"
        )
        print(rows[-1], flush=True)
    slowest = max(statistics.median(times[label]) for label in cases)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = f"""
Command: `python benchmarks/cli_time.py --repeats {args.repeats} --doc {args.doc}`

Each `--help` timed as a whole process (`python -m mutualgnn ...`, what the `mutualgnn` script
runs), {args.repeats} runs each, interleaved. Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}),
shared (load average {load} when measured); Python {platform.python_version()}, click {version("click")}.
The slowest command's median: {slowest:.2f} s ({"within" if slowest <= 1 else "over"} the 1 s target). The last row is
what a command pays once it runs: before the command line imported its API lazily, `--help`
paid this and more (the analyses, the suites, the launcher).

{chr(10).join(rows)}
"""
    print(body)
    if args.doc:
        write_section(args.doc, "Commands", reference(), title="# The command line")
        write_section(args.doc, "Time to answer --help", body)


if __name__ == "__main__":
    main()
