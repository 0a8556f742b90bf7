"""What every command shares: the ``mutualgnn`` group, the options that mean the same in
every command, the choices ``--help`` lists, and the API's errors as one-line click errors."""

from __future__ import annotations

import contextlib
from functools import partial

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
def reported(*extra):
    """The API's errors (and ``extra``) as click errors: one line, no traceback."""
    try:
        yield
    except Exception as exc:
        from ..config import ConfigError
        from ..data import DatasetError
        from ..students import StudentError
        from ..training import DivergenceError
        from ..training.distributed import DistributedError

        if isinstance(
            exc,
            (ConfigError, DatasetError, StudentError, DistributedError, DivergenceError, *extra),
        ):
            raise click.ClickException(str(exc)) from None
        raise


# options that mean the same in every command, defined once
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    show_default="$MUTUALGNN_DATA_DIR, else ~/.cache/mutualgnn/datasets",
    help="Folder with the raw dataset files (Cora's ship with the package).",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="the cores available",
    help="Torch and DGL threads.",
)

out_option = partial(
    click.option, "-o", "--out", type=click.Path(file_okay=False), help="Folder the results go to."
)
seeds_option = partial(click.option, "--seeds", help="Seeds, e.g. 0-9 or 0,1,2.")
settings_option = partial(click.option, "--set", "assignments", multiple=True, metavar="KEY=VALUE")
format_option = click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="all",
    help="Table formats to write (all: md, csv and latex).",
    callback=lambda ctx, param, v: FORMATS[:3] if v == "all" else (v,),
)


def split_list(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


CONTEXT = dict(help_option_names=["-h", "--help"], show_default=True, max_content_width=100)


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="mutualgnn")
def main():
    """Graph Mutual Learning: cohorts of small GNNs that teach each other.

    Start with `mutualgnn bench` (the quickstart suite: Cora, a few minutes, no download);
    `mutualgnn COMMAND --help` for each command's options; docs/cli.md for all of them."""
