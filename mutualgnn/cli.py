"""The ``mutualgnn`` command line: a thin layer over :mod:`mutualgnn`'s Python API.

``--help`` answers at once: only click is imported here; each command imports the API it calls
in its body (the one module allowed imports inside functions: tests/test_layout.py). One
language (docs/cli.md): ``-d -s -m -j`` and ``-o/--out`` for what a command writes; a folder it
reads is its argument; ``--folds`` counts folds, ``--run-folds`` picks them (a suite's keys)."""

from __future__ import annotations

import contextlib
import sys
from functools import partial
from pathlib import Path

import click

#: the choices --help lists, named here so that --help imports no registry (they import torch);
#: tests/test_cli.py checks them against mutualgnn.config's
METHOD_NAMES = (
    "independent",
    "ensemble",
    "dml",
    "gml",
    "gml-no-alw",
    "gml-no-entropy",
    "gml-sharpen",
    "online-ensemble",
    "kd",
)
COORDINATORS = ("alw", "gate", "temperature", "uniform", "sharpen")
FEATURES = ("raw", "standard", "auto")
FORMATS = ("md", "csv", "latex", "all")
DATASETS = (
    "cora, citeseer, pubmed, MUTAG, PROTEINS, ENZYMES, ogbn-arxiv, ogbn-products, "
    "ogbg-molhiv, karate, minigc, tu:NAME for any TU dataset, or FILE.bin: graphs saved "
    "with dgl.save_graphs (README); any case."
)


@contextlib.contextmanager
def _reported(*extra):
    """The API's errors (and ``extra``) as click errors: one line, no traceback."""
    try:
        yield
    except Exception as exc:
        from .config import ConfigError
        from .data import DatasetError
        from .students import StudentError
        from .training import DivergenceError
        from .training.distributed import DistributedError

        if isinstance(
            exc,
            (ConfigError, DatasetError, StudentError, DistributedError, DivergenceError, *extra),
        ):
            raise click.ClickException(str(exc)) from None
        raise


# options that mean the same in every command, defined once
_data_dir = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    show_default="$MUTUALGNN_DATA_DIR, else ~/.cache/mutualgnn/datasets",
    help="Folder with the raw dataset files (Cora's ship with the package).",
)
_threads = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="the cores available",
    help="Torch and DGL threads.",
)

_out_folder = partial(
    click.option, "-o", "--out", type=click.Path(file_okay=False), help="Folder the results go to."
)
_seeds = partial(click.option, "--seeds", help="Seeds, e.g. 0-9 or 0,1,2.")
_settings = partial(click.option, "--set", "assignments", multiple=True, metavar="KEY=VALUE")
_format = click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="all",
    help="Table formats to write (all: md, csv and latex).",
    callback=lambda ctx, param, v: FORMATS[:3] if v == "all" else (v,),
)


def _split(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


CONTEXT = dict(help_option_names=["-h", "--help"], show_default=True, max_content_width=100)


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="mutualgnn")
def main():
    """Graph Mutual Learning: cohorts of small GNNs that teach each other.

    Start with `mutualgnn bench` (the quickstart suite: Cora, a few minutes, no download);
    `mutualgnn COMMAND --help` for each command's options; docs/cli.md for all of them."""


@main.command()
@_data_dir
def datasets(data_dir):
    """List the datasets and whether their files are present."""
    import pandas as pd
    from .data import dataset_table, default_data_dir

    rows = dataset_table(data_dir)
    click.echo(f"data directory: {data_dir or default_data_dir()}")
    click.echo(pd.DataFrame(rows).to_string(index=False))


