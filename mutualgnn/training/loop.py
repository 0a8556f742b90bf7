"""Fitting a cohort of students: independent training, DML and GML share one loop.

The loop knows tensors and graphs, never files or dataset names. A node task trains full-batch
on one graph, or with ``train.fanouts`` on mini-batches of seed nodes whose neighbours DGL's
``NeighborSampler`` samples; a graph task trains on mini-batches of graphs (DGL's
``GraphDataLoader``). Every
student is evaluated each epoch; each keeps its own best-validation checkpoint (accuracy, ties
broken by lower validation loss) and training stops when no student improved for
``patience`` epochs. Test accuracy is read at each student's best-validation epoch.

The loss of each iteration is :func:`mutualgnn.mutual.cohort_loss` (docs/method.md); with
``lam = gamma = 0`` and the uniform coordinator it is K independent trainings.

Device: ``train.device`` (:meth:`~mutualgnn.config.TrainConfig.torch_device`). :func:`fit` moves
the students, the coordinator and what they train on there; neighbour sampling stays on the CPU
(DGL's ``DataLoader`` moves each batch). Everything :func:`fit` returns is CPU floats and CPU
checkpoints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from ..progress import bar as progress_bar
from .._dgl_compat import dgl
from ..config import MutualConfig, TrainConfig
from ..data import GraphDataset, NodeDataset
from ..mutual import MutualLoss
from .checkpoints import Checkpoints
from .distributed import ShardedCohort
from .fused import Cohort
from .runners import make_runner


class DivergenceError(RuntimeError):
    """A student's training loss or evaluated logits became NaN or infinite: the fit stops
    there rather than report numbers of a diverged model. ``student``, ``arch`` and ``epoch``
    say where; the message names the settings most likely to blame."""

    def __init__(self, message: str, student: int, arch: str, epoch: int):
        super().__init__(message)
        self.student, self.arch, self.epoch = student, arch, epoch


@dataclass
class FitResult:
    """``students``: one :class:`StudentCheckpoint` each; ``ensemble``: accuracies of the averaged
    probabilities of every student's best checkpoint; ``history``: one row per (epoch, student)
    with train_loss, val_acc, val_loss, test_acc, weight and entropy (the coordinator's mean
    weight and the student's mean predictive entropy that epoch)."""

    students: list
    ensemble: dict
    history: list
    epochs_run: int
    seconds: float


def fit(
    students,
    data,
    split=None,
    train: TrainConfig | None = None,
    method: str = "independent",
    mutual: MutualConfig | None = None,
    criterion: MutualLoss | None = None,
    optim: list | None = None,
    exchange=None,
    teachers=None,
) -> FitResult:
    """Train ``students`` together on ``data`` with the rows of ``split``.

    ``students``: K ``torch.nn.Module``s whose ``forward(graph, features)`` returns logits, (N, C)
    for a node task (one graph of N nodes, given with one self-loop per node) and (B, C) for a
    graph task (a ``dgl.batch`` of B graphs); ``features`` is a dense float tensor (N, F) (the
    built-in students, and any whose class sets ``accepts_sparse_features``, may get a
    :class:`~mutualgnn.students.SparseFeatures` instead). A student's ``arch`` names it (default:
    its class name) and its ``hparams`` may hold ``lr`` and ``weight_decay`` (default
    :data:`DEFAULT_OPTIM`); ``optim`` (one dict per student) overrides both. The optimiser
    is ``train.optimizer`` (Adam by default; :func:`make_optimizer`), the learning rate
    decayed every ``train.lr_step`` epochs where set.

    ``data``: a :class:`~mutualgnn.data.NodeDataset`, a :class:`~mutualgnn.data.GraphDataset`, a
    DGL graph with ``ndata["feat"]`` and ``ndata["label"]`` (``split=None`` then reads its
    ``train_mask``/``val_mask``/``test_mask``), or a pair ``(list of graphs, labels)`` (give
    ``split``, e.g. one of ``GraphDataset.from_graphs(graphs, labels).splits()``). ``split``
    (a :class:`~mutualgnn.data.Split`) defaults to the dataset's own split.

    How they learn: ``method`` (``independent`` by default, ``dml``, ``gml``, ...: every
    method of :data:`mutualgnn.mutual.METHODS`) with the settings ``mutual`` (a
    :class:`~mutualgnn.mutual.MutualConfig`, default values when None), or a ready
    ``criterion`` (a :class:`~mutualgnn.mutual.MutualLoss`, whose coordinator is trained too).
    ``teachers`` (``method="kd"`` only): K trained ``nn.Module``s, teacher k teaching student
    k (e.g. the students of an ``independent`` fit, reordered by
    :func:`~mutualgnn.mutual.teacher_of`); they run in evaluation mode without gradients, on
    every batch the students see, and are moved to ``train.device``.
    ``exchange`` (a :class:`mutualgnn.training.distributed.Exchange`) trains only this
    process's share of the students and exchanges logits with the other processes; every
    process returns the same result.

    The students and the criterion are moved to ``train.device`` (in place) and stay there,
    each student at its best checkpoint, when ``fit`` returns; ``data`` is left where it is
    (what is trained on is copied to the device). The result's numbers are floats and its
    checkpoints (``StudentCheckpoint.state_dict``) CPU tensors, whatever the device.
    """
    students, names, data, split, train = _inputs(students, data, split, train)
    device = train.torch_device()
    labels = [f"student {k} ({name})" for k, name in enumerate(names)]  # for messages
    criterion = _criterion(criterion, method, mutual, students, data, labels, device)
    teachers = _teachers(teachers, criterion, labels, device, exchange)
    optim = optim or [student_optim(s) for s in students]
    cohort, optimisers, schedulers = _cohort(
        students, optim, criterion, data, train, device, exchange
    )
    runner = make_runner(data, split, train, criterion.settings, device, teachers)
    best = Checkpoints(len(students), train.patience)
    history, epoch, start = [], 0, time.perf_counter()
    bar = progress_bar(
        range(1, train.epochs + 1), desc="epochs", leave=False, enabled=train.progress, lines=False
    )
    for epoch in bar:
        stats, evaluation = _epoch(epoch, runner, cohort, optimisers, schedulers, criterion)
        _check_finite(names, stats["loss"], evaluation, epoch, optim, criterion.settings)
        best.update(epoch, evaluation, cohort, students)
        history += _history_rows(epoch, names, stats, evaluation)
        bar.set_postfix(val=" ".join(f"{acc:.3f}" for acc in best.val_accs))
        if best.stale >= train.patience:
            break
    bar.close()
    results = best.restore(cohort, students, names)
    return FitResult(
        students=results,
        ensemble=runner.ensemble(best.probs),
        history=history,
        epochs_run=epoch,
        seconds=time.perf_counter() - start,
    )


def _epoch(epoch: int, runner, cohort, optimisers, schedulers, criterion):
    """One epoch of :func:`fit`: the criterion's per-epoch state, a pass over the training
    rows, the learning-rate schedules' step; its stats (the loss shared by every process) and
    the runner's per-student evaluation."""
    criterion.start_epoch(epoch)
    stats = runner.train_epoch(cohort, optimisers, criterion)
    stats["loss"] = cohort.share(stats["loss"])
    for scheduler in schedulers:
        scheduler.step()
    return stats, runner.evaluate(cohort)


def _history_rows(epoch: int, names: list, stats: dict, evaluation: list) -> list:
    """The rows of :attr:`FitResult.history` for ``epoch``: one per student."""
    return [
        dict(
            epoch=epoch,
            student=k,
            arch=names[k],
            train_loss=stats["loss"][k],
            val_acc=ev["val_acc"],
            val_loss=ev["val_loss"],
            test_acc=ev["test_acc"],
            weight=stats["weight"][k],
            entropy=stats["entropy"][k],
        )
        for k, ev in enumerate(evaluation)
    ]


def _inputs(students, data, split, train):
    """``fit``'s arguments checked and read: (students as a list, their names, the dataset, the
    split, the training settings resolved for the task)."""
    students = list(students)
    if not students:
        raise ValueError("fit needs at least one student")
    names = [student_name(s) for s in students]
    for k, (name, s) in enumerate(zip(names, students)):
        if not isinstance(s, nn.Module):
            raise ValueError(
                f"student {k} ({name}) is a {type(s).__name__}, not a "
                f"torch.nn.Module with forward(graph, features) -> logits"
            )
        if not any(True for _ in s.parameters()):
            raise ValueError(
                f"student {k} ({name}) has no parameters to train: a student needs at least one"
            )
    if isinstance(data, dgl.DGLGraph):
        data = NodeDataset.from_graph(data, split)
        split = data.split
    elif isinstance(data, tuple) and len(data) == 2:
        data = GraphDataset.from_graphs(*data)
    if split is None:
        split = data.split
        if split is None:
            raise ValueError(
                "give a split: this graph dataset is cross-validated, e.g. "
                "split=data.splits(folds=10)[0]"
            )
    return students, names, data, split, (train or TrainConfig()).resolved(data.task)


def _criterion(criterion, method, mutual, students, data, labels, device) -> MutualLoss:
    """The :class:`~mutualgnn.mutual.MutualLoss` of ``fit``: the one given (checked against the
    cohort) or one made from ``method`` and ``mutual``; moved to ``device``."""
    if criterion is None:
        criterion = MutualLoss(len(students), data.num_classes, method, mutual, names=labels)
    elif method != "independent" or mutual is not None:
        raise ValueError("give either a criterion or method/mutual settings, not both")
    elif criterion.num_students != len(students) or criterion.num_classes != data.num_classes:
        raise ValueError(
            f"the criterion is for {criterion.num_students} students and "
            f"{criterion.num_classes} classes; fit has {len(students)} students "
            f"and {data.num_classes} classes"
        )
    return criterion.to(device)


def _cohort(students, optim, criterion, data, train, device, exchange) -> tuple:
    """The students on ``device`` as a cohort (fused where that pays and their optimiser
    settings agree; a rank's share in distributed training), their optimisers (and the
    coordinator's) and the learning-rate schedulers."""
    for k, s in enumerate(students):
        generator = getattr(s, "generator", None)
        if generator is not None and generator.device != device:
            raise ValueError(
                f"student {k} draws dropout from a generator on {generator.device} "
                f"but trains on {device}: make its generator on {device} "
                f"(mutualgnn.students.student_generator(seed, k, device))"
            )
        s.to(device)
    settings = criterion.settings
    if exchange is not None:
        if settings.alternating and criterion.active:
            raise ValueError("alternating updates are not available in distributed training")
        make = lambda fuse: ShardedCohort(students, exchange, fuse)  # noqa: E731
    else:
        make = lambda fuse: Cohort(students, fuse)  # noqa: E731
    # same-architecture students run fused (one wide model) unless updated one at a time, or
    # where fusing measured slower (a large full graph on the CPU)
    cohort = make(
        train.fuse
        and not (settings.alternating and criterion.active)
        and fusion_pays(data, len(students), device, train)
    )
    if any(len({repr(optim[k]) for k in idx}) > 1 for _, idx, _ in cohort.groups):
        cohort = make(False)  # members with different optimiser settings
    optimisers = [
        make_optimizer(train, module.parameters(), **optim[idx[0]])
        for module, idx, _ in cohort.groups
    ]
    if any(p.requires_grad for p in criterion.parameters()):
        optimisers.append(_adam(criterion.parameters(), lr=settings.coordinator_lr))
    schedulers = (
        [torch.optim.lr_scheduler.StepLR(o, train.lr_step, train.lr_decay) for o in optimisers]
        if train.lr_step
        else []
    )
    return cohort, optimisers, schedulers


def _teachers(teachers, criterion, labels, device, exchange):
    """``fit``'s teachers checked against the method and moved to ``device`` (None without)."""
    if not criterion.needs_teachers or criterion.settings.lam == 0:
        if teachers is not None:
            why = (
                "with mutual.lam = 0 it learns from the labels alone"
                if criterion.needs_teachers
                else "it learns without them"
            )
            raise ValueError(
                f"teachers are for method 'kd' with mutual.lam != 0; method "
                f"'{criterion.method}' takes none: {why}"
            )
        return None
    if teachers is None or len(list(teachers)) != criterion.num_students:
        raise ValueError(
            f"method '{criterion.method}' needs one trained teacher per student "
            f"({criterion.num_students}): fit(..., teachers=[...]), e.g. the "
            f"students of an 'independent' fit (mutualgnn.mutual.teacher_of)"
        )
    if exchange is not None:
        raise ValueError(f"method '{criterion.method}' is not available in distributed training")
    teachers = list(teachers)
    for label, t in zip(labels, teachers):
        if not isinstance(t, nn.Module):
            raise ValueError(
                f"the teacher of {label} is a {type(t).__name__}, not a torch.nn.Module"
            )
        t.to(device)
    return teachers


def _check_finite(names, losses, evaluation, epoch, optim, mutual) -> None:
    """Raise :class:`DivergenceError` for the first student whose training loss this epoch
    (``losses``, K floats) or validation loss (its evaluated logits) is not finite."""
    for k, (loss, ev) in enumerate(zip(losses, evaluation)):
        what = (
            "training loss"
            if not math.isfinite(loss)
            else "validation loss (its logits)"
            if not math.isfinite(ev["val_loss"])
            else None
        )
        if what is None:
            continue
        arch = names[k]
        value = loss if not math.isfinite(loss) else ev["val_loss"]
        blame = f"its learning rate (lr {optim[k]['lr']:g})"
        if mutual.lam:
            blame += (
                f", mutual.lam ({mutual.lam:g}), mutual.temperature "
                f"({mutual.temperature:g}; a low one sharpens the targets)"
            )
        raise DivergenceError(
            f"student {k} ({arch}) diverged at epoch {epoch}: its {what} is "
            f"{value}; the settings most likely to blame: {blame}",
            k,
            arch,
            epoch,
        )


#: on the CPU, full-batch node students fuse up to this many rows (nodes x students): the
#: fused model's (N, K * hidden) tensors beyond it leave the caches, and on PubMed (19,717
#: nodes) two or four fused GCNs measured slower than one by one (docs/performance.md)
CPU_FUSE_ROWS = 16384


def fusion_pays(data, num_students: int, device, train) -> bool:
    """Whether ``fit`` runs same-architecture students fused (``train.fuse``): always on an
    accelerator, for graph tasks and for sampled mini-batches; a full graph on the CPU only
    while nodes x students <= :data:`CPU_FUSE_ROWS`."""
    if torch.device(device).type != "cpu" or data.task == "graph" or train.fanouts:
        return True
    return data.graph.num_nodes() * num_students <= CPU_FUSE_ROWS


#: optimiser settings of a student that states none (in ``hparams``)
DEFAULT_OPTIM = {"lr": 0.01, "weight_decay": 0.0}


def student_name(student) -> str:
    """What results call a student: its ``arch`` (the built-in ones: ``gcn``, ``gat``, ...),
    else its class name in lower case."""
    name = getattr(student, "arch", None)
    return name if isinstance(name, str) and name else type(student).__name__.lower()


def student_optim(student) -> dict:
    """A student's optimiser settings: ``lr`` and ``weight_decay`` from its ``hparams`` where it
    has them, else :data:`DEFAULT_OPTIM`."""
    hparams = getattr(student, "hparams", None) or {}
    return {key: hparams.get(key, default) for key, default in DEFAULT_OPTIM.items()}


def make_optimizer(train: TrainConfig, params, lr: float, weight_decay: float):
    """A student's optimiser as ``train.optimizer`` names it (:data:`~mutualgnn.config.OPTIMIZERS`)
    with its ``lr`` and ``weight_decay``."""
    if train.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=train.momentum)
    return _adam(params, lr=lr, weight_decay=weight_decay, decoupled=train.optimizer == "adamw")


def _adam(params, decoupled: bool = False, **kwargs) -> torch.optim.Optimizer:
    """Adam (AdamW when ``decoupled``: weight decay applied to the weights, not the gradient),
    fused into one kernel where torch has it for the parameters' device (CPU: torch
    >= 2.4): the per-tensor steps of the default implementation cost a graph-level student
    about a fifth of its step time."""
    params = list(params)
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    try:
        return kind(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return kind(params, **kwargs)
