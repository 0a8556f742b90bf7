"""Same-architecture students executed as one wide model.

K students of one architecture with identical hyper-parameters do the same sequence of
operations on the same graph, each with its own weights. :class:`FusedGCN` stacks their weights
along a leading K axis and runs the cohort as one model: each student's input dropout and
projection, then one normalised propagation over K*h columns, per-student second-layer weights as
one batched matmul, and one more propagation over K*C columns. :class:`FusedGAT` runs K GATs as
one GAT with K times the heads: each student's input projection, then one attention layer over
K*heads heads (one edge softmax, one aggregation), per-student second-layer projections as one
block-diagonal matmul, and one attention layer over K*out_heads heads. Parameters, initial
values and the function computed are the students' own (tests/test_fused.py loads identical
weights into both paths and compares logits and gradients); dropout masks are drawn per student
as before, from a different random stream. GraphSAGE students are not fused: their cost is each
student's two input projections, which nothing shares; a fused version measured no faster
(docs/performance.md). Graph-level GIN and GCN classifiers fuse in :mod:`.fused_graph`.

:class:`Cohort` is what the training loop runs: it fuses what it can, runs the other students
one by one, and writes the fused weights back into the students (:meth:`Cohort.sync`).
"""

from __future__ import annotations

import torch
from torch import nn

from .._dgl_compat import dgl  # noqa: F401  (the compatibility step before dgl.nn)
from dgl.nn import GATConv, GraphConv

from ..students.kernels import Dropout, SparseFeatures, SparseMatmul, dense_features
from ..students.zoo import GAT, GCN, GraphClassifier, layer_graphs, norm_weight
from .fused_graph import FusedGraphClassifier


def features_for(module: nn.Module, feat):
    """What ``module`` is given as features: ``feat`` itself when it takes
    :class:`SparseFeatures` (its class sets ``accepts_sparse_features``: the built-in node
    students and the fused models), else a dense (N, F) tensor (any other student)."""
    return feat if getattr(module, "accepts_sparse_features", False) else dense_features(feat)


class FusedGCN(nn.Module):
    """K node-level :class:`~mutualgnn.students.GCN` students as one model.

    ``forward(graph, feat)``: feat (N, F) dense or :class:`SparseFeatures` -> (K, N, C) logits;
    For a sampled mini-batch: ``graph`` its two blocks, feat (N_in, F) dense -> (K, N_out, C).
    Parameters: ``proj`` (K, h, F), ``bias1`` (K, h), ``weight2`` (K, h, C), ``bias2`` (K, C).
    """

    accepts_sparse_features = True

    def __init__(self, students):
        super().__init__()
        self.num_members = len(students)
        stack = lambda get: nn.Parameter(torch.stack([get(s).detach().clone() for s in students]))
        self.proj = stack(lambda s: s.proj.weight)
        self.bias1 = stack(lambda s: s.conv1.bias)
        self.weight2 = stack(lambda s: s.conv2.weight)
        self.bias2 = stack(lambda s: s.conv2.bias)
        self.input_dropout = Dropout(students[0].input_dropout.p)
        self.dropout = Dropout(students[0].dropout.p)
        # normalised propagation D^-1/2 (A) D^-1/2 over any number of columns, no weight
        self.propagate = GraphConv(1, 1, weight=False, bias=False, allow_zero_in_degree=True)

    def forward(self, graph, feat):
        K, h = self.proj.shape[:2]
        g1, g2 = layer_graphs(graph)
        x = _project(self.proj, self.input_dropout, feat)  # (N, K, h)
        x = self.propagate(g1, x.reshape(len(x), K * h), edge_weight=norm_weight(g1))  # (N1, K*h)
        n = len(x)  # N, or the first block's output nodes
        x = torch.relu(x.view(n, K, h) + self.bias1)
        # per-student second-layer weights as one block-diagonal matmul (K*h, K*C): on CPU
        # faster than einsum or bmm over the K axis, which copy x into (K, N, h) first
        x = self.dropout(x).reshape(n, K * h) @ torch.block_diag(*self.weight2.unbind(0))
        C = self.weight2.shape[-1]
        x = self.propagate(g2, x, edge_weight=norm_weight(g2))
        x = x.view(len(x), K, C) + self.bias2
        return x.transpose(0, 1)  # (K, N, C)

    @torch.no_grad()
    def write_back(self, k: int, student: GCN) -> None:
        """Copy member ``k``'s weights into ``student``."""
        student.proj.weight.copy_(self.proj[k])
        student.conv1.bias.copy_(self.bias1[k])
        student.conv2.weight.copy_(self.weight2[k])
        student.conv2.bias.copy_(self.bias2[k])


