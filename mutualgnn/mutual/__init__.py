"""Mutual learning without DGL: the ensemble coordinator, the loss terms and their sum over a
cohort, and the one registry of training methods. Pure torch, so it works on logits from any
library (``import mutualgnn.mutual`` imports no DGL).

Modules: :mod:`~.criterion` (:class:`MutualLoss`, the cohort's loss as one module),
:mod:`~.coordinator` (soft targets and their weights), :mod:`~.losses` (supervised, mutual KL,
entropy, :func:`~.losses.cohort_loss`), :mod:`~.methods` (name -> settings), :mod:`~.settings`
(:class:`MutualConfig`).
"""

from .coordinator import KINDS, Coordinator, CoordinatorOutput
from .criterion import MutualLoss, MutualLossOutput
from .losses import cohort_loss, entropy, kl_to_target, supervised
from .methods import (
    METHOD_NAMES,
    METHODS,
    Method,
    method,
    method_settings,
    teacher_of,
    trained_methods,
)
from .settings import KL_ROWS, MutualConfig

__all__ = [
    "KINDS",
    "Coordinator",
    "CoordinatorOutput",
    "MutualLoss",
    "MutualLossOutput",
    "cohort_loss",
    "entropy",
    "kl_to_target",
    "supervised",
    "METHOD_NAMES",
    "METHODS",
    "Method",
    "method",
    "method_settings",
    "teacher_of",
    "trained_methods",
    "KL_ROWS",
    "MutualConfig",
]
