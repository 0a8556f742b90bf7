"""The coordinator and the loss terms on a GPU against the CPU: the same numbers, and one step's time.

The coordinator and the loss terms (mutualgnn/mutual/) are plain torch, and
``import mutualgnn.mutual`` imports no DGL, so this check runs where DGL has no build for the machine's torch (the GPU machine lent
here has Python 3.12 and torch 2.11+cu130; no DGL wheel imports there). The students' DGL layers
and the training loop are NOT run by it. For every coordinator kind and K in {2, 3} it builds one
coordinator, copies it to the GPU, and compares on both devices the soft targets, the weights, the
cohort loss (:func:`mutualgnn.mutual.cohort_loss`: CE + lam * mutual - gamma * entropy +
the coordinator's own loss) and the gradients of the students' logits and of the coordinator.
Then it times one such step (forward and backward) at PubMed's and ogbn-arxiv's sizes.

    python benchmarks/device_coordinator.py --out docs/device-coordinator.md
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


sys.path.insert(0, str(ROOT))  # run from a checkout without installing: mutualgnn/ beside us
from mutualgnn.config import MutualConfig  # noqa: E402  (plain torch: neither imports DGL)
from mutualgnn.mutual import KINDS, Coordinator, cohort_loss  # noqa: E402

LAM, GAMMA, T = 1.0, 0.1, 1.0


def cohort_step(coordinator, z, labels, labelled):
    """One :func:`mutualgnn.mutual.cohort_loss` (KL over all rows) and the coordinator's output.
    ``z``: (K, N, C) student logits that require grad; ``labelled``: (n,) row indices."""
    settings = MutualConfig(lam=LAM, temperature=T, gamma=GAMMA, kl_rows="all")
    total, _, out = cohort_loss(list(z), labels, labelled, settings, GAMMA, coordinator)
    return total, out


def inputs(K, N, C, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = (3 * torch.randn(K, N, C, generator=g)).to(device).requires_grad_()
    labels = torch.randint(C, (N,), generator=g).to(device)
    labelled = torch.randperm(N, generator=g)[: max(1, N // 10)].to(device)
    return z, labels, labelled


def max_abs(a, b):
    return (a.detach().cpu() - b.detach().cpu()).abs().max().item()


def compare(kind, K, N=500, C=7):
    torch.manual_seed(0)
    cpu = Coordinator(K, C, kind)
    # one optimiser step first, so the learned kinds are away from their identity start
    z, labels, labelled = inputs(K, N, C, "cpu", seed=1)
    params = list(cpu.parameters())
    if params:
        opt = torch.optim.Adam(params, lr=0.1)
        cohort_step(cpu, z, labels, labelled)[0].backward()
        opt.step()
        opt.zero_grad()
    gpu = copy.deepcopy(cpu).cuda()
    results = {}
    for name, coord, device in (("cpu", cpu, "cpu"), ("cuda", gpu, "cuda")):
        z, labels, labelled = inputs(K, N, C, device)
        loss, out = cohort_step(coord, z, labels, labelled)
        loss.backward()
        results[name] = dict(
            loss=loss,
            targets=out.targets,
            weights=out.weights,
            z_grad=z.grad,
            params=[p.grad for p in coord.parameters()],
        )
    a, b = results["cpu"], results["cuda"]
    diffs = {key: max_abs(a[key], b[key]) for key in ("loss", "targets", "weights", "z_grad")}
    diffs["coordinator_grad"] = max(
        (max_abs(x, y) for x, y in zip(a["params"], b["params"])), default=0.0
    )
    return dict(kind=kind, K=K, value=a["loss"].item(), **diffs)


def step_seconds(K, N, C, device, repeats, warmup=3):
    torch.manual_seed(0)
    coord = Coordinator(K, C, "alw").to(device)
    z, labels, labelled = inputs(K, N, C, device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + repeats):
        z.grad = None
        coord.zero_grad()
        sync()
        start = time.perf_counter()
        cohort_step(coord, z, labels, labelled)[0].backward()
        sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the markdown report here (else stdout)")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    has_gpu = torch.cuda.is_available()
    lines = [
        f"torch {torch.__version__}, CUDA {'yes: ' + torch.cuda.get_device_name() if has_gpu else 'no'}, "
        f"{torch.get_num_threads()} CPU threads; lam {LAM}, gamma {GAMMA}, T {T}",
        "",
    ]
    if has_gpu:
        lines += [
            "### CPU against GPU: the largest absolute difference (N = 500 rows, C = 7, 50 labelled)",
            "",
            "| kind | K | cohort loss (CPU) | its difference | targets | weights | students' logit grad | coordinator grad |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for kind in KINDS:
            for K in (2, 3):
                r = compare(kind, K)
                lines.append(
                    f"| {kind} | {K} | {r['value']:.4f} | "
                    + " | ".join(
                        f"{r[k]:.1e}"
                        for k in ("loss", "targets", "weights", "z_grad", "coordinator_grad")
                    )
                    + " |"
                )
        lines.append("")
    sizes = [(2, 19717, 3, "PubMed"), (2, 169343, 40, "ogbn-arxiv"), (4, 169343, 40, "ogbn-arxiv")]
    lines += [
        f"### One step (ALW coordinator, cohort loss, backward), median of {args.repeats}, ms",
        "",
        "| size | K | N | C | CPU | GPU | CPU / GPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for K, N, C, name in sizes:
        cpu = step_seconds(K, N, C, "cpu", args.repeats) * 1e3
        gpu = step_seconds(K, N, C, "cuda", args.repeats) * 1e3 if has_gpu else float("nan")
        lines.append(f"| {name} | {K} | {N} | {C} | {cpu:.1f} | {gpu:.2f} | {cpu / gpu:.0f} |")
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
