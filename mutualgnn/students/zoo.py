"""The built-in students: short ``nn.Module``s built from ``dgl.nn`` layers, and
:func:`build_student`, which makes one by name with its literature defaults (:mod:`.hparams`).
"""

from __future__ import annotations

import torch
from torch import nn

from .._dgl_compat import dgl  # noqa: F401  (compatibility step before dgl.nn)
from dgl.nn import GATConv, GINConv, GraphConv, SAGEConv
from dgl.nn import AvgPooling, MaxPooling, SumPooling

from .hparams import OPTIM_KEYS, StudentError, student_hparams
from .kernels import FeatureDropout, SparseLinear, fast_dropout, sparse_copy


def build_student(arch: str, task: str, in_feats: int, num_classes: int, **hparams) -> nn.Module:
    """Build one student. ``hparams`` are model settings (optimiser keys are ignored)."""
    hp = student_hparams(arch, task, overrides=hparams)
    model_hp = {k: v for k, v in hp.items() if k not in OPTIM_KEYS}
    if task == "node":
        model = NODE_STUDENTS[arch](in_feats, num_classes, **model_hp)
    else:
        model = GraphClassifier(arch, in_feats, num_classes, **model_hp)
    model.arch, model.task, model.hparams = arch, task, hp
    return fast_dropout(model)


#: message-passing layers of every node-level student: a sampled mini-batch gives one block each
NODE_LAYERS = 2

#: ``edata`` key of per-edge weights that GCN layers pass to ``GraphConv`` when a graph or block
#: has them: evaluation blocks carry the weights that make GraphConv's block-degree
#: normalisation the full graph's (:func:`mutualgnn.training.full_graph_norm`)
NORM_WEIGHT = "norm_weight"


def norm_weight(graph):
    """``graph.edata[NORM_WEIGHT]`` (E,) if the graph or block has it, else None."""
    return graph.edata[NORM_WEIGHT] if NORM_WEIGHT in graph.edata else None


def layer_graphs(graph) -> list:
    """What each of the :data:`NODE_LAYERS` layers runs on: the full ``graph`` every time, or
    the blocks of a mini-batch in order. DGL's convolutions take a block and the features of its
    input nodes, and read the output nodes' own features from the first rows (DGL puts a
    block's output nodes first among its input nodes)."""
    if not isinstance(graph, (list, tuple)):
        return [graph] * NODE_LAYERS
    if len(graph) != NODE_LAYERS:
        raise ValueError(
            f"node-level students have {NODE_LAYERS} layers and take one block per "
            f"layer, got {len(graph)} blocks; sample with {NODE_LAYERS} fanouts"
        )
    return list(graph)


class GCN(nn.Module):
    """Two graph convolutions (Kipf & Welling): dropout, conv, ReLU, dropout, conv.

    The first convolution's weight is applied before propagation (``proj``), which is the same
    map (propagation is linear) and lets a sparse input stay sparse.
    """

    accepts_sparse_features = True  #: takes SparseFeatures as well as dense (N, F)

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        self.input_dropout = FeatureDropout(dropout, densify=False)
        self.proj = SparseLinear(in_feats, hidden, bias=False)
        nn.init.xavier_uniform_(self.proj.weight)  # GraphConv's own initialisation
        self.conv1 = GraphConv(
            hidden, hidden, weight=False, activation=torch.relu, allow_zero_in_degree=True
        )
        self.conv2 = GraphConv(hidden, num_classes, allow_zero_in_degree=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.proj(self.input_dropout(feat)), edge_weight=norm_weight(g1))
        return self.conv2(g2, self.dropout(h), edge_weight=norm_weight(g2))


class GAT(nn.Module):
    """Two GATConv layers (Velickovic et al.): ``heads`` x ``hidden`` ELU, then ``out_heads``
    averaged output heads."""

    accepts_sparse_features = True  #: takes SparseFeatures as well as dense (N, F)

    def __init__(
        self, in_feats, num_classes, hidden=8, heads=8, out_heads=1, dropout=0.6, attn_dropout=0.6
    ):
        super().__init__()
        # GATConv's input dropout and projection, made sparse-aware (same init, same math)
        self.input_dropout = FeatureDropout(dropout, densify=False)
        self.conv1 = GATConv(
            in_feats,
            hidden,
            heads,
            attn_drop=attn_dropout,
            activation=nn.functional.elu,
            allow_zero_in_degree=True,
        )
        self.conv1.fc, self.conv1.feat_drop = sparse_copy(self.conv1.fc), nn.Identity()
        self.conv2 = GATConv(
            hidden * heads,
            num_classes,
            out_heads,
            feat_drop=dropout,
            attn_drop=attn_dropout,
            allow_zero_in_degree=True,
        )

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.input_dropout(feat)).flatten(1)
        return self.conv2(g2, h).mean(1)


