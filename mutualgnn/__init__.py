"""mutualgnn: Graph Mutual Learning -- a cohort of small GNNs that teach each other.

The public API, each name defined in one module and imported on first use (so that
``import mutualgnn.mutual`` stays free of DGL):

* data: :func:`load_dataset`, :class:`NodeDataset`, :class:`GraphDataset`, :class:`Split`
* students: :func:`build_student`, :func:`student_hparams`, :func:`register_student`
* mutual learning: :class:`MutualLoss`, :class:`Coordinator`, :func:`cohort_loss`, :data:`METHODS`
* training: :func:`fit`, :func:`predict`, :func:`seed_everything`
* experiments: :class:`ExperimentConfig`, :class:`TrainConfig`, :class:`MutualConfig`,
  :func:`run_experiment`

The layout of the package is in docs/layout.md.
"""

import importlib

from . import _dgl_prepare  # noqa: F401  (DGL's compatibility step; imports no DGL)

__version__ = "0.1.0"

#: public name -> the module that defines it
_API = {
    "ExperimentConfig": "config",
    "MutualConfig": "config",
    "TrainConfig": "config",
    "ConfigError": "config",
    "Coordinator": "mutual",
    "cohort_loss": "mutual",
    "METHODS": "mutual",
    "MutualLoss": "mutual",
    "GraphDataset": "data",
    "NodeDataset": "data",
    "Split": "data",
    "load_dataset": "data",
    "build_student": "students",
    "student_hparams": "students",
    "register_student": "students",
    "fit": "training",
    "predict": "training",
    "seed_everything": "training",
    "run_experiment": "experiment",
}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mutualgnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
