"""The three loss terms of mutual learning, on logits of shape (N, C).

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
