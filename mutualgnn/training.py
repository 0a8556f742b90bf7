"""Fitting a cohort of students: independent training, DML and GML share one loop.

The loop knows tensors and graphs, never files or dataset names. A node task trains full-batch
on one graph, or with ``train.fanouts`` on mini-batches of seed nodes whose neighbours DGL's
``NeighborSampler`` samples; a graph task trains on mini-batches of graphs (DGL's
``GraphDataLoader``). Every
student is evaluated each epoch; each keeps its own best-validation checkpoint (accuracy, ties
broken by lower validation loss) and training stops when no student improved for
``patience`` epochs. Test accuracy is read at each student's best-validation epoch.

Loss per iteration (see docs/method.md), for students j = 1..K with logits z_j:

    L = sum_j [ CE(z_j, y) + lam * mean_{k != j} T^2 KL(sg[q_k] || softmax(z_j / T))
                - gamma_t * mean_rows H(softmax(z_j / T)) ] + L_coordinator

With ``lam = gamma = 0`` and the uniform coordinator this is K independent trainings.

Device: ``train.device`` (:meth:`~mutualgnn.config.TrainConfig.torch_device`). :func:`fit` moves
the students, the coordinator and what they train on there; neighbour sampling stays on the CPU
(DGL's ``DataLoader`` moves each batch). Everything :func:`fit` returns is CPU floats and CPU
checkpoints.
"""
from __future__ import annotations

import copy
import functools
import os
import random
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import losses
from ._dgl_compat import dgl
from .config import ConfigError, MutualConfig, TrainConfig
from .coordinator import Coordinator
from .data import OGB, GraphDataset, NodeDataset, ogb_score
from .fused import Cohort
from .students import NODE_LAYERS, NORM_WEIGHT, SparseFeatures

INDEPENDENT = MutualConfig(coordinator="uniform", lam=0.0, gamma=0.0)


def seed_everything(seed: int) -> None:
    """Seed python, numpy, torch and DGL: the same seed gives the same numbers on CPU."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    dgl.seed(seed)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads and DGL's OpenMP threads (a pool of its own, used by its
    kernels and samplers) to ``threads`` (default: the cores available); warn on
    oversubscription. One count for both keeps ``--jobs N --threads 1`` at N busy threads. DGL's
    neighbour sampler repeats under a seed only with one thread (with more it draws by thread
    schedule), so ``threads=1`` is what makes sampled runs reproducible."""
    cores = available_cores()
    if threads is None:
        threads = cores
    if threads < 1:
        raise ValueError("threads must be >= 1")
    if threads > cores:
        warnings.warn(f"{threads} threads asked for but only {cores} cores are available; "
                      "oversubscribed threads make DGL and torch much slower", stacklevel=2)
    torch.set_num_threads(threads)
    dgl.utils.set_num_threads(threads)
    return threads


@dataclass
class StudentResult:
    """Outcome of one student: its best-validation epoch and the scores there (``val_acc`` and
    ``test_acc`` hold the dataset's metric: accuracy, or ROC-AUC for ogbg-molhiv)."""

    arch: str
    best_epoch: int
    val_acc: float
    val_loss: float
    test_acc: float
    state_dict: dict = field(repr=False, default_factory=dict)


@dataclass
class FitResult:
    """``students``: one :class:`StudentResult` each; ``ensemble``: accuracies of the averaged
    probabilities of every student's best checkpoint; ``history``: one row per (epoch, student)
    with train_loss, val_acc, val_loss, test_acc, weight and entropy (the coordinator's mean
    weight and the student's mean predictive entropy that epoch)."""

    students: list
    ensemble: dict
    history: list
    epochs_run: int
    seconds: float


