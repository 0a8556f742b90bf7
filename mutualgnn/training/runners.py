"""How :func:`~mutualgnn.training.fit` feeds a cohort: a node task full-batch, a node task on
sampled mini-batches of its nodes, or a graph task on mini-batches of graphs. Each runner trains
one epoch (:meth:`NodeRunner.train_epoch`), evaluates every student
(:meth:`NodeRunner.evaluate`) and scores the ensemble of their best checkpoints
(:meth:`NodeRunner.ensemble`)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .._dgl_compat import dgl
from ..config import ConfigError
from ..metrics import scorer
from ..mutual.losses import cross_entropy, softmax
from ..students import NODE_LAYERS, NORM_WEIGHT, SparseFeatures
from .step import all_logits, mean_stats, step, teacher_logits


def _evaluate_logits(logits, labels, metric):
    """(n, C) logits, (n,) labels -> their score by ``metric`` (:func:`~mutualgnn.metrics.scorer`), mean CE loss.

    Accuracy is computed in torch: this runs every epoch for every student, and scikit-learn's
    input validation made ``accuracy_score`` cost 4 ms a call, about a sixth of a Cora GCN
    epoch. The final numbers are also checked against ``accuracy_score`` (tests/test_training.py).
    """
    return metric(logits, labels), float(cross_entropy(logits, labels))


class NodeRunner:
    """A node task, full batch: the graph (:func:`node_graph`), features (N, F) dense or
    :class:`SparseFeatures`, labels (N,) and the split's indices, all on ``device``."""

    teachers = None  #: ``kd``'s trained teachers, one per student (:func:`make_runner`)

    def __init__(self, data, split, device):
        g = data.graph
        self.graph = node_graph(g).to(device)  # once, shared by the cohort
        self.feat, self.labels = as_input(g.ndata["feat"]).to(device), g.ndata["label"].to(device)
        self.split, self.metric = split.to(device), scorer(data.name)

    def train_epoch(self, cohort, optimisers, criterion):
        cohort.train()
        criterion.train()
        return step(
            cohort,
            optimisers,
            lambda which: all_logits(cohort, self.graph, self.feat, which),
            self.labels,
            self.split.train,
            criterion,
            lambda: teacher_logits(self.teachers, self.graph, self.feat),
        )

    @torch.no_grad()
    def evaluate(self, cohort):
        out = []
        for zv, zt in self.val_test_logits(cohort.eval()):
            val_acc, val_loss = _evaluate_logits(zv, self.labels[self.split.val], self.metric)
            test_acc, _ = _evaluate_logits(zt, self.labels[self.split.test], self.metric)
            out.append(
                dict(
                    val_acc=val_acc,
                    val_loss=val_loss,
                    test_acc=test_acc,
                    probs=(softmax(zv), softmax(zt)),
                )
            )
        return out

    def val_test_logits(self, cohort) -> list:
        """Per student: logits of the validation rows (n_val, C) and the test rows (n_test, C)."""
        return [(z[self.split.val], z[self.split.test]) for z in cohort(self.graph, self.feat)]

    def ensemble(self, probs):
        return _ensemble(
            probs, self.labels[self.split.val], self.labels[self.split.test], self.metric
        )


