"""mutualgnn: Graph Mutual Learning -- a cohort of small GNNs that teach each other.

The public API (each name is defined in one module):

* data: :func:`load_dataset`, :class:`NodeDataset`, :class:`GraphDataset`, :class:`Split`
* students: :func:`build_student`, :func:`student_hparams`
* coordinator: :class:`Coordinator`
* training: :func:`fit`, :func:`predict`, :func:`seed_everything`
* experiments: :class:`ExperimentConfig`, :func:`run_experiment`
"""
__version__ = "0.1.0"

from . import _dgl_compat  # noqa: F401,E402  (before anything imports dgl)
from .config import ExperimentConfig, MutualConfig, TrainConfig  # noqa: E402
from .coordinator import Coordinator  # noqa: E402
from .data import GraphDataset, NodeDataset, Split, load_dataset  # noqa: E402
from .experiment import run_experiment  # noqa: E402
from .students import build_student, student_hparams  # noqa: E402
from .training import fit, predict, seed_everything  # noqa: E402

__all__ = ["ExperimentConfig", "MutualConfig", "TrainConfig", "Coordinator", "GraphDataset",
           "NodeDataset", "Split", "load_dataset", "run_experiment", "build_student",
           "student_hparams", "fit", "predict", "seed_everything"]
