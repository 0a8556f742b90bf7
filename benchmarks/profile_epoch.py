"""Where an epoch's time goes: the wall time of `fit` split into collation, forward, loss,
backward, optimiser, evaluation and the rest (Python), beside the FLOPs of the training forward
and backward passes and the machine's single-thread matmul rate.

    python benchmarks/profile_epoch.py --cases cora:gcn:1,cora:gcn:4,PROTEINS:gin:1,PROTEINS:gin:2 --repeats 3 --doc docs/performance.md

A case is dataset:arch:K (K > 1: method gml, K = 1: independent); each repeat runs a plain and
an instrumented fit of --epochs epochs (default 10 node, 3 graph), tables give medians. The
instrumentation (global torch hooks, wrapped torch, DGL and runner methods; only the outermost
region counts) exists only during `fit`. How each number is measured: the --doc text in main().
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import platform
import statistics
import time
from collections import Counter
from contextlib import contextmanager

import pandas as pd
import torch
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)
from torch.utils.flop_counter import FlopCounterMode

from docsection import write_section
from mutualgnn import (
    MutualLoss,
    TrainConfig,
    build_student,
    fit,
    load_dataset,
    seed_everything,
    student_hparams,
)
from mutualgnn.provenance import versions

import dgl  # noqa: E402  (after mutualgnn's imports: the compatibility step has run)

PHASES = ("collation", "forward", "loss", "backward", "optimiser", "evaluation")
RUNNERS = ("NodeRunner", "SampledNodeRunner", "GraphRunner")  # mutualgnn.training.runners


class Tracker:
    """Times regions; only the outermost open region counts, under its phase. With ``flops`` (a
    FlopCounterMode) it also adds to each phase the FLOPs counted while it was open."""

    def __init__(self, flops: FlopCounterMode | None = None):
        self.depth, self.phase, self.t0, self.f0 = 0, None, 0.0, 0
        self.spans = []  # (phase, start, end)
        self.flops, self.torch_flops, self.dgl_flops = flops, Counter(), Counter()

    def enter(self, phase):
        self.depth += 1
        if self.depth == 1:
            self.phase = phase
            self.f0 = self.flops.get_total_flops() if self.flops is not None else 0
            self.t0 = time.perf_counter()

    def exit(self):
        self.depth -= 1
        if self.depth == 0:
            self.spans.append((self.phase, self.t0, time.perf_counter()))
            if self.flops is not None:
                self.torch_flops[self.phase] += self.flops.get_total_flops() - self.f0
            self.phase = None

    @contextmanager
    def region(self, phase):
        self.enter(phase)
        try:
            yield
        finally:
            self.exit()


def timed_batches(iterator, tracker):
    """A loader's iterator whose every ``next`` is collation."""
    while True:
        with tracker.region("collation"):
            batch = next(iterator, StopIteration)
        if batch is StopIteration:
            return
        yield batch


def dgl_kernel_flops(name, args, out) -> int:
    """FLOPs of one call of DGL's sparse kernels (forward or backward): a sum/max over E edges
    of d columns is E*d, with a binary message (u_mul_e, ...) 2*E*d; an edge op E*d (dot:
    2*E*d); a segment sum over n rows of d columns n*d."""
    if name == "_segment_reduce":
        return args[1].numel()
    gidx, op = args[0], args[1]
    edges = gidx.num_edges(0)
    if name == "_gspmm":
        d = out[0][0].numel() if len(out[0]) else 0
        return edges * d * (1 if op.startswith("copy") else 2)
    rows = [t for t in args[2:4] if torch.is_tensor(t) and len(t)]  # _gsddmm
    d = max((t[0].numel() for t in rows), default=0)
    return 0 if op.startswith("copy") else edges * d * (2 if op == "dot" else 1)


