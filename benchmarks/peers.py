"""Epoch time of mutualgnn against the same training recipes written in PyG (torch_geometric):
one student alone (K = 1) and K same-architecture students trained together with DML, on the
same data, interleaved, repeated; the table reports medians and ratios.

    python benchmarks/peers.py --cases cora:gcn,pubmed:gat,PROTEINS:gin --sizes 1,2,4 --epochs 20 --graph-epochs 5 --repeats 5 --doc docs/performance.md
    python benchmarks/peers.py --check --cases cora:gcn   # do the PyG recipes learn? (no timing)

An epoch: one training pass (node: one full-batch step; graph: all shuffled mini-batches of 32
graphs of fold 0) plus evaluation of every student on validation and test rows, its state copied
on each validation gain; the paragraph ``--doc`` writes (end of main) says more. PyG: a plain
loop, K models, one Adam, loss sum_j [CE_j + mean_{k != j} KL(sg[p_k] || p_j)], one backward.
torch_geometric is a benchmark-only extra: the package never imports it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import pandas as pd
import torch
import torch.nn.functional as F
import torch_geometric
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GATConv, GCNConv, GINConv, global_add_pool

from docsection import write_section
from mutualgnn import TrainConfig, build_student, fit, load_dataset, seed_everything
from mutualgnn.provenance import versions
from mutualgnn.students import student_hparams
from mutualgnn.training import set_threads

GRAPH_BATCH, EVAL_BATCH, LR_STEP = 32, 256, 50  # as fit's graph runner and TrainConfig.resolved
CHECK_EPOCHS = {"node": 200, "graph": 50}


class PygNodeNet(nn.Module):
    """PyG's examples/gcn.py and gat.py: dropout, conv1, activation, dropout, conv2."""

    def __init__(self, conv1, conv2, activation, dropout):
        super().__init__()
        self.conv1, self.conv2, self.activation, self.dropout = conv1, conv2, activation, dropout

    def forward(self, data):
        x = F.dropout(data.x, self.dropout, self.training)
        x = F.dropout(self.activation(self.conv1(x, data.edge_index)), self.dropout, self.training)
        return self.conv2(x, data.edge_index)


def pyg_gcn(in_feats, num_classes, hidden, dropout, **_):
    return PygNodeNet(
        GCNConv(in_feats, hidden, cached=True),
        GCNConv(hidden, num_classes, cached=True),
        F.relu,
        dropout,
    )


def pyg_gat(in_feats, num_classes, hidden, heads, out_heads, dropout, attn_dropout, **_):
    """heads x hidden, ELU, then ``out_heads`` averaged output heads."""
    return PygNodeNet(
        GATConv(in_feats, hidden, heads=heads, dropout=attn_dropout),
        GATConv(hidden * heads, num_classes, heads=out_heads, concat=False, dropout=attn_dropout),
        F.elu,
        dropout,
    )


class PygGIN(nn.Module):
    """Xu et al.'s GIN: ``layers - 1`` GINConv(Linear-BN-ReLU-Linear) blocks, each followed by
    BatchNorm and ReLU; a sum readout of every layer (input included), a Linear head per layer,
    dropout on each head's output, the heads summed."""

    def __init__(self, in_feats, num_classes, hidden, layers, dropout, **_):
        super().__init__()
        dims = [in_feats] + [hidden] * (layers - 1)
        self.convs = nn.ModuleList(
            GINConv(
                nn.Sequential(
                    nn.Linear(d, hidden),
                    nn.BatchNorm1d(hidden),
                    nn.ReLU(),
                    nn.Linear(hidden, hidden),
                ),
                train_eps=False,
            )
            for d in dims[:-1]
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in dims[:-1])
        self.heads = nn.ModuleList(nn.Linear(d, num_classes) for d in dims)
        self.dropout = nn.Dropout(dropout)

    def forward(self, batch):
        states, h = [batch.x], batch.x
        for conv, norm in zip(self.convs, self.norms):
            h = norm(conv(h, batch.edge_index)).relu()
            states.append(h)
        return sum(
            self.dropout(head(global_add_pool(s, batch.batch, batch.num_graphs)))
            for head, s in zip(self.heads, states)
        )


PYG_RECIPES = {("node", "gcn"): pyg_gcn, ("node", "gat"): pyg_gat, ("graph", "gin"): PygGIN}


class PygNodeInputs:
    """A mutualgnn NodeDataset as one torch_geometric Data (dense features, DGL's edges)."""

    def __init__(self, dataset):
        g = dataset.graph
        self.data = Data(
            x=g.ndata["feat"], edge_index=torch.stack(g.edges()).long(), y=g.ndata["label"]
        )
        self.split = dataset.split

    def train_batches(self):  # (input, labels, labelled rows): one full-batch step
        yield self.data, self.data.y, self.split.train

    def val_test(self, model):  # logits and labels of the validation rows, then the test rows
        z, y, s = model(self.data), self.data.y, self.split
        return z[s.val], y[s.val], z[s.test], y[s.test]


