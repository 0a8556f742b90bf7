"""Datasets and splits: the six benchmarks through DGL's own dataset classes and three OGB
datasets through ogb's, offline-first.

Two small objects, one per task, each with a documented layout (in the spirit of OGB):

* :class:`NodeDataset` -- one graph ``graph`` with ``graph.ndata["feat"]`` (N, F) float32 and
  ``graph.ndata["label"]`` (N,) int64, plus the public split as index tensors.
* :class:`GraphDataset` -- a list of graphs, each with ``ndata["feat"]`` (n_i, F) float32, and
  ``labels`` (G,) int64; cross-validated unless it has an official split (ogbg-molhiv).

Each is judged by its ``metric``: ``"acc"`` (accuracy), or ogb's metric for ogb's datasets
(``"rocauc"`` for ogbg-molhiv); see :func:`metric_of`.

Raw files are looked up in a *data directory* (``data_dir`` argument, else ``$MUTUALGNN_DATA_DIR``,
else ``~/.cache/mutualgnn/datasets``) in DGL's raw layout (``cora_v2/ind.cora_v2.x``,
``MUTAG/MUTAG/MUTAG_A.txt``, ...). That folder is only read: the files are staged into a writable
cache (``$MUTUALGNN_CACHE_DIR``, else ``~/.cache/mutualgnn/dgl``) under the folder name the
installed DGL expects (DGL 1.1 appends a hash of its download URL), and DGL writes its processed
cache there. When the files are absent, DGL downloads them into the cache, unless downloading is
disabled (``download=False`` or ``MUTUALGNN_DOWNLOAD=0``) or fails; then :class:`DatasetNotFoundError`
names the files expected and where to put them.

ogb's datasets (:data:`OGB`) follow the same rules in ogb's raw layout (``ogbn_arxiv/raw/
edge.csv.gz``, ..., ``ogbn_arxiv/split/time/train.csv.gz``, ...; see :func:`expected_files`):
the folder is staged into the cache, where ogb writes ``processed/dgl_data_processed``. ogb asks
on stdin before it downloads more than 1 GB and when a folder lacks its ``RELEASE_v*.txt``
marker; neither question is ever asked here (see :func:`_ogb_class`).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from ._dgl_compat import dgl

ENV_DATA_DIR = "MUTUALGNN_DATA_DIR"
ENV_CACHE_DIR = "MUTUALGNN_CACHE_DIR"
ENV_DOWNLOAD = "MUTUALGNN_DOWNLOAD"

CITATION = {"cora": "cora_v2", "citeseer": "citeseer", "pubmed": "pubmed"}
CITATION_FILES = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
TU_REQUIRED = ("A", "graph_indicator", "graph_labels")
BUILTIN = ("karate", "minigc")
SUITE = ("cora", "citeseer", "pubmed", "MUTAG", "PROTEINS", "ENZYMES")
#: datasets loaded through ogb, by their ogb names; their metadata is ogb's (its master.csv)
OGB = ("ogbn-arxiv", "ogbn-products", "ogbg-molhiv")


class DatasetError(Exception):
    """Base class of the errors raised while loading a dataset; the message says the fix."""


class DatasetNotFoundError(DatasetError):
    """The raw files of a dataset are neither in the data directory nor downloadable."""


class DatasetFormatError(DatasetError):
    """The raw files exist but DGL cannot parse them (truncated or malformed)."""


@dataclass
class Split:
    """Index tensors (int64) of the train / validation / test rows of one run.

    ``fold`` is the cross-validation fold (None for a fixed public split).
    """

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor
    fold: int | None = None

    def as_lists(self) -> dict:
        return {k: getattr(self, k).tolist() for k in ("train", "val", "test")}

    def to(self, device) -> "Split":
        """The split with its index tensors on ``device`` (not copied when already there)."""
        return dataclasses.replace(self, train=self.train.to(device), val=self.val.to(device),
                                   test=self.test.to(device))


@dataclass
class NodeDataset:
    """One graph for node classification.

    ``graph.ndata["feat"]``: (N, F) float32; ``graph.ndata["label"]``: (N,) int64. The edges are
    DGL's as loaded (training adds self-loops once, see :func:`mutualgnn.training.fit`).
    """

    name: str
    graph: "dgl.DGLGraph"
    num_classes: int
    split: Split
    task: str = field(default="node", init=False)

    @classmethod
    def from_graph(cls, graph, split: "Split | None" = None, name: str = "graph") -> "NodeDataset":
        """Wrap a DGL graph with ``ndata["feat"]`` (N, F) and ``ndata["label"]`` (N,); the split
        defaults to its boolean ``train_mask`` / ``val_mask`` / ``test_mask``."""
        for key in ("feat", "label"):
            if key not in graph.ndata:
                raise DatasetError(f"the graph needs node data '{key}' (graph.ndata['{key}'])")
        if split is None:
            try:
                split = Split(*(torch.nonzero(graph.ndata[f"{p}_mask"], as_tuple=True)[0]
                                for p in ("train", "val", "test")))
            except KeyError:
                raise DatasetError("give a Split, or boolean train_mask / val_mask / test_mask "
                                   "in graph.ndata") from None
        g = dgl.graph(graph.edges(), num_nodes=graph.num_nodes())
        g.ndata["feat"] = graph.ndata["feat"].float()
        g.ndata["label"] = graph.ndata["label"].long()
        return cls(name=name, graph=g, num_classes=int(g.ndata["label"].max()) + 1, split=split)

    @property
    def num_features(self) -> int:
        return self.graph.ndata["feat"].shape[1]

    @property
    def labels(self) -> torch.Tensor:
        return self.graph.ndata["label"]

    @property
    def metric(self) -> str:
        """What the dataset is judged by: ``"acc"``, or ogb's metric (:func:`metric_of`)."""
        return metric_of(self.name)

    def splits(self, folds: int = 10, seed: int = 0) -> list[Split]:
        """The public split (``folds`` and ``seed`` are ignored: node sets have one split)."""
        return [self.split]

    def stats(self) -> dict:
        g = self.graph
        return {"name": self.name, "task": "node", "graphs": 1, "nodes": g.num_nodes(),
                "edges": g.num_edges(), "features": self.num_features, "classes": self.num_classes,
                "train": len(self.split.train), "val": len(self.split.val), "test": len(self.split.test)}


