"""The trap of one's own loop (issue 32): GML students degrade after their best epoch, so a loop
that keeps the last epoch's weights loses what mutual learning gained. Two MLPs on Cora (public
split; the built-in ``mlp`` student: hidden 64, dropout 0.5; Adam lr 0.01, weight decay 5e-4,
the coordinator's parameters at lr 0.01 without decay) in a hand-written loop around
``MutualLoss`` as docs/reuse.md writes it, 200 epochs, trained with GML and alone
(``independent``); each student's test accuracy at the last epoch against the one at its best
validation epoch (ties: the earlier).

    python benchmarks/reuse_trap.py --seeds 0 --threads 1 --doc docs/reuse.md

Writes the section "Measured: the last epoch is not the best" of ``--doc``.
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

import mutualgnn
from docsection import write_section
from mutualgnn.config import parse_numbers
from mutualgnn.metrics import accuracy
from mutualgnn.mutual import MutualLoss
from mutualgnn.training import set_threads

SECTION = "Measured: the last epoch is not the best"
EPOCHS = 200


def run(data, seed: int, method: str) -> list:
    """Per student: (test accuracy at the last epoch, at the best validation epoch, that epoch)."""
    mutualgnn.seed_everything(seed)
    graph = data.graph
    x, y, split = graph.ndata["feat"], graph.ndata["label"], data.split
    models = [
        mutualgnn.build_student("mlp", "node", data.num_features, data.num_classes)
        for _ in range(2)
    ]
    criterion = MutualLoss(num_students=2, num_classes=data.num_classes, method=method)
    optimiser = torch.optim.Adam(
        [{"params": m.parameters(), "weight_decay": 5e-4} for m in models]
        + [{"params": criterion.parameters()}],
        lr=0.01,
    )
    best = [(-1.0, 0, 0.0)] * 2  # validation accuracy, epoch, test accuracy there
    for epoch in range(1, EPOCHS + 1):
        for m in models:
            m.train()
        optimiser.zero_grad()
        out = criterion(
            [m(graph, x) for m in models], y, split.train, gamma=criterion.gamma_at(epoch)
        )
        out.loss.backward()
        optimiser.step()
        with torch.no_grad():
            last = []
            for k, m in enumerate(models):
                z = m.eval()(graph, x)
                val, test = (
                    accuracy(z[split.val], y[split.val]),
                    accuracy(z[split.test], y[split.test]),
                )
                if val > best[k][0]:
                    best[k] = (val, epoch, test)
                last.append(test)
    return [(last[k], best[k][2], best[k][1]) for k in range(2)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--doc", default=None)
    args = ap.parse_args()
    set_threads(args.threads)
    data = mutualgnn.load_dataset("cora")
    rows = []
    for seed in parse_numbers(args.seeds):
        for method, name in (("gml", "GML"), ("independent", "alone")):
            for k, (last, best, epoch) in enumerate(run(data, seed, method)):
                rows.append(
                    {
                        "seed": seed,
                        "training": name,
                        "student": f"MLP {k + 1}",
                        f"test acc., epoch {EPOCHS} (%)": round(100 * last, 1),
                        "test acc., best val. epoch (%)": round(100 * best, 1),
                        "best val. epoch": epoch,
                    }
                )
    body = (
        f"Command: `python benchmarks/reuse_trap.py --seeds {args.seeds} --threads "
        f"{args.threads} --doc {args.doc}`. Cora, public split; two MLPs in the loop of the "
        f"example above, {EPOCHS} epochs, with GML and alone (`independent`); each "
        "student's test accuracy at the last epoch and at its best validation epoch.\n\n"
        + pd.DataFrame(rows).to_markdown(index=False)
    )
    print(body)
    if args.doc:
        write_section(args.doc, SECTION, body)


if __name__ == "__main__":
    main()