@main.command()
@click.option("-d", "--dataset", default=None, show_default="karate", help=DATASETS)
@click.option(
    "-s",
    "--students",
    default=None,
    show_default="gcn",
    help="Comma-separated students: built-in (gcn, gat, sage, gin, mlp; any case), "
    "module.path:Class, or a name given with mutualgnn.register_student; "
    "e.g. gcn,my_package.models:MySAGE.",
)
@click.option(
    "-m",
    "--method",
    type=click.Choice(METHOD_NAMES, case_sensitive=False),
    default=None,
    show_default="independent",
    help="Training method.",
)
@click.option(
    "--coordinator",
    type=click.Choice(COORDINATORS, case_sensitive=False),
    default=None,
    show_default="alw",
    help="Coordinator of gml and gml-no-entropy.",
)
@click.option(
    "--features",
    type=click.Choice(FEATURES, case_sensitive=False),
    default=None,
    show_default="raw",
    help="Node features as loaded, or standardised by the training rows' statistics.",
)
@_seeds(default=None, show_default="0")
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=None,
    show_default="10",
    help="How many cross-validation folds (graph datasets without an official split).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    show_default="node 500, graph 350",
    help="Maximum epochs; training stops earlier after train.patience (100) epochs "
    "without a better validation score.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="the cores available",
    help="Torch and DGL threads; 1 makes --fanouts runs repeat exactly.",
)
@click.option(
    "--fanouts",
    default=None,
    metavar="N,N",
    show_default="full batch",
    help="Node datasets: train on mini-batches of nodes, sampling this many neighbours "
    "per layer, e.g. 10,10.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    show_default="32 graphs; 1024 nodes with --fanouts",
    help="Graphs per mini-batch, or seed nodes per mini-batch with --fanouts.",
)
@_data_dir
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML file of settings (ExperimentConfig's keys); options override it.",
)
@_settings(help="Override a setting, e.g. --set train.patience=50 --set hparams.gcn.dropout=0.2.")
@click.option(
    "-o",
    "--out",
    "--output",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write one row per (seed, fold, student) to FILE.json or FILE.csv.",
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the students' best checkpoints in DIR (for `mutualgnn predict DIR`).",
)
@click.option(
    "--device",
    default=None,
    metavar="DEVICE",
    show_default="cpu",
    help="Where to train: cpu, cuda, cuda:N, or auto (cuda when torch sees a GPU). "
    "GPUs need the CUDA builds of torch and DGL.",
)
@click.option(
    "--distributed",
    "ranks",
    type=click.IntRange(min=1),
    default=None,
    metavar="W",
    help="Spread the students over W local processes (torch.distributed; nccl with a "
    "GPU per rank on cuda); under torchrun, over its ranks instead.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    help="Say what is trained and show progress (on stderr).",
)
def run(
    dataset,
    students,
    method,
    coordinator,
    features,
    seeds,
    folds,
    epochs,
    threads,
    fanouts,
    batch_size,
    data_dir,
    config_file,
    assignments,
    out,
    save_dir,
    device,
    ranks,
    progress,
):
    """Train a cohort of students on one dataset; print test scores."""
    from .config import ConfigError, ExperimentConfig, apply_overrides, load_yaml
    from .data import load_dataset
    from .experiment import run_experiment
    from .files import check_file, check_folder
    from .launch import from_environment, run_distributed
    from .students import built_in_students

    try:
        with _reported(ValueError):  # ValueError: a student breaking the contract
            if out and Path(out).suffix.lower() not in (".json", ".csv"):
                raise ConfigError(f"--out must end in .json or .csv, got '{out}'")
            if out:  # every output path is checked before any work
                check_file(out, "--out")
            if save_dir:
                check_folder(save_dir, "--save")
            if students:  # built-in names in any case
                students = ",".join(
                    s.strip().lower() if s.strip().lower() in built_in_students() else s.strip()
                    for s in students.split(",")
                )
            data = load_yaml(config_file) if config_file else {}
            for key, value in {
                "dataset": dataset,
                "students": students,
                "method": method,
                "seeds": seeds,
                "folds": folds,
                "data_dir": data_dir,
                "features": features,
                "train.epochs": epochs,
                "train.threads": threads,
                "train.fanouts": fanouts,
                "train.batch_size": batch_size,
                "train.device": device,
                "mutual.coordinator": coordinator,
            }.items():
                if value is not None:  # the options beat the file
                    section, _, key = key.rpartition(".")
                    (data.setdefault(section, {}) if section else data)[key] = value
            config = ExperimentConfig.from_dict(apply_overrides(data, assignments))
            run_device = config.train.torch_device()  # clear errors before any work
            loaded = load_dataset(config.dataset, config.data_dir)
            if batch_size is not None and loaded.task == "node" and not config.train.fanouts:
                raise ConfigError(
                    f"--batch-size sets the seed nodes per mini-batch of sampled "
                    f"training, but {config.dataset} trains full-batch: add "
                    f"--fanouts (e.g. --fanouts 10,10) or drop --batch-size"
                )
            exchange = from_environment(run_device)  # a rank of a torchrun job
            first = exchange is None or exchange.rank == 0
            if progress and first:
                _announce(config, loaded, hint=not (students or method or config_file))
            if exchange is not None:
                result = run_experiment(
                    config,
                    loaded,
                    progress=progress and first,
                    save_dir=save_dir if first else None,
                    exchange=exchange,
                )
                if not first:
                    return  # rank 0 reports
            elif ranks and ranks > 1:
                result = run_distributed(
                    config, ranks, loaded, progress=progress, save_dir=save_dir
                )
            else:
                result = run_experiment(config, loaded, progress=progress, save_dir=save_dir)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    table = result.summary()
    score = f"test {'ROC-AUC' if loaded.metric == 'rocauc' else 'accuracy'} (%)"
    table[score] = [f"{100 * m:.2f} ± {100 * s:.2f}" for m, s in zip(table["mean"], table["std"])]
    click.echo(
        f"{config.dataset}: method {config.method}, {len(config.seeds)} seed(s)"
        + ("" if result.records["fold"].isna().all() else f", {config.folds} folds")
    )
    click.echo(table[["student", "arch", score, "count"]].to_string(index=False))
    if out:
        click.echo(f"wrote {len(result.records)} rows to {result.write(out)}")


