""":class:`MutualLoss`: the loss of a cohort of K students as one ``nn.Module``, for
:func:`mutualgnn.fit` and for a training loop of your own.

    criterion = MutualLoss(num_students=2, num_classes=7, method="gml", lam=1.0)
    out = criterion([z1, z2], labels, train_mask)   # z_k: (N, C) logits from any library
    out.loss.backward()                             # the students' and the coordinator's
    optimiser = torch.optim.Adam([*model1.parameters(), *model2.parameters(),
                                  *criterion.parameters()])  # the coordinator's, if it learns

It holds the coordinator (:class:`~.coordinator.Coordinator`, built when the method has a
mutual term) and the method's settings (:func:`~.methods.method_settings`); its loss is
:func:`~.losses.cohort_loss`. Pure torch: no DGL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from .coordinator import Coordinator
from .losses import cohort_loss
from .methods import method as method_named
from .methods import method_settings
from .settings import MutualConfig


@dataclass
class MutualLossOutput:
    """What one call of :class:`MutualLoss` computed.

    ``loss``: the scalar to call ``backward()`` on (the students' losses and the coordinator's);
    ``per_student``: one scalar per student asked for; ``coordinator_loss``: the coordinator's
    own training signal (0 without a learned coordinator); ``targets`` and ``weights``: (K, n, C)
    soft targets and logit weights of the coordinator (None without a mutual term)."""

    loss: torch.Tensor
    per_student: list
    coordinator_loss: torch.Tensor | float
    targets: torch.Tensor | None = None
    weights: torch.Tensor | None = None


class MutualLoss(nn.Module):
    """The loss of ``num_students`` students' logits for ``num_classes`` classes under
    ``method`` (any of :data:`~.methods.METHOD_NAMES`). ``settings`` (a :class:`MutualConfig`) and
    keyword overrides of its fields (``lam=0.3``, ``gamma=0.1``, ``temperature=2.0``, ...) give
    the terms; the method then forces its own (e.g. ``dml``: no entropy term, uniform
    coordinator). ``names`` label the students in error messages. A method that learns from
    peers needs ``num_students`` >= 2; ``kd``, which learns from teachers, takes any K >= 1
    (one MLP distilled from one GNN: ``mutualgnn distil``)."""

    def __init__(
        self,
        num_students: int,
        num_classes: int,
        method: str = "gml",
        settings: MutualConfig | None = None,
        names=None,
        **overrides,
    ):
        super().__init__()
        if not isinstance(num_students, int) or num_students < 1:
            raise ValueError(f"num_students must be a positive int, got {num_students!r}")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.method = method_named(method).name
        self.settings = method_settings(
            self.method, dataclasses.replace(settings or MutualConfig(), **overrides)
        )
        s = self.settings
        if s.lam != 0 and num_students < 2 and method_named(self.method).teachers is None:
            raise ValueError(
                f"method '{self.method}' needs K >= 2 students (it learns from "
                f"peers); got {num_students}: use 'independent' for one"
            )
        self.num_students, self.num_classes = num_students, num_classes
        self.names = (
            list(names) if names is not None else [f"student {k}" for k in range(num_students)]
        )
        self.coordinator = (
            Coordinator(
                num_students,
                num_classes,
                s.coordinator,
                s.hidden,
                s.temperature,
                s.t_min,
                s.t_max,
                s.sharpen,
            )
            if s.lam != 0
            else None
        )
        self.gamma_now = (
            s.gamma
        )  #: the entropy coefficient of the current epoch (:meth:`start_epoch`)

    @property
    def active(self) -> bool:
        """Whether any term besides the labels' cross-entropy is on (lam or gamma)."""
        return self.settings.lam != 0 or self.settings.gamma != 0

    def gamma_at(self, epoch: int) -> float:
        """The entropy coefficient at ``epoch`` (1-based): ramped from 0 over
        ``gamma_warmup`` epochs, then ``gamma``."""
        s = self.settings
        return s.gamma * min(1.0, epoch / s.gamma_warmup) if s.gamma_warmup else s.gamma

    def start_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (1-based): the calls that follow use its entropy coefficient
        (:meth:`gamma_at`) unless given one."""
        self.gamma_now = self.gamma_at(epoch)

    @property
    def needs_teachers(self) -> bool:
        """Whether the method distils from teachers trained beforehand (``kd``): every call
        then takes ``teacher_logits``."""
        return method_named(self.method).teachers is not None

    def forward(
        self,
        logits,
        labels: torch.Tensor,
        mask,
        students=None,
        gamma: float | None = None,
        teacher_logits=None,
    ) -> MutualLossOutput:
        """``logits``: K tensors (n, C), one per student, on the same n rows; ``labels`` (n,);
        ``mask``: the labelled rows, a bool mask (n,), an index tensor or a slice.
        ``students`` (indices) restricts the sum to those students (alternating updates);
        ``gamma`` overrides the entropy coefficient (default: the current epoch's,
        :meth:`start_epoch`, else ``settings.gamma``);
        ``teacher_logits`` (``kd`` only): K tensors (n, C), row k from student k's teacher
        (:func:`~.methods.teacher_of`), treated as constants."""
        logits = list(logits)
        self._check(logits, labels)
        if self.needs_teachers and self.settings.lam != 0:
            if teacher_logits is None:
                raise ValueError(
                    f"method '{self.method}' distils every student from its "
                    f"teacher: give teacher_logits, {self.num_students} tensors "
                    f"(n, C) from teachers trained alone (fit(..., teachers=[...]))"
                )
            teacher_logits = list(teacher_logits)
            self._check(teacher_logits, labels, what="teacher")
        elif teacher_logits is not None:
            raise ValueError(f"method '{self.method}' takes no teacher_logits; 'kd' does")
        gamma = self.gamma_now if gamma is None else gamma
        total, per_student, out = cohort_loss(
            logits, labels, mask, self.settings, gamma, self.coordinator, students, teacher_logits
        )
        if out is None:
            return MutualLossOutput(total, per_student, 0)
        return MutualLossOutput(total, per_student, out.loss, out.targets, out.weights)

    def _check(self, logits: list, labels: torch.Tensor, what: str = "student") -> None:
        """Errors that name the student (or its teacher) and what was expected."""
        if len(logits) != self.num_students:
            raise ValueError(f"{self.num_students} {what}s' logits expected, got {len(logits)}")
        rows = labels.shape[0] if torch.is_tensor(labels) else None
        names = self.names if what == "student" else [f"the teacher of {n}" for n in self.names]
        for name, z in zip(names, logits):
            if not torch.is_tensor(z):
                raise ValueError(
                    f"{name} returned {type(z).__name__}, not a tensor of logits: "
                    f"forward(graph, features) must return (rows, classes) logits"
                )
            if (
                z.dim() != 2
                or z.shape[1] != self.num_classes
                or (rows is not None and z.shape[0] != rows)
            ):
                raise ValueError(
                    f"{name} returned logits of shape {tuple(z.shape)}; expected "
                    f"({rows}, {self.num_classes}): one row per node (node task) "
                    f"or per graph (graph task), one column per class"
                )
            if not z.is_floating_point():
                raise ValueError(f"{name} returned {z.dtype} logits; expected floats")
