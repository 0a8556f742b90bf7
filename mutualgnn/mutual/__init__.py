"""Mutual learning without DGL: the ensemble coordinator, the loss terms and their sum over a
cohort, and the one registry of training methods. Pure torch, so it works on logits from any
library (``import mutualgnn.mutual`` imports no DGL).

Modules: :mod:`~.coordinator` (soft targets and their weights), :mod:`~.losses` (supervised,
mutual KL, entropy, :func:`~.losses.cohort_loss`), :mod:`~.methods` (name -> settings).
"""
from .coordinator import KINDS, Coordinator, CoordinatorOutput
from .losses import cohort_loss, entropy, kl_to_target, supervised
from .methods import METHOD_NAMES, METHODS, Method, method, method_settings, trained_methods

__all__ = ["KINDS", "Coordinator", "CoordinatorOutput", "cohort_loss", "entropy", "kl_to_target",
           "supervised", "METHOD_NAMES", "METHODS", "Method", "method", "method_settings",
           "trained_methods"]