class SampledNodeRunner(NodeRunner):
    """A node task on mini-batches of ``train.batch_size`` seed nodes (``train.fanouts``).

    Each epoch the seeds (every node when ``kl_rows`` is ``"all"``, else the training nodes) are
    shuffled into batches; DGL's ``NeighborSampler`` builds each batch's blocks once and every
    student consumes them. The loss is :func:`~mutualgnn.mutual.cohort_loss` over the batch's
    output nodes: CE on those with a training label, KL and entropy on all. Evaluation runs the
    validation and test nodes in fixed batches with all their neighbours
    (``MultiLayerFullNeighborSampler``).

    The graph stays on the CPU and is sampled there, from the same streams on every rank; DGL's
    ``DataLoader(..., device=device)`` moves each batch's nodes and blocks to ``device``, with
    the input nodes' features (N_in, F) prefetched as ``blocks[0].srcdata["feat"]``. Labels
    (N,), the training mask (N,) and the split's indices live on ``device``.
    """

    def __init__(self, data, split, train, kl_rows, device):
        if len(train.fanouts) != NODE_LAYERS:
            raise ConfigError(
                f"train.fanouts {train.fanouts} gives {len(train.fanouts)} layers; "
                f"node-level students have {NODE_LAYERS}: give one fanout per "
                f"layer, e.g. --fanouts 10,10"
            )
        g = data.graph
        self.graph = node_graph(g, keep_node_data=True)  # before sampling
        self.labels, self.split = g.ndata["label"].to(device), split.to(device)
        self.metric = scorer(data.name)
        self.is_train = torch.zeros(g.num_nodes(), dtype=torch.bool, device=device)
        self.is_train[self.split.train] = True
        seeds = split.train if kl_rows == "train" else torch.arange(g.num_nodes())
        loading = dgl.dataloading
        prefetch = dict(prefetch_node_feats=["feat"])
        self.loader = loading.DataLoader(
            self.graph,
            seeds,
            loading.NeighborSampler(train.fanouts, **prefetch),
            device=device,
            batch_size=train.batch_size,
            shuffle=True,
        )
        eval_rows = torch.cat([split.val, split.test]).unique()  # sorted, each row once
        self.eval_loader = loading.DataLoader(
            self.graph,
            eval_rows,
            loading.MultiLayerFullNeighborSampler(NODE_LAYERS, **prefetch),
            device=device,
            batch_size=train.batch_size,
        )
        self.out_degrees = self.graph.out_degrees()  # (N,) of the full graph, for full_graph_norm
        # where the validation and test nodes are among the evaluated rows
        self.val_at = torch.searchsorted(eval_rows, split.val).to(device)
        self.test_at = torch.searchsorted(eval_rows, split.test).to(device)

    def train_epoch(self, cohort, optimisers, criterion):
        cohort.train()
        criterion.train()
        stats = []
        for _, output_nodes, blocks in _batches(self.loader):
            labelled = self.is_train[output_nodes].nonzero(as_tuple=True)[0]  # rows of the batch
            if not len(labelled) and not criterion.active:
                continue  # no term to learn from
            feat = blocks[0].srcdata["feat"]
            stats.append(
                step(
                    cohort,
                    optimisers,
                    lambda which: all_logits(cohort, blocks, feat, which),
                    self.labels[output_nodes],
                    labelled,
                    criterion,
                    lambda: teacher_logits(self.teachers, blocks, feat),
                )
            )
        return mean_stats(stats)

    def val_test_logits(self, cohort) -> list:
        per_batch = [
            cohort(full_graph_norm(blocks, self.out_degrees), blocks[0].srcdata["feat"])
            for _, _, blocks in _batches(self.eval_loader)
        ]
        return [(z[self.val_at], z[self.test_at]) for z in map(torch.cat, zip(*per_batch))]


def full_graph_norm(blocks, out_degrees: torch.Tensor) -> list:
    """Give full-neighbour ``blocks`` the edge weights w_uv = sqrt(d_out_block(u) / d_out(u))
    (``edata[NORM_WEIGHT]``), ``out_degrees`` (N,) being the full graph's, and return them.

    GraphConv normalises a block by its own degrees: it scales source u by d_out_block(u)^-1/2,
    where d_out_block(u) counts only u's edges to the batch's nodes, and destination v by
    d_in_block(v)^-1/2. With all of v's neighbours in the block, d_in_block(v) = d_in(v); the
    weights turn the source factor into d_out(u)^-1/2, so a GCN evaluates each node exactly as on
    the whole graph, whatever the batching. (Training keeps DGL's block normalisation.)"""
    for block in blocks:
        src, _ = block.edges()
        full = out_degrees[block.srcdata[dgl.NID].cpu()].to(src.device).clamp(min=1)
        ratio = block.out_degrees().clamp(min=1) / full
        block.edata[NORM_WEIGHT] = ratio[src].float().sqrt()
    return blocks