class PygGraphInputs:
    """A GraphDataset's fold as torch_geometric Data: PyG's DataLoader over the training graphs
    (batch 32, shuffled), fixed evaluation batches of 256 graphs (as fit's graph runner)."""

    def __init__(self, dataset, split):
        graphs = [
            Data(x=g.ndata["feat"], edge_index=torch.stack(g.edges()).long(), y=y.view(1))
            for g, y in zip(dataset.graphs, dataset.labels)
        ]
        self.loader = DataLoader(
            [graphs[i] for i in split.train.tolist()], batch_size=GRAPH_BATCH, shuffle=True
        )
        self.val, self.test = (
            [
                Batch.from_data_list([graphs[i] for i in rows[s : s + EVAL_BATCH]])
                for s in range(0, len(rows), EVAL_BATCH)
            ]
            for rows in (split.val.tolist(), split.test.tolist())
        )

    def train_batches(self):
        for batch in self.loader:
            if batch.num_graphs > 1:  # batch norm cannot train on one graph (fit skips it too)
                yield batch, batch.y, slice(None)

    def val_test(self, model):
        zv, zt = (torch.cat([model(b) for b in part]) for part in (self.val, self.test))
        return zv, torch.cat([b.y for b in self.val]), zt, torch.cat([b.y for b in self.test])


def dml_loss(logits, labels, labelled):
    """sum_j [CE(z_j) on the labelled rows + mean_{k != j} KL(sg[softmax z_k] || softmax z_j)
    over all rows, batchmean]; for one model its CE."""
    targets, total = [z.detach().softmax(-1) for z in logits], 0
    for j, z in enumerate(logits):
        total = total + F.cross_entropy(z[labelled], labels[labelled])
        if len(logits) > 1:
            log_p = z.log_softmax(-1)
            total = total + sum(
                F.kl_div(log_p, t, reduction="batchmean") for k, t in enumerate(targets) if k != j
            ) / (len(logits) - 1)
    return total


def fit_pyg(dataset, inputs, arch, k, epochs):
    """K PyG models of the recipe trained together (DML for K > 1) for ``epochs`` epochs;
    returns ms per epoch and the first model's test accuracy at its best validation epoch."""
    seed_everything(0)
    hp = student_hparams(arch, dataset.task, dataset.name)
    models = [
        PYG_RECIPES[dataset.task, arch](dataset.num_features, dataset.num_classes, **hp)
        for _ in range(k)
    ]
    optimiser = torch.optim.Adam(
        [p for m in models for p in m.parameters()],
        lr=hp["lr"],
        weight_decay=hp["weight_decay"],
        fused=True,
    )  # as fit's
    scheduler = (
        torch.optim.lr_scheduler.StepLR(optimiser, LR_STEP, 0.5)
        if dataset.task == "graph"
        else None
    )
    best = [dict(acc=-1.0, loss=float("inf"), test=0.0, state=None) for _ in models]
    start = time.perf_counter()
    for _ in range(epochs):
        for m in models:
            m.train()
        for batch, labels, labelled in inputs.train_batches():
            optimiser.zero_grad(set_to_none=True)
            dml_loss([m(batch) for m in models], labels, labelled).backward()
            optimiser.step()
        if scheduler:
            scheduler.step()
        for m, b in zip(models, best):
            m.eval()
            with torch.no_grad():
                zv, yv, zt, yt = inputs.val_test(m)
            acc, loss = (zv.argmax(1) == yv).float().mean().item(), F.cross_entropy(zv, yv).item()
            if acc > b["acc"] or (acc == b["acc"] and loss < b["loss"]):
                b.update(
                    acc=acc,
                    loss=loss,
                    test=(zt.argmax(1) == yt).float().mean().item(),
                    state={n: t.detach().clone() for n, t in m.state_dict().items()},
                )
    for m, b in zip(models, best):  # leave each at its best checkpoint, as fit does
        m.load_state_dict(b["state"])
    return 1000 * (time.perf_counter() - start) / epochs, best[0]["test"]


def measure(case, k, library, method, epochs):
    """One fit of K students by ``library`` (mutualgnn's: ``fit`` with ``method``); returns ms
    per epoch and student 0's test accuracy at its best validation epoch."""
    dataset, arch = case["dataset"], case["arch"]
    if library == "PyG":
        return fit_pyg(dataset, case["pyg"], arch, k, epochs)
    seed_everything(0)
    hp = student_hparams(arch, dataset.task, dataset.name)
    students = [
        build_student(arch, dataset.task, dataset.num_features, dataset.num_classes, **hp)
        for _ in range(k)
    ]
    result = fit(
        students,
        dataset,
        case["split"],
        method=method,
        train=TrainConfig(epochs=epochs, patience=epochs, progress=False, threads=1),
    )
    return 1000 * result.seconds / result.epochs_run, result.students[0].test_acc


