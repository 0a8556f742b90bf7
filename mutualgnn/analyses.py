"""Analyses of trained cohorts beyond accuracy.

* :func:`linear_cka`: linear centred kernel alignment between two representations of the same
  rows (Kornblith et al. 2019), 1 for representations equal up to rotation and scale.
* :func:`hidden_states`: a node-level student's first hidden layer on every node.
* :func:`cka_study`: how similar two students' hidden layers are when trained alone and when
  trained together with GML, for pairs of architectures, over seeds.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pandas as pd
import torch

from .config import ExperimentConfig
from .experiment import build_cohort, model_hparams, run_once
from .files import replacing, write_text
from .students import build_student
from .training import as_input, fit, node_graph, seed_everything

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
        student.eval()(node_graph(graph), as_input(feat))
    finally:
        handle.remove()
    return seen[0].flatten(1)


def cka_study(
    dataset,
    pairs,
    seeds,
    config: ExperimentConfig | None = None,
    methods=("independent", "gml"),
    rows: str = "test",
    progress=None,
) -> pd.DataFrame:
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
                out.append(
                    {
                        "dataset": dataset.name,
                        "pair": f"{a}-{b}",
                        "method": method,
                        "seed": seed,
                        "cka": linear_cka(*h),
                        "test_acc_a": run.fit.students[0].test_acc,
                        "test_acc_b": run.fit.students[1].test_acc,
                    }
                )
                if progress:
                    progress(out[-1])
    return pd.DataFrame(out)


def _rebuilt(run, k, config, dataset):
    arch = config.students[k]
    student = build_student(
        arch,
        dataset.task,
        dataset.num_features,
        dataset.num_classes,
        **model_hparams(config, arch, dataset),
    )
    student.load_state_dict(run.fit.students[k].state_dict)
    return student


def cka_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of CKA per (pair, method), alone vs GML side by side."""
    cells = frame.groupby(["dataset", "pair", "method"], sort=False)["cka"].agg(["mean", "std"])
    cells["text"] = [
        f"{m:.3f} ± {0 if pd.isna(s) else s:.3f}" for m, s in zip(cells["mean"], cells["std"])
    ]
    return cells["text"].unstack("method").reset_index()


def inference_ms(models, dataset, repeats: int = 50) -> list:
    """Median milliseconds of one eval-mode forward pass over every node for each of
    ``models``; the models take turns, so a change of machine load hits them alike."""
    device = next(models[0].parameters()).device  # where fit left them (train.device)
    graph = node_graph(dataset.graph).to(device)
    feat = as_input(dataset.graph.ndata["feat"]).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = [[] for _ in models]
    with torch.no_grad():
        for m in models:
            m.eval()(graph, feat)  # warm-up
        for _ in range(repeats):
            for m, t in zip(models, times):
                sync()
                start = time.perf_counter()
                m(graph, feat)
                sync()
                t.append(time.perf_counter() - start)
    return [1000 * sorted(t)[repeats // 2] for t in times]


def distillation_study(
    dataset, teacher: str, peer: str, seeds, config: ExperimentConfig | None = None, progress=None
) -> pd.DataFrame:
    """GNN-to-MLP distillation with two teachers per seed: ``teacher`` trained alone and the same
    architecture trained with GML next to ``peer`` (same seed). An MLP (same seed, so the same
    initialisation) is distilled from each with the ``kd`` method, the trained GNN its one
    teacher, and one MLP is trained on the labels alone. Its loss is kd's
    (:func:`~mutualgnn.mutual.cohort_loss`):

        CE(z_mlp, y) on the train rows + lam * T^2 * KL(softmax(z_teacher / T) || softmax(z_mlp / T))

    with the KL a mean over ``mutual.kl_rows`` (every node by default) and z_teacher the
    teacher's eval-mode logits on the batch (the whole graph, unless ``train.fanouts`` samples
    mini-batches). Returns one row per (seed, teacher kind) with both accuracies and the
    inference times of the teacher GNN and the MLP."""
    if dataset.task != "node":
        raise ValueError("distillation to an MLP is studied on node datasets")
    base = config or ExperimentConfig(dataset=dataset.name)
    mlp_config = dataclasses.replace(
        base, dataset=dataset.name, students=["mlp"], method="independent"
    )
    out = []
    for seed in seeds:
        teachers = {}
        for kind, method, cohort in (
            ("alone", "independent", [teacher]),
            ("gml", "gml", [teacher, peer]),
        ):
            cfg = dataclasses.replace(base, dataset=dataset.name, students=cohort, method=method)
            run = run_once(cfg, dataset, seed, dataset.split)
            teachers[kind] = (_rebuilt(run, 0, cfg, dataset), run.fit.students[0].test_acc)
        mlp_alone = run_once(mlp_config, dataset, seed, dataset.split)
        for kind, (model, teacher_acc) in teachers.items():
            seed_everything(seed)
            (mlp,) = build_cohort(mlp_config, dataset)
            result = fit(
                [mlp],
                dataset,
                dataset.split,
                train=base.train,
                method="kd",
                mutual=base.mutual,
                teachers=[model],
            )
            out.append(
                {
                    "dataset": dataset.name,
                    "seed": seed,
                    "teacher": f"{teacher} ({kind})",
                    "teacher_test_acc": teacher_acc,
                    "mlp_distilled_test_acc": result.students[0].test_acc,
                    "mlp_alone_test_acc": mlp_alone.fit.students[0].test_acc,
                    **dict(zip(("teacher_ms", "mlp_ms"), inference_ms([model, mlp], dataset))),
                }
            )
            if progress:
                progress(out[-1])
    return pd.DataFrame(out)


def distillation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std (percent) per teacher kind, and the MLP's inference speed-up."""

    def pct(col):
        return lambda g: (
            f"{100 * g[col].mean():.1f} ± {100 * g[col].std(ddof=1) if len(g) > 1 else 0:.1f}"
        )

    rows = []
    for (dataset, teacher), g in frame.groupby(["dataset", "teacher"], sort=False):
        rows.append(
            {
                "dataset": dataset,
                "teacher": teacher,
                "runs": len(g),
                "teacher acc": pct("teacher_test_acc")(g),
                "distilled MLP acc": pct("mlp_distilled_test_acc")(g),
                "MLP alone acc": pct("mlp_alone_test_acc")(g),
                "teacher ms": round(float(g["teacher_ms"].median()), 2),
                "MLP ms": round(float(g["mlp_ms"].median()), 2),
                "speed-up (teacher ms / MLP ms)": round(
                    float((g["teacher_ms"] / g["mlp_ms"]).median()), 1
                ),
            }
        )
    return pd.DataFrame(rows)


def write_study(out, name: str, frame: pd.DataFrame, summary: pd.DataFrame) -> str:
    """A study's files in folder ``out``: ``NAME.csv`` (``frame``, one row per run) and
    ``NAME.md`` (``summary`` as Markdown, returned)."""
    with replacing(Path(out) / f"{name}.csv") as fh:
        frame.to_csv(fh, index=False)
    text = summary.to_markdown(index=False)
    write_text(Path(out) / f"{name}.md", text + "\n")
    return text