def fit(students, data, split, train: TrainConfig | None = None,
        mutual: MutualConfig | None = None, coordinator: Coordinator | None = None,
        optim: list | None = None, exchange=None) -> FitResult:
    """Train ``students`` (a list of K modules from :func:`mutualgnn.students.build_student`)
    together on ``data`` with the rows of ``split`` (a :class:`~mutualgnn.data.Split`).

    ``data`` is a :class:`~mutualgnn.data.NodeDataset`, a :class:`~mutualgnn.data.GraphDataset`,
    a DGL graph with ``ndata["feat"]`` and ``ndata["label"]`` (``split=None`` then reads its
    ``train_mask``/``val_mask``/``test_mask``), or a pair ``(list of graphs, labels)``.

    ``mutual`` defaults to independent training (lam = gamma = 0). When it asks for a learned
    coordinator and none is given, one is built. ``optim`` gives per-student ``lr`` and
    ``weight_decay`` (default: each student's ``hparams``). ``exchange`` (a
    :class:`mutualgnn.distributed.Exchange`) trains only this process's share of the students
    and exchanges logits with the other processes; every process returns the same result.

    The students and the coordinator are moved to ``train.device`` (in place) and stay there,
    each at its best checkpoint, when ``fit`` returns; ``data`` is left where it is (what is
    trained on is copied to the device). The result's numbers are floats and its checkpoints
    (``StudentResult.state_dict``) CPU tensors, whatever the device.
    """
    students = list(students)
    if not students:
        raise ValueError("fit needs at least one student")
    if isinstance(data, dgl.DGLGraph):
        data = NodeDataset.from_graph(data, split)
        split = data.split
    elif isinstance(data, tuple) and len(data) == 2:
        data = GraphDataset.from_graphs(*data)
    train = (train or TrainConfig()).resolved(data.task)
    device = train.torch_device()
    for k, s in enumerate(students):
        generator = getattr(s, "generator", None)
        if generator is not None and generator.device != device:
            raise ValueError(f"student {k} draws dropout from a generator on {generator.device} "
                             f"but trains on {device}: make its generator on {device} "
                             f"(mutualgnn.distributed.student_generator(seed, k, device))")
        s.to(device)
    mutual = mutual or INDEPENDENT
    mutual_on = mutual.lam != 0 or mutual.gamma != 0
    if mutual.lam != 0 and len(students) < 2:
        raise ValueError("mutual learning needs K >= 2 students; use the independent method for one")
    if coordinator is None and mutual.lam != 0:
        coordinator = Coordinator(len(students), data.num_classes, mutual.coordinator,
                                  mutual.hidden, mutual.temperature, mutual.t_min, mutual.t_max,
                                  mutual.sharpen)
    if coordinator is not None:
        coordinator.to(device)
    optim = optim or [{k: s.hparams[k] for k in ("lr", "weight_decay")} for s in students]
    if exchange is not None:
        from .distributed import ShardedCohort

        if mutual.alternating and mutual_on:
            raise ValueError("alternating updates are not available in distributed training")
        make = lambda fuse: ShardedCohort(students, exchange, fuse)  # noqa: E731
    else:
        make = lambda fuse: Cohort(students, fuse)  # noqa: E731
    # same-architecture students run fused (one wide model) unless updated one at a time
    cohort = make(train.fuse and not (mutual.alternating and mutual_on))
    if any(len({repr(optim[k]) for k in idx}) > 1 for _, idx, _ in cohort.groups):
        cohort = make(False)  # members with different optimiser settings
    optimisers = [_adam(module.parameters(), lr=optim[idx[0]]["lr"],
                        weight_decay=optim[idx[0]]["weight_decay"])
                  for module, idx, _ in cohort.groups]
    if coordinator is not None and any(p.requires_grad for p in coordinator.parameters()):
        optimisers.append(_adam(coordinator.parameters(), lr=mutual.coordinator_lr))
    schedulers = [torch.optim.lr_scheduler.StepLR(o, train.lr_step, train.lr_decay)
                  for o in optimisers] if train.lr_step else []

    runner = _runner(data, split, train, mutual, device)
    K = len(students)
    best = [dict(acc=-1.0, loss=float("inf"), epoch=-1, test=0.0, state={}, probs=None)
            for _ in range(K)]
    history, stale, start = [], 0, time.perf_counter()
    bar = tqdm(range(1, train.epochs + 1), desc="epochs", leave=False, disable=not train.progress,
               dynamic_ncols=True)
    epoch = 0
    for epoch in bar:
        gamma = mutual.gamma * min(1.0, epoch / mutual.gamma_warmup) if mutual.gamma_warmup else mutual.gamma
        stats = runner.train_epoch(cohort, optimisers, coordinator, mutual, gamma, mutual_on)
        stats["loss"] = cohort.share(stats["loss"])
        for sched in schedulers:
            sched.step()
        evaluation = runner.evaluate(cohort)
        improved = False
        for k, ev in enumerate(evaluation):
            b = best[k]
            if ev["val_acc"] > b["acc"] or (ev["val_acc"] == b["acc"] and ev["val_loss"] < b["loss"]):
                cohort.sync(k)
                state = _cpu_state(students[k]) if k in cohort.local else None
                b.update(acc=ev["val_acc"], loss=ev["val_loss"], epoch=epoch, test=ev["test_acc"],
                         state=state, probs=ev["probs"])
                improved = True
            history.append(dict(epoch=epoch, student=k, arch=students[k].arch,
                                train_loss=stats["loss"][k], val_acc=ev["val_acc"],
                                val_loss=ev["val_loss"], test_acc=ev["test_acc"],
                                weight=stats["weight"][k], entropy=stats["entropy"][k]))
        stale = 0 if improved else stale + 1
        bar.set_postfix(val=" ".join(f"{b['acc']:.3f}" for b in best))
        if stale >= train.patience:
            break
    bar.close()
    for b, state in zip(best, cohort.collect([b["state"] for b in best])):
        b["state"] = state
    for k, s in enumerate(students):  # leave every student at its best checkpoint
        s.load_state_dict(best[k]["state"])
    ensemble = runner.ensemble([b["probs"] for b in best])
    return FitResult(
        students=[StudentResult(s.arch, b["epoch"], b["acc"], b["loss"], b["test"], b["state"])
                  for s, b in zip(students, best)],
        ensemble=ensemble, history=history, epochs_run=epoch,
        seconds=time.perf_counter() - start)


