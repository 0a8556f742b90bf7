"""Student GNNs: short ``nn.Module``s built from ``dgl.nn`` layers, and a registry by name.

Every student maps ``(graph, feat)`` to logits (node-level students also take ``feat`` as
:class:`SparseFeatures`, which keeps bag-of-words inputs sparse):

* node level: ``graph`` with N nodes (self-loops already added for ``gcn``/``gat``),
  ``feat`` (N, F) -> logits (N, C);
* node level, sampled mini-batch: ``graph`` a list of :data:`NODE_LAYERS` blocks (DGL's message
  flow graphs, one per layer, as ``dgl.dataloading.NeighborSampler`` gives them), ``feat``
  (N_in, F) dense features of the first block's input nodes -> logits (N_out, C) of the last
  block's output nodes;
* graph level: ``graph`` a batch of B graphs (``dgl.batch``), ``feat`` (sum n_i, F) -> logits (B, C).

Hyper-parameters live in one place, :data:`DEFAULTS` (per task and architecture, from the
literature) with :data:`DATASET_DEFAULTS` for the few dataset-specific settings the original
papers used. ``lr`` and ``weight_decay`` are optimiser settings, read by the training loop.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from ._dgl_compat import dgl  # noqa: F401  (compatibility step before dgl.nn)
from dgl.nn import GATConv, GINConv, GraphConv, SAGEConv
from dgl.nn import AvgPooling, MaxPooling, SumPooling

OPTIM_KEYS = ("lr", "weight_decay")

#: Literature defaults. Node level: GCN (Kipf & Welling 2017, hidden widened to 64), GAT
#: (Velickovic et al. 2018: 8 heads x 8 hidden, dropout 0.6, lr 0.005), GraphSAGE (Hamilton et al.
#: 2017, mean aggregator), GIN (Xu et al. 2019, 2 layers), an MLP baseline. Graph level: the GIN
#: recipe of Xu et al. 2019 (5 layers counting the input, 2-layer MLPs with batch norm, sum
#: readout over every layer, dropout 0.5, lr 0.01 halved every 50 epochs, batch 32), reused for
#: the other convolutions.
DEFAULTS: dict[str, dict[str, dict]] = {
    "node": {
        "gcn": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
        "gat": dict(hidden=8, heads=8, out_heads=1, dropout=0.6, attn_dropout=0.6, lr=0.005,
                    weight_decay=5e-4),
        "sage": dict(hidden=64, dropout=0.5, aggregator="mean", lr=0.01, weight_decay=5e-4),
        "gin": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
        "mlp": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
    },
    "graph": {
        arch: dict(hidden=64, layers=5, dropout=0.5, readout="sum", lr=0.01, weight_decay=0.0,
                   **({"heads": 4} if arch == "gat" else {}))
        for arch in ("gin", "gcn", "sage", "gat")
    },
}

#: Settings the original papers used for one dataset only (GAT on PubMed: 8 output heads,
#: lr 0.01, weight decay 0.001).
DATASET_DEFAULTS: dict[tuple[str, str], dict] = {
    ("pubmed", "gat"): dict(out_heads=8, lr=0.01, weight_decay=1e-3),
}


class StudentError(ValueError):
    """Unknown architecture or hyper-parameter; the message lists the valid choices."""


def architectures(task: str) -> list[str]:
    return list(DEFAULTS[task])


def student_hparams(arch: str, task: str, dataset: str | None = None,
                    overrides: dict | None = None) -> dict:
    """The hyper-parameters of ``arch`` for ``task``: defaults, then the dataset's literature
    settings, then ``overrides``. Unknown names raise :class:`StudentError`."""
    if task not in DEFAULTS:
        raise StudentError(f"unknown task '{task}'; choose node or graph")
    if arch not in DEFAULTS[task]:
        raise StudentError(f"unknown {task}-level student '{arch}'; choose from: "
                           + ", ".join(DEFAULTS[task]))
    hp = dict(DEFAULTS[task][arch])
    hp.update(DATASET_DEFAULTS.get((dataset or "", arch), {}) if task == "node" else {})
    unknown = sorted(set(overrides or {}) - set(hp))
    if unknown:
        raise StudentError(f"unknown hyper-parameter(s) {unknown} for {task}-level '{arch}'; "
                           f"valid: {', '.join(sorted(hp))}")
    for key, value in (overrides or {}).items():
        default = hp[key]
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and (not isinstance(value, (int, float)) or isinstance(value, bool)
                        or (isinstance(default, int) and not isinstance(value, int))):
            raise StudentError(f"hyper-parameter '{key}' of '{arch}' must be a "
                               f"{type(default).__name__}, got {value!r}")
        if isinstance(default, str) and not isinstance(value, str):
            raise StudentError(f"hyper-parameter '{key}' of '{arch}' must be a string, got {value!r}")
    hp.update(overrides or {})
    return hp


def build_student(arch: str, task: str, in_feats: int, num_classes: int, **hparams) -> nn.Module:
    """Build one student. ``hparams`` are model settings (optimiser keys are ignored)."""
    hp = student_hparams(arch, task, overrides=hparams)
    model_hp = {k: v for k, v in hp.items() if k not in OPTIM_KEYS}
    if task == "node":
        model = _NODE[arch](in_feats, num_classes, **model_hp)
    else:
        model = GraphClassifier(arch, in_feats, num_classes, **model_hp)
    model.arch, model.task, model.hparams = arch, task, hp
    return _fast_dropout(model)


# ----------------------------------------------------------------------------- node level

class SparseFeatures:
    """A constant sparse feature matrix (N, F) in CSR form, with its transpose kept for the
    backward pass of :class:`SparseLinear`. Build it once per graph with :meth:`from_dense`;
    :class:`FeatureDropout` returns a copy with dropped-out values."""

    def __init__(self, csr: torch.Tensor, csr_t: torch.Tensor, perm: torch.Tensor):
        self.csr, self.csr_t, self.perm = csr, csr_t, perm

    @classmethod
    def from_dense(cls, feat: torch.Tensor) -> "SparseFeatures":
        with warnings.catch_warnings():  # torch flags sparse CSR as beta
            warnings.simplefilter("ignore", UserWarning)
            return cls._from_dense(feat)

    @classmethod
    def _from_dense(cls, feat: torch.Tensor) -> "SparseFeatures":
        coo = feat.to_sparse().coalesce()
        n = coo.values().numel()
        # order of the stored values in the transpose's CSR layout
        perm = torch.sparse_coo_tensor(coo.indices(), torch.arange(n, dtype=torch.float64),
                                       coo.shape).t().coalesce().values().long()
        csr_t = torch.sparse_coo_tensor(coo.indices().flip(0), coo.values(),
                                        coo.shape[::-1]).coalesce().to_sparse_csr()
        return cls(coo.to_sparse_csr(), csr_t, perm)

    @property
    def shape(self):
        return self.csr.shape

    def to(self, device) -> "SparseFeatures":
        """The same matrix with ``csr`` (N, F), ``csr_t`` (F, N) and ``perm`` (nnz,) on
        ``device`` (not copied when already there)."""
        return SparseFeatures(self.csr.to(device), self.csr_t.to(device), self.perm.to(device))

    def with_values(self, values: torch.Tensor) -> "SparseFeatures":
        csr = torch.sparse_csr_tensor(self.csr.crow_indices(), self.csr.col_indices(), values,
                                      self.csr.shape)
        csr_t = torch.sparse_csr_tensor(self.csr_t.crow_indices(), self.csr_t.col_indices(),
                                        values[self.perm], self.csr_t.shape)
        return SparseFeatures(csr, csr_t, self.perm)

    def to_dense(self) -> torch.Tensor:
        return self.csr.to_dense()


class _SparseMatmul(torch.autograd.Function):
    """X @ W for constant sparse X (CSR) and dense W, with a fast CSR backward for W."""

    @staticmethod
    def forward(ctx, weight_t, csr, csr_t):
        ctx.csr_t = csr_t
        return csr @ weight_t

    @staticmethod
    def backward(ctx, grad):
        return ctx.csr_t @ grad, None, None


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the same distribution, drawn as ``rand >= p``: about twice as fast on
    CPU as torch's Bernoulli sampler, which dominated the dropout of large inputs and of GAT's
    attention over every edge. :func:`build_student` puts it in place of every ``nn.Dropout``.

    ``generator`` (None: torch's global stream) is the random stream the masks are drawn from,
    on the device of the inputs; :func:`use_generator` gives a student its own."""

    generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p >= 1:
            return x * 0
        if self.generator is None:
            noise = torch.rand_like(x)
        else:
            noise = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return x * noise.ge_(self.p).mul_(1.0 / (1.0 - self.p))