@contextmanager
def instrumented(tracker: Tracker, count_dgl: bool = False):
    """Install the phase timing (and with ``count_dgl`` the DGL kernel FLOP count) for the
    duration of the block; returns which way evaluation is measured."""
    undo = []

    def patch(owner, name, make):
        original, own = getattr(owner, name), name in vars(owner)
        setattr(owner, name, functools.wraps(original)(make(original)))
        undo.append(lambda: setattr(owner, name, original) if own else delattr(owner, name))

    def timed(phase):
        return lambda original: lambda *a, **k: _in_region(tracker, phase, original, a, k)

    def pre(module, args):  # the phase matters only for an outermost call
        tracker.enter(
            "loss"
            if isinstance(module, MutualLoss)
            else "forward"
            if module.training
            else "evaluation"
        )

    handles = [
        torch.nn.modules.module.register_module_forward_pre_hook(pre),
        torch.nn.modules.module.register_module_forward_hook(
            lambda *_: tracker.exit(), always_call=True
        ),
        register_optimizer_step_pre_hook(lambda *_: tracker.enter("optimiser")),
        register_optimizer_step_post_hook(lambda *_: tracker.exit()),
    ]
    patch(torch.Tensor, "backward", timed("backward"))
    patch(torch.autograd, "backward", timed("backward"))
    for loader in (dgl.dataloading.GraphDataLoader, dgl.dataloading.DataLoader):
        patch(
            loader,
            "__iter__",
            lambda original: (
                lambda self: timed_batches(
                    _in_region(tracker, "collation", original, (self,), {}), tracker
                )
            ),
        )
    patch(dgl.DGLGraph, "to", timed("collation"))  # moving a batch to the device
    evaluation = "the outermost `nn.Module` calls made in eval mode (no runner's `evaluate` found)"
    try:
        runners = importlib.import_module("mutualgnn.training.runners")
    except ImportError:
        runners = None
    for name in RUNNERS:  # public classes; absent ones are skipped
        cls = getattr(runners, name, None)
        if isinstance(cls, type) and "evaluate" in vars(cls):
            patch(cls, "evaluate", timed("evaluation"))
            evaluation = (
                f"each call of `evaluate` of mutualgnn.training.runners' "
                f"{', '.join(RUNNERS)} (the eval-mode forward calls in it included)"
            )
    if count_dgl:
        kernels = dgl.backend.pytorch.sparse
        for name in ("_gspmm", "_gsddmm", "_segment_reduce"):

            def make(original, name=name):
                def counted(*args, **kwargs):
                    out = original(*args, **kwargs)
                    tracker.dgl_flops[tracker.phase] += dgl_kernel_flops(name, args, out)
                    return out

                return counted

            patch(kernels, name, make)
    try:
        yield evaluation
    finally:
        for handle in handles:
            handle.remove()
        for step in reversed(undo):
            step()


def _in_region(tracker, phase, function, args, kwargs):
    with tracker.region(phase):
        return function(*args, **kwargs)


def run_fit(dataset, arch, k, epochs):
    seed_everything(0)
    hp = student_hparams(arch, dataset.task, dataset.name, None)
    students = [
        build_student(arch, dataset.task, dataset.num_features, dataset.num_classes, **hp)
        for _ in range(k)
    ]
    split = dataset.split if dataset.task == "node" else dataset.splits(10, 0)[0]
    return fit(
        students,
        dataset,
        split,
        method="gml" if k > 1 else "independent",
        train=TrainConfig(epochs=epochs, patience=epochs, progress=False, threads=1),
    )


def profile(dataset, arch, k, epochs, flops=None):
    """One instrumented fit -> (per-epoch ms of each phase, epoch ms, steps per epoch, tracker,
    how evaluation was measured)."""
    tracker = Tracker(flops)
    with instrumented(tracker, count_dgl=flops is not None) as evaluation:
        result = run_fit(dataset, arch, k, epochs)
        end = time.perf_counter()
    if tracker.depth:
        raise RuntimeError(f"unbalanced instrumentation: {tracker.depth} regions left open")
    start = end - result.seconds  # fit's own clock: set-up before its epoch loop is left out
    per_epoch, n = {p: 0.0 for p in PHASES}, result.epochs_run
    for phase, t0, t1 in tracker.spans:
        if t0 >= start:
            per_epoch[phase] += 1000 * (t1 - t0) / n
    steps = sum(p == "backward" and t0 >= start for p, t0, _ in tracker.spans) / n
    return per_epoch, 1000 * result.seconds / n, steps, tracker, evaluation


