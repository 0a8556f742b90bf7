"""The two dataset objects, one per task, and the splits of their rows.

* :class:`NodeDataset` -- one graph ``graph`` with ``graph.ndata["feat"]`` (N, F) float32 and
  ``graph.ndata["label"]`` (N,) int64, plus the public split as index tensors.
* :class:`GraphDataset` -- a list of graphs, each with ``ndata["feat"]`` (n_i, F) float32, and
  ``labels`` (G,) int64; cross-validated unless it has an official split (ogbg-molhiv).

Plus what a run does to one: :func:`flip_labels` (label noise), :func:`with_labels`,
:func:`standardize_features`, and :func:`stratified_folds` (cross-validation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from .._dgl_compat import dgl
from ..metrics import metric_of
from .errors import DatasetError


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

    def to(self, device) -> Split:
        """The split with its index tensors on ``device`` (not copied when already there)."""
        return dataclasses.replace(
            self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device)
        )


@dataclass
class NodeDataset:
    """One graph for node classification.

    ``graph.ndata["feat"]``: (N, F) float32; ``graph.ndata["label"]``: (N,) int64. The edges are
    DGL's as loaded (training adds self-loops once, see :func:`mutualgnn.training.fit`).
    """

    name: str
    graph: dgl.DGLGraph
    num_classes: int
    split: Split
    task: str = field(default="node", init=False)

    @classmethod
    def from_graph(cls, graph, split: Split | None = None, name: str = "graph") -> NodeDataset:
        """Wrap a DGL graph with ``ndata["feat"]`` (N, F) and ``ndata["label"]`` (N,); the split
        defaults to its boolean ``train_mask`` / ``val_mask`` / ``test_mask``."""
        for key in ("feat", "label"):
            if key not in graph.ndata:
                raise DatasetError(f"the graph needs node data '{key}' (graph.ndata['{key}'])")
        if split is None:
            try:
                split = Split(
                    *(
                        torch.nonzero(graph.ndata[f"{p}_mask"], as_tuple=True)[0]
                        for p in ("train", "val", "test")
                    )
                )
            except KeyError:
                raise DatasetError(
                    "give a Split, or boolean train_mask / val_mask / test_mask in graph.ndata"
                ) from None
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

    def splits(self, folds: int = 10, seed: int = 0, scheme: str = "public") -> list[Split]:
        """One split: the public one (``scheme="public"``; ``seed`` ignored), or a random one
        drawn with ``seed`` (``"random"``, :func:`random_node_split`). ``folds`` is ignored: a
        node set is not cross-validated."""
        if scheme == "random":
            return [random_node_split(self.labels.numpy(), seed)]
        if scheme != "public":
            raise ValueError(f"unknown split scheme {scheme!r}; choose from: public, random")
        return [self.split]

    def stats(self) -> dict:
        g = self.graph
        return {
            "name": self.name,
            "task": "node",
            "graphs": 1,
            "nodes": g.num_nodes(),
            "edges": g.num_edges(),
            "features": self.num_features,
            "classes": self.num_classes,
            "train": len(self.split.train),
            "val": len(self.split.val),
            "test": len(self.split.test),
        }


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
    def from_graphs(cls, graphs, labels, name: str = "graphs") -> GraphDataset:
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

    def splits(
        self, folds: int = 10, seed: int = 0, scheme: str = "public", val_fraction: float = 0.1
    ) -> list[Split]:
        """Stratified ``folds``-fold cross-validation, a stratified validation split carved out of
        each training fold. Deterministic in ``seed`` (a repetition of the cross-validation is
        another ``seed``). A dataset with an official split has that one split: the arguments
        are then ignored. ``scheme`` is for node datasets and is ignored here."""
        if self.split is not None:
            return [self.split]
        return stratified_folds(
            self.labels.numpy(), folds=folds, seed=seed, val_fraction=val_fraction
        )

    def stats(self) -> dict:
        nodes = sum(g.num_nodes() for g in self.graphs)
        edges = sum(g.num_edges() for g in self.graphs)
        out = {
            "name": self.name,
            "task": "graph",
            "graphs": len(self.graphs),
            "nodes": nodes,
            "edges": edges,
            "features": self.num_features,
            "classes": self.num_classes,
        }
        if self.split is not None:
            out.update({part: len(getattr(self.split, part)) for part in ("train", "val", "test")})
        return out


def flip_labels(
    labels: torch.Tensor, rows, fraction: float, num_classes: int, seed: int
) -> torch.Tensor:
    """A copy of ``labels`` (N,) in which ``round(fraction * len(rows))`` of ``rows``, chosen
    uniformly, carry a label drawn uniformly from the other classes (symmetric label noise).
    Deterministic in ``seed``."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"label noise must be a fraction in [0, 1], got {fraction}")
    out = labels.clone()
    rows = torch.as_tensor(rows).reshape(-1)
    rng = np.random.default_rng(seed)
    chosen = rows[torch.as_tensor(rng.permutation(len(rows))[: round(fraction * len(rows))])]
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
        graph.ndata["feat"] = torch.as_tensor(
            scaler.transform(x.cpu().numpy()), dtype=torch.float32
        ).to(x.device)
        return dataclasses.replace(dataset, graph=graph)
    train = [dataset.graphs[i] for i in rows.tolist()]
    scaler = StandardScaler().fit(torch.cat([g.ndata["feat"] for g in train]).cpu().numpy())
    graphs = []
    for g in dataset.graphs:
        h = g.local_var()
        h.ndata["feat"] = torch.as_tensor(
            scaler.transform(g.ndata["feat"].cpu().numpy()), dtype=torch.float32
        ).to(g.device)
        graphs.append(h)
    return dataclasses.replace(dataset, graphs=graphs)


