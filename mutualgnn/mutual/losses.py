"""The three loss terms of mutual learning, on logits of shape (N, C), and their sum over a
cohort (:func:`cohort_loss`). Pure torch: logits may come from any library.

All reductions are means over rows ("batchmean"), so a term does not grow with N.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


#: (log-)softmax over fewer classes than this, of at least MANY_ROWS rows, runs on the
#: transposed layout (the crossover points measured on the CPU)
SMALL_CLASSES = 16
MANY_ROWS = 1024


def _small_on_cpu(x: torch.Tensor) -> bool:
    C = x.shape[-1] if x.dim() >= 2 else 0
    return 0 < C < SMALL_CLASSES and x.numel() >= MANY_ROWS * C and x.device.type == "cpu"


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    """``F.log_softmax(x, -1)``, the same values up to rounding: (..., C) -> (..., C).

    On the CPU, torch's kernel for the last dimension is slow when it is short (a few classes:
    it vectorises along the classes), while over another dimension it vectorises along the
    rows: for fewer than :data:`SMALL_CLASSES` classes and at least :data:`MANY_ROWS` rows the
    classes are moved to the front and back (2708 x 7 logits, forward and backward: 2.3x
    faster; below 1024 rows the copies cost more than they save)."""
    if not _small_on_cpu(x):
        return F.log_softmax(x, -1)
    return x.transpose(-1, -2).contiguous().log_softmax(-2).transpose(-1, -2)


def softmax(x: torch.Tensor) -> torch.Tensor:
    """``F.softmax(x, -1)`` as :func:`log_softmax` computes it: (..., C) -> (..., C)."""
    if not _small_on_cpu(x):
        return F.softmax(x, -1)
    return x.transpose(-1, -2).contiguous().softmax(-2).transpose(-1, -2)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``F.cross_entropy`` of logits (n, C) and labels (n,), through :func:`log_softmax`."""
    return F.nll_loss(log_softmax(logits), labels)


def supervised(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of logits (n, C) against labels (n,), mean over rows; 0 (not NaN) for n = 0,
    a sampled mini-batch without labelled nodes."""
    if labels.numel() == 0:
        return logits.sum()  # 0, with a gradient of zeros
    return cross_entropy(logits, labels)


def entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-row entropy H(softmax(z / T)) in nats: (N, C) -> (N,)."""
    log_p = log_softmax(logits / temperature)
    return -(log_p.exp() * log_p).sum(-1)


def kl_to_target(
    target: torch.Tensor, logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """T^2 * mean over rows of KL(target || softmax(logits / T)).

    ``target`` (N, C) are probabilities and are treated as constants (detached here), so no
    gradient flows into whatever produced them; ``logits`` (N, C) receive the gradient.
    """
    log_p = log_softmax(logits / temperature)
    kl = F.kl_div(log_p, target.detach(), reduction="batchmean")
    return kl * (temperature**2)


class PeerTargets:
    """The K soft targets (K, n, C) of one iteration, prepared once so that every student's
    mutual term costs O(1) passes over them rather than O(K):

        mean_{k != j} KL(q_k || p_j) = [sum_{k != j} sum q_k log q_k - sum (Q - q_j) log p_j]
                                       / (n (K - 1)),   Q = sum_k q_k,

    the mean over the peers of :func:`kl_to_target` (up to rounding) and the same gradient,
    -(Q - q_j) / (n (K-1)) with respect to log p_j. The targets are constants (detached).

    With ``own`` (knowledge distillation), ``targets[j]`` is student j's own teacher's target
    and its term is T^2 KL(q_j || p_j) alone."""

    def __init__(self, targets: torch.Tensor, own: bool = False):
        self.targets, self.own = targets.detach(), own
        self.total = self.targets.sum(0)  # Q (n, C)
        self.plogp = torch.xlogy(self.targets, self.targets).sum(dim=(1, 2))  # (K,)

    def mutual(self, log_p: torch.Tensor, student: int, temperature: float = 1.0) -> torch.Tensor:
        """Student ``student``'s term from its log-probabilities at temperature T, log_p (n, C)."""
        K, n = self.targets.shape[:2]
        if self.own:
            kl = self.plogp[student] - (self.targets[student] * log_p).sum()
            return kl * (temperature**2 / n)
        peers = self.total - self.targets[student]
        kl = (self.plogp.sum() - self.plogp[student]) - (peers * log_p).sum()
        return kl * (temperature**2 / (n * (K - 1)))


def cohort_loss(
    logits: list,
    labels: torch.Tensor,
    labelled,
    settings,
    gamma: float,
    coordinator=None,
    students=None,
    teacher_logits=None,
) -> tuple:
    """The summed loss of one iteration of a cohort, for students j = 1..K with logits z_j:

        L = sum_j [ CE(z_j, y) + lam * mean_{k != j} T^2 KL(sg[q_k] || softmax(z_j / T))
                    - gamma * mean_rows H(softmax(z_j / T)) ] + L_coordinator

    with q_k the soft targets of ``coordinator`` (a :class:`~.coordinator.Coordinator`; needed
    when ``settings.lam`` != 0). ``settings``: a :class:`~mutualgnn.config.MutualConfig` (lam,
    temperature, kl_rows: ``all`` rows or the labelled ``train`` rows for the KL); ``gamma``:
    this step's entropy coefficient (it may be warmed up). ``logits``: K tensors (N, C);
    ``labelled``: index or mask of the rows with labels; ``students`` (indices) restricts the
    sum to those students (alternating updates). ``teacher_logits`` (K tensors (N, C), row j
    from student j's teacher; knowledge distillation): the coordinator turns the teachers'
    logits, not the students', into targets, and student j learns from its own teacher's alone,
    lam * T^2 KL(sg[q_j] || softmax(z_j / T)) (Hinton et al. 2015). Returns (loss, per-student
    losses, output of the coordinator or None).

    Each student's log-softmax at T is taken once and shared by its KL and entropy terms (and
    by its cross-entropy when T = 1), and the peers' KL terms are summed in O(K)
    (:class:`PeerTargets`): the same loss as term-by-term, up to rounding."""
    K = len(logits)
    which = range(K) if students is None else students
    out = peers = None
    T = settings.temperature
    kl_rows = labelled if settings.kl_rows == "train" else slice(None)
    if settings.lam != 0:
        source = logits if teacher_logits is None else [t.detach() for t in teacher_logits]
        z = torch.stack([z_k[kl_rows] for z_k in source])
        out = coordinator(z, labels[kl_rows], _rows_within(labelled, kl_rows, z.shape[1]))
        peers = PeerTargets(out.targets, own=teacher_logits is not None)
    per_student = []
    for j in which:
        log_p = log_softmax(logits[j] / T) if peers is not None or gamma else None
        if log_p is not None and T == 1 and labels[labelled].numel():
            loss = F.nll_loss(log_p[labelled], labels[labelled])  # = CE(z_j, y) exactly
        else:
            loss = supervised(logits[j][labelled], labels[labelled])
        if peers is not None:
            loss = loss + settings.lam * peers.mutual(log_p[kl_rows], j, T)
        if gamma:
            loss = loss - gamma * -(log_p.exp() * log_p).sum(-1).mean()  # entropy (N,)
        per_student.append(loss)
    total = sum(per_student) + (out.loss if out is not None else 0)
    return total, per_student, out


def _rows_within(labelled, kl_rows, n):
    """The labelled rows, indexed within the rows the KL is taken over."""
    if isinstance(kl_rows, slice):
        return labelled
    return torch.arange(n, device=labelled.device)  # kl_rows == labelled: all are labelled