def _project(weight, dropout, feat):
    """Each student's input dropout and projection: weight (K, out, F), feat (N, F) dense or
    :class:`SparseFeatures` -> (N, K, out). Without dropout (evaluation) every student
    projects the same input: one product with the K weights side by side (F, K*out)."""
    K, out, _ = weight.shape
    if not dropout.training or dropout.p == 0:
        stacked = weight.reshape(K * out, -1)
        if isinstance(feat, SparseFeatures):
            return SparseMatmul.apply(stacked.t(), feat.csr, feat.csr_t).view(-1, K, out)
        return (feat @ stacked.t()).view(-1, K, out)
    if isinstance(feat, SparseFeatures):  # each student's dropout on the stored values
        values = feat.csr.values()
        return torch.stack(
            [SparseMatmul.apply(w.t(), *_csr_pair(feat, dropout(values))) for w in weight], 1
        )
    dropped = dropout(feat.unsqueeze(0).expand(len(weight), -1, -1))  # (K, N, F)
    return torch.bmm(dropped, weight.transpose(1, 2)).transpose(0, 1)


def _wide_gat(conv: GATConv, members: int) -> GATConv:
    """A GATConv with ``members`` times ``conv``'s heads that takes projected features
    (N, members * heads * out): no projection or feature dropout of its own (the fused model
    applies each student's), the attention's own dropout, slope and activation."""
    heads, out = conv._num_heads, conv._out_feats
    wide = GATConv(
        heads * out * members,
        out,
        heads * members,
        attn_drop=conv.attn_drop.p,
        negative_slope=conv.leaky_relu.negative_slope,
        activation=conv.activation,
        allow_zero_in_degree=True,
    )
    wide.fc, wide.attn_drop = nn.Identity(), Dropout(conv.attn_drop.p)
    return wide


class FusedGAT(nn.Module):
    """K node-level :class:`~mutualgnn.students.GAT` students as one model.

    ``forward(graph, feat)``: feat (N, F) dense or :class:`SparseFeatures` (or two blocks and
    the first block's input features) -> (K, N, C) logits. Parameters: ``proj`` (K, H*h, F) and
    ``fc2`` (K, O*C, H*h), the students' projections; ``conv1`` and ``conv2`` hold the K
    students' attention vectors and biases side by side (``attn_l`` (1, K*H, h), ``bias``
    (K*H*h,); second layer (1, K*O, C) and (K*O*C,)), student k's heads at k*H ... k*H + H - 1.
    """

    accepts_sparse_features = True

    def __init__(self, students):
        super().__init__()
        K, first, second = len(students), students[0].conv1, students[0].conv2
        stack = lambda get: nn.Parameter(torch.stack([get(s).detach().clone() for s in students]))
        self.proj = stack(lambda s: s.conv1.fc.weight)
        self.fc2 = stack(lambda s: s.conv2.fc.weight)
        self.input_dropout = Dropout(students[0].input_dropout.p)
        self.feat_drop2 = Dropout(second.feat_drop.p)
        self.conv1, self.conv2 = _wide_gat(first, K), _wide_gat(second, K)
        with torch.no_grad():
            for wide, name in ((self.conv1, "conv1"), (self.conv2, "conv2")):
                for attr in ("attn_l", "attn_r"):
                    getattr(wide, attr).copy_(
                        torch.cat([getattr(getattr(s, name), attr) for s in students], 1)
                    )
                wide.bias.copy_(torch.cat([getattr(s, name).bias for s in students]))
        self.out_heads = second._num_heads

    def forward(self, graph, feat):
        K = len(self.proj)
        g1, g2 = layer_graphs(graph)
        x = _project(self.proj, self.input_dropout, feat)  # (N, K, H*h)
        x = self.conv1(g1, x.reshape(len(x), -1)).reshape(-1, K * self.proj.shape[1])
        x = self.feat_drop2(x) @ torch.block_diag(*self.fc2.transpose(1, 2).unbind(0))
        x = self.conv2(g2, x)  # (N2, K*O, C)
        return x.view(len(x), K, self.out_heads, -1).mean(2).transpose(0, 1)  # (K, N2, C)

    @torch.no_grad()
    def write_back(self, k: int, student: GAT) -> None:
        """Copy member ``k``'s weights into ``student``."""
        student.conv1.fc.weight.copy_(self.proj[k])
        student.conv2.fc.weight.copy_(self.fc2[k])
        for wide, own in ((self.conv1, student.conv1), (self.conv2, student.conv2)):
            heads = own._num_heads
            own.attn_l.copy_(wide.attn_l[:, k * heads : (k + 1) * heads])
            own.attn_r.copy_(wide.attn_r[:, k * heads : (k + 1) * heads])
            size = own.bias.numel()
            own.bias.copy_(wide.bias[k * size : (k + 1) * size])


