"""Fitting a cohort of students on one graph or a list of graphs: knows tensors and graphs,
never files or dataset names.

Modules: :mod:`~.loop` (:func:`fit`, its results), :mod:`~.checkpoints` (each student's best
checkpoint, early stopping), :mod:`~.step` (one optimisation step),
:mod:`~.runners` (full-batch, sampled and graph-batch feeding and evaluation), :mod:`~.fused`
(same-architecture students as one wide model), :mod:`~.distributed` (a cohort sharded over
processes: the logit exchange), :mod:`~.inference` (logits of trained students),
:mod:`~.runtime` (seeds and threads).
"""

from .checkpoints import StudentCheckpoint
from .inference import predict, predict_sampled
from .loop import DivergenceError, FitResult, fit
from .runners import as_input, eval_batches, full_graph_norm, node_graph
from .runtime import available_cores, seed_everything, set_threads

__all__ = [
    "predict",
    "predict_sampled",
    "DivergenceError",
    "FitResult",
    "StudentCheckpoint",
    "fit",
    "as_input",
    "eval_batches",
    "full_graph_norm",
    "node_graph",
    "available_cores",
    "seed_everything",
    "set_threads",
]
