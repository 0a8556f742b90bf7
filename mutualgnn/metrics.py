"""How predictions are scored: accuracy, or ogb's ``Evaluator`` for ogb's datasets.

A *scorer* maps ``(n, C) scores, (n,) labels -> float``; :func:`scorer` gives a dataset's.
Model selection and the ``val_acc`` / ``test_acc`` results hold this score (ROC-AUC for
ogbg-molhiv). Imports neither DGL nor ogb until an ogb dataset is scored.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

#: datasets loaded through ogb, by their ogb names; their metadata is ogb's (its master.csv)
OGB = ("ogbn-arxiv", "ogbn-products", "ogbg-molhiv")


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose highest score is the label; (n, C), (n,) -> float (0 for n = 0).

    Computed in torch: this runs every epoch for every student, and scikit-learn's input
    validation made ``accuracy_score`` cost 4 ms a call, about a sixth of a Cora GCN epoch. The
    final numbers are checked against ``accuracy_score`` (tests/test_training.py)."""
    return float((scores.argmax(-1) == labels).double().mean()) if labels.numel() else 0.0


@functools.cache
def ogb_meta(name: str) -> dict:
    """ogb's metadata of one of :data:`OGB` (the column of its package's master.csv that ogb's
    dataset classes and ``Evaluator`` read): split, version, url, eval metric, ..."""
    import ogb.graphproppred
    import ogb.nodeproppred
    import pandas as pd

    module = ogb.nodeproppred if name.startswith("ogbn-") else ogb.graphproppred
    master = Path(module.__file__).parent / "master.csv"
    return pd.read_csv(master, index_col=0, keep_default_na=False)[name].to_dict()


def metric_of(name: str) -> str:
    """The metric a dataset is judged by: ogb's for ogb's datasets (``"acc"`` for the ogbn
    sets, ``"rocauc"`` for ogbg-molhiv), ``"acc"`` for the others."""
    return ogb_meta(name)["eval metric"] if name in OGB else "acc"


@functools.cache
def _ogb_evaluator(name: str):
    if name.startswith("ogbn-"):
        from ogb.nodeproppred import Evaluator
    else:
        from ogb.graphproppred import Evaluator
    return Evaluator(name)


def ogb_score(name: str, scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ogb's ``Evaluator(name)`` on some rows of one of :data:`OGB`: ``scores`` (n, C) logits or
    class probabilities, ``labels`` (n,). ``"acc"``: accuracy of the highest-scoring class;
    ``"rocauc"`` (binary): ROC-AUC of the positive class's probability, ``softmax(scores)[:, 1]``
    in float64. That orders the rows as ``scores[:, 1] - scores[:, 0]`` does, so logits and
    (averaged) probabilities give the same ROC-AUC."""
    evaluator = _ogb_evaluator(name)
    if evaluator.eval_metric == "rocauc":
        y_pred = scores.double().softmax(-1)[:, 1:]
    else:
        y_pred = scores.argmax(-1, keepdim=True)
    result = evaluator.eval({"y_true": labels.reshape(-1, 1), "y_pred": y_pred})
    return float(result[evaluator.eval_metric])


def scorer(name: str):
    """How the dataset called ``name`` is scored, ``(n, C) scores, (n,) labels -> float``:
    :func:`ogb_score` for ogb's datasets, else :func:`accuracy`."""
    return functools.partial(ogb_score, name) if name in OGB else accuracy