#: (row, library, method) measured for K = 1, and for K > 1
VARIANTS = {
    True: [("PyG", "PyG", "independent"), ("mutualgnn", "mutualgnn", "independent")],
    False: [
        ("PyG dml", "PyG", "dml"),
        ("mutualgnn dml", "mutualgnn", "dml"),
        ("mutualgnn gml", "mutualgnn", "gml"),
    ],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cases",
        default="cora:gcn,pubmed:gat,PROTEINS:gin",
        help="dataset:arch pairs; node gcn and gat, graph gin have PyG recipes",
    )
    ap.add_argument("--sizes", default="1,2,4")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per fit, node tasks")
    ap.add_argument("--graph-epochs", type=int, default=5, help="epochs per fit, graph tasks")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--check",
        action="store_true",
        help="no timing: train each recipe alone "
        "(seed 0, 200 node / 50 graph epochs) and print both test accuracies",
    )
    ap.add_argument("--doc", default=None, help="write the table into this markdown file")
    args = ap.parse_args()
    set_threads(1)  # torch's and DGL's
    sizes = [int(k) for k in args.sizes.split(",")]
    cases = []
    for pair in args.cases.split(","):
        name, arch = pair.split(":")
        dataset = load_dataset(name)
        if (dataset.task, arch) not in PYG_RECIPES:
            ap.error(f"no PyG recipe for {dataset.task}-level '{arch}'")
        node = dataset.task == "node"
        split = dataset.split if node else dataset.splits(10, 0)[0]
        cases.append(
            dict(
                dataset=dataset,
                arch=arch,
                split=split,
                pyg=PygNodeInputs(dataset) if node else PygGraphInputs(dataset, split),
                epochs=args.epochs if node else args.graph_epochs,
            )
        )
    if args.check:
        for case in cases:
            epochs = CHECK_EPOCHS[case["dataset"].task]
            pyg, ours = (
                measure(case, 1, library, "independent", epochs)[1]
                for library in ("PyG", "mutualgnn")
            )
            print(
                f"{case['dataset'].name}:{case['arch']} alone, {epochs} epochs, seed 0, test "
                f"accuracy at best validation: PyG {pyg:.3f}, mutualgnn {ours:.3f}",
                flush=True,
            )
        return
    for case in cases:  # warm-up: lazy initialisation, caches
        for library in ("PyG", "mutualgnn"):
            measure(case, max(sizes), library, "dml" if max(sizes) > 1 else "independent", 1)
    times = {}
    for _ in range(args.repeats):  # interleaved, so load changes hit every variant alike
        for i, case in enumerate(cases):
            for k in sizes:
                for row, library, method in VARIANTS[k == 1]:
                    times.setdefault((i, k, row), []).append(
                        measure(case, k, library, method, case["epochs"])[0]
                    )
    median = {key: statistics.median(samples) for key, samples in times.items()}
    rows = []
    for (i, k, row), ms in median.items():
        library = row.split()[0]
        one, pyg = median.get((i, 1, library)), median[i, k, "PyG" if k == 1 else "PyG dml"]
        rows.append(
            {
                "dataset": cases[i]["dataset"].name,
                "arch": cases[i]["arch"],
                "K": k,
                "implementation": row,
                "ms/epoch (median)": round(ms, 1),
                "x one student": round(ms / one, 2) if one else "",
                "mutualgnn / PyG": "" if library == "PyG" else round(ms / pyg, 2),
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    if args.doc:
        stamp = {**versions(), "torch_geometric": torch_geometric.__version__}
        write_section(
            args.doc,
            "Against PyG: the same recipes",
            f"""
Command: `python benchmarks/peers.py --cases {args.cases} --sizes {args.sizes} --epochs {args.epochs} --graph-epochs {args.graph_epochs} --repeats {args.repeats} --doc {args.doc}`

Machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared; one torch thread.
Versions: {", ".join(f"{k} {v}" for k, v in stamp.items())}.

Each cell: median over {args.repeats} repeats of a fit of {args.epochs} epochs (node tasks) or
{args.graph_epochs} (graph tasks), every variant measured once per repeat in turn. An epoch is one
training pass (node: one full-batch step; graph: all shuffled mini-batches of 32 graphs of fold 0)
plus the evaluation of every student on the validation and test rows, its state copied on each
validation gain. Both libraries train the same students (`student_hparams`' settings) on the same
data (PyG `Data` built from mutualgnn's datasets); K > 1: DML (lam 1, T 1, KL over all rows). PyG
(`PyG`, `PyG dml`): a plain loop over K models, one fused Adam over all their parameters, one summed
loss and one backward, dense features. mutualgnn: `fit` as it is (cohorts fused into one model
where `fit` fuses them, bag-of-words features sparse, its per-epoch bookkeeping); `mutualgnn
gml` adds the ALW coordinator and the entropy term. "x one student": against the same library's K = 1;
"mutualgnn / PyG": against PyG's cohort of the same K (DML; the GML row against it too).

{table}
""",
            title="# Performance",
        )


if __name__ == "__main__":
    os.environ.setdefault("MUTUALGNN_DOWNLOAD", "0")
    main()
