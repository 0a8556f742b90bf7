"""Graphs of one's own: a file written by ``dgl.save_graphs(path, graphs, labels)``.

* node classification: ONE graph with ``ndata["feat"]`` (N, F), ``ndata["label"]`` (N,) and
  boolean ``ndata["train_mask"]`` / ``["val_mask"]`` / ``["test_mask"]`` (N,): the split;
* graph classification: several graphs, each with ``ndata["feat"]`` (n_i, F), and one class per
  graph saved as ``labels={"labels": tensor}`` (G,): cross-validated like the TU sets.

A dataset name is taken as such a file when it ends in ``.bin``, holds a path separator or names
an existing file (:func:`is_graph_file`); the dataset is named after the file's stem. Its task is known only by
reading the file: :func:`file_task` counts its graphs (one: node task).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

from .._dgl_compat import dgl
from .containers import GraphDataset, NodeDataset
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError

MASKS = ("train_mask", "val_mask", "test_mask")
MAGIC = (0xDD2E4FF046B4A13F).to_bytes(8, "little")  #: the first bytes of dgl.save_graphs' files
FORMAT = (
    "Expected a file written by dgl.save_graphs(path, graphs, labels): for node "
    "classification ONE graph with ndata 'feat' (N, F), 'label' (N,) and boolean "
    "'train_mask', 'val_mask', 'test_mask' (N,); for graph classification several graphs, "
    "each with ndata 'feat' (n_i, F), saved with labels={'labels': tensor of one class per "
    "graph}."
)


def is_graph_file(name: str) -> bool:
    """Whether a dataset name denotes a graph file: a ``.bin`` suffix, a path separator (no
    dataset name has one, so a folder or a missing file is reported as such, not taken for a TU
    name) or an existing file."""
    raw = name.strip()
    return (
        raw.lower().endswith(".bin")
        or "/" in raw
        or os.sep in raw
        or Path(raw).expanduser().is_file()
    )


def _error(path: Path, problem: str, cls=DatasetFormatError) -> DatasetError:
    return cls(f"graph file {path}: {problem}. {FORMAT}")


def _existing(name: str) -> Path:
    path = Path(name.strip()).expanduser()
    if not path.is_file():
        raise _error(
            path, "no such file" if not path.exists() else "not a file", DatasetNotFoundError
        )
    return path


def read_graphs(name: str) -> tuple[Path, list, dict]:
    """The graphs and the label dict of graph file ``name``; :class:`DatasetError` if unreadable."""
    path = _existing(name)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head != MAGIC:  # checked here: DGL's reader reads past the end of a short file
        raise _error(path, "not a DGL graph file (it does not begin as dgl.save_graphs' files do)")
    try:
        graphs, labels = dgl.load_graphs(str(path))
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        why = lines[0].rsplit(": ", 1)[-1].strip() if lines else type(exc).__name__
        raise _error(path, f"a damaged DGL graph file ({why})") from None
    if not graphs:
        raise _error(path, "the file holds no graph")
    if any(not g.is_homogeneous for g in graphs):
        raise _error(path, "heterogeneous graphs (several node or edge types) are not supported")
    return path, list(graphs), dict(labels)


@functools.lru_cache(maxsize=32)
def _task(path: str, mtime_ns: int, size: int) -> str:
    _, graphs, _ = read_graphs(path)
    return "node" if len(graphs) == 1 else "graph"


def file_task(name: str) -> str:
    """``"node"`` for a file of one graph, ``"graph"`` for several (read once per version)."""
    path = _existing(name)
    st = path.stat()
    return _task(str(path), st.st_mtime_ns, st.st_size)


def load_graph_file(name: str) -> NodeDataset | GraphDataset:
    """The :class:`NodeDataset` (one graph) or :class:`GraphDataset` (several) of a graph file."""
    path, graphs, labels = read_graphs(name)
    if len(graphs) == 1:
        return _node_dataset(path, graphs[0])
    return _graph_dataset(path, graphs, labels)


def _node_dataset(path: Path, g) -> NodeDataset:
    n = g.num_nodes()
    missing = [key for key in ("feat", "label", *MASKS) if key not in g.ndata]
    if missing:
        raise _error(
            path,
            "a file of one graph is a node task, but the graph's ndata lacks "
            + ", ".join(repr(k) for k in missing),
        )
    feat, label = g.ndata["feat"], g.ndata["label"]
    if feat.dim() != 2:
        raise _error(path, f"ndata 'feat' has shape {tuple(feat.shape)}, not (nodes, features)")
    label = label.reshape(-1) if label.dim() == 2 and label.shape[1] == 1 else label
    if label.dim() != 1 or label.is_floating_point() or (n and int(label.min()) < 0):
        raise _error(
            path,
            "ndata 'label' must hold one class index >= 0 per node (an integer "
            "tensor of shape (N,))",
        )
    graph = dgl.graph(g.edges(), num_nodes=n)
    graph.ndata["feat"], graph.ndata["label"] = feat, label
    for key in MASKS:
        mask = g.ndata[key].reshape(-1)
        if mask.dtype != torch.bool and not set(mask.unique().tolist()) <= {0, 1}:
            raise _error(path, f"ndata '{key}' must be boolean (or 0/1)")
        if not bool(mask.any()):
            raise _error(path, f"ndata '{key}' selects no node")
        graph.ndata[key] = mask.bool()
    return NodeDataset.from_graph(graph, name=path.stem)


def _graph_dataset(path: Path, graphs: list, labels: dict) -> GraphDataset:
    if "labels" not in labels:
        found = f" (it holds {', '.join(repr(k) for k in labels)})" if labels else ""
        raise _error(
            path,
            f"{len(graphs)} graphs are a graph task, but the file has no graph "
            f"labels under the key 'labels'{found}",
        )
    y = labels["labels"]
    y = y.reshape(-1) if y.dim() == 2 and y.shape[1] == 1 else y
    if y.dim() != 1 or len(y) != len(graphs) or y.is_floating_point() or int(y.min()) < 0:
        raise _error(
            path,
            f"labels['labels'] must hold one class index >= 0 per graph (an "
            f"integer tensor of shape ({len(graphs)},)); it has shape "
            f"{tuple(y.shape)} and dtype {y.dtype}",
        )
    out = []
    for i, g in enumerate(graphs):
        feat = g.ndata["feat"] if "feat" in g.ndata else None
        if feat is None or feat.dim() != 2:
            raise _error(path, f"graph {i} has no ndata 'feat' of shape (nodes, features)")
        if feat.shape[1] != graphs[0].ndata["feat"].shape[1]:
            raise _error(
                path,
                f"graph {i} has {feat.shape[1]} features per node, graph 0 has "
                f"{graphs[0].ndata['feat'].shape[1]}",
            )
        h = dgl.graph(g.edges(), num_nodes=g.num_nodes())
        h.ndata["feat"] = feat.float()
        out.append(h)
    return GraphDataset.from_graphs(out, y, name=path.stem)