def _cpu_state(module: nn.Module) -> dict:
    """A copy of ``module``'s state dict with every tensor on the CPU: checkpoints are kept,
    saved and sent between ranks there, whatever device the module trains on."""
    state = module.state_dict()
    out = copy.copy(state)  # the same OrderedDict type, with its ``_metadata``
    for name, tensor in state.items():
        out[name] = tensor.to("cpu", copy=True)
    return out


def cohort_loss(logits: list, labels: torch.Tensor, labelled, mutual: MutualConfig, gamma: float,
                coordinator: Coordinator | None, students=None) -> tuple:
    """The summed cohort loss of one iteration (module docstring). ``logits``: K tensors (N, C);
    ``labelled``: index or mask of the rows with labels; ``students`` (indices) restricts the
    sum to those students (alternating updates). Returns (loss, per-student losses, output of
    the coordinator or None)."""
    K = len(logits)
    which = range(K) if students is None else students
    out = None
    kl_rows = labelled if mutual.kl_rows == "train" else slice(None)
    if mutual.lam != 0:
        z = torch.stack([z_k[kl_rows] for z_k in logits])
        out = coordinator(z, labels[kl_rows], _rows_within(labelled, kl_rows, z.shape[1]))
    per_student = []
    for j in which:
        loss = losses.supervised(logits[j][labelled], labels[labelled])
        if out is not None:
            loss = loss + mutual.lam * losses.mutual(out.targets, logits[j][kl_rows], j,
                                                     mutual.temperature)
        if gamma:
            loss = loss - gamma * losses.entropy(logits[j], mutual.temperature).mean()
        per_student.append(loss)
    total = sum(per_student) + (out.loss if out is not None else 0)
    return total, per_student, out


def _rows_within(labelled, kl_rows, n):
    """The labelled rows, indexed within the rows the KL is taken over."""
    if isinstance(kl_rows, slice):
        return labelled
    return torch.arange(n, device=labelled.device)  # kl_rows == labelled: all are labelled


