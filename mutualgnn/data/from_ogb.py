"""ogb's datasets (:data:`~mutualgnn.metrics.OGB`) through ogb's own DGL dataset classes."""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

import torch

from .._dgl_compat import dgl
from ..metrics import ogb_meta
from .containers import GraphDataset, NodeDataset, Split
from .errors import DatasetFormatError
from .names import ogb_folder, task_of


@contextlib.contextmanager
def _downloads_without_asking(module):
    """Within the block, ogb's ``module.decide_download`` (which asks on stdin before a download
    over 1 GB) answers yes; the original is put back after."""
    original = module.decide_download
    module.decide_download = lambda url: True
    try:
        yield
    finally:
        module.decide_download = original


def ogb_class(name: str):
    """ogb's DGL dataset class of ``name`` behind the protocol :func:`~.staging.load_dgl` drives
    DGL's classes with: constructed with the cache folder ``root``; ``raw_path`` is the dataset's
    folder in it (``root/ogbn_arxiv``); ``download()`` is called when that holds neither ogb's
    processed file nor raw files (a no-op here: ogb then downloads in its constructor).

    ogb never reads stdin here: it asks whether to update a folder that lacks its
    ``RELEASE_v{version}.txt`` marker, which the staged copy is given (the marker is all that
    question checks); and it asks before downloading more than 1 GB (ogbn-products), which is
    answered yes: this only runs when downloading is allowed
    (:func:`~.locations.download_allowed`). Its progress messages go to stderr, keeping stdout
    for results."""
    from ogb.graphproppred import DglGraphPropPredDataset
    from ogb.nodeproppred import DglNodePropPredDataset

    base = DglNodePropPredDataset if task_of(name) == "node" else DglGraphPropPredDataset

    class Ogb(base):
        def __init__(self, root: str):
            folder = Path(root) / ogb_folder(name)
            self.raw_path = str(folder)
            if (folder / "processed" / "dgl_data_processed").is_file() or (
                folder / "raw" / "edge.csv.gz"
            ).is_file():
                (folder / f"RELEASE_v{ogb_meta(name)['version']}.txt").touch()
            else:
                shutil.rmtree(folder, ignore_errors=True)  # a partial folder: stage it again
                self.download()
            with (
                _downloads_without_asking(sys.modules[base.__module__]),
                contextlib.redirect_stdout(sys.stderr),
            ):
                super().__init__(name, root)

        def download(self):
            """ogb downloads in its constructor."""

    Ogb.__name__ = base.__name__
    return Ogb


def ogb_dataset(name: str, ds) -> NodeDataset | GraphDataset:
    """One of :data:`~mutualgnn.metrics.OGB` from ogb's dataset ``ds``, with its official split.

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
            raise DatasetFormatError(
                f"dataset '{name}': {labels.shape[0]} labels for "
                f"{g.num_nodes()} nodes, or no node features (node-feat)"
            )
        for key in [k for k in g.ndata if k != "feat"]:  # ogbn-arxiv's publication years
            g.ndata.pop(key)
        if ogb_meta(name)["add_inverse_edge"] != "True":
            g = dgl.add_reverse_edges(g)
        g.ndata["feat"] = g.ndata["feat"].float()
        g.ndata["label"] = labels
        return NodeDataset(name=name, graph=g, num_classes=num_classes, split=split)
    labels = ds.labels.reshape(-1).long()
    if len(labels) != len(ds.graphs):
        raise DatasetFormatError(
            f"dataset '{name}': {len(labels)} graph labels for "
            f"{len(ds.graphs)} graphs; the raw files do not match"
        )
    feats = _atom_one_hot(name, torch.cat([g.ndata["feat"] for g in ds.graphs]))
    # ogb's graphs, fresh from its processed file, are kept (new graphs: ten times slower)
    for g, feat in zip(ds.graphs, torch.split(feats, [g.num_nodes() for g in ds.graphs])):
        g.ndata["feat"] = feat
        g.edata.pop("feat", None)  # bond features are not used
    return GraphDataset(
        name=name, graphs=list(ds.graphs), labels=labels, num_classes=num_classes, split=split
    )


def _atom_one_hot(name: str, atoms: torch.Tensor) -> torch.Tensor:
    """ogb's categorical atom features (n, 9) int64 as (n, 174) float32: one one-hot block per
    column, of the column's size in ogb (``ogb.utils.features.get_atom_feature_dims``: atomic
    number 119, chirality 5, degree 12, formal charge 12, hydrogens 10, radical electrons 6,
    hybridisation 6, aromatic 2, in ring 2). A student's first linear layer on it is ogb's
    ``AtomEncoder`` (a sum of one learned embedding per column) plus a bias."""
    from ogb.utils.features import get_atom_feature_dims

    dims = torch.tensor(get_atom_feature_dims())
    atoms = atoms.long()
    if (
        atoms.ndim != 2
        or atoms.shape[1] != len(dims)
        or atoms.min() < 0
        or bool((atoms >= dims).any())
    ):
        raise DatasetFormatError(
            f"dataset '{name}': node-feat.csv.gz must hold {len(dims)} integer atom features "
            f"per row, each from 0 to below its column's size {dims.tolist()}; got a "
            f"{tuple(atoms.shape)} table that is not"
        )
    offsets = torch.cumsum(dims, 0) - dims
    out = torch.zeros(atoms.shape[0], int(dims.sum()))
    out.scatter_(1, atoms + offsets, 1.0)
    return out