def use_generator(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every dropout mask of ``model`` from ``generator``: a student with its own random
    stream trains the same whether its peers run before it, after it or in another process
    (:mod:`mutualgnn.distributed`). Such students are never fused (:class:`~mutualgnn.fused.Cohort`).
    A generator belongs to one device: give the one the model trains on
    (:func:`mutualgnn.distributed.student_generator` makes it for a device)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator
    model.generator = generator
    return model


def _fast_dropout(model: nn.Module) -> nn.Module:
    for module in list(model.modules()):
        for name, child in module.named_children():
            if type(child) is nn.Dropout:  # noqa: E721 (exactly torch's, e.g. inside DGL layers)
                setattr(module, name, Dropout(child.p))
    return model


class FeatureDropout(Dropout):
    """Input dropout that also accepts :class:`SparseFeatures`.

    Dropout leaves zeros at zero, so dropping only the stored values of a sparse bag-of-words
    matrix draws the same distribution as dense dropout, at a fraction of the cost. Sparse input
    stays sparse when ``densify`` is False (for a :class:`SparseLinear` next), else becomes dense.
    """

    def __init__(self, p: float = 0.5, densify: bool = True):
        super().__init__(p)
        self.densify = densify

    def forward(self, feat):
        if not isinstance(feat, SparseFeatures):
            return super().forward(feat)
        if self.training and self.p > 0:
            feat = feat.with_values(super().forward(feat.csr.values()))
        return feat.to_dense() if self.densify else feat


class SparseLinear(nn.Linear):
    """``nn.Linear`` that also takes :class:`SparseFeatures` (N, F) -> dense (N, out)."""

    def forward(self, x):
        if not isinstance(x, SparseFeatures):
            return super().forward(x)
        out = _SparseMatmul.apply(self.weight.t(), x.csr, x.csr_t)
        return out if self.bias is None else out + self.bias


def _sparse_copy(linear: nn.Linear) -> SparseLinear:
    """A :class:`SparseLinear` with the same shape and initial parameters as ``linear``."""
    out = SparseLinear(linear.in_features, linear.out_features, bias=linear.bias is not None)
    out.load_state_dict(linear.state_dict())
    return out


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
        raise ValueError(f"node-level students have {NODE_LAYERS} layers and take one block per "
                         f"layer, got {len(graph)} blocks; sample with {NODE_LAYERS} fanouts")
    return list(graph)


class GCN(nn.Module):
    """Two graph convolutions (Kipf & Welling): dropout, conv, ReLU, dropout, conv.

    The first convolution's weight is applied before propagation (``proj``), which is the same
    map (propagation is linear) and lets a sparse input stay sparse.
    """

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        self.input_dropout = FeatureDropout(dropout, densify=False)
        self.proj = SparseLinear(in_feats, hidden, bias=False)
        nn.init.xavier_uniform_(self.proj.weight)  # GraphConv's own initialisation
        self.conv1 = GraphConv(hidden, hidden, weight=False, activation=torch.relu,
                               allow_zero_in_degree=True)
        self.conv2 = GraphConv(hidden, num_classes, allow_zero_in_degree=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.proj(self.input_dropout(feat)), edge_weight=norm_weight(g1))
        return self.conv2(g2, self.dropout(h), edge_weight=norm_weight(g2))


class GAT(nn.Module):
    """Two GATConv layers (Velickovic et al.): ``heads`` x ``hidden`` ELU, then ``out_heads``
    averaged output heads."""

    def __init__(self, in_feats, num_classes, hidden=8, heads=8, out_heads=1, dropout=0.6,
                 attn_dropout=0.6):
        super().__init__()
        # GATConv's input dropout and projection, made sparse-aware (same init, same math)
        self.input_dropout = FeatureDropout(dropout, densify=False)
        self.conv1 = GATConv(in_feats, hidden, heads, attn_drop=attn_dropout,
                             activation=nn.functional.elu, allow_zero_in_degree=True)
        self.conv1.fc, self.conv1.feat_drop = _sparse_copy(self.conv1.fc), nn.Identity()
        self.conv2 = GATConv(hidden * heads, num_classes, out_heads, feat_drop=dropout,
                             attn_drop=attn_dropout, allow_zero_in_degree=True)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.input_dropout(feat)).flatten(1)
        return self.conv2(g2, h).mean(1)