def _announce(config, dataset, hint: bool) -> None:
    """One line on stderr before a run trains: what, how often, for how long at most."""
    train = config.train.resolved(dataset.task)
    splits = len(dataset.splits(folds=config.folds, seed=config.split_seed))
    folds = f" x {splits} folds" if splits > 1 else ""
    click.echo(
        f"{dataset.name}: {', '.join(config.students)} trained with {config.method}, "
        f"{len(config.seeds)} seed(s){folds}, at most {train.epochs} epochs each (early "
        f"stop after {train.patience} without a better validation score)"
        + ("; for mutual learning try -s gcn,gat -m gml" if hint else ""),
        err=True,
    )


@main.command()
@click.argument("model_dir", metavar="MODEL_DIR", type=click.Path(file_okay=False))
@click.option(
    "-d",
    "--dataset",
    default=None,
    show_default="the one it was trained on",
    help="Dataset to evaluate on.",
)
@_data_dir
def predict(model_dir, dataset, data_dir):
    """Reload saved students (run --save); check their test score."""
    import pandas as pd
    from .data import load_dataset
    from .saved import evaluate_saved, read_config

    with _reported():
        config = read_config(model_dir)
        data = load_dataset(dataset or config.dataset, data_dir or config.data_dir)
        rows = pd.DataFrame(evaluate_saved(model_dir, data))
    rows["match"] = rows["recorded"] == rows["reproduced"]
    click.echo(rows.to_string(index=False))
    if not rows["match"].all():
        raise click.ClickException("reproduced test accuracy differs from the recorded one")


@main.command()
@click.option("-d", "--dataset", default="cora", help="A node dataset.")
@click.option(
    "--pairs",
    default="gcn-gat,gcn-sage,gat-sage,gcn-gcn",
    help="Architecture pairs; a-a compares two initialisations of one architecture.",
)
@_seeds(default="0-2")
@_out_folder(default="results/cka")
@_threads
@_data_dir
@_settings(help="Override a setting, e.g. --set train.epochs=200.")
def cka(dataset, pairs, seeds, out, threads, data_dir, assignments):
    """Linear CKA of two students' hidden layers: alone vs GML."""
    from .analyses import cka_study, cka_summary, write_study
    from .bench.plots import cka_heatmaps
    from .config import ConfigError, parse_numbers

    with _reported(ValueError):
        pair_list = [tuple(p.split("-")) for p in pairs.lower().split(",")]
        if any(len(p) != 2 for p in pair_list):
            raise ConfigError(f"--pairs takes a-b pairs like gcn-gat, got '{pairs}'")
        config, loaded = _analysis_setup(dataset, data_dir, threads, assignments, out)
        frame = cka_study(
            loaded,
            pair_list,
            parse_numbers(seeds),
            config,
            progress=lambda row: click.echo(
                f"{row['pair']} {row['method']} seed {row['seed']}: CKA {row['cka']:.3f}"
            ),
        )
    click.echo(write_study(out, "cka", frame, cka_summary(frame)))
    cka_heatmaps(frame, Path(out) / "cka.png")
    click.echo(f"wrote cka.csv, cka.md, cka.png to {out}")


