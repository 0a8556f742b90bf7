"""Logits of trained students outside :func:`~mutualgnn.training.fit` (eval mode, no gradient)."""

from __future__ import annotations

import torch

from ..config import TrainConfig
from .fused import Cohort, features_for
from .runners import SampledNodeRunner, as_input, node_graph


def _device_of(students) -> torch.device:
    """Where the students are (they are kept on one device): their first parameter's device."""
    return next(students[0].parameters()).device


@torch.no_grad()
def predict(students, graph, feat=None, task: str | None = None) -> list:
    """Logits of every student (eval mode): a node task's graph gives (N, C) each, a batch of
    graphs (``dgl.batch``) gives (B, C) each. ``feat`` defaults to ``graph.ndata["feat"]``;
    ``task`` (``node`` or ``graph``) defaults to the first student's ``task``, else ``graph``
    for a batch of several graphs and ``node`` for one. A node task's graph gets one self-loop
    per node, as in :func:`~mutualgnn.training.fit`. Computed where the students are (after
    ``fit``: its device; loaded by :mod:`mutualgnn.saved`: the CPU), with ``graph`` and ``feat``
    copied there; the logits are on that device."""
    device = _device_of(students)
    feat = graph.ndata["feat"] if feat is None else feat
    task = (
        task or getattr(students[0], "task", None) or ("graph" if graph.batch_size > 1 else "node")
    )
    if task == "node":
        graph, feat = node_graph(graph), as_input(feat)
    graph, feat = graph.to(device), feat.to(device)
    return [s.eval()(graph, features_for(s, feat)) for s in students]


@torch.no_grad()
def predict_sampled(students, data, split, train: TrainConfig) -> list:
    """Eval-mode logits of the validation and test nodes of ``split`` as a ``train.fanouts`` run
    evaluates them (batches of nodes with all their neighbours): one pair (n_val, C), (n_test, C)
    per student, on the students' device. These equal :func:`predict`'s rows up to
    floating-point rounding (GCN through :func:`~.runners.full_graph_norm`); this is the exact
    path."""
    runner = SampledNodeRunner(data, split, train.resolved("node"), "train", _device_of(students))
    return runner.val_test_logits(Cohort(students, fuse=False).eval())
