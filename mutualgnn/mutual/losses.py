"""The three loss terms of mutual learning, on logits of shape (N, C), and their sum over a
cohort (:func:`cohort_loss`). Pure torch: logits may come from any library.

All reductions are means over rows ("batchmean"), so a term does not grow with N.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def supervised(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of logits (n, C) against labels (n,), mean over rows; 0 (not NaN) for n = 0,
    a sampled mini-batch without labelled nodes."""
    if labels.numel() == 0:
        return logits.sum()  # 0, with a gradient of zeros
    return F.cross_entropy(logits, labels)


def entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-row entropy H(softmax(z / T)) in nats: (N, C) -> (N,)."""
    log_p = F.log_softmax(logits / temperature, dim=-1)
    return -(log_p.exp() * log_p).sum(-1)


def kl_to_target(target: torch.Tensor, logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """T^2 * mean over rows of KL(target || softmax(logits / T)).

    ``target`` (N, C) are probabilities and are treated as constants (detached here), so no
    gradient flows into whatever produced them; ``logits`` (N, C) receive the gradient.
    """
    log_p = F.log_softmax(logits / temperature, dim=-1)
    kl = F.kl_div(log_p, target.detach(), reduction="batchmean")
    return kl * (temperature ** 2)


def mutual(targets: torch.Tensor, logits: torch.Tensor, student: int,
           temperature: float = 1.0) -> torch.Tensor:
    """Mutual term of student ``student``: the mean over its K-1 peers k of
    KL(sg[q_k] || p_student) * T^2, with ``targets`` (K, N, C) the peers' soft targets."""
    peers = [k for k in range(targets.shape[0]) if k != student]
    return sum(kl_to_target(targets[k], logits, temperature) for k in peers) / len(peers)


def cohort_loss(logits: list, labels: torch.Tensor, labelled, settings, gamma: float,
                coordinator=None, students=None) -> tuple:
    """The summed loss of one iteration of a cohort, for students j = 1..K with logits z_j:

        L = sum_j [ CE(z_j, y) + lam * mean_{k != j} T^2 KL(sg[q_k] || softmax(z_j / T))
                    - gamma * mean_rows H(softmax(z_j / T)) ] + L_coordinator

    with q_k the soft targets of ``coordinator`` (a :class:`~.coordinator.Coordinator`; needed
    when ``settings.lam`` != 0). ``settings``: a :class:`~mutualgnn.config.MutualConfig` (lam,
    temperature, kl_rows: ``all`` rows or the labelled ``train`` rows for the KL); ``gamma``:
    this step's entropy coefficient (it may be warmed up). ``logits``: K tensors (N, C);
    ``labelled``: index or mask of the rows with labels; ``students`` (indices) restricts the
    sum to those students (alternating updates). Returns (loss, per-student losses, output of
    the coordinator or None)."""
    K = len(logits)
    which = range(K) if students is None else students
    out = None
    kl_rows = labelled if settings.kl_rows == "train" else slice(None)
    if settings.lam != 0:
        z = torch.stack([z_k[kl_rows] for z_k in logits])
        out = coordinator(z, labels[kl_rows], _rows_within(labelled, kl_rows, z.shape[1]))
    per_student = []
    for j in which:
        loss = supervised(logits[j][labelled], labels[labelled])
        if out is not None:
            loss = loss + settings.lam * mutual(out.targets, logits[j][kl_rows], j,
                                                settings.temperature)
        if gamma:
            loss = loss - gamma * entropy(logits[j], settings.temperature).mean()
        per_student.append(loss)
    total = sum(per_student) + (out.loss if out is not None else 0)
    return total, per_student, out


def _rows_within(labelled, kl_rows, n):
    """The labelled rows, indexed within the rows the KL is taken over."""
    if isinstance(kl_rows, slice):
        return labelled
    return torch.arange(n, device=labelled.device)  # kl_rows == labelled: all are labelled