def _step(cohort, optimisers, logits_fn, labels, labelled, coordinator, mutual, gamma, mutual_on):
    """One iteration: joint (one summed loss, every optimiser steps) or alternating (each
    student in turn, its peers' targets from fresh forward passes). Returns per-student losses,
    mean weights and mean entropies."""
    K, which = len(cohort.students), cohort.local
    if not mutual.alternating or not mutual_on:
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn(range(K))
        total, per_student, out = cohort_loss(logits, labels, labelled, mutual, gamma, coordinator,
                                              which)
        total.backward()
        for o in optimisers:
            o.step()
        return _summary(per_student, logits, out, mutual, which)
    per_student, out, logits = [], None, None
    for j in range(K):
        for o in optimisers:
            o.zero_grad(set_to_none=True)
        logits = logits_fn([j])
        _, loss_j, out = cohort_loss(logits, labels, labelled, mutual, gamma, coordinator, [j])
        (loss_j[0] + (out.loss if out is not None and j == 0 else 0)).backward()
        optimisers[j].step()
        if j == 0 and len(optimisers) > K:
            optimisers[K].step()  # the coordinator, once per iteration
        per_student.append(loss_j[0])
    return _summary(per_student, logits, out, mutual, range(K))


def _summary(per_student, logits, out, mutual, which):
    """Per-student losses (0 for students trained elsewhere), mean weights and entropies."""
    with torch.no_grad():
        weight = out.weights.mean(dim=(1, 2)).tolist() if out is not None else [1.0] * len(logits)
        ent = [float(losses.entropy(z, mutual.temperature).mean()) for z in logits]
    loss = [0.0] * len(logits)
    for j, value in zip(which, per_student):
        loss[j] = value.item()
    return dict(loss=loss, weight=weight, entropy=ent)


def _all_logits(cohort, graph, feat, train_only=None):
    """Forward every student; ``train_only`` (indices) get gradients, the rest run without."""
    students = cohort.students
    if train_only is None or len(train_only) == len(students):
        return cohort(graph, feat)
    out = []
    for k, s in enumerate(students):
        if train_only is None or k in train_only:
            out.append(s(graph, feat))
        else:
            with torch.no_grad():
                out.append(s(graph, feat))
    return out


def _evaluate_logits(logits, labels, metric):
    """(n, C) logits, (n,) labels -> their score by ``metric`` (:func:`_metric`), mean CE loss.

    Accuracy is computed in torch: this runs every epoch for every student, and scikit-learn's
    input validation made ``accuracy_score`` cost 4 ms a call, about a sixth of a Cora GCN
    epoch. The final numbers are also checked against ``accuracy_score`` (tests/test_training.py).
    """
    return metric(logits, labels), float(nn.functional.cross_entropy(logits, labels))


def _accuracy(scores, labels) -> float:
    """Share of rows whose highest score is the label; (n, C), (n,) -> float."""
    return float((scores.argmax(-1) == labels).double().mean()) if labels.numel() else 0.0


def _metric(data):
    """How ``data`` is scored, ``(n, C) scores, (n,) labels -> float``: ogb's ``Evaluator`` for
    ogb's datasets (their ``metric``; :func:`mutualgnn.data.ogb_score`), else :func:`_accuracy`.
    Model selection and the ``val_acc`` / ``test_acc`` results hold this score."""
    return functools.partial(ogb_score, data.name) if data.name in OGB else _accuracy


class _NodeRunner:
    """A node task, full batch: the graph (:func:`_node_graph`), features (N, F) dense or
    :class:`SparseFeatures`, labels (N,) and the split's indices, all on ``device``."""

    def __init__(self, data, split, device):
        g = data.graph
        self.graph = _node_graph(g).to(device)  # once, shared by the cohort
        self.feat, self.labels = as_input(g.ndata["feat"]).to(device), g.ndata["label"].to(device)
        self.split, self.metric = split.to(device), _metric(data)

    def train_epoch(self, cohort, optimisers, coordinator, mutual, gamma, mutual_on):
        cohort.train()
        if coordinator is not None:
            coordinator.train()
        return _step(cohort, optimisers,
                     lambda which: _all_logits(cohort, self.graph, self.feat, which),
                     self.labels, self.split.train, coordinator, mutual, gamma, mutual_on)

    @torch.no_grad()
    def evaluate(self, cohort):
        out = []
        for zv, zt in self._val_test_logits(cohort.eval()):
            val_acc, val_loss = _evaluate_logits(zv, self.labels[self.split.val], self.metric)
            test_acc, _ = _evaluate_logits(zt, self.labels[self.split.test], self.metric)
            out.append(dict(val_acc=val_acc, val_loss=val_loss, test_acc=test_acc,
                            probs=(zv.softmax(-1), zt.softmax(-1))))
        return out

    def _val_test_logits(self, cohort) -> list:
        """Per student: logits of the validation rows (n_val, C) and the test rows (n_test, C)."""
        return [(z[self.split.val], z[self.split.test]) for z in cohort(self.graph, self.feat)]

    def ensemble(self, probs):
        return _ensemble(probs, self.labels[self.split.val], self.labels[self.split.test],
                         self.metric)


