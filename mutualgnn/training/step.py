"""One optimisation step of a cohort: forward, the :class:`~mutualgnn.mutual.MutualLoss`,
backward, optimiser steps; joint (one summed loss) or alternating (each student in turn)."""

from __future__ import annotations

import torch

from ..mutual import entropy
from .fused import features_for


def step(cohort, optimisers, logits_fn, labels, labelled, criterion, teacher_fn=None):
    """One iteration with ``criterion`` (a :class:`~mutualgnn.mutual.MutualLoss`): joint (one
    summed loss, every optimiser steps) or, with ``alternating`` settings and a mutual term,
    each student in turn (its peers' targets from fresh forward passes). ``teacher_fn()``
    gives the teachers' logits of the batch (``kd``; None otherwise). Returns per-student
    losses, mean weights and mean entropies."""
    K, which = len(cohort.students), cohort.local
    taught = teacher_fn() if teacher_fn is not None else None
    if not criterion.settings.alternating or not criterion.active:
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn(range(K))
        out = criterion(logits, labels, labelled, students=which, teacher_logits=taught)
        out.loss.backward()
        for o in optimisers:
            o.step()
        return _summary(out.per_student, logits, out, criterion, which)
    per_student, out, logits = [], None, None
    for j in range(K):
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn([j])
        out = criterion(logits, labels, labelled, students=[j], teacher_logits=taught)
        (out.per_student[0] + (out.coordinator_loss if j == 0 else 0)).backward()
        optimisers[j].step()
        if j == 0 and len(optimisers) > K:
            optimisers[K].step()  # the coordinator, once per iteration
        per_student.append(out.per_student[0])
    return _summary(per_student, logits, out, criterion, range(K))


def _summary(per_student, logits, out, criterion, which):
    """Per-student losses (0 for students trained elsewhere), mean weights and entropies."""
    with torch.no_grad():
        weight = (
            out.weights.mean(dim=(1, 2)).tolist()
            if out.weights is not None
            else [1.0] * len(logits)
        )
        ent = [float(entropy(z, criterion.settings.temperature).mean()) for z in logits]
    loss = [0.0] * len(logits)
    for j, value in zip(which, per_student):
        loss[j] = value.item()
    return dict(loss=loss, weight=weight, entropy=ent)


@torch.no_grad()
def teacher_logits(teachers, graph, feat):
    """The teachers' logits (K tensors) on ``graph`` and ``feat``, in evaluation mode, without
    gradients; None without teachers."""
    if not teachers:
        return None
    return [t.eval()(graph, features_for(t, feat)) for t in teachers]


def all_logits(cohort, graph, feat, train_only=None):
    """Forward every student; ``train_only`` (indices) get gradients, the rest run without."""
    students = cohort.students
    if train_only is None or len(train_only) == len(students):
        return cohort(graph, feat)
    out = []
    for k, s in enumerate(students):
        if train_only is None or k in train_only:
            out.append(s(graph, features_for(s, feat)))
        else:
            with torch.no_grad():
                out.append(s(graph, features_for(s, feat)))
    return out


def mean_stats(stats: list) -> dict:
    """The summaries of :func:`step` for each batch of an epoch -> their means."""
    return {key: [sum(v) / len(stats) for v in zip(*(s[key] for s in stats))] for key in stats[0]}
