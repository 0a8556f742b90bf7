"""Same-architecture graph classifiers executed as one wide model.

K :class:`~mutualgnn.students.zoo.GraphClassifier` students with GIN or GCN convolutions and
identical hyper-parameters do the same sequence of operations on the same batch of graphs, each
with its own weights. :class:`FusedGraphClassifier` runs them as one model over K * hidden
columns: each layer's neighbourhood aggregation once over every student's columns (the input
features' aggregation once for all), the students' linear maps as one batched product, batch
norm, ReLU and the sum readout once over K * hidden columns, and the K students' linear heads as
one product per layer. Batch norm is per column, so one ``BatchNorm1d`` over K * hidden columns
is the K students' own. Parameters, initial values and the function computed are the
students' (tests/test_fused_graph.py compares logits and gradients with the students run one
by one); dropout masks are drawn from a different random stream. Student k's columns are
``k * width ... (k + 1) * width - 1`` of every (rows, K * width) tensor.
"""

from __future__ import annotations

import torch
from torch import nn

from .._dgl_compat import dgl
from dgl.nn import GINConv, GraphConv

from ..students.kernels import Dropout


class StackedLinear(nn.Module):
    """K linear maps side by side: ``weight`` (K, out, in), ``bias`` (K, out).

    ``forward(x)``: x (n, in), the same input for every member (``shared``), or (n, K * in),
    member k's input in columns k * in ... (k + 1) * in - 1 -> (n, K * out), member k's output
    in columns k * out ... (k + 1) * out - 1. A shared input is one product with the K weights
    stacked; separate inputs are one batched product (``bmm``), which costs the K products'
    FLOPs, not the K^2 of a block-diagonal weight.
    """

    def __init__(self, weights, biases, shared: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([w.detach().clone() for w in weights]))
        self.bias = nn.Parameter(torch.stack([b.detach().clone() for b in biases]))
        self.shared = shared

    def forward(self, x):
        K, out, width = self.weight.shape
        n = len(x)
        if self.shared:
            return nn.functional.linear(
                x, self.weight.reshape(K * out, width), self.bias.reshape(K * out)
            )
        x = x.view(n, K, width).transpose(0, 1)  # (K, n, in)
        y = torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))
        return y.transpose(0, 1).reshape(n, K * out)  # (n, K*out)

    @torch.no_grad()
    def write_back(
        self, k: int, weight: torch.Tensor, bias: torch.Tensor, transposed: bool = False
    ) -> None:
        """Copy member ``k`` into a student's ``weight`` (out, in) (``transposed``: (in, out),
        as ``GraphConv`` keeps it) and ``bias`` (out,)."""
        weight.copy_(self.weight[k].t() if transposed else self.weight[k])
        bias.copy_(self.bias[k])


def _stacked_norm(norms) -> nn.BatchNorm1d:
    """One ``BatchNorm1d`` over the K students' columns, with their parameters and running
    statistics side by side."""
    first = norms[0]
    wide = nn.BatchNorm1d(first.num_features * len(norms), eps=first.eps, momentum=first.momentum)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(wide, name).copy_(torch.cat([getattr(n, name) for n in norms]))
        wide.num_batches_tracked.copy_(first.num_batches_tracked)
    return wide


@torch.no_grad()
def _norm_write_back(wide: nn.BatchNorm1d, k: int, own: nn.BatchNorm1d) -> None:
    size = own.num_features
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(own, name).copy_(getattr(wide, name)[k * size : (k + 1) * size])
    own.num_batches_tracked.copy_(wide.num_batches_tracked)


