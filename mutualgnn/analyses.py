"""Analyses of trained cohorts beyond accuracy.

* :func:`linear_cka`: linear centred kernel alignment between two representations of the same
  rows (Kornblith et al. 2019), 1 for representations equal up to rotation and scale.
* :func:`hidden_states`: a node-level student's first hidden layer on every node.
* :func:`cka_study`: how similar two students' hidden layers are when trained alone and when
  trained together with GML, for pairs of architectures, over seeds.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import torch

from ._dgl_compat import dgl
from .config import ExperimentConfig
from .experiment import run_once
from .training import as_input

#: the module whose output is a node-level student's first hidden layer
HIDDEN_LAYER = {"gcn": "conv1", "gat": "conv1", "sage": "conv1", "gin": "conv1", "mlp": "net.2"}


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA of x (n, d1) and y (n, d2):
    ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), with Xc, Yc the column-centred inputs."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA compares the same rows: got {x.shape[0]} and {y.shape[0]} rows")
    x = (x - x.mean(0)).double()
    y = (y - y.mean(0)).double()
    cross = torch.linalg.matrix_norm(y.T @ x) ** 2
    norm = torch.linalg.matrix_norm(x.T @ x) * torch.linalg.matrix_norm(y.T @ y)
    return float(cross / norm) if norm > 0 else 0.0


@torch.no_grad()
def hidden_states(student, graph, feat) -> torch.Tensor:
    """The first hidden layer (N, h) of a node-level student in eval mode (GAT: heads
    concatenated)."""
    if student.task != "node":
        raise ValueError("hidden_states reads node-level students")
    module = student.get_submodule(HIDDEN_LAYER[student.arch])
    seen = []
    handle = module.register_forward_hook(lambda m, args, out: seen.append(out))
    try:
        student.eval()(dgl.add_self_loop(dgl.remove_self_loop(graph)), as_input(feat))
    finally:
        handle.remove()
    return seen[0].flatten(1)


def cka_study(dataset, pairs, seeds, config: ExperimentConfig | None = None,
              methods=("independent", "gml"), rows: str = "test", progress=None) -> pd.DataFrame:
    """Linear CKA between the first hidden layers of two students, for each pair of
    architectures (``("gcn", "gat")``; ``("gcn", "gcn")`` compares two initialisations), each
    method and seed, on the ``rows`` nodes of the split. ``config`` supplies the other settings
    (training, mutual terms). Returns one row per (pair, method, seed) with ``cka`` and the two
    students' test accuracies."""
    if dataset.task != "node":
        raise ValueError("the CKA study reads node-level students (cora, citeseer, pubmed, karate)")
    base = config or ExperimentConfig(dataset=dataset.name)
    out = []
    index = getattr(dataset.split, rows)
    feat = dataset.graph.ndata["feat"]
    for a, b in pairs:
        for method in methods:
            cfg = dataclasses.replace(base, dataset=dataset.name, students=[a, b], method=method)
            for seed in seeds:
                run = run_once(cfg, dataset, seed, dataset.split)
                students = [_rebuilt(run, k, cfg, dataset) for k in range(2)]
                h = [hidden_states(s, dataset.graph, feat)[index] for s in students]
                out.append({"dataset": dataset.name, "pair": f"{a}-{b}", "method": method,
                            "seed": seed, "cka": linear_cka(*h),
                            "test_acc_a": run.fit.students[0].test_acc,
                            "test_acc_b": run.fit.students[1].test_acc})
                if progress:
                    progress(out[-1])
    return pd.DataFrame(out)


def _rebuilt(run, k, config, dataset):
    from .experiment import _model_hparams
    from .students import build_student

    arch = config.students[k]
    student = build_student(arch, dataset.task, dataset.num_features, dataset.num_classes,
                            **_model_hparams(config, arch, dataset))
    student.load_state_dict(run.fit.students[k].state_dict)
    return student


def cka_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of CKA per (pair, method), alone vs GML side by side."""
    cells = frame.groupby(["dataset", "pair", "method"], sort=False)["cka"].agg(["mean", "std"])
    cells["text"] = [f"{m:.3f} ± {0 if pd.isna(s) else s:.3f}" for m, s in zip(cells["mean"], cells["std"])]
    return cells["text"].unstack("method").reset_index()