class SAGE(nn.Module):
    """Two SAGEConv layers (Hamilton et al.)."""

    accepts_sparse_features = True  #: takes SparseFeatures as well as dense (N, F)

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5, aggregator="mean"):
        super().__init__()
        self.conv1 = SAGEConv(in_feats, hidden, aggregator, activation=torch.relu)
        self.conv2 = SAGEConv(hidden, num_classes, aggregator)
        # with the mean aggregator and in_feats > hidden, SAGEConv projects before propagating:
        # then its two projections take sparse input
        sparse_ok = aggregator == "mean" and in_feats > hidden
        self.input_dropout = FeatureDropout(dropout, densify=not sparse_ok)
        if sparse_ok:
            self.conv1.fc_self = sparse_copy(self.conv1.fc_self)
            self.conv1.fc_neigh = sparse_copy(self.conv1.fc_neigh)
            self.conv1.feat_drop = nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.input_dropout(feat))
        return self.conv2(g2, self.dropout(h))


class NodeGIN(nn.Module):
    """Two GINConv layers (sum aggregation, eps = 0): an MLP, then a linear output layer."""

    accepts_sparse_features = True  #: takes SparseFeatures as well as dense (N, F)

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        mlp = nn.Sequential(nn.Linear(in_feats, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.conv1 = GINConv(mlp, "sum", activation=torch.relu)
        self.conv2 = GINConv(nn.Linear(hidden, num_classes), "sum")
        self.dropout = FeatureDropout(dropout)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.dropout(feat))
        return self.conv2(g2, self.dropout(h))


class MLP(nn.Module):
    """A graph-free two-layer perceptron: the graph is ignored, blocks only say which input rows
    are output nodes (the first ones)."""

    accepts_sparse_features = True  #: takes SparseFeatures as well as dense (N, F)

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        self.net = nn.Sequential(
            FeatureDropout(dropout, densify=False),
            SparseLinear(in_feats, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, graph, feat):
        if isinstance(graph, (list, tuple)):
            feat = feat[: layer_graphs(graph)[-1].num_dst_nodes()]
        return self.net(feat)


NODE_STUDENTS = {"gcn": GCN, "gat": GAT, "sage": SAGE, "gin": NodeGIN, "mlp": MLP}


# ----------------------------------------------------------------------------- graph level


class GraphClassifier(nn.Module):
    """Xu et al.'s graph classifier with a choice of convolution: ``layers - 1`` conv blocks
    (conv, batch norm, ReLU), a readout of every layer's node states (input included), one linear
    head per layer, dropout, and the heads' sum as logits (B, C)."""

    def __init__(
        self,
        arch,
        in_feats,
        num_classes,
        hidden=64,
        layers=5,
        dropout=0.5,
        readout="sum",
        heads=4,
        norm="both",
    ):
        super().__init__()
        if readout not in _READOUT:
            raise StudentError(f"unknown readout '{readout}'; choose from: {', '.join(_READOUT)}")
        if norm not in GCN_NORMS:
            raise StudentError(f"unknown gcn norm '{norm}'; choose from: {', '.join(GCN_NORMS)}")
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        dims = [in_feats] + [hidden] * (layers - 1)
        for d_in in dims[:-1]:
            self.convs.append(_graph_conv(arch, d_in, hidden, heads, norm))
            self.norms.append(nn.BatchNorm1d(hidden))
        self.heads = nn.ModuleList(nn.Linear(d, num_classes) for d in dims)
        self.pool = _READOUT[readout]()
        self.dropout = nn.Dropout(dropout)
        self.conv_arch = arch  #: the convolution (gin, gcn, sage, gat)
        self.gcn_norm = norm  #: a gcn convolution's aggregation (:data:`GCN_NORMS`)
        self.self_loops = arch in ("gcn", "gat")

    def forward(self, graph, feat):
        conv_graph = dgl.add_self_loop(graph) if self.self_loops else graph  # pool on ``graph``
        states = [feat]
        h = feat
        for conv, norm in zip(self.convs, self.norms):
            h = conv(conv_graph, h)
            h = torch.relu(norm(h.flatten(1)))
            states.append(h)
        return sum(self.dropout(head(self.pool(graph, s))) for head, s in zip(self.heads, states))


_READOUT = {"sum": SumPooling, "mean": AvgPooling, "max": MaxPooling}

#: a graph-level GCN's neighbourhood aggregation over N(v) and v itself (``GraphConv``'s
#: ``norm``): ``both`` D^-1/2 (A + I) D^-1/2 (Kipf & Welling), ``right`` the mean (Xu et al.'s
#: GCN baseline, "mean - 1-layer")
GCN_NORMS = ("both", "right")


def _graph_conv(arch, d_in, hidden, heads, norm="both"):
    if arch == "gin":
        mlp = nn.Sequential(
            nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        )
        return GINConv(mlp, "sum", learn_eps=False)
    if arch == "gcn":
        return GraphConv(d_in, hidden, norm=norm, allow_zero_in_degree=True)
    if arch == "sage":
        return SAGEConv(d_in, hidden, "mean")
    if arch == "gat":
        if hidden % heads:
            raise StudentError(
                f"graph-level gat needs hidden ({hidden}) divisible by heads ({heads})"
            )
        return GATConv(d_in, hidden // heads, heads, allow_zero_in_degree=True)
    raise StudentError(f"unknown graph-level student '{arch}'")
