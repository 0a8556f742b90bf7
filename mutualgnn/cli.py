"""The ``mutualgnn`` command line: a thin layer over :mod:`mutualgnn`'s Python API."""
from __future__ import annotations

import dataclasses
import json
import sys
import warnings
from pathlib import Path

import click
import pandas as pd

from .analyses import cka_study, cka_summary, distillation_study, distillation_summary
from .bench import load_suite, report, run_suite, suite_names, verify
from .bench.page import write_results_page
from .bench.plots import cka_heatmaps
from .config import (COORDINATORS, FEATURES, METHODS, ConfigError, ExperimentConfig, apply_overrides,
                     load_yaml, parse_seeds)
from .data import DatasetError, dataset_table, default_data_dir, load_dataset
from .experiment import run_experiment, summarise
from .files import check_file, check_folder, replacing, write_text
from .launch import from_environment, run_distributed
from .saved import evaluate_saved
from .students import StudentError
from .training import DivergenceError
from .training.distributed import DistributedError

ERRORS = (ConfigError, DatasetError, StudentError, DistributedError, DivergenceError)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mutualgnn")
def main():
    """Graph Mutual Learning: cohorts of small GNNs that teach each other."""


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the raw dataset files [default: $MUTUALGNN_DATA_DIR or "
                   "~/.cache/mutualgnn/datasets].")
def datasets(data_dir):
    """List the known datasets, their task, and whether their files are present."""
    rows = dataset_table(data_dir)
    click.echo(f"data directory: {data_dir or default_data_dir()}")
    click.echo(pd.DataFrame(rows).to_string(index=False))


@main.command()
@click.option("--dataset", "-d", default=None, help="cora, citeseer, pubmed, MUTAG, PROTEINS, "
              "ENZYMES, ogbn-arxiv, ogbn-products, ogbg-molhiv, karate, minigc, tu:NAME for "
              "any TU dataset, or FILE.bin: graphs saved with dgl.save_graphs (README).")
@click.option("--students", "-s", default=None,
              help="Comma-separated students: built-in (gcn, gat, sage, gin, mlp), "
                   "module.path:Class, or a name given with mutualgnn.register_student; "
                   "e.g. gcn,my_package.models:MySAGE.")
@click.option("--method", "-m", type=click.Choice(METHODS), default=None,
              help="Training method [default: independent].")
@click.option("--coordinator", type=click.Choice(COORDINATORS), default=None,
              help="Coordinator of gml and gml-no-entropy [default: alw].")
@click.option("--features", type=click.Choice(FEATURES), default=None,
              help="Node features as loaded, or standardised by the training rows' statistics "
                   "[default: raw].")
@click.option("--seeds", default=None, help="Seeds, e.g. 0-9 or 0,1,2 [default: 0].")
@click.option("--folds", type=click.IntRange(min=2), default=None, help="Cross-validation folds (graph datasets) [10].")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Maximum epochs [node 500, graph 350].")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Torch and DGL threads [default: the cores available]; 1 makes --fanouts runs repeat exactly.")
@click.option("--fanouts", default=None, metavar="N,N",
              help="Node datasets: train on mini-batches of nodes, sampling this many neighbours "
                   "per layer, e.g. 10,10 [default: full batch].")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Graphs per mini-batch, or seed nodes per mini-batch with --fanouts [32, 1024].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the raw dataset files [default: $MUTUALGNN_DATA_DIR].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="YAML file with the experiment's settings (keys of ExperimentConfig).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a setting, e.g. --set train.patience=50 --set hparams.gcn.hidden=32.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write one row per (seed, fold, student) to FILE.json or FILE.csv.")
@click.option("--save", "save_dir", type=click.Path(file_okay=False), default=None,
              help="Keep each student's best checkpoint and the config in DIR (reload them "
                   "with `mutualgnn predict --model DIR`).")
@click.option("--device", default=None, metavar="DEVICE",
              help="Where to train: cpu, cuda, cuda:N, or auto (cuda when torch sees a GPU) "
                   "[default: cpu]. GPUs need the CUDA builds of torch and DGL.")
@click.option("--distributed", "ranks", type=click.IntRange(min=1), default=None, metavar="W",
              help="Spread the students over W local processes (torch.distributed: gloo, or "
                   "nccl with one GPU per rank on cuda); under torchrun the ranks come from "
                   "torchrun instead.")
