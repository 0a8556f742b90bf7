"""Loading a dataset by name: the citation sets and TU sets through DGL's dataset classes, ogb's
through ogb's, the two built-in sets (karate, minigc) made in memory, and graph files of one's
own (:mod:`~.graph_file`). Cora's raw files also ship with the package (:func:`embedded_dir`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from .._dgl_compat import dgl
from ..metrics import OGB, metric_of
from .containers import GraphDataset, NodeDataset, Split
from .errors import DatasetFormatError
from .locations import default_cache_dir, default_data_dir
from .graph_file import load_graph_file
from .names import (
    BUILTIN,
    CITATION,
    KNOWN,
    canonical_name,
    embedded_dir,
    expected_files,
    files_present,
    is_file_dataset,
    ogb_folder,
    task_of,
)
from .from_ogb import ogb_class, ogb_dataset
from .staging import load_dgl


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool | None = None,
) -> NodeDataset | GraphDataset:
    """Load a dataset by name (see :func:`canonical_name`) from ``data_dir`` (see module doc),
    or from a graph file (a path: ``data_dir`` and the cache are not used)."""
    n = canonical_name(name)
    if n == "karate":
        return _karate()
    if n == "minigc":
        return _minigc()
    if is_file_dataset(n):
        return load_graph_file(n)
    data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
    cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    if n in CITATION:
        cls = {
            "cora": dgl.data.CoraGraphDataset,
            "citeseer": dgl.data.CiteseerGraphDataset,
            "pubmed": dgl.data.PubmedGraphDataset,
        }[n]
        make = lambda cls_, raw: _citation(n, cls_(raw_dir=raw, verbose=False))  # noqa: E731
        return load_dgl(n, make, cls, CITATION[n], data_dir, cache_dir, download, embedded_dir(n))
    if n in OGB:
        make = lambda cls_, raw: ogb_dataset(n, cls_(raw))  # noqa: E731
        return load_dgl(n, make, ogb_class(n), ogb_folder(n), data_dir, cache_dir, download)
    make = lambda cls_, raw: _tu(n, cls_(n, raw_dir=raw, verbose=False))  # noqa: E731
    return load_dgl(n, make, dgl.data.TUDataset, n, data_dir, cache_dir, download)


def _citation(name: str, ds) -> NodeDataset:
    g = ds[0]
    sizes = [int(g.ndata[f"{part}_mask"].sum()) for part in ("train", "val", "test")]
    if min(sizes) == 0 or g.ndata["feat"].shape[0] != g.num_nodes():
        raise DatasetFormatError(
            f"dataset '{name}': the split read from the raw files is "
            f"train/val/test = {sizes}; the files look truncated"
        )
    split = Split(
        *(
            torch.nonzero(g.ndata[f"{part}_mask"], as_tuple=True)[0]
            for part in ("train", "val", "test")
        )
    )
    graph = dgl.graph(g.edges(), num_nodes=g.num_nodes())
    graph.ndata["feat"] = g.ndata["feat"].float()
    graph.ndata["label"] = g.ndata["label"].long()
    return NodeDataset(name=name, graph=graph, num_classes=int(ds.num_classes), split=split)


def _tu(name: str, ds) -> GraphDataset:
    if len(ds.graph_labels) != len(ds.graph_lists):
        raise DatasetFormatError(
            f"dataset '{name}': {len(ds.graph_labels)} graph labels for "
            f"{len(ds.graph_lists)} graphs; the raw files do not match"
        )
    graphs, labels = zip(*[ds[i] for i in range(len(ds))])
    labels = torch.as_tensor(np.asarray([int(label) for label in labels]), dtype=torch.long)
    has_labels = "node_labels" in graphs[0].ndata
    has_attr = "node_attr" in graphs[0].ndata
    if not (has_labels or has_attr):
        raise DatasetFormatError(
            f"dataset '{name}' has neither node labels nor node attributes; "
            "mutualgnn needs one of them as node features"
        )
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
    return GraphDataset(
        name=name, graphs=list(out), labels=labels, num_classes=int(labels.max()) + 1
    )


def _karate() -> NodeDataset:
    """Zachary's karate club (34 nodes, 2 classes), built in: one-hot node ids as features and a
    fixed stratified split (4 train nodes per class, the rest halved into validation and test)."""
    g = dgl.data.KarateClubDataset()[0]
    labels = g.ndata["label"].long()
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels.numpy() == c), 4, replace=False) for c in range(2)]
    )
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
    return GraphDataset(name="minigc", graphs=graphs, labels=torch.tensor(labels), num_classes=8)


def dataset_table(data_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per known dataset: name, task, metric, whether its files are present, its size
    (loaded when present), and where its files are read from: the data directory's folder,
    ``embedded`` (the package's copy, used when the data directory lacks the files) or
    ``built in``; for an absent dataset, where its files are looked for."""
    root = Path(data_dir) if data_dir else default_data_dir()
    rows = []
    for n in KNOWN:
        in_root = n not in BUILTIN and files_present(n, root)
        embedded = not in_root and embedded_dir(n) is not None
        present = n in BUILTIN or in_root or embedded
        size = "-"
        if present:
            st = load_dataset(n, root, download=False).stats()
            size = (
                f"{st['nodes']} nodes, {st['edges']} edges"
                if st["task"] == "node"
                else f"{st['graphs']} graphs"
            ) + f", {st['features']} features, {st['classes']} classes"
        source = (
            "built in"
            if n in BUILTIN
            else "embedded"
            if embedded
            else str(root / expected_files(n)[0].split("/")[0])
        )
        rows.append(
            {
                "name": n,
                "task": task_of(n),
                "metric": metric_of(n),
                "present": present,
                "size": size,
                "source": source,
            }
        )
    return rows