@dataclass
class GraphDataset:
    """A list of graphs for graph classification.

    ``graphs[i].ndata["feat"]``: (n_i, F) float32; ``labels``: (G,) int64 in ``0..num_classes-1``;
    ``split``: the official split (ogbg-molhiv's scaffold split), None for cross-validation.
    """

    name: str
    graphs: list
    labels: torch.Tensor
    num_classes: int
    split: Split | None = None
    task: str = field(default="graph", init=False)

    @classmethod
    def from_graphs(cls, graphs, labels, name: str = "graphs") -> "GraphDataset":
        """Wrap a list of DGL graphs (each with ``ndata["feat"]``) and their labels (G,)."""
        graphs = list(graphs)
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if len(graphs) != len(labels):
            raise DatasetError(f"{len(graphs)} graphs but {len(labels)} labels")
        if not graphs or any("feat" not in g.ndata for g in graphs):
            raise DatasetError("every graph needs node features in ndata['feat']")
        return cls(name=name, graphs=graphs, labels=labels, num_classes=int(labels.max()) + 1)

    @property
    def num_features(self) -> int:
        return self.graphs[0].ndata["feat"].shape[1]

    @property
    def metric(self) -> str:
        """What the dataset is judged by: ``"acc"``, or ogb's metric (:func:`metric_of`)."""
        return metric_of(self.name)

    def splits(self, folds: int = 10, seed: int = 0, val_fraction: float = 0.1) -> list[Split]:
        """Stratified ``folds``-fold cross-validation, a stratified validation split carved out of
        each training fold. Deterministic in ``seed``. A dataset with an official split has that
        one split: the arguments are then ignored, as for node datasets."""
        if self.split is not None:
            return [self.split]
        return stratified_folds(self.labels.numpy(), folds=folds, seed=seed, val_fraction=val_fraction)

    def stats(self) -> dict:
        nodes = sum(g.num_nodes() for g in self.graphs)
        edges = sum(g.num_edges() for g in self.graphs)
        out = {"name": self.name, "task": "graph", "graphs": len(self.graphs), "nodes": nodes,
               "edges": edges, "features": self.num_features, "classes": self.num_classes}
        if self.split is not None:
            out.update({part: len(getattr(self.split, part)) for part in ("train", "val", "test")})
        return out