def _batches(loader):
    """``iter(loader)`` of a DGL node ``DataLoader``, without its advice to pin worker processes
    to cores: there are none, batches are sampled in this process."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Dataloader CPU affinity")
        return iter(loader)


def make_runner(data, split, train, settings, device, teachers=None):
    """How :func:`~mutualgnn.training.fit` feeds the cohort on ``device``: the whole graph,
    sampled mini-batches of its nodes, or mini-batches of graphs. ``teachers`` (``kd``): the
    trained modules whose logits on every batch the criterion distils from (None otherwise)."""
    if data.task == "graph":
        runner = GraphRunner(data, split, train, device)
    elif train.fanouts:
        runner = SampledNodeRunner(data, split, train, settings.kl_rows, device)
    else:
        runner = NodeRunner(data, split, device)
    runner.teachers = teachers
    return runner


class GraphRunner:
    """A graph task: training batches are drawn on the CPU and moved to ``device`` one by one;
    the fixed evaluation batches are moved there once."""

    teachers = None  #: ``kd``'s trained teachers, one per student (:func:`make_runner`)

    def __init__(self, data, split, train, device):
        from dgl.dataloading import GraphDataLoader

        pairs = list(zip(data.graphs, data.labels))
        self.loader = GraphDataLoader(
            [pairs[i] for i in split.train.tolist()],
            batch_size=train.batch_size,
            shuffle=True,
            drop_last=False,
        )
        # evaluation batches are fixed: batch them and move them once
        self.val, self.test = (
            [(g.to(device), y.to(device)) for g, y in eval_batches(data.graphs, data.labels, rows)]
            for rows in (split.val, split.test)
        )
        self.metric, self.device = scorer(data.name), device

    def train_epoch(self, cohort, optimisers, criterion):
        cohort.train()
        criterion.train()
        stats = []
        for graph, labels in self.loader:
            graph, labels = graph.to(self.device), labels.to(self.device)
            if graph.batch_size == 1 and any(
                isinstance(m, nn.BatchNorm1d) for s in cohort.students for m in s.modules()
            ):
                continue  # batch norm cannot train on a single graph
            feat = graph.ndata["feat"]
            stats.append(
                step(
                    cohort,
                    optimisers,
                    lambda which: all_logits(cohort, graph, feat, which),
                    labels,
                    slice(None),
                    criterion,
                    lambda: teacher_logits(self.teachers, graph, feat),
                )
            )
        return mean_stats(stats)

    @torch.no_grad()
    def evaluate(self, cohort):
        cohort.eval()
        per_batch = [cohort(g, g.ndata["feat"]) for g, _ in self.val + self.test]
        out = []
        for logits in zip(*per_batch):  # one student's logits per batch
            zv, zt = torch.cat(logits[: len(self.val)]), torch.cat(logits[len(self.val) :])
            val_acc, val_loss = _evaluate_logits(zv, self.val_labels, self.metric)
            test_acc, _ = _evaluate_logits(zt, self.test_labels, self.metric)
            out.append(
                dict(
                    val_acc=val_acc,
                    val_loss=val_loss,
                    test_acc=test_acc,
                    probs=(softmax(zv), softmax(zt)),
                )
            )
        return out

    @property
    def val_labels(self):
        return torch.cat([y for _, y in self.val])

    @property
    def test_labels(self):
        return torch.cat([y for _, y in self.test])

    def ensemble(self, probs):
        return _ensemble(probs, self.val_labels, self.test_labels, self.metric)


def eval_batches(graphs, labels, rows, batch_size: int = 256) -> list:
    """``(dgl.batch of graphs, labels)`` pairs over ``rows`` in order: how graphs are evaluated."""
    from dgl.dataloading import GraphDataLoader

    pairs = [(graphs[i], labels[i]) for i in rows.tolist()]
    return list(GraphDataLoader(pairs, batch_size=batch_size))


def _ensemble(probs, val_labels, test_labels, metric):
    """The students' (n, C) probabilities averaged, scored by ``metric`` (:func:`~mutualgnn.metrics.scorer`)."""
    val = torch.stack([p[0] for p in probs]).mean(0)
    test = torch.stack([p[1] for p in probs]).mean(0)
    return dict(val_acc=metric(val, val_labels), test_acc=metric(test, test_labels))


def node_graph(graph, keep_node_data: bool = False):
    """``graph`` as node-level students take it: every node's self-loop once, and no node data
    (features are an argument; moving them with the graph would copy them for nothing), or
    with it where ``keep_node_data`` (a graph to sample blocks from, whose features the
    sampler reads)."""
    out = dgl.add_self_loop(dgl.remove_self_loop(graph))
    if not keep_node_data:
        out.ndata.clear()
    return out


def as_input(feat: torch.Tensor, max_density: float = 0.25):
    """Node features as the students take them: :class:`~mutualgnn.students.SparseFeatures`
    when at most ``max_density`` of the entries are non-zero (bag-of-words inputs), else
    unchanged."""
    if torch.is_tensor(feat) and feat.numel() and (feat != 0).float().mean() <= max_density:
        return SparseFeatures.from_dense(feat)
    return feat