def mm_flops(*args, out_val=None, **kwargs) -> int:
    """mm(a, b) or addmm(bias, a, b): 2*m*k*n, with a sparse operand 2*nnz*(the other side)."""
    a, b = args[-2:]
    nnz = lambda t: t._nnz() if t.layout == torch.sparse_coo else t.values().numel()  # noqa: E731
    if a.layout != torch.strided:
        return 2 * nnz(a) * b.shape[1]
    if b.layout != torch.strided:
        return 2 * nnz(b) * a.shape[0]
    return 2 * a.shape[0] * a.shape[1] * b.shape[1]


mm_flops._get_raw = True  # FlopCounterMode passes it the tensors, not their shapes


def count_flops(dataset, arch, k):
    """FLOPs of one training epoch: (forward incl. loss, backward, DGL's share of the two)."""
    aten = torch.ops.aten
    with FlopCounterMode(
        display=False, custom_mapping={aten.mm: mm_flops, aten.addmm: mm_flops}
    ) as counter:
        _, _, _, tracker, _ = profile(dataset, arch, k, 1, flops=counter)
    seen, dgl_ = tracker.torch_flops, tracker.dgl_flops
    forward = sum(seen.get(p, 0) + dgl_.get(p, 0) for p in ("forward", "loss"))
    backward = seen.get("backward", 0) + dgl_.get("backward", 0)
    return forward, backward, sum(dgl_.get(p, 0) for p in ("forward", "loss", "backward"))


def median_seconds(fn, repeats):
    stamps = [time.perf_counter()]
    for _ in range(repeats + 1):  # the first call is a warm-up
        fn()
        stamps.append(time.perf_counter())
    return statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))


def machine_rates(repeats=5) -> dict:
    """Single-thread reference rates: a large float32 matmul (the compute limit), a GNN-shaped
    one (4096 x 64 by 64 x 64) and a memory-bound add of 2^24 floats (GFLOP/s and GB/s)."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    big = 2 * 2048**3 / median_seconds(lambda: torch.mm(a, b), repeats) / 1e9
    x, w = torch.randn(4096, 64), torch.randn(64, 64)
    small = 2 * 4096 * 64 * 64 / median_seconds(lambda: torch.mm(x, w), 50) / 1e9
    u, v, out = torch.randn(1 << 24), torch.randn(1 << 24), torch.empty(1 << 24)
    add_s = median_seconds(lambda: torch.add(u, v, out=out), repeats)
    return {
        "mm 2048": big,
        "mm 4096x64x64": small,
        "add GFLOP/s": (1 << 24) / add_s / 1e9,
        "add GB/s": 12 * (1 << 24) / add_s / 1e9,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cases",
        default="cora:gcn:1,cora:gcn:4,PROTEINS:gin:1,PROTEINS:gin:2",
        help="dataset:arch:K triples (K > 1: gml, K = 1: independent)",
    )
    ap.add_argument("--epochs", type=int, default=None, help="per fit (default 10 node, 3 graph)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--doc", default=None, help="write the tables into this markdown file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rates = machine_rates()
    peak = rates["mm 2048"]
    times, work, evaluation = [], [], None
    for case in args.cases.split(","):
        name, arch, k = case.split(":")
        k, dataset = int(k), load_dataset(name)
        epochs = args.epochs or (10 if dataset.task == "node" else 3)
        forward_flop, backward_flop, dgl_flop = count_flops(dataset, arch, k)
        run_fit(dataset, arch, k, 2)  # warm-up: caches, lazy initialisation
        plain, samples = [], []
        for _ in range(args.repeats):  # interleaved, so load changes hit both alike
            result = run_fit(dataset, arch, k, epochs)
            plain.append(1000 * result.seconds / result.epochs_run)
            phases, wall, steps, _, evaluation = profile(dataset, arch, k, epochs)
            samples.append(dict(phases, wall=wall, rest=wall - sum(phases.values())))
        ms = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
        row = {
            "dataset": dataset.name,
            "arch": arch,
            "K": k,
            "epochs": epochs,
            "ms/epoch plain": round(statistics.median(plain), 1),
            "ms/epoch instrumented": round(ms["wall"], 1),
        }
        for phase in PHASES + ("rest",):
            label = "Python and rest" if phase == "rest" else phase
            row[label] = f"{ms[phase]:.1f} ({100 * ms[phase] / ms['wall']:.0f}%)"
        times.append(row)
        train_ms = ms["forward"] + ms["loss"] + ms["backward"]
        rate = (forward_flop + backward_flop) / (train_ms / 1000) / 1e9
        work.append(
            {
                "dataset": dataset.name,
                "arch": arch,
                "K": k,
                "steps/epoch": steps,
                "ms/step": round((ms["wall"] - ms["evaluation"]) / steps, 2),
                "fwd GFLOP": round(forward_flop / 1e9, 4),
                "bwd GFLOP": round(backward_flop / 1e9, 4),
                "DGL share": f"{100 * dgl_flop / max(forward_flop + backward_flop, 1):.0f}%",
                "fwd+loss+bwd ms": round(train_ms, 1),
                "GFLOP/s": round(rate, 2),
                "% of mm peak": round(100 * rate / peak, 2),
            }
        )
        print(row, work[-1], sep="\n", flush=True)
    machine = (
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"shared; one torch thread. Single-thread rates: float32 mm 2048x2048 "
        f"{rates['mm 2048']:.1f} GFLOP/s, mm 4096x64 by 64x64 {rates['mm 4096x64x64']:.1f} "
        f"GFLOP/s, add of 2^24 floats {rates['add GFLOP/s']:.2f} GFLOP/s "
        f"({rates['add GB/s']:.1f} GB/s)"
    )
    time_table = pd.DataFrame(times).to_markdown(index=False)
    work_table = pd.DataFrame(work).to_markdown(index=False)
    print(machine, time_table, work_table, sep="\n\n")
    if args.doc:
        epochs = f" --epochs {args.epochs}" if args.epochs else ""
        write_section(
            args.doc,
            "Where an epoch's time goes",
            f"""