class SAGE(nn.Module):
    """Two SAGEConv layers (Hamilton et al.)."""

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5, aggregator="mean"):
        super().__init__()
        self.conv1 = SAGEConv(in_feats, hidden, aggregator, activation=torch.relu)
        self.conv2 = SAGEConv(hidden, num_classes, aggregator)
        # with the mean aggregator and in_feats > hidden, SAGEConv projects before propagating:
        # then its two projections take sparse input
        sparse_ok = aggregator == "mean" and in_feats > hidden
        self.input_dropout = FeatureDropout(dropout, densify=not sparse_ok)
        if sparse_ok:
            self.conv1.fc_self = _sparse_copy(self.conv1.fc_self)
            self.conv1.fc_neigh = _sparse_copy(self.conv1.fc_neigh)
            self.conv1.feat_drop = nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def forward(self, graph, feat):
        g1, g2 = layer_graphs(graph)
        h = self.conv1(g1, self.input_dropout(feat))
        return self.conv2(g2, self.dropout(h))


class NodeGIN(nn.Module):
    """Two GINConv layers (sum aggregation, eps = 0): an MLP, then a linear output layer."""

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

    def __init__(self, in_feats, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        self.net = nn.Sequential(FeatureDropout(dropout, densify=False),
                                 SparseLinear(in_feats, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, graph, feat):
        if isinstance(graph, (list, tuple)):
            feat = feat[:layer_graphs(graph)[-1].num_dst_nodes()]
        return self.net(feat)


_NODE = {"gcn": GCN, "gat": GAT, "sage": SAGE, "gin": NodeGIN, "mlp": MLP}


# ----------------------------------------------------------------------------- graph level

class GraphClassifier(nn.Module):
    """Xu et al.'s graph classifier with a choice of convolution: ``layers - 1`` conv blocks
    (conv, batch norm, ReLU), a readout of every layer's node states (input included), one linear
    head per layer, dropout, and the heads' sum as logits (B, C)."""

    def __init__(self, arch, in_feats, num_classes, hidden=64, layers=5, dropout=0.5,
                 readout="sum", heads=4):
        super().__init__()
        if readout not in _READOUT:
            raise StudentError(f"unknown readout '{readout}'; choose from: {', '.join(_READOUT)}")
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        dims = [in_feats] + [hidden] * (layers - 1)
        for d_in in dims[:-1]:
            self.convs.append(_graph_conv(arch, d_in, hidden, heads))
            self.norms.append(nn.BatchNorm1d(hidden))
        self.heads = nn.ModuleList(nn.Linear(d, num_classes) for d in dims)
        self.pool = _READOUT[readout]()
        self.dropout = nn.Dropout(dropout)
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


def _graph_conv(arch, d_in, hidden, heads):
    if arch == "gin":
        mlp = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                            nn.Linear(hidden, hidden))
        return GINConv(mlp, "sum", learn_eps=False)
    if arch == "gcn":
        return GraphConv(d_in, hidden, allow_zero_in_degree=True)
    if arch == "sage":
        return SAGEConv(d_in, hidden, "mean")
    if arch == "gat":
        if hidden % heads:
            raise StudentError(f"graph-level gat needs hidden ({hidden}) divisible by heads ({heads})")
        return GATConv(d_in, hidden // heads, heads, allow_zero_in_degree=True)
    raise StudentError(f"unknown graph-level student '{arch}'")
