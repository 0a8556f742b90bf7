"""One optimisation step of a cohort: forward, :func:`~mutualgnn.mutual.cohort_loss`, backward,
optimiser steps; joint (one summed loss) or alternating (each student in turn)."""
from __future__ import annotations

import torch

from ..mutual import cohort_loss, entropy


def step(cohort, optimisers, logits_fn, labels, labelled, coordinator, mutual, gamma, mutual_on):
    """One iteration: joint (one summed loss, every optimiser steps) or alternating (each
    student in turn, its peers' targets from fresh forward passes). Returns per-student losses,
    mean weights and mean entropies."""
    K, which = len(cohort.students), cohort.local
    if not mutual.alternating or not mutual_on:
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn(range(K))
        total, per_student, out = cohort_loss(logits, labels, labelled, mutual, gamma, coordinator,
                                              which)
        total.backward()
        for o in optimisers:
            o.step()
        return _summary(per_student, logits, out, mutual, which)
    per_student, out, logits = [], None, None
    for j in range(K):
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn([j])
        _, loss_j, out = cohort_loss(logits, labels, labelled, mutual, gamma, coordinator, [j])
        (loss_j[0] + (out.loss if out is not None and j == 0 else 0)).backward()
        optimisers[j].step()
        if j == 0 and len(optimisers) > K:
            optimisers[K].step()  # the coordinator, once per iteration
        per_student.append(loss_j[0])
    return _summary(per_student, logits, out, mutual, range(K))


def _summary(per_student, logits, out, mutual, which):
    """Per-student losses (0 for students trained elsewhere), mean weights and entropies."""
    with torch.no_grad():
        weight = out.weights.mean(dim=(1, 2)).tolist() if out is not None else [1.0] * len(logits)
        ent = [float(entropy(z, mutual.temperature).mean()) for z in logits]
    loss = [0.0] * len(logits)
    for j, value in zip(which, per_student):
        loss[j] = value.item()
    return dict(loss=loss, weight=weight, entropy=ent)


def all_logits(cohort, graph, feat, train_only=None):
    """Forward every student; ``train_only`` (indices) get gradients, the rest run without."""
    students = cohort.students
    if train_only is None or len(train_only) == len(students):
        return cohort(graph, feat)
    out = []
    for k, s in enumerate(students):
        if train_only is None or k in train_only:
            out.append(s(graph, feat))
        else:
            with torch.no_grad():
                out.append(s(graph, feat))
    return out


def mean_stats(stats: list) -> dict:
    """The summaries of :func:`_step` for each batch of an epoch -> their means."""
    return {key: [sum(v) / len(stats) for v in zip(*(s[key] for s in stats))] for key in stats[0]}