class FusedGraphClassifier(nn.Module):
    """K graph-level students (:class:`~mutualgnn.students.zoo.GraphClassifier` with ``gin`` or
    ``gcn`` convolutions, the same hyper-parameters) as one model.

    ``forward(graph, feat)``: a ``dgl.batch`` of B graphs, node features (N, F) -> (K, B, C)
    logits. Per conv layer: ``lin1``, ``norm1``, ``lin2`` (GIN's MLP) or ``lin`` (GCN's weight
    and bias), then ``norm``; ``heads`` (one :class:`StackedLinear` per readout).
    """

    #: the convolutions that fuse: GIN (x + sum of neighbours, then an MLP) and GCN
    #: (normalised propagation with self-loops, then a linear map)
    ARCHS = ("gin", "gcn")

    def __init__(self, students):
        super().__init__()
        first = students[0]
        self.num_members, self.arch = len(students), first.conv_arch
        if self.arch not in self.ARCHS:
            raise ValueError(
                f"graph-level '{self.arch}' students do not fuse; fusable: {', '.join(self.ARCHS)}"
            )
        self.layers = nn.ModuleList()
        for i in range(len(first.convs)):
            convs = [s.convs[i] for s in students]
            if self.arch == "gin":  # apply_func: Linear, BatchNorm1d, ReLU, Linear
                layer = nn.ModuleDict(
                    dict(
                        lin1=StackedLinear(
                            [c.apply_func[0].weight for c in convs],
                            [c.apply_func[0].bias for c in convs],
                            shared=i == 0,
                        ),
                        norm1=_stacked_norm([c.apply_func[1] for c in convs]),
                        lin2=StackedLinear(
                            [c.apply_func[3].weight for c in convs],
                            [c.apply_func[3].bias for c in convs],
                            shared=False,
                        ),
                    )
                )
            else:  # GraphConv keeps its weight as (in, out)
                layer = nn.ModuleDict(
                    dict(
                        lin=StackedLinear(
                            [c.weight.t() for c in convs], [c.bias for c in convs], shared=i == 0
                        )
                    )
                )
            layer["norm"] = _stacked_norm([s.norms[i] for s in students])
            self.layers.append(layer)
        self.heads = nn.ModuleList(
            StackedLinear(
                [s.heads[i].weight for s in students],
                [s.heads[i].bias for s in students],
                shared=i == 0,
            )
            for i in range(len(first.heads))
        )
        self.pool = type(first.pool)()
        self.dropout = Dropout(first.dropout.p)
        # aggregation without weights over any number of columns: GIN's x + sum of neighbours
        # (eps = 0, as the students'), or GCN's D^-1/2 (A + I) D^-1/2 x (its mean with norm
        # "right")
        self.propagate = (
            GINConv(None, "sum")
            if self.arch == "gin"
            else GraphConv(
                1, 1, norm=first.gcn_norm, weight=False, bias=False, allow_zero_in_degree=True
            )
        )

    def forward(self, graph, feat):
        K = self.num_members
        conv_graph = dgl.add_self_loop(graph) if self.arch == "gcn" else graph
        pooled = [self.pool(graph, feat)]  # (B, F), shared
        h = feat
        for layer in self.layers:
            h = self.propagate(conv_graph, h)  # (N, F) first, then (N, K*hidden)
            if self.arch == "gin":
                h = layer["lin2"](torch.relu(layer["norm1"](layer["lin1"](h))))
            else:
                h = layer["lin"](h)
            h = torch.relu(layer["norm"](h))  # (N, K*hidden)
            pooled.append(self.pool(graph, h))
        logits = sum(self.dropout(head(p)) for head, p in zip(self.heads, pooled))  # (B, K*C)
        return logits.view(len(logits), K, -1).transpose(0, 1)  # (K, B, C)

    @torch.no_grad()
    def write_back(self, k: int, student) -> None:
        """Copy member ``k``'s weights and batch-norm statistics into ``student``."""
        for layer, conv, norm in zip(self.layers, student.convs, student.norms):
            if self.arch == "gin":
                mlp = conv.apply_func
                layer["lin1"].write_back(k, mlp[0].weight, mlp[0].bias)
                _norm_write_back(layer["norm1"], k, mlp[1])
                layer["lin2"].write_back(k, mlp[3].weight, mlp[3].bias)
            else:
                layer["lin"].write_back(k, conv.weight, conv.bias, transposed=True)
            _norm_write_back(layer["norm"], k, norm)
        for head, own in zip(self.heads, student.heads):
            head.write_back(k, own.weight, own.bias)
