"""Dataset names: which datasets are known, their task, their split kind and the raw files each
needs in the data directory (DGL's raw layout, or ogb's for ogb's datasets). A name may also be
the path of a graph file of one's own (see :mod:`~.graph_file`): it is kept as given."""

from __future__ import annotations

import os
from pathlib import Path

from ..metrics import OGB, ogb_meta
from .errors import DatasetError
from .graph_file import file_task, is_graph_file
from .locations import EMBEDDED_DIR, default_data_dir

CITATION = {"cora": "cora_v2", "citeseer": "citeseer", "pubmed": "pubmed"}
CITATION_FILES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
TU_REQUIRED = ("A", "graph_indicator", "graph_labels")
BUILTIN = ("karate", "minigc")
SUITE = ("cora", "citeseer", "pubmed", "MUTAG", "PROTEINS", "ENZYMES")
KNOWN = SUITE + OGB + BUILTIN  #: every dataset known by name (any other is taken as a TU name)


def canonical_name(name: str) -> str:
    """Map a user's dataset name to the one used internally: ``cora``, ``citeseer``, ``pubmed``,
    ``karate``, ``minigc``, an ogb name (``ogbn-arxiv``, ``ogbn-products``, ``ogbg-molhiv``; any
    case, ``_`` for ``-`` accepted), a graph file's path as given (``.bin`` or an existing file;
    see :func:`is_file_dataset`), or a TU dataset's exact name (``tu:NAME`` or ``NAME``; the
    suite's ``mutag``/``proteins``/``enzymes`` are accepted in any case)."""
    if not isinstance(name, str) or not name.strip():
        raise DatasetError("a dataset name is required; known: " + ", ".join(KNOWN))
    raw = name.strip()
    if raw.lower().startswith("tu:"):
        tu = raw[3:]
        if not tu:
            raise DatasetError("'tu:' needs a TU dataset name, for example tu:IMDB-BINARY")
        return tu
    low = raw.lower()
    if low in CITATION or low in BUILTIN:
        return low
    if low.replace("_", "-") in OGB:
        return low.replace("_", "-")
    for suite_name in SUITE[3:]:
        if low == suite_name.lower():
            return suite_name
    return raw  # a graph file's path, or any other TU dataset by its exact name


def is_file_dataset(name: str) -> bool:
    """Whether a dataset name is a graph file of one's own: not a known name, and ending in
    ``.bin`` or naming an existing file."""
    n = canonical_name(name)
    return n not in KNOWN and is_graph_file(n)


def task_of(name: str) -> str:
    """``"node"`` or ``"graph"``; a graph file's task is read from it (one graph: node)."""
    n = canonical_name(name)
    if is_file_dataset(n):
        return file_task(n)
    node = n in CITATION or n == "karate" or (n in OGB and n.startswith("ogbn-"))
    return "node" if node else "graph"


def has_official_split(name: str) -> bool:
    """Whether a dataset comes with one fixed split (node datasets, ogb's datasets) rather than
    being cross-validated (``folds`` is ignored for these; see :meth:`GraphDataset.splits`)."""
    n = canonical_name(name)
    return task_of(n) == "node" or n in OGB


def expected_files(name: str) -> list[str]:
    """Paths (relative to the data directory) of the raw files a dataset needs. For ogb's
    datasets: what ogb 1.3 reads from its download, unzipped, under ogb's folder name
    (``ogbn_arxiv``): the csv.gz files of ``raw/`` and the official split's ``split/KIND/``."""
    n = canonical_name(name)
    if is_file_dataset(n):
        return []  # the file itself, wherever it is
    if n in CITATION:
        folder = CITATION[n]
        return [f"{folder}/ind.{folder}.{suffix}" for suffix in CITATION_FILES]
    if n in BUILTIN:
        return []
    if n in OGB:
        meta = ogb_meta(n)
        extra = [
            f
            for key in ("additional node files", "additional edge files")
            for f in meta[key].split(",")
            if meta[key] != "None"
        ]
        label = "node-label" if task_of(n) == "node" else "graph-label"
        raw = ["edge", "num-node-list", "num-edge-list", "node-feat", label, *extra]
        return [f"{ogb_folder(n)}/raw/{f}.csv.gz" for f in raw] + [
            f"{ogb_folder(n)}/split/{meta['split']}/{part}.csv.gz"
            for part in ("train", "valid", "test")
        ]
    return [f"{n}/{n}/{n}_{part}.txt" for part in TU_REQUIRED]


def files_present(name: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the data directory holds a dataset's raw files (a graph file: whether it exists)."""
    if is_file_dataset(name):
        return Path(canonical_name(name).strip()).expanduser().is_file()
    root = Path(data_dir) if data_dir else default_data_dir()
    return all((root / f).is_file() for f in expected_files(name))


def embedded_dir(name: str) -> Path | None:
    """The package's own folder of raw files when it holds the dataset's (Cora only), else None."""
    files = expected_files(name)
    if files and all((EMBEDDED_DIR / f).is_file() for f in files):
        return EMBEDDED_DIR
    return None


def ogb_folder(name: str) -> str:
    """ogb's folder of a dataset: ``ogbn-arxiv`` -> ``ogbn_arxiv``."""
    return name.replace("-", "_")
