"""Mutual learning of a user's own modules (issue 20): two GCNs written from ``dgl.nn.GraphConv``
as a user would (not the built-in student), on Cora over seeds, trained alone and with GML
(a) through ``mutualgnn.fit`` and (b) through ``MutualLoss`` in a hand-written loop, beside the
built-in GCN pair through ``fit``. Each run selects each student's epoch on validation accuracy
(patience 100, at most 500 epochs) and reports its test accuracy there.

    python benchmarks/reuse_check.py --seeds 0-9 --threads 1 --out benchmarks/results/reuse-check.jsonl --doc docs/reuse.md

The user's GCN: GraphConv(F, 64, ReLU), dropout 0.5 on the input and the hidden layer,
GraphConv(64, C); Adam lr 0.01, weight decay 5e-4 (Kipf & Welling's recipe, as the built-in
GCN). Results are appended to ``--out`` (JSON lines, one per run; existing runs are skipped),
and the page's section is generated from that file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

import mutualgnn
from docsection import write_section
from mutualgnn.bench import paired
from mutualgnn.config import parse_numbers
from mutualgnn.metrics import accuracy
from mutualgnn.mutual import MutualLoss
from mutualgnn.provenance import versions
from mutualgnn.training import set_threads

import dgl  # noqa: E402  (after mutualgnn.training: the compatibility step has run)
from dgl.nn import GraphConv  # noqa: E402

SECTION = "Measured: your own GCNs on Cora"
EPOCHS, PATIENCE = 500, 100


class UserGCN(nn.Module):
    """Two GraphConv layers, written as in DGL's examples."""

    def __init__(self, in_features, num_classes, hidden=64, dropout=0.5):
        super().__init__()
        self.conv1 = GraphConv(in_features, hidden, activation=torch.relu)
        self.conv2 = GraphConv(hidden, num_classes)
        self.dropout = nn.Dropout(dropout)
        self.hparams = {"lr": 0.01, "weight_decay": 5e-4}  # the optimiser settings fit reads

    def forward(self, graph, features):
        h = self.conv1(graph, self.dropout(features))
        return self.conv2(graph, self.dropout(h))


def through_fit(data, seed, method, builtin):
    mutualgnn.seed_everything(seed)
    if builtin:
        students = [
            mutualgnn.build_student("gcn", "node", data.num_features, data.num_classes)
            for _ in range(2)
        ]
    else:
        students = [UserGCN(data.num_features, data.num_classes) for _ in range(2)]
    result = mutualgnn.fit(
        students,
        data,
        data.split,
        method=method,
        train=mutualgnn.TrainConfig(epochs=EPOCHS, patience=PATIENCE, progress=False, threads=1),
    )
    return [(s.test_acc, s.best_epoch) for s in result.students]


def hand_loop(data, seed, method):
    """The same protocol written by hand around MutualLoss: full batch, Adam, each student
    at its best validation accuracy (ties: lower validation loss), early stop after PATIENCE."""
    mutualgnn.seed_everything(seed)
    graph = dgl.add_self_loop(dgl.remove_self_loop(data.graph))
    x, y, split = graph.ndata["feat"], graph.ndata["label"], data.split
    models = [UserGCN(data.num_features, data.num_classes) for _ in range(2)]
    criterion = MutualLoss(2, data.num_classes, method)
    optimisers = [torch.optim.Adam(m.parameters(), lr=0.01, weight_decay=5e-4) for m in models]
    optimisers += (
        [torch.optim.Adam(criterion.parameters(), lr=0.01)] if list(criterion.parameters()) else []
    )
    best = [(-1.0, float("inf"), 0, 0.0)] * 2  # val acc, val loss, epoch, test acc
    stale = 0
    for epoch in range(1, EPOCHS + 1):
        for m in models:
            m.train()
        for o in optimisers:
            o.zero_grad()
        out = criterion(
            [m(graph, x) for m in models], y, split.train, gamma=criterion.gamma_at(epoch)
        )
        out.loss.backward()
        for o in optimisers:
            o.step()
        improved = False
        with torch.no_grad():
            for k, m in enumerate(models):
                z = m.eval()(graph, x)
                val, loss = (
                    accuracy(z[split.val], y[split.val]),
                    float(nn.functional.cross_entropy(z[split.val], y[split.val])),
                )
                if val > best[k][0] or (val == best[k][0] and loss < best[k][1]):
                    best[k] = (val, loss, epoch, accuracy(z[split.test], y[split.test]))
                    improved = True
        stale = 0 if improved else stale + 1
        if stale >= PATIENCE:
            break
    return [(b[3], b[2]) for b in best]


WAYS = {
    "built-in GCN, fit": lambda d, s, m: through_fit(d, s, m, True),
    "your GCN, fit": lambda d, s, m: through_fit(d, s, m, False),
    "your GCN, own loop + MutualLoss": hand_loop,
}


def table(rows: pd.DataFrame) -> str:
    out = []
    for way, grp in rows.groupby("way", sort=False):
        alone = grp[grp["method"] == "independent"].set_index(["seed", "student"])["test_acc"]
        gml = grp[grp["method"] == "gml"].set_index(["seed", "student"])["test_acc"]
        common = alone.index.intersection(gml.index)
        if len(common) < 2:
            continue
        test = paired(gml[common], alone[common])
        out.append(
            {
                "way": way,
                "runs (seed x student)": len(common),
                "alone (%)": f"{100 * alone[common].mean():.1f} ± {100 * alone[common].std():.1f}",
                "GML (%)": f"{100 * gml[common].mean():.1f} ± {100 * gml[common].std():.1f}",
                "GML − alone (pts)": round(100 * test.mean_diff, 2),
                "wins/ties/losses": test.record,
                "t-test p": float(f"{test.t_p:.2g}"),
            }
        )
    return pd.DataFrame(out).to_markdown(index=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="benchmarks/results/reuse-check.jsonl")
    ap.add_argument("--doc", default=None)
    args = ap.parse_args()
    set_threads(args.threads)
    data = mutualgnn.load_dataset("cora")
    out = Path(args.out)
    done = (
        {(r["way"], r["method"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
        if out.exists()
        else set()
    )
    for seed in parse_numbers(args.seeds):
        for way, run in WAYS.items():
            for method in ("independent", "gml"):
                if (way, method, seed) in done:
                    continue
                start = time.perf_counter()
                students = run(data, seed, method)
                row = dict(
                    way=way,
                    method=method,
                    seed=seed,
                    seconds=round(time.perf_counter() - start, 2),
                    students=[{"test_acc": a, "best_epoch": e} for a, e in students],
                    versions=versions(),
                )
                with out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(way, method, seed, [round(a, 3) for a, _ in students], flush=True)
    rows = pd.DataFrame(
        [
            dict(
                way=r["way"], method=r["method"], seed=r["seed"], student=k, test_acc=s["test_acc"]
            )
            for r in map(json.loads, out.read_text().splitlines())
            for k, s in enumerate(r["students"])
        ]
    )
    body = (
        f"Command: `python benchmarks/reuse_check.py --seeds {args.seeds} --threads "
        f"{args.threads} --out {args.out} --doc {args.doc}` (results: `{args.out}`). Cora, "
        "public split; two GCN students; each at its best validation epoch; GML − alone is "
        "paired by seed and student.\n\n" + table(rows)
    )
    print(body)
    if args.doc:
        write_section(args.doc, SECTION, body)


if __name__ == "__main__":
    main()