@click.option("--progress/--no-progress", default=True, help="Show progress bars.")
def run(dataset, students, method, coordinator, features, seeds, folds, epochs, threads, fanouts, batch_size,
        device, data_dir, config_file, assignments, output, save_dir, ranks, progress):
    """Train a cohort of students on one dataset and print test accuracies."""
    try:
        if output and Path(output).suffix.lower() not in (".json", ".csv"):
            raise ConfigError(f"--output must end in .json or .csv, got '{output}'")
        if output:  # every output path is checked before any work
            check_file(output, "--output")
        if save_dir:
            check_folder(save_dir, "--save")
        data = load_yaml(config_file) if config_file else {}
        cli = {"dataset": dataset, "students": students, "method": method, "seeds": seeds,
               "folds": folds, "data_dir": data_dir, "features": features}
        data.update({k: v for k, v in cli.items() if v is not None})
        for section, key, value in (("train", "epochs", epochs), ("train", "threads", threads),
                                    ("train", "fanouts", fanouts),
                                    ("train", "batch_size", batch_size),
                                    ("train", "device", device),
                                    ("mutual", "coordinator", coordinator)):
            if value is not None:
                data.setdefault(section, {})[key] = value
        config = ExperimentConfig.from_dict(apply_overrides(data, assignments))
        run_device = config.train.torch_device()  # clear errors before any work
        loaded = load_dataset(config.dataset, config.data_dir)
        if batch_size is not None and loaded.task == "node" and not config.train.fanouts:
            raise ConfigError(f"--batch-size sets the seed nodes per mini-batch of sampled "
                              f"training, but {config.dataset} trains full-batch: add "
                              f"--fanouts (e.g. --fanouts 10,10) or drop --batch-size")
        exchange = from_environment(run_device)  # a rank of a torchrun job
        if exchange is not None:
            first = exchange.rank == 0
            result = run_experiment(config, loaded, progress=progress and first,
                                    save_dir=save_dir if first else None, exchange=exchange)
            if not first:
                return  # rank 0 reports
        elif ranks and ranks > 1:
            result = run_distributed(config, ranks, loaded, progress=progress, save_dir=save_dir)
        else:
            result = run_experiment(config, loaded, progress=progress, save_dir=save_dir)
    except (*ERRORS, ValueError) as exc:  # ValueError: a student breaking the contract
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    table = summarise(result.records)
    score = f"test {'ROC-AUC' if loaded.metric == 'rocauc' else 'accuracy'} (%)"
    table[score] = [f"{100 * m:.2f} ± {100 * s:.2f}" for m, s in zip(table["mean"], table["std"])]
    click.echo(f"{config.dataset}: method {config.method}, {len(config.seeds)} seed(s)"
               + ("" if result.records["fold"].isna().all() else f", {config.folds} folds"))
    click.echo(table[["student", "arch", score, "count"]].to_string(index=False))
    if output:
        path = Path(output)
        if path.suffix.lower() == ".csv":
            with replacing(path) as fh:
                result.records.to_csv(fh, index=False)
        else:
            # json, not DataFrame.to_json: that rounds floats to at most 15 digits
            rows = result.records.astype(object).where(result.records.notna(), None)
            write_text(path, json.dumps(rows.to_dict("records"), indent=1))
        click.echo(f"wrote {len(result.records)} rows to {path}")


@main.command()
@click.option("--model", "model_dir", required=True, type=click.Path(file_okay=False),
              help="A folder written by `mutualgnn run --save`.")
@click.option("--dataset", "-d", default=None, help="Dataset [default: the one it was trained on].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the raw dataset files [default: $MUTUALGNN_DATA_DIR].")
def predict(model_dir, dataset, data_dir):
    """Reload saved students and recompute their test accuracy against the recorded one."""
    try:
        config = ExperimentConfig.from_dict(_read_config(Path(model_dir)))
        data = load_dataset(dataset or config.dataset, data_dir or config.data_dir)
        rows = pd.DataFrame(evaluate_saved(model_dir, data))
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    rows["match"] = rows["recorded"] == rows["reproduced"]
    click.echo(rows.to_string(index=False))
    if not rows["match"].all():
        raise click.ClickException("reproduced test accuracy differs from the recorded one")


def _read_config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        raise ConfigError(f"{folder} holds no config.json; is it a folder written by "
                          "`mutualgnn run --save`?") from None


@main.command()
@click.option("--dataset", "-d", default="cora", show_default=True, help="A node dataset.")
@click.option("--pairs", default="gcn-gat,gcn-sage,gat-sage,gcn-gcn", show_default=True,
              help="Architecture pairs; a-a compares two initialisations of one architecture.")