class _SampledNodeRunner(_NodeRunner):
    """A node task on mini-batches of ``train.batch_size`` seed nodes (``train.fanouts``).

    Each epoch the seeds (every node when ``kl_rows`` is ``"all"``, else the training nodes) are
    shuffled into batches; DGL's ``NeighborSampler`` builds each batch's blocks once and every
    student consumes them. The loss is :func:`cohort_loss` over the batch's output nodes: CE on
    those with a training label, KL and entropy on all. Evaluation runs the validation and test
    nodes in fixed batches with all their neighbours (``MultiLayerFullNeighborSampler``).

    The graph stays on the CPU and is sampled there, from the same streams on every rank; DGL's
    ``DataLoader(..., device=device)`` moves each batch's nodes and blocks to ``device``, with
    the input nodes' features (N_in, F) prefetched as ``blocks[0].srcdata["feat"]``. Labels
    (N,), the training mask (N,) and the split's indices live on ``device``.
    """

    def __init__(self, data, split, train, kl_rows, device):
        if len(train.fanouts) != NODE_LAYERS:
            raise ConfigError(f"train.fanouts {train.fanouts} gives {len(train.fanouts)} layers; "
                              f"node-level students have {NODE_LAYERS}: give one fanout per "
                              f"layer, e.g. --fanouts 10,10")
        g = data.graph
        self.graph = dgl.add_self_loop(dgl.remove_self_loop(g))  # before sampling
        self.labels, self.split = g.ndata["label"].to(device), split.to(device)
        self.metric = _metric(data)
        self.is_train = torch.zeros(g.num_nodes(), dtype=torch.bool, device=device)
        self.is_train[self.split.train] = True
        seeds = split.train if kl_rows == "train" else torch.arange(g.num_nodes())
        loading = dgl.dataloading
        prefetch = dict(prefetch_node_feats=["feat"])
        self.loader = loading.DataLoader(self.graph, seeds,
                                         loading.NeighborSampler(train.fanouts, **prefetch),
                                         device=device, batch_size=train.batch_size, shuffle=True)
        eval_rows = torch.cat([split.val, split.test]).unique()  # sorted, each row once
        self.eval_loader = loading.DataLoader(
            self.graph, eval_rows, loading.MultiLayerFullNeighborSampler(NODE_LAYERS, **prefetch),
            device=device, batch_size=train.batch_size)
        self.out_degrees = self.graph.out_degrees()  # (N,) of the full graph, for full_graph_norm
        # where the validation and test nodes are among the evaluated rows
        self.val_at = torch.searchsorted(eval_rows, split.val).to(device)
        self.test_at = torch.searchsorted(eval_rows, split.test).to(device)

    def train_epoch(self, cohort, optimisers, coordinator, mutual, gamma, mutual_on):
        cohort.train()
        if coordinator is not None:
            coordinator.train()
        stats = []
        for _, output_nodes, blocks in _batches(self.loader):
            labelled = self.is_train[output_nodes].nonzero(as_tuple=True)[0]  # rows of the batch
            if not len(labelled) and not mutual_on:
                continue  # no term to learn from
            feat = blocks[0].srcdata["feat"]
            stats.append(_step(cohort, optimisers,
                               lambda which: _all_logits(cohort, blocks, feat, which),
                               self.labels[output_nodes], labelled, coordinator, mutual, gamma,
                               mutual_on))
        return _mean_stats(stats)

    def _val_test_logits(self, cohort) -> list:
        per_batch = [cohort(full_graph_norm(blocks, self.out_degrees), blocks[0].srcdata["feat"])
                     for _, _, blocks in _batches(self.eval_loader)]
        return [(z[self.val_at], z[self.test_at]) for z in map(torch.cat, zip(*per_batch))]


