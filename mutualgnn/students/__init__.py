"""Student GNNs: short ``nn.Module``s built from ``dgl.nn`` layers, and a registry by name.

Modules: :mod:`~.zoo` (the models, :func:`build_student`), :mod:`~.hparams` (their defaults),
:mod:`~.kernels` (sparse features, fast dropout, per-student random streams), :mod:`~.registry`
(students by name: built-ins, ``module.path:ClassName``, :func:`register_student`).

Every student maps ``(graph, feat)`` to logits (the built-in node-level students also take
``feat`` as :class:`~.kernels.SparseFeatures`, which keeps bag-of-words inputs sparse):

* node level: ``graph`` with N nodes (self-loops already added for ``gcn``/``gat``),
  ``feat`` (N, F) -> logits (N, C);
* node level, sampled mini-batch: ``graph`` a list of :data:`NODE_LAYERS` blocks (DGL's message
  flow graphs, one per layer, as ``dgl.dataloading.NeighborSampler`` gives them), ``feat``
  (N_in, F) dense features of the first block's input nodes -> logits (N_out, C) of the last
  block's output nodes;
* graph level: ``graph`` a batch of B graphs (``dgl.batch``), ``feat`` (sum n_i, F) -> logits (B, C).

Hyper-parameters live in one place, :data:`~.hparams.DEFAULTS` (per task and architecture, from the
literature) with :data:`~.hparams.DATASET_DEFAULTS` for the few dataset-specific settings the original
papers used. ``lr`` and ``weight_decay`` are optimiser settings, read by the training loop.
"""

from .hparams import (
    DATASET_DEFAULTS,
    DEFAULTS,
    OPTIM_KEYS,
    StudentError,
    architectures,
    student_hparams,
)
from .kernels import SparseFeatures, student_generator, use_generator
from .registry import (
    build_named_student,
    built_in_students,
    is_built_in,
    lookup_hparams,
    named_hparams,
    register_student,
    registered_students,
    resolve_student,
    student_path,
)
from .zoo import (
    GAT,
    GCN,
    MLP,
    NODE_LAYERS,
    NORM_WEIGHT,
    SAGE,
    GraphClassifier,
    NodeGIN,
    build_student,
    layer_graphs,
    norm_weight,
)

__all__ = [
    "DATASET_DEFAULTS",
    "DEFAULTS",
    "OPTIM_KEYS",
    "StudentError",
    "architectures",
    "student_hparams",
    "SparseFeatures",
    "student_generator",
    "use_generator",
    "GAT",
    "GCN",
    "MLP",
    "NODE_LAYERS",
    "NORM_WEIGHT",
    "SAGE",
    "GraphClassifier",
    "NodeGIN",
    "build_student",
    "layer_graphs",
    "norm_weight",
    "build_named_student",
    "built_in_students",
    "is_built_in",
    "lookup_hparams",
    "named_hparams",
    "register_student",
    "registered_students",
    "resolve_student",
    "student_path",
]