def _csr_pair(feat: SparseFeatures, values):
    pair = feat.with_values(values)
    return pair.csr, pair.csr_t


#: architecture class -> its fused implementation
FUSABLE = {GCN: FusedGCN, GAT: FusedGAT, GraphClassifier: FusedGraphClassifier}


def fusion_key(student):
    """What students must share to run as one fused model (class, convolution and
    hyper-parameters), or None for a student that does not fuse: a class without a fused
    implementation, a graph classifier whose convolution has none, a student without ``hparams``
    (not made by :func:`~mutualgnn.students.build_student`) or with its own random stream."""
    cls, hparams = type(student), getattr(student, "hparams", None)
    conv = getattr(student, "conv_arch", None)
    if (
        cls not in FUSABLE
        or not isinstance(hparams, dict)
        or getattr(student, "generator", None) is not None
        or (cls is GraphClassifier and conv not in FusedGraphClassifier.ARCHS)
    ):
        return None
    return cls, conv, repr(sorted(hparams.items()))


class Cohort(nn.Module):
    """The students of one fit, run as groups.

    Students with the same :func:`fusion_key` form one fused group (two or more members); every
    other student, and every student with its own random stream
    (:func:`~mutualgnn.students.use_generator`), is its own group. ``forward`` returns the K students' logits
    in their original order; ``groups`` pairs each group's module with its member indices, so an
    optimiser per group gets exactly the students' parameters.
    """

    def __init__(self, students, fuse: bool = True):
        super().__init__()
        self.students = list(students)
        members: dict = {}
        for k, s in enumerate(self.students):
            key = fusion_key(s) if fuse else None
            members.setdefault(k if key is None else key, []).append(k)
        self.groups = []  # (module, member indices, fused?)
        for key, idx in members.items():
            if isinstance(key, tuple) and len(idx) > 1:
                self.groups.append((FUSABLE[key[0]]([self.students[k] for k in idx]), idx, True))
            else:
                self.groups.extend((self.students[k], [k], False) for k in idx)
        self.modules_ = nn.ModuleList(g[0] for g in self.groups)  # registered for .train()/.eval()

    @property
    def fused(self) -> bool:
        return any(f for _, _, f in self.groups)

    def forward(self, graph, feat) -> list:
        out = [None] * len(self.students)
        for module, idx, fused in self.groups:
            if fused:
                for k, z in zip(idx, module(graph, feat)):
                    out[k] = z
            else:
                out[idx[0]] = module(graph, features_for(module, feat))
        return out

    @property
    def local(self) -> list:
        """Indices of the students trained in this process: all of them (a
        :class:`~mutualgnn.training.distributed.ShardedCohort` trains a share)."""
        return list(range(len(self.students)))

    def share(self, values: list) -> list:
        """Per-student numbers (K,) known for :attr:`local` students -> known for all."""
        return list(values)

    def collect(self, items: list) -> list:
        """Per-student objects (K,) valid for :attr:`local` students -> valid for all."""
        return list(items)

    def sync(self, k: int) -> None:
        """Write student ``k``'s current weights from its fused group into the student."""
        for module, idx, fused in self.groups:
            if fused and k in idx:
                module.write_back(idx.index(k), self.students[k])