def full_graph_norm(blocks, out_degrees: torch.Tensor) -> list:
    """Give full-neighbour ``blocks`` the edge weights w_uv = sqrt(d_out_block(u) / d_out(u))
    (``edata[NORM_WEIGHT]``), ``out_degrees`` (N,) being the full graph's, and return them.

    GraphConv normalises a block by its own degrees: it scales source u by d_out_block(u)^-1/2,
    where d_out_block(u) counts only u's edges to the batch's nodes, and destination v by
    d_in_block(v)^-1/2. With all of v's neighbours in the block, d_in_block(v) = d_in(v); the
    weights turn the source factor into d_out(u)^-1/2, so a GCN evaluates each node exactly as on
    the whole graph, whatever the batching. (Training keeps DGL's block normalisation.)"""
    for block in blocks:
        src, _ = block.edges()
        full = out_degrees[block.srcdata[dgl.NID].cpu()].to(src.device).clamp(min=1)
        ratio = block.out_degrees().clamp(min=1) / full
        block.edata[NORM_WEIGHT] = ratio[src].float().sqrt()
    return blocks


def _batches(loader):
    """``iter(loader)`` of a DGL node ``DataLoader``, without its advice to pin worker processes
    to cores: there are none, batches are sampled in this process."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Dataloader CPU affinity")
        return iter(loader)


def _runner(data, split, train, mutual, device):
    """How :func:`fit` feeds the cohort on ``device``: the whole graph, sampled mini-batches of
    its nodes, or mini-batches of graphs."""
    if data.task == "graph":
        return _GraphRunner(data, split, train, device)
    if train.fanouts:
        return _SampledNodeRunner(data, split, train, mutual.kl_rows, device)
    return _NodeRunner(data, split, device)


def _mean_stats(stats: list) -> dict:
    """The summaries of :func:`_step` for each batch of an epoch -> their means."""
    return {key: [sum(v) / len(stats) for v in zip(*(s[key] for s in stats))] for key in stats[0]}


class _GraphRunner:
    """A graph task: training batches are drawn on the CPU and moved to ``device`` one by one;
    the fixed evaluation batches are moved there once."""

    def __init__(self, data, split, train, device):
        from dgl.dataloading import GraphDataLoader

        pairs = list(zip(data.graphs, data.labels))
        self.loader = GraphDataLoader([pairs[i] for i in split.train.tolist()],
                                      batch_size=train.batch_size, shuffle=True, drop_last=False)
        # evaluation batches are fixed: batch them and move them once
        self.val, self.test = ([(g.to(device), y.to(device))
                                for g, y in eval_batches(data.graphs, data.labels, rows)]
                               for rows in (split.val, split.test))
        self.metric, self.device = _metric(data), device

    def train_epoch(self, cohort, optimisers, coordinator, mutual, gamma, mutual_on):
        cohort.train()
        if coordinator is not None:
            coordinator.train()
        stats = []
        for graph, labels in self.loader:
            graph, labels = graph.to(self.device), labels.to(self.device)
            if graph.batch_size == 1 and any(isinstance(m, nn.BatchNorm1d)
                                             for s in cohort.students for m in s.modules()):
                continue  # batch norm cannot train on a single graph
            feat = graph.ndata["feat"]
            stats.append(_step(cohort, optimisers,
                               lambda which: _all_logits(cohort, graph, feat, which),
                               labels, slice(None), coordinator, mutual, gamma, mutual_on))
        return _mean_stats(stats)

    @torch.no_grad()
    def evaluate(self, cohort):
        cohort.eval()
        per_batch = [cohort(g, g.ndata["feat"]) for g, _ in self.val + self.test]
        out = []
        for logits in zip(*per_batch):  # one student's logits per batch
            zv, zt = torch.cat(logits[:len(self.val)]), torch.cat(logits[len(self.val):])
            val_acc, val_loss = _evaluate_logits(zv, self.val_labels, self.metric)
            test_acc, _ = _evaluate_logits(zt, self.test_labels, self.metric)
            out.append(dict(val_acc=val_acc, val_loss=val_loss, test_acc=test_acc,
                            probs=(zv.softmax(-1), zt.softmax(-1))))
        return out

    @property
    def val_labels(self):
        return torch.cat([y for _, y in self.val])

    @property
    def test_labels(self):
        return torch.cat([y for _, y in self.test])

    def ensemble(self, probs):
        return _ensemble(probs, self.val_labels, self.test_labels, self.metric)


def eval_batches(graphs, labels, rows, batch_size: int = 256) -> list:
    """``(dgl.batch of graphs, labels)`` pairs over ``rows`` in order: how graphs are evaluated."""
    from dgl.dataloading import GraphDataLoader

    pairs = [(graphs[i], labels[i]) for i in rows.tolist()]
    return list(GraphDataLoader(pairs, batch_size=batch_size))


def _ensemble(probs, val_labels, test_labels, metric):
    """The students' (n, C) probabilities averaged, scored by ``metric`` (:func:`_metric`)."""
    val = torch.stack([p[0] for p in probs]).mean(0)
    test = torch.stack([p[1] for p in probs]).mean(0)
    return dict(val_acc=metric(val, val_labels), test_acc=metric(test, test_labels))