@main.command()
@click.option("-d", "--dataset", default="cora", help="A node dataset.")
@click.option("--teacher", default="gcn", help="Teacher architecture.")
@click.option(
    "--peer",
    default="gat",
    help="The teacher's GML partner (the GML teacher is trained in a teacher,peer cohort).",
)
@_seeds(default="0-2")
@_out_folder(default="results/distil")
@_threads
@_data_dir
@_settings(help="Override a setting, e.g. --set mutual.lam=0.5 --set train.epochs=200.")
def distil(dataset, teacher, peer, seeds, out, threads, data_dir, assignments):
    """Distil a GNN trained alone and one trained with GML into an MLP."""
    from .analyses import distillation_study, distillation_summary, write_study
    from .config import parse_numbers

    with _reported(ValueError):
        config, loaded = _analysis_setup(dataset, data_dir, threads, assignments, out)
        frame = distillation_study(
            loaded,
            teacher.lower(),
            peer.lower(),
            parse_numbers(seeds),
            config,
            progress=lambda r: click.echo(
                f"seed {r['seed']} {r['teacher']}: teacher {100 * r['teacher_test_acc']:.1f}, "
                f"distilled MLP {100 * r['mlp_distilled_test_acc']:.1f}"
            ),
        )
    click.echo(write_study(out, "distil", frame, distillation_summary(frame)))
    click.echo(f"wrote distil.csv, distil.md to {out}")


def _analysis_setup(dataset, data_dir, threads, assignments, out):
    """The config (quiet training, ``--set`` applied) and the loaded dataset of an analysis,
    once its output folder ``out`` is known to be writable."""
    from .config import ExperimentConfig, apply_overrides
    from .data import load_dataset
    from .files import check_folder

    check_folder(out, "--out")
    data = {"dataset": dataset, "data_dir": data_dir, "train": {"progress": False}}
    if threads:
        data["train"]["threads"] = threads
    config = ExperimentConfig.from_dict(apply_overrides(data, assignments))
    return config, load_dataset(config.dataset, config.data_dir)


@main.command()
@click.option(
    "--suite",
    "suite_name",
    default="quickstart",
    help="A shipped suite (see --list) or the path of a YAML file.",
)
@_out_folder(default=None, show_default="results/SUITE")
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
@_threads
@_data_dir
@_format
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
    from .bench import load_suite, outcome_lines, plan_summary, projection, run_suite, suite_names
    from .files import check_folder

    if list_suites:
        for name in suite_names():
            click.echo(f"{name}: {load_suite(name).description.strip()}")
        return
    try:
        with _reported(ValueError):
            suite = load_suite(suite_name)
            if run_folds is not None:
                suite = dataclasses.replace(suite, run_folds=run_folds)
            out = check_folder(out or Path("results") / suite.name, "--out")
            which = dict(datasets=_split(datasets), methods=_split(methods and methods.lower()))
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
@_format
@click.option("--plots/--no-plots", default=True, help="Also write PNG plots.")
def table(directory, formats, plots):
    """Write the tables and plots of a results folder (bench)."""
    from .files import check_folder

    with _reported():
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
    "for its own folders, it keeps its '## Reading' section.",
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
    from .bench.report import write_results_page
    from .files import check_file, check_folder

    command = "mutualgnn report " + " ".join(directories) + f" --out {doc}"
    with _reported():
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
@_data_dir
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
    from .bench import verify
    from .config import parse_numbers

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

    with _reported():
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
    from .bench import tabulate

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = tabulate(directory, formats, plots=plots)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    return paths