def flip_labels(labels: torch.Tensor, rows, fraction: float, num_classes: int,
                seed: int) -> torch.Tensor:
    """A copy of ``labels`` (N,) in which ``round(fraction * len(rows))`` of ``rows``, chosen
    uniformly, carry a label drawn uniformly from the other classes (symmetric label noise).
    Deterministic in ``seed``."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"label noise must be a fraction in [0, 1], got {fraction}")
    out = labels.clone()
    rows = torch.as_tensor(rows).reshape(-1)
    rng = np.random.default_rng(seed)
    chosen = rows[torch.as_tensor(rng.permutation(len(rows))[:round(fraction * len(rows))])]
    shift = torch.as_tensor(rng.integers(1, num_classes, size=len(chosen)), dtype=out.dtype)
    out[chosen] = (out[chosen] + shift) % num_classes  # any class but the true one, uniformly
    return out


def with_labels(dataset, labels: torch.Tensor):
    """The same dataset with other labels (the graphs and features are shared, not copied)."""
    if dataset.task == "node":
        graph = dataset.graph.local_var()  # new node data, same structure and features
        graph.ndata["label"] = labels
        return dataclasses.replace(dataset, graph=graph)
    return dataclasses.replace(dataset, labels=labels)


def standardize_features(dataset, rows):
    """The same dataset with its node features standardised per column (scikit-learn's
    ``StandardScaler``: zero mean, unit variance) by statistics of the training rows ``rows``
    only: the training nodes of a node dataset, every node of the training graphs of a graph
    dataset. Structure and labels are shared, not copied; constant columns are only centred.

    Why: TU node attributes are raw measurements (PROTEINS and ENZYMES up to about 800), and a
    sum readout of them gives logits in the hundreds at initialisation (docs/method.md)."""
    rows = torch.as_tensor(rows).reshape(-1).cpu()
    if dataset.task == "node":
        x = dataset.graph.ndata["feat"]
        scaler = StandardScaler().fit(x[rows.to(x.device)].cpu().numpy())
        graph = dataset.graph.local_var()  # new node data, same structure
        graph.ndata["feat"] = torch.as_tensor(scaler.transform(x.cpu().numpy()),
                                              dtype=torch.float32).to(x.device)
        return dataclasses.replace(dataset, graph=graph)
    train = [dataset.graphs[i] for i in rows.tolist()]
    scaler = StandardScaler().fit(torch.cat([g.ndata["feat"] for g in train]).cpu().numpy())
    graphs = []
    for g in dataset.graphs:
        h = g.local_var()
        h.ndata["feat"] = torch.as_tensor(scaler.transform(g.ndata["feat"].cpu().numpy()),
                                          dtype=torch.float32).to(g.device)
        graphs.append(h)
    return dataclasses.replace(dataset, graphs=graphs)


def stratified_folds(labels: np.ndarray, folds: int = 10, seed: int = 0,
                     val_fraction: float = 0.1) -> list[Split]:
    """``folds`` stratified folds over ``labels`` (G,); each training fold gives up a stratified
    ``val_fraction`` of its rows as validation. Returns one :class:`Split` per fold."""
    labels = np.asarray(labels)
    if folds < 2:
        raise ValueError(f"folds must be >= 2 for cross-validation, got {folds}")
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < folds:
        raise ValueError(f"the smallest class has {counts.min()} examples, fewer than folds={folds}; "
                         "use fewer folds")
    kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    for fold, (train_val, test) in enumerate(kfold.split(np.zeros(len(labels)), labels)):
        train, val = train_test_split(train_val, test_size=val_fraction, stratify=labels[train_val],
                                      random_state=seed + fold)
        out.append(Split(*(torch.as_tensor(np.sort(i), dtype=torch.long) for i in (train, val, test)),
                         fold=fold))
    return out


# ----------------------------------------------------------------------------- locations

def default_data_dir() -> Path:
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return _user_cache() / "datasets"


def default_cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    return _user_cache() / "dgl"


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "mutualgnn"


def _download_allowed(download: bool | None) -> bool:
    if download is not None:
        return download
    return os.environ.get(ENV_DOWNLOAD, "1").strip().lower() not in ("0", "false", "no", "off")


# ----------------------------------------------------------------------------- names

def canonical_name(name: str) -> str:
    """Map a user's dataset name to the one used internally: ``cora``, ``citeseer``, ``pubmed``,
    ``karate``, ``minigc``, an ogb name (``ogbn-arxiv``, ``ogbn-products``, ``ogbg-molhiv``; any
    case, ``_`` for ``-`` accepted), or a TU dataset's exact name (``tu:NAME`` or ``NAME``; the
    suite's ``mutag``/``proteins``/``enzymes`` are accepted in any case)."""
    if not isinstance(name, str) or not name.strip():
        raise DatasetError("a dataset name is required; known: " + ", ".join(SUITE + OGB + BUILTIN))
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
    return raw  # any other TU dataset, by its exact name