def random_node_split(
    labels: np.ndarray, seed: int, train_per_class: int = 20, val_per_class: int = 30
) -> Split:
    """A random split of nodes with labels ``labels`` (N,) as Shchur et al. (2018, *Pitfalls of
    graph neural network evaluation*) draw them: ``train_per_class`` training and
    ``val_per_class`` validation nodes of every class, chosen uniformly, and every other node for
    testing. Deterministic in ``seed``; ``fold`` None."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        if len(rows) <= train_per_class + val_per_class:
            raise ValueError(
                f"class {c} has {len(rows)} nodes, too few for {train_per_class} "
                f"training and {val_per_class} validation nodes and a test set"
            )
        chosen = rng.permutation(rows)
        train.append(chosen[:train_per_class])
        val.append(chosen[train_per_class : train_per_class + val_per_class])
    train, val = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
    test = np.setdiff1d(np.arange(len(labels)), np.concatenate([train, val]))
    return Split(*(torch.as_tensor(i, dtype=torch.long) for i in (train, val, test)))


def continuous_features(dataset) -> bool:
    """Whether a graph dataset's node features hold values other than 0 and 1: continuous
    attributes (PROTEINS, ENZYMES), not only one-hot labels (MUTAG, ogbg-molhiv)."""
    return dataset.task == "graph" and any(
        bool(((g.ndata["feat"] != 0) & (g.ndata["feat"] != 1)).any()) for g in dataset.graphs
    )


def with_features(dataset, features: str, rows):
    """``dataset`` with the node features that ``features`` (``ExperimentConfig.features``)
    asks for: ``raw`` as loaded; ``standard`` standardised by the statistics of ``rows``
    (:func:`standardize_features`); ``auto`` standardised for a graph dataset with continuous
    attributes (:func:`continuous_features`), as loaded otherwise (one-hot node labels, and
    every node dataset: their bag-of-words and TF-IDF columns are the literature's inputs)."""
    if features == "standard" or (features == "auto" and continuous_features(dataset)):
        return standardize_features(dataset, rows)
    if features not in ("raw", "auto"):
        raise ValueError(f"unknown features '{features}'; choose from: raw, standard, auto")
    return dataset


def stratified_folds(
    labels: np.ndarray, folds: int = 10, seed: int = 0, val_fraction: float = 0.1
) -> list[Split]:
    """``folds`` stratified folds over ``labels`` (G,); each training fold gives up a stratified
    ``val_fraction`` of its rows as validation. Returns one :class:`Split` per fold."""
    labels = np.asarray(labels)
    if folds < 2:
        raise ValueError(f"folds must be >= 2 for cross-validation, got {folds}")
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < folds:
        raise ValueError(
            f"the smallest class has {counts.min()} examples, fewer than folds={folds}; "
            "use fewer folds"
        )
    kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    for fold, (train_val, test) in enumerate(kfold.split(np.zeros(len(labels)), labels)):
        train, val = train_test_split(
            train_val, test_size=val_fraction, stratify=labels[train_val], random_state=seed + fold
        )
        out.append(
            Split(
                *(torch.as_tensor(np.sort(i), dtype=torch.long) for i in (train, val, test)),
                fold=fold,
            )
        )
    return out
