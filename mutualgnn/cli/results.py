"""The commands over results folders: ``bench`` (run a suite), ``table``, ``report``, ``verify``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import (
    data_dir_option,
    format_option,
    main,
    out_option,
    reported,
    split_list,
    threads_option,
)


@main.command()
@click.option(
    "--suite",
    "suite_name",
    default="quickstart",
    help="A shipped suite (see --list) or the path of a YAML file.",
)
@out_option(default=None, show_default="results/SUITE")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    help="Runs trained in parallel processes, one torch thread each (N >= 2; with 1, "
    "a run uses --threads).",
)
@click.option(
    "--cluster",
    default=None,
    metavar="ADDRESS",
    help="Train runs as tasks of a Dask cluster: a scheduler's address "
    "(tcp://host:8786) or local:N worker processes; needs mutualgnn[cluster].",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    help="Skip runs already in --out; --no-resume moves them aside and starts over.",
)
@click.option(
    "-d",
    "--datasets",
    default=None,
    show_default="the suite's",
    help="Only these of the suite's datasets (comma-separated).",
)
@click.option(
    "-m",
    "--methods",
    default=None,
    show_default="the suite's",
    help="Only these of the suite's methods (comma-separated).",
)
@click.option(
    "--run-folds",
    default=None,
    metavar="FOLDS",
    show_default="the suite's run_folds, or all",
    help="Only these folds of a graph dataset's split, by index (e.g. 0-2 or 3,5); the "
    "split stays the suite's (its `folds`, a count).",
)
@threads_option
@data_dir_option
@format_option
@click.option("--list", "list_suites", is_flag=True, help="List the shipped suites and exit.")
@click.option("--plan", "plan_only", is_flag=True, help="Print the plan and its cost; train none.")
@click.option("--progress/--no-progress", default=True, help="Show progress (on stderr).")
def bench(
    suite_name,
    out,
    jobs,
    cluster,
    resume,
    datasets,
    methods,
    run_folds,
    threads,
    data_dir,
    formats,
    list_suites,
    plan_only,
    progress,
):
    """Run a benchmark suite (resumable); write its tables and plots."""
    import dataclasses
    from ..bench import load_suite, outcome_lines, plan_summary, projection, run_suite, suite_names
    from ..files import check_folder

    if list_suites:
        for name in suite_names():
            click.echo(f"{name}: {load_suite(name).description.strip()}")
        return
    try:
        with reported(ValueError):
            suite = load_suite(suite_name)
            if run_folds is not None:
                suite = dataclasses.replace(suite, run_folds=run_folds)
            out = check_folder(out or Path("results") / suite.name, "--out")
            which = dict(
                datasets=split_list(datasets), methods=split_list(methods and methods.lower())
            )
            table = projection(suite, out, data_dir=data_dir, probe=plan_only, **which)
            click.echo(
                plan_summary(table, jobs, full=plan_only, cluster=cluster, kernels=suite.kernels)
            )
            if plan_only:
                return
            counts = run_suite(
                suite,
                out,
                jobs=jobs,
                resume=resume,
                data_dir=data_dir,
                threads=threads,
                progress=progress,
                log=click.echo,
                cluster=cluster,
                **which,
            )
            done, failed = outcome_lines(suite.name, counts, out)
            click.echo(done)
            if failed:
                click.echo(failed, err=True)
            paths = _report(out, formats)
    except KeyboardInterrupt:
        click.echo(
            f"interrupted; finished runs are kept in {out}; rerun the same command to continue",
            err=True,
        )
        sys.exit(130)
    if "md" in formats:  # only tables this call wrote, never older ones
        click.echo((Path(out) / "accuracy.md").read_text())
        paired = Path(out) / "paired.md"
        if paired in paths and "diff vs" in paired.read_text():
            click.echo("Each method against the same student trained alone (same seeds):")
            click.echo(paired.read_text())
    click.echo(f"wrote {len(paths)} file(s) to {out}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@format_option
@click.option("--plots/--no-plots", default=True, help="Also write PNG plots.")
def table(directory, formats, plots):
    """Write the tables and plots of a results folder (bench)."""
    from ..files import check_folder

    with reported():
        check_folder(directory, "the results folder")
        paths = _report(directory, formats, plots=plots)
    if "md" in formats:
        click.echo((Path(directory) / "accuracy.md").read_text())
    click.echo(f"wrote {len(paths)} file(s) to {directory}")


@main.command(name="report")
@click.argument("directories", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--out",
    "--doc",
    "doc",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="PAGE",
    help="The page to write, e.g. docs/results.md. A page written for "
    "other folders (its first lines say which) is refused unless --force; rewritten "
    "for its own folders, it keeps its title and its '## Reading' section.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the page whole, even one written for other folders or not by report.",
)
def report_command(directories, doc, force):
    """Write a results page from result folders (bench).

    The page: its rules, the verdict (GML against every baseline), controls, tuning, accuracy,
    cost; every number from the folders, and the command that rewrites it in its first lines."""
    from ..bench.report import write_results_page
    from ..files import check_file, check_folder

    command = "mutualgnn report " + " ".join(directories) + f" --out {doc}"
    with reported():
        for directory in directories:
            check_folder(directory, "the results folder")
        check_file(doc, "the page")
        path = write_results_page(directories, doc, command, force=force)
    click.echo(f"wrote {path}")


@main.command(name="verify")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=3,
    help="How many stored runs to rerun, drawn reproducibly (--seed).",
)
@click.option(
    "--runs",
    "lines",
    default=None,
    metavar="LINES",
    help="Rerun these runs instead: their line numbers in runs.jsonl, e.g. 3,17 or 1-5.",
)
@click.option(
    "--any",
    "any_cost",
    is_flag=True,
    help="Draw from every run, not only the cheaper half by stored wall time.",
)
@click.option("--seed", type=int, default=0, help="Seed of the draw.")
@data_dir_option
@click.option(
    "--cpu-capability",
    "capability",
    default=None,
    metavar="LEVEL",
    show_default="each run's stored level",
    help="Rerun at this torch CPU kernel level (default, avx2, avx512).",
)
def verify_command(directory, sample, lines, any_cost, seed, data_dir, capability):
    """Rerun stored runs of a results folder; fail unless identical."""
    from ..bench import verify
    from ..config import parse_numbers

    def log(result):
        click.echo(
            f"{'ok' if result.ok else 'DIFFERS'}  line {result.line}: {result.label} "
            f"({result.seconds:.1f} s)"
        )
        for note in result.notes:
            click.echo(f"    note: {note}")
        for name, stored, now in result.differences:
            click.echo(
                f"    {name}: stored {stored!r} (written by commit {result.commit}), now {now!r}"
            )

    with reported():
        results = verify(
            directory,
            sample,
            parse_numbers(lines, "--runs") if lines else None,
            cheap=not any_cost,
            seed=seed,
            data_dir=data_dir,
            log=log,
            capability=capability,
        )
    failed = [r for r in results if not r.ok]
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(results)} rerun(s) differ from the store: "
            + ", ".join(f"line {r.line} ({r.label})" for r in failed)
        )
    click.echo(f"{len(results)} run(s) of {directory} reproduced exactly")


def _report(directory, formats, plots: bool = True) -> list:
    """:func:`~mutualgnn.bench.tabulate`, its warnings (runs stored twice) as plain lines."""
    import warnings
    from ..bench import tabulate

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = tabulate(directory, formats, plots=plots)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    return paths