def task_of(name: str) -> str:
    n = canonical_name(name)
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
    if n in CITATION:
        folder = CITATION[n]
        return [f"{folder}/ind.{folder}.{suffix}" for suffix in CITATION_FILES]
    if n in BUILTIN:
        return []
    if n in OGB:
        meta = _ogb_meta(n)
        extra = [f for key in ("additional node files", "additional edge files")
                 for f in meta[key].split(",") if meta[key] != "None"]
        label = "node-label" if task_of(n) == "node" else "graph-label"
        raw = ["edge", "num-node-list", "num-edge-list", "node-feat", label, *extra]
        return ([f"{_ogb_folder(n)}/raw/{f}.csv.gz" for f in raw]
                + [f"{_ogb_folder(n)}/split/{meta['split']}/{part}.csv.gz"
                   for part in ("train", "valid", "test")])
    return [f"{n}/{n}/{n}_{part}.txt" for part in TU_REQUIRED]


def files_present(name: str, data_dir: str | os.PathLike | None = None) -> bool:
    root = Path(data_dir) if data_dir else default_data_dir()
    return all((root / f).is_file() for f in expected_files(name))


# ----------------------------------------------------------------------------- ogb

def _ogb_folder(name: str) -> str:
    """ogb's folder of a dataset: ``ogbn-arxiv`` -> ``ogbn_arxiv``."""
    return name.replace("-", "_")


@functools.lru_cache(maxsize=None)
def _ogb_meta(name: str) -> dict:
    """ogb's metadata of one of :data:`OGB` (the column of its package's master.csv that ogb's
    dataset classes and ``Evaluator`` read): split, version, url, eval metric, ..."""
    import ogb.graphproppred
    import ogb.nodeproppred
    import pandas as pd

    module = ogb.nodeproppred if name.startswith("ogbn-") else ogb.graphproppred
    master = Path(module.__file__).parent / "master.csv"
    return pd.read_csv(master, index_col=0, keep_default_na=False)[name].to_dict()


def metric_of(name: str) -> str:
    """The metric a dataset is judged by: ogb's for ogb's datasets (``"acc"`` for the ogbn
    sets, ``"rocauc"`` for ogbg-molhiv), ``"acc"`` for the others."""
    return _ogb_meta(name)["eval metric"] if name in OGB else "acc"


@functools.lru_cache(maxsize=None)
def _ogb_evaluator(name: str):
    if name.startswith("ogbn-"):
        from ogb.nodeproppred import Evaluator
    else:
        from ogb.graphproppred import Evaluator
    return Evaluator(name)