def _adam(params, **kwargs) -> torch.optim.Adam:
    """Adam, fused into one kernel where torch has it for the parameters' device (CPU: torch
    >= 2.4): the per-tensor steps of the default implementation cost a graph-level student
    about a fifth of its step time."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **kwargs)


def _node_graph(graph):
    """``graph`` as node-level students take it: every node's self-loop once, and no node data
    (features are an argument; moving them with the graph would copy them for nothing)."""
    out = dgl.add_self_loop(dgl.remove_self_loop(graph))
    out.ndata.clear()
    return out


def _device_of(students) -> torch.device:
    """Where the students are (they are kept on one device): their first parameter's device."""
    return next(students[0].parameters()).device


def as_input(feat: torch.Tensor, max_density: float = 0.25):
    """Node features as the students take them: :class:`~mutualgnn.students.SparseFeatures`
    when at most ``max_density`` of the entries are non-zero (bag-of-words inputs), else
    unchanged."""
    if torch.is_tensor(feat) and feat.numel() and (feat != 0).float().mean() <= max_density:
        return SparseFeatures.from_dense(feat)
    return feat


@torch.no_grad()
def predict(students, graph, feat=None) -> list:
    """Logits of every student (eval mode): a node task's graph gives (N, C) each, a batch of
    graphs (``dgl.batch``) gives (B, C) each. ``feat`` defaults to ``graph.ndata["feat"]``.
    Computed where the students are (after :func:`fit`: its device; loaded by
    :mod:`mutualgnn.saved`: the CPU), with ``graph`` and ``feat`` copied there; the logits are
    on that device."""
    device = _device_of(students)
    feat = graph.ndata["feat"] if feat is None else feat
    if students[0].task == "node":
        graph, feat = _node_graph(graph), as_input(feat)
    graph, feat = graph.to(device), feat.to(device)
    return [s.eval()(graph, feat) for s in students]


@torch.no_grad()
def predict_sampled(students, data, split, train: TrainConfig) -> list:
    """Eval-mode logits of the validation and test nodes of ``split`` as a ``train.fanouts`` run
    evaluates them (batches of nodes with all their neighbours): one pair (n_val, C), (n_test, C)
    per student, on the students' device. These equal :func:`predict`'s rows up to
    floating-point rounding (GCN through :func:`full_graph_norm`); this is the exact path."""
    runner = _SampledNodeRunner(data, split, train.resolved("node"), "train", _device_of(students))
    return runner._val_test_logits(Cohort(students, fuse=False).eval())