Command: `python benchmarks/profile_epoch.py --cases {args.cases} --repeats {args.repeats}{epochs} --doc {args.doc}`

Machine: {machine}.
Versions: {", ".join(f"{k} {v}" for k, v in versions().items())}.

Per case, {args.repeats} repeats of a plain and an instrumented fit (K = 1: independent, K > 1:
gml; an epoch: a training pass over all batches, then every student evaluated); medians, ms per
epoch by `fit`'s own clock and % of the instrumented epoch ("instrumented" minus "plain": the
hooks' cost). Each phase, timed with `time.perf_counter`, counts only outside the others (a
forward inside evaluation is evaluation):

* collation: creating a DGL `GraphDataLoader` (or `DataLoader`) iterator, each `next` of it,
  and `DGLGraph.to` (moving the batch); 0 for full-batch node tasks;
* forward: the outermost `nn.Module` call made in training mode (global forward hooks);
* loss: the outermost call of a `MutualLoss`;
* backward: `Tensor.backward` / `torch.autograd.backward`;
* optimiser: `Optimizer.step` (global step hooks; `zero_grad` is in the rest);
* evaluation: {evaluation};
* Python and rest: the epoch minus the phases: Python of the loop and step, statistics, checkpoints.

{time_table}

FLOPs executed in one training epoch (one more fit): torch's `FlopCounterMode` (matmuls: mm,
addmm, bmm, ...; a sparse operand counts 2 x non-zeros x columns; it sees the backward pass)
plus DGL's sparse kernels, which torch cannot see, counted per call by wrapping `_gspmm`,
`_gsddmm` and `_segment_reduce` of DGL's PyTorch backend (a sum over E edges of d columns: E*d,
with edge weights 2*E*d; the backward's aggregations counted as they run). Element-wise work
(bias, batch norm, ReLU, dropout, softmax, Adam) is not counted; zeros that a kernel multiplies
are (the fused GCN's block-diagonal second layer). fwd includes the loss; "DGL share": the
sparse kernels' part of fwd + bwd; GFLOP/s: (fwd + bwd) / (forward + loss + backward time); %
of the 2048x2048 mm rate above; ms/step: (epoch - evaluation) / steps, a step a backward pass.

{work_table}
""",
            title="# Performance",
        )


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