def ogb_score(name: str, scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ogb's ``Evaluator(name)`` on some rows of one of :data:`OGB`: ``scores`` (n, C) logits or
    class probabilities, ``labels`` (n,). ``"acc"``: accuracy of the highest-scoring class;
    ``"rocauc"`` (binary): ROC-AUC of the positive class's probability, ``softmax(scores)[:, 1]``
    in float64. That orders the rows as ``scores[:, 1] - scores[:, 0]`` does, so logits and
    (averaged) probabilities give the same ROC-AUC."""
    evaluator = _ogb_evaluator(name)
    if evaluator.eval_metric == "rocauc":
        y_pred = scores.double().softmax(-1)[:, 1:]
    else:
        y_pred = scores.argmax(-1, keepdim=True)
    result = evaluator.eval({"y_true": labels.reshape(-1, 1), "y_pred": y_pred})
    return float(result[evaluator.eval_metric])


# ----------------------------------------------------------------------------- loading

def load_dataset(name: str, data_dir: str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None,
                 download: bool | None = None) -> NodeDataset | GraphDataset:
    """Load a dataset by name (see :func:`canonical_name`) from ``data_dir`` (see module doc)."""
    n = canonical_name(name)
    if n == "karate":
        return _karate()
    if n == "minigc":
        return _minigc()
    data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
    cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    if n in CITATION:
        cls = {"cora": dgl.data.CoraGraphDataset, "citeseer": dgl.data.CiteseerGraphDataset,
               "pubmed": dgl.data.PubmedGraphDataset}[n]
        make = lambda cls_, raw: _citation(n, cls_(raw_dir=raw, verbose=False))  # noqa: E731
        return _load_dgl(n, make, cls, CITATION[n], data_dir, cache_dir, download)
    if n in OGB:
        make = lambda cls_, raw: _ogb(n, cls_(raw))  # noqa: E731
        return _load_dgl(n, make, _ogb_class(n), _ogb_folder(n), data_dir, cache_dir, download)
    make = lambda cls_, raw: _tu(n, cls_(n, raw_dir=raw, verbose=False))  # noqa: E731
    return _load_dgl(n, make, dgl.data.TUDataset, n, data_dir, cache_dir, download)


class _RawMissing(Exception):
    def __init__(self, raw_path: str):
        super().__init__(raw_path)
        self.raw_path = raw_path


def _offline(cls):
    """A subclass of a DGL dataset class whose download step reports where DGL looked instead."""

    class Offline(cls):
        def download(self):  # called by DGL only when ``self.raw_path`` does not exist
            raise _RawMissing(self.raw_path)

    Offline.__name__ = cls.__name__
    return Offline


def _fingerprint(folder: Path) -> dict:
    return {str(p.relative_to(folder)): [p.stat().st_size, int(p.stat().st_mtime)]
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _load_dgl(name, make, cls, raw_folder, data_dir: Path, cache_dir: Path, download):
    """Instantiate DGL dataset class ``cls`` with ``raw_dir`` in the cache, staging the user's raw
    folder ``data_dir/raw_folder`` there first under the name DGL asks for."""
    stage_root = cache_dir / name
    source = data_dir / raw_folder
    for record in stage_root.glob("*.source.json"):
        staged = json.loads(record.read_text())
        # staged from another folder, or the user's raw files changed: stage again
        if staged.get("source") != str(source) or not source.is_dir() \
                or staged.get("files") != _fingerprint(source):
            shutil.rmtree(stage_root)
            break
    stage_root.mkdir(parents=True, exist_ok=True)
    try:
        return make(_offline(cls), str(stage_root))
    except _RawMissing as missing:
        target = Path(missing.raw_path)
    except DatasetError:
        raise
    except Exception as exc:  # a stale or broken cache: start over from the raw files
        shutil.rmtree(stage_root, ignore_errors=True)
        stage_root.mkdir(parents=True, exist_ok=True)
        try:
            return make(_offline(cls), str(stage_root))
        except _RawMissing as missing:
            target = Path(missing.raw_path)
        except Exception:
            raise _format_error(name, stage_root, exc) from None
    # DGL's raw folder is absent from the cache: stage it from the data directory, or download.
    if all((data_dir / f).is_file() for f in expected_files(name)):
        shutil.copytree(source, target)
        for path in [target, *target.rglob("*")]:  # the source may be read-only; DGL writes here
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        (target.parent / (target.name + ".source.json")).write_text(
            json.dumps({"source": str(source), "files": _fingerprint(source)}))
        try:
            return make(cls, str(stage_root))
        except Exception as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise _format_error(name, source, exc) from None
    missing_error = _not_found(name, data_dir)
    if not _download_allowed(download):
        raise missing_error
    try:
        return make(cls, str(stage_root))  # DGL downloads into the cache
    except Exception as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise DatasetNotFoundError(f"{missing_error}\nDownloading failed too: {exc}") from None


def _not_found(name: str, data_dir: Path) -> DatasetNotFoundError:
    files = "\n".join(f"  {data_dir / f}" for f in expected_files(name))
    known = "" if name in SUITE + OGB else (
        f"'{name}' is not one of the known datasets ({', '.join(SUITE + OGB + BUILTIN)}); it was "
        "taken as the name of a TU dataset (names are case-sensitive, e.g. tu:IMDB-BINARY).\n")
    library, origin = "DGL", ""
    if name in OGB:
        meta = _ogb_meta(name)
        library = "ogb"
        origin = (f"They are the files of {meta['url']}, unzipped, with its folder "
                  f"'{meta['download_name']}' renamed to '{_ogb_folder(name)}'.\n")
    return DatasetNotFoundError(
        f"{known}dataset '{name}' was not found in the data directory {data_dir}.\n"
        f"Expected these raw files ({library}'s raw layout):\n{files}\n{origin}"
        f"Put them there, or point --data-dir or the environment variable {ENV_DATA_DIR} at the "
        f"folder that holds them. With internet access {library} downloads them "
        f"(unless {ENV_DOWNLOAD}=0).")


def _format_error(name: str, where: Path, exc: Exception) -> DatasetFormatError:
    library = "ogb" if name in OGB else "DGL"
    return DatasetFormatError(
        f"dataset '{name}': {library} could not read the raw files staged from {where} "
        f"({type(exc).__name__}: {exc}). The files may be truncated or malformed: replace them with "
        f"a fresh copy (expected: {', '.join(expected_files(name))}).")


def _citation(name: str, ds) -> NodeDataset:
    g = ds[0]
    sizes = [int(g.ndata[f"{part}_mask"].sum()) for part in ("train", "val", "test")]
    if min(sizes) == 0 or g.ndata["feat"].shape[0] != g.num_nodes():
        raise DatasetFormatError(f"dataset '{name}': the split read from the raw files is "
                                 f"train/val/test = {sizes}; the files look truncated")
    split = Split(*(torch.nonzero(g.ndata[f"{part}_mask"], as_tuple=True)[0]
                    for part in ("train", "val", "test")))
    graph = dgl.graph(g.edges(), num_nodes=g.num_nodes())
    graph.ndata["feat"] = g.ndata["feat"].float()
    graph.ndata["label"] = g.ndata["label"].long()
    return NodeDataset(name=name, graph=graph, num_classes=int(ds.num_classes), split=split)


def _tu(name: str, ds) -> GraphDataset:
    if len(ds.graph_labels) != len(ds.graph_lists):
        raise DatasetFormatError(f"dataset '{name}': {len(ds.graph_labels)} graph labels for "
                                 f"{len(ds.graph_lists)} graphs; the raw files do not match")
    graphs, labels = zip(*[ds[i] for i in range(len(ds))])
    labels = torch.as_tensor(np.asarray([int(label) for label in labels]), dtype=torch.long)
    has_labels = "node_labels" in graphs[0].ndata
    has_attr = "node_attr" in graphs[0].ndata
    if not (has_labels or has_attr):
        raise DatasetFormatError(f"dataset '{name}' has neither node labels nor node attributes; "
                                 "mutualgnn needs one of them as node features")
    num_node_labels = 0
    if has_labels:
        offset = int(min(int(g.ndata["node_labels"].min()) for g in graphs))
        num_node_labels = int(max(int(g.ndata["node_labels"].max()) for g in graphs)) - offset + 1
    out = []
    for g in graphs:
        parts = []
        if has_attr:
            parts.append(g.ndata["node_attr"].reshape(g.num_nodes(), -1).float())
        if has_labels:
            idx = g.ndata["node_labels"].reshape(-1).long() - offset
            parts.append(torch.nn.functional.one_hot(idx, num_node_labels).float())
        h = dgl.graph(g.edges(), num_nodes=g.num_nodes())
        h.ndata["feat"] = torch.cat(parts, dim=1)
        out.append(h)
    return GraphDataset(name=name, graphs=list(out), labels=labels,
                        num_classes=int(labels.max()) + 1)


def _ogb_class(name: str):
    """ogb's DGL dataset class of ``name`` behind the protocol :func:`_load_dgl` drives DGL's
    classes with: constructed with the cache folder ``root``; ``raw_path`` is the dataset's
    folder in it (``root/ogbn_arxiv``); ``download()`` is called when that holds neither ogb's
    processed file nor raw files (a no-op here: ogb then downloads in its constructor).

    ogb never reads stdin here: it asks whether to update a folder that lacks its
    ``RELEASE_v{version}.txt`` marker, which the staged copy is given (the marker is all that
    question checks); and it asks before downloading more than 1 GB (ogbn-products), which is
    answered yes: this only runs when downloading is allowed (:func:`_download_allowed`). Its
    progress messages go to stderr, keeping stdout for results."""
    import contextlib
    from unittest import mock

    from ogb.graphproppred import DglGraphPropPredDataset
    from ogb.nodeproppred import DglNodePropPredDataset

    base = DglNodePropPredDataset if task_of(name) == "node" else DglGraphPropPredDataset

    class Ogb(base):
        def __init__(self, root: str):
            folder = Path(root) / _ogb_folder(name)
            self.raw_path = str(folder)
            if (folder / "processed" / "dgl_data_processed").is_file() \
                    or (folder / "raw" / "edge.csv.gz").is_file():
                (folder / f"RELEASE_v{_ogb_meta(name)['version']}.txt").touch()
            else:
                shutil.rmtree(folder, ignore_errors=True)  # a partial folder: stage it again
                self.download()
            with mock.patch.object(sys.modules[base.__module__], "decide_download",
                                   lambda url: True), contextlib.redirect_stdout(sys.stderr):
                super().__init__(name, root)

        def download(self):
            """ogb downloads in its constructor."""

    Ogb.__name__ = base.__name__
    return Ogb


def _ogb(name: str, ds) -> NodeDataset | GraphDataset:
    """One of :data:`OGB` from ogb's dataset ``ds``, with its official split.

    ogbn sets: ogb's graph, node features (N, F) float32 and labels (N,); ogbn-arxiv's citation
    edges are directed, so their reverses are added (``dgl.add_reverse_edges``, as DGL's
    ogbn-arxiv examples do; ogb itself stores ogbn-products undirected). ogbg-molhiv: each
    molecule's 9 categorical atom features, one-hot per column (:func:`_atom_one_hot`); its
    bonds are stored in both directions by ogb; bond features are not used."""
    idx = ds.get_idx_split()
    split = Split(*(idx[part].long() for part in ("train", "valid", "test")))
    num_classes = int(ds.num_classes)
    if task_of(name) == "node":
        g, labels = ds[0]
        labels = labels.reshape(-1).long()
        if labels.shape[0] != g.num_nodes() or "feat" not in g.ndata:
            raise DatasetFormatError(f"dataset '{name}': {labels.shape[0]} labels for "
                                     f"{g.num_nodes()} nodes, or no node features (node-feat)")
        for key in [k for k in g.ndata if k != "feat"]:  # ogbn-arxiv's publication years
            g.ndata.pop(key)
        if _ogb_meta(name)["add_inverse_edge"] != "True":
            g = dgl.add_reverse_edges(g)
        g.ndata["feat"] = g.ndata["feat"].float()
        g.ndata["label"] = labels
        return NodeDataset(name=name, graph=g, num_classes=num_classes, split=split)
    labels = ds.labels.reshape(-1).long()
    if len(labels) != len(ds.graphs):
        raise DatasetFormatError(f"dataset '{name}': {len(labels)} graph labels for "
                                 f"{len(ds.graphs)} graphs; the raw files do not match")
    feats = _atom_one_hot(name, torch.cat([g.ndata["feat"] for g in ds.graphs]))
    # ogb's graphs, fresh from its processed file, are kept (new graphs: ten times slower)
    for g, feat in zip(ds.graphs, torch.split(feats, [g.num_nodes() for g in ds.graphs])):
        g.ndata["feat"] = feat
        g.edata.pop("feat", None)  # bond features are not used
    return GraphDataset(name=name, graphs=list(ds.graphs), labels=labels,
                        num_classes=num_classes, split=split)


def _atom_one_hot(name: str, atoms: torch.Tensor) -> torch.Tensor:
    """ogb's categorical atom features (n, 9) int64 as (n, 174) float32: one one-hot block per
    column, of the column's size in ogb (``ogb.utils.features.get_atom_feature_dims``: atomic
    number 119, chirality 5, degree 12, formal charge 12, hydrogens 10, radical electrons 6,
    hybridisation 6, aromatic 2, in ring 2). A student's first linear layer on it is ogb's
    ``AtomEncoder`` (a sum of one learned embedding per column) plus a bias."""
    from ogb.utils.features import get_atom_feature_dims

    dims = torch.tensor(get_atom_feature_dims())
    atoms = atoms.long()
    if atoms.ndim != 2 or atoms.shape[1] != len(dims) or atoms.min() < 0 \
            or bool((atoms >= dims).any()):
        raise DatasetFormatError(
            f"dataset '{name}': node-feat.csv.gz must hold {len(dims)} integer atom features "
            f"per row, each from 0 to below its column's size {dims.tolist()}; got a "
            f"{tuple(atoms.shape)} table that is not")
    offsets = torch.cumsum(dims, 0) - dims
    out = torch.zeros(atoms.shape[0], int(dims.sum()))
    out.scatter_(1, atoms + offsets, 1.0)
    return out


def _karate() -> NodeDataset:
    """Zachary's karate club (34 nodes, 2 classes), built in: one-hot node ids as features and a
    fixed stratified split (4 train nodes per class, the rest halved into validation and test)."""
    g = dgl.data.KarateClubDataset()[0]
    labels = g.ndata["label"].long()
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.choice(np.flatnonzero(labels.numpy() == c), 4, replace=False)
                            for c in range(2)])
    rest = np.setdiff1d(np.arange(g.num_nodes()), train)
    val, test = train_test_split(rest, test_size=0.5, stratify=labels.numpy()[rest], random_state=0)
    graph = dgl.graph(g.edges(), num_nodes=g.num_nodes())
    graph.ndata["feat"] = torch.eye(g.num_nodes())
    graph.ndata["label"] = labels
    split = Split(*(torch.as_tensor(np.sort(i), dtype=torch.long) for i in (train, val, test)))
    return NodeDataset(name="karate", graph=graph, num_classes=2, split=split)


def _minigc(num_graphs: int = 240) -> GraphDataset:
    """DGL's generated MiniGC graphs (8 shapes: cycles, stars, wheels, ...), built in and seeded;
    node features are the in-degree one-hot (capped at 15) so that the shapes are learnable."""
    ds = dgl.data.MiniGCDataset(num_graphs, 10, 20, seed=0)
    graphs, labels = [], []
    for i in range(len(ds)):
        g, label = ds[i]
        g = dgl.graph(g.edges(), num_nodes=g.num_nodes())
        g.ndata["feat"] = torch.nn.functional.one_hot(g.in_degrees().clamp(max=15), 16).float()
        graphs.append(g)
        labels.append(int(label))
    return GraphDataset(name="minigc", graphs=graphs, labels=torch.tensor(labels),
                        num_classes=8)


def dataset_table(data_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per known dataset: name, task, metric, whether its files are present, its size
    (loaded when present), and where its files are looked for."""
    root = Path(data_dir) if data_dir else default_data_dir()
    rows = []
    for n in SUITE + OGB + BUILTIN:
        present = True if n in BUILTIN else files_present(n, root)
        size = "-"
        if present:
            st = load_dataset(n, root, download=False).stats()
            size = (f"{st['nodes']} nodes, {st['edges']} edges" if st["task"] == "node"
                    else f"{st['graphs']} graphs") + f", {st['features']} features, {st['classes']} classes"
        rows.append({"name": n, "task": task_of(n), "metric": metric_of(n), "present": present,
                     "size": size,
                     "source": "built in" if n in BUILTIN else str(root / expected_files(n)[0].split("/")[0])})
    return rows
