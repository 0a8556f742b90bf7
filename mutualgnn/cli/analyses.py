"""The analyses of trained cohorts: ``cka`` (representation similarity) and ``distil``."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    data_dir_option,
    main,
    out_option,
    reported,
    seeds_option,
    settings_option,
    threads_option,
)


@main.command()
@click.option("-d", "--dataset", default="cora", help="A node dataset.")
@click.option(
    "--pairs",
    default="gcn-gat,gcn-sage,gat-sage,gcn-gcn",
    help="Architecture pairs; a-a compares two initialisations of one architecture.",
)
@seeds_option(default="0-2")
@out_option(default="results/cka")
@threads_option
@data_dir_option
@settings_option(help="Override a setting, e.g. --set train.epochs=200.")
def cka(dataset, pairs, seeds, out, threads, data_dir, assignments):
    """Linear CKA of two students' hidden layers: alone vs GML."""
    from ..analyses import cka_study, cka_summary, write_study
    from ..bench.plots import cka_heatmaps
    from ..config import ConfigError, parse_numbers

    with reported(ValueError):
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
@seeds_option(default="0-2")
@out_option(default="results/distil")
@threads_option
@data_dir_option
@settings_option(help="Override a setting, e.g. --set mutual.lam=0.5 --set train.epochs=200.")
def distil(dataset, teacher, peer, seeds, out, threads, data_dir, assignments):
    """Distil a GNN trained alone and one trained with GML into an MLP."""
    from ..analyses import distillation_study, distillation_summary, write_study
    from ..config import parse_numbers

    with reported(ValueError):
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
    from ..config import ExperimentConfig, apply_overrides
    from ..data import load_dataset
    from ..files import check_folder

    check_folder(out, "--out")
    data = {"dataset": dataset, "data_dir": data_dir, "train": {"progress": False}}
    if threads:
        data["train"]["threads"] = threads
    config = ExperimentConfig.from_dict(apply_overrides(data, assignments))
    return config, load_dataset(config.dataset, config.data_dir)
