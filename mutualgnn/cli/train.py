"""The commands that train and reload a cohort: ``datasets``, ``run``, ``predict``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import (
    COORDINATORS,
    DATASETS,
    FEATURES,
    METHOD_NAMES,
    data_dir_option,
    main,
    reported,
    seeds_option,
    settings_option,
)


@main.command()
@data_dir_option
def datasets(data_dir):
    """List the datasets and whether their files are present."""
    import pandas as pd
    from ..data import dataset_table, default_data_dir

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
@seeds_option(default=None, show_default="0")
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
@data_dir_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML file of settings (ExperimentConfig's keys); options override it.",
)
@settings_option(
    help="Override a setting, e.g. --set train.patience=50 --set hparams.gcn.dropout=0.2."
)
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
    from ..config import ConfigError
    from ..data import load_dataset
    from ..experiment import run_experiment
    from ..launch import from_environment, run_distributed

    options = {
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
    }
    try:
        with reported(ValueError):  # ValueError: a student breaking the contract
            config = _run_config(options, config_file, assignments, out, save_dir)
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
                _announce(config, loaded, hint=not (options["students"] or method or config_file))
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
    _echo_scores(result, config, loaded, out)


def _run_config(options: dict, config_file, assignments, out, save_dir):
    """The :class:`~mutualgnn.config.ExperimentConfig` of ``run``: the YAML file, then the
    options given (``options``: dotted setting -> value, None when not given), then ``--set``;
    every output path is checked before any work."""
    from ..config import ConfigError, ExperimentConfig, apply_overrides, load_yaml
    from ..files import check_file, check_folder
    from ..students import built_in_students

    if out and Path(out).suffix.lower() not in (".json", ".csv"):
        raise ConfigError(f"--out must end in .json or .csv, got '{out}'")
    if out:
        check_file(out, "--out")
    if save_dir:
        check_folder(save_dir, "--save")
    students = options["students"]
    if students:  # built-in names in any case
        options["students"] = ",".join(
            s.strip().lower() if s.strip().lower() in built_in_students() else s.strip()
            for s in students.split(",")
        )
    data = load_yaml(config_file) if config_file else {}
    for key, value in options.items():
        if value is not None:  # the options beat the file
            section, _, key = key.rpartition(".")
            (data.setdefault(section, {}) if section else data)[key] = value
    return ExperimentConfig.from_dict(apply_overrides(data, assignments))


def _echo_scores(result, config, loaded, out) -> None:
    """Print ``run``'s table of test scores (mean ± std per student) and write ``--out``."""
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
@data_dir_option
def predict(model_dir, dataset, data_dir):
    """Reload saved students (run --save); check their test score."""
    import pandas as pd
    from ..data import load_dataset
    from ..saved import evaluate_saved, read_config

    with reported():
        config = read_config(model_dir)
        data = load_dataset(dataset or config.dataset, data_dir or config.data_dir)
        rows = pd.DataFrame(evaluate_saved(model_dir, data))
    rows["match"] = rows["recorded"] == rows["reproduced"]
    click.echo(rows.to_string(index=False))
    if not rows["match"].all():
        raise click.ClickException("reproduced test accuracy differs from the recorded one")
