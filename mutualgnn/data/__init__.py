"""Datasets and splits: the six benchmarks through DGL's own dataset classes and three OGB
datasets through ogb's, offline-first.

Two small objects, one per task, each with a documented layout (in the spirit of OGB):

* :class:`NodeDataset` -- one graph ``graph`` with ``graph.ndata["feat"]`` (N, F) float32 and
  ``graph.ndata["label"]`` (N,) int64, plus the public split as index tensors.
* :class:`GraphDataset` -- a list of graphs, each with ``ndata["feat"]`` (n_i, F) float32, and
  ``labels`` (G,) int64; cross-validated unless it has an official split (ogbg-molhiv).

Each is judged by its ``metric``: ``"acc"`` (accuracy), or ogb's metric for ogb's datasets
(``"rocauc"`` for ogbg-molhiv); see :func:`~mutualgnn.metrics.metric_of`.

Raw files are looked up in a *data directory* (``data_dir`` argument, else ``$MUTUALGNN_DATA_DIR``,
else ``~/.cache/mutualgnn/datasets``) in DGL's raw layout (``cora_v2/ind.cora_v2.x``,
``MUTAG/MUTAG/MUTAG_A.txt``, ...). That folder is only read: the files are staged into a writable
cache (``$MUTUALGNN_CACHE_DIR``, else ``~/.cache/mutualgnn/dgl``) under the folder name the
installed DGL expects (DGL 1.1 appends a hash of its download URL), and DGL writes its processed
cache there. When the files are absent, DGL downloads them into the cache, unless downloading is
disabled (``download=False`` or ``MUTUALGNN_DOWNLOAD=0``) or fails; then :class:`DatasetNotFoundError`
names the files expected and where to put them. Cora's raw files also ship inside the package
(``mutualgnn/data/embedded/cora_v2``, Planetoid's, MIT licence): the data directory's win when
they are all there, else the package's copy is staged the same way; Cora is never downloaded.

A dataset name may also be the path of a graph file of one's own (``FILE.bin``, or any existing
file) written by ``dgl.save_graphs``: one graph with ``feat``, ``label`` and boolean
``train_mask`` / ``val_mask`` / ``test_mask`` node data (a node task), or several graphs with
``feat`` and ``labels={"labels": tensor}`` (a graph task); see :mod:`~.graph_file`.

ogb's datasets (:data:`OGB`) follow the same rules in ogb's raw layout (``ogbn_arxiv/raw/
edge.csv.gz``, ..., ``ogbn_arxiv/split/time/train.csv.gz``, ...; see :func:`expected_files`):
the folder is staged into the cache, where ogb writes ``processed/dgl_data_processed``. ogb asks
on stdin before it downloads more than 1 GB and when a folder lacks its ``RELEASE_v*.txt``
marker; neither question is ever asked here (see :func:`mutualgnn.data.from_ogb.ogb_class`).

Modules: :mod:`~.containers` (the dataset objects and splits), :mod:`~.names` (known datasets,
their tasks and raw files), :mod:`~.locations` (data and cache folders), :mod:`~.staging`
(staging raw files, driving DGL's classes offline), :mod:`~.sources` (loading by name, one
adapter per source), :mod:`~.from_ogb` (ogb's datasets), :mod:`~.graph_file` (graph files of
one's own), :mod:`~.errors`.
"""

from .containers import (
    GraphDataset,
    NodeDataset,
    Split,
    continuous_features,
    flip_labels,
    standardize_features,
    stratified_folds,
    with_features,
    with_labels,
)
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError
from .locations import (
    EMBEDDED_DIR,
    ENV_CACHE_DIR,
    ENV_DATA_DIR,
    ENV_DOWNLOAD,
    default_cache_dir,
    default_data_dir,
)
from ..metrics import OGB
from .names import (
    BUILTIN,
    KNOWN,
    SUITE,
    canonical_name,
    embedded_dir,
    expected_files,
    files_present,
    has_official_split,
    is_file_dataset,
    task_of,
)
from .sources import dataset_table, load_dataset

__all__ = [
    "GraphDataset",
    "NodeDataset",
    "Split",
    "continuous_features",
    "flip_labels",
    "standardize_features",
    "with_features",
    "stratified_folds",
    "with_labels",
    "DatasetError",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "OGB",
    "EMBEDDED_DIR",
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "ENV_DOWNLOAD",
    "default_cache_dir",
    "default_data_dir",
    "BUILTIN",
    "KNOWN",
    "SUITE",
    "canonical_name",
    "embedded_dir",
    "expected_files",
    "files_present",
    "has_official_split",
    "is_file_dataset",
    "task_of",
    "dataset_table",
    "load_dataset",
]