@click.option("--seeds", default="0-2", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="results/cka", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the runs, e.g. --set train.epochs=200.")
def cka(dataset, pairs, seeds, out, threads, data_dir, assignments):
    """Linear CKA of two students' hidden layers: trained alone vs with GML."""
    try:
        pair_list = [tuple(p.split("-")) for p in pairs.split(",")]
        if any(len(p) != 2 for p in pair_list):
            raise ConfigError(f"--pairs takes a-b pairs like gcn-gat, got '{pairs}'")
        config, loaded = _analysis_setup(dataset, data_dir, threads, assignments, out)
        frame = cka_study(loaded, pair_list, parse_seeds(seeds), config,
                          progress=lambda row: click.echo(
                              f"{row['pair']} {row['method']} seed {row['seed']}: CKA {row['cka']:.3f}"))
    except (*ERRORS, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    out = _write_analysis(out, "cka", frame, cka_summary(frame))
    cka_heatmaps(frame, out / "cka.png")
    click.echo(f"wrote cka.csv, cka.md, cka.png to {out}")


@main.command()
@click.option("--dataset", "-d", default="cora", show_default=True, help="A node dataset.")
@click.option("--teacher", default="gcn", show_default=True, help="Teacher architecture.")
@click.option("--peer", default="gat", show_default=True,
              help="The teacher's GML partner (the GML teacher is trained in a teacher,peer cohort).")
@click.option("--seeds", default="0-2", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="results/distil", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a setting, e.g. --set mutual.lam=0.5 --set train.epochs=200.")
def distil(dataset, teacher, peer, seeds, out, threads, data_dir, assignments):
    """Distil a GNN trained alone and one trained with GML into a graph-free MLP."""
    try:
        config, loaded = _analysis_setup(dataset, data_dir, threads, assignments, out)
        frame = distillation_study(loaded, teacher, peer, parse_seeds(seeds), config,
                                   progress=lambda r: click.echo(
                                       f"seed {r['seed']} {r['teacher']}: teacher {100 * r['teacher_test_acc']:.1f}, "
                                       f"distilled MLP {100 * r['mlp_distilled_test_acc']:.1f}"))
    except (*ERRORS, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    _write_analysis(out, "distil", frame, distillation_summary(frame))
    click.echo(f"wrote distil.csv, distil.md to {out}")


def _analysis_setup(dataset, data_dir, threads, assignments, out):
    """The config (quiet training, ``--set`` applied) and the loaded dataset of an analysis,
    once its output folder ``out`` is known to be writable."""
    check_folder(out, "--out")
    data = {"dataset": dataset, "data_dir": data_dir, "train": {"progress": False}}
    if threads:
        data["train"]["threads"] = threads
    config = ExperimentConfig.from_dict(apply_overrides(data, assignments))
    return config, load_dataset(config.dataset, config.data_dir)


def _write_analysis(out, name, frame, summary) -> Path:
    """``OUT/NAME.csv`` (one row per run) and ``OUT/NAME.md`` (the summary), echoed."""
    out = Path(out)
    with replacing(out / f"{name}.csv") as fh:
        frame.to_csv(fh, index=False)
    write_text(out / f"{name}.md", summary.to_markdown(index=False) + "\n")
    click.echo(summary.to_markdown(index=False))
    return out


@main.command()
@click.option("--suite", "suite_name", default="smoke", show_default=True,
              help="A shipped suite (see `mutualgnn bench --list`) or the path of a YAML file.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Results folder [default: results/SUITE].")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs trained in parallel processes, one torch thread each (N >= 2; with 1, "
                   "a run uses --threads).")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Skip runs already in --out; --no-resume moves them aside and starts over.")
@click.option("--datasets", default=None, help="Only these of the suite's datasets (comma-separated).")
@click.option("--methods", default=None, help="Only these of the suite's methods (comma-separated).")
@click.option("--folds", default=None, metavar="FOLDS",
              help="Only these folds of a graph dataset's split (e.g. 0-2 or 3,5); the split "
                   "stays the suite's (its `folds`). [default: the suite's run_folds, or all]")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch and DGL threads of a single job [default: the cores available].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the raw dataset files [default: $MUTUALGNN_DATA_DIR].")
@click.option("--format", "formats", type=click.Choice(["md", "csv", "latex", "all"]),
              default="all", show_default=True, help="Table formats written at the end.")
@click.option("--list", "list_suites", is_flag=True, help="List the shipped suites and exit.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def bench(suite_name, out, jobs, resume, datasets, methods, folds, threads, data_dir, formats,
          list_suites, progress):
    """Run a benchmark suite (resumable) and write its tables and plots."""
    if list_suites:
        for name in suite_names():
            click.echo(f"{name}: {load_suite(name).description.strip()}")
        return
    try:
        suite = load_suite(suite_name)
        if folds is not None:
            suite = dataclasses.replace(suite, run_folds=folds)
        out = check_folder(out or Path("results") / suite.name, "--out")
        split = (lambda text: [t.strip() for t in text.split(",") if t.strip()] if text else None)
        counts = run_suite(suite, out, jobs=jobs, resume=resume, datasets=split(datasets),
                           methods=split(methods), data_dir=data_dir, threads=threads,
                           progress=progress, log=click.echo)
        found = (f", {counts['found']} found in the tuning runs (the same computation)"
                 if counts.get("found") else "")
        click.echo(f"suite {suite.name}: {counts['ran']} run(s) trained{found}, "
                   f"{counts['skipped']} already done, results in {out}")
        if counts.get("failed"):
            click.echo(f"{counts['failed']} run(s) failed (diverged), left out of the tables: "
                       f"see {Path(out) / 'failed.md'}", err=True)
        paths = _report(out, _formats(formats))
    except (*ERRORS, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo(f"interrupted; finished runs are kept in {out}; rerun the same command to "
                   "continue", err=True)
        sys.exit(130)
    if "md" in _formats(formats):  # only tables this call wrote, never older ones
        click.echo((Path(out) / "accuracy.md").read_text())
        paired = Path(out) / "paired.md"
        if paired in paths and "diff vs" in paired.read_text():
            click.echo("Each method against the same student trained alone (same seeds):")
            click.echo(paired.read_text())
    click.echo(f"wrote {len(paths)} file(s) to {out}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--format", "formats", type=click.Choice(["md", "csv", "latex", "all"]),
              default="all", show_default=True)
@click.option("--plots/--no-plots", default=True, show_default=True, help="Also write PNG plots.")
def table(directory, formats, plots):
    """Write the tables (and plots) of a results folder made by `mutualgnn bench`."""
    try:
        check_folder(directory, "the results folder")
        paths = _report(directory, _formats(formats), plots=plots)
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    if "md" in _formats(formats):
        click.echo((Path(directory) / "accuracy.md").read_text())
    click.echo(f"wrote {len(paths)} file(s) to {directory}")


@main.command(name="report")
@click.argument("directories", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--doc", type=click.Path(dir_okay=False), default="docs/results.md",
              show_default=True, help="The page to write; its '## Reading' section is kept.")
def report_command(directories, doc):
    """Write the results page from result folders made by `mutualgnn bench`: where the runs
    come from, GML against its best equal-budget baseline (Holm-corrected), the tuning
    choices, accuracy, paired differences and cost; every number from the folders."""
    command = "mutualgnn report " + " ".join(directories) + f" --doc {doc}"
    try:
        for directory in directories:
            check_folder(directory, "the results folder")
        check_file(doc, "the page")
        path = write_results_page(directories, doc, command)
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")


@main.command(name="verify")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--sample", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many stored runs to rerun, drawn reproducibly (--seed).")
@click.option("--runs", "lines", default=None, metavar="LINES",
              help="Rerun these runs instead: their line numbers in runs.jsonl, e.g. 3,17 or 1-5.")
@click.option("--any", "any_cost", is_flag=True,
              help="Draw from every run, not only the cheaper half by stored wall time.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draw.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder with the raw dataset files [default: $MUTUALGNN_DATA_DIR].")
@click.option("--cpu-capability", "capability", default=None, metavar="LEVEL",
              help="Rerun at this torch CPU kernel level (default, avx2, avx512, ...) instead "
                   "of each run's stored one [default: the stored level].")
def verify_command(directory, sample, lines, any_cost, seed, data_dir, capability):
    """Rerun stored runs of a results folder and fail unless every number is identical."""
    def log(result):
        head = f"{'ok' if result.ok else 'DIFFERS'}  line {result.line}: {result.label} " \
               f"({result.seconds:.1f} s)"
        click.echo(head)
        for note in result.notes:
            click.echo(f"    note: {note}")
        for name, stored, now in result.differences:
            click.echo(f"    {name}: stored {stored!r} (written by commit {result.commit}), "
                       f"now {now!r}")

    try:
        results = verify(directory, sample, parse_seeds(lines) if lines else None,
                         cheap=not any_cost, seed=seed, data_dir=data_dir, log=log,
                         capability=capability)
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    failed = [r for r in results if not r.ok]
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(results)} rerun(s) differ from the store: "
            + ", ".join(f"line {r.line} ({r.label})" for r in failed))
    click.echo(f"{len(results)} run(s) of {directory} reproduced exactly")


def _report(directory, formats, plots: bool = True) -> list:
    """:func:`~mutualgnn.bench.report`, its warnings (runs stored twice) as plain lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = report(directory, formats, plots=plots)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    return paths


def _formats(choice):
    return ("md", "csv", "latex") if choice == "all" else (choice,)


if __name__ == "__main__":
    main()
