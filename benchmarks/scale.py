"""Scale test: a cohort trained with neighbour sampling on a synthetic graph too large for
full-batch training, in one process and spread over ranks (torch.distributed, gloo).

    python benchmarks/scale.py                      # 2M nodes, 20M edges, 100 features, 1 and 2 ranks
    python benchmarks/scale.py --nodes 20000 --edges 200000 --train-nodes 4096   # a quick look

The graph is ``dgl.rand_graph`` (uniform random edges) with standard-normal features; a node's
label is the arg-max of a fixed random linear map of its own features, so accuracy above chance
(1 / classes) shows the students learn, nothing more. One epoch over ``--train-nodes`` seed
nodes (``mutual.kl_rows = train``: the seeds are the training nodes) in mini-batches of
``--batch-size`` with ``--fanouts``; validation and test are ``--eval-nodes`` nodes each,
evaluated with all their neighbours. Every rank builds the same graph from the seed.

Reported per configuration: wall time of the epoch (training + one evaluation), training seed
nodes per second over that time, the peak resident memory of each process, and its resident
memory once the graph was built. Writes ``docs/scaling.md``'s measured section (``--doc``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from docsection import write_section  # noqa: E402
from mutualgnn import MutualConfig, TrainConfig, fit, seed_everything  # noqa: E402
from mutualgnn.bench import memory_mb  # noqa: E402
from mutualgnn.data import NodeDataset, Split  # noqa: E402  (runs DGL's compatibility step)
from mutualgnn.provenance import versions  # noqa: E402
from mutualgnn.launch import launch  # noqa: E402
from mutualgnn.students import build_student, student_generator, use_generator  # noqa: E402

import dgl  # noqa: E402  (after mutualgnn.data: the compatibility step has run)


def synthetic(nodes, edges, features, classes, train_nodes, eval_nodes, seed=0) -> NodeDataset:
    """The random graph and its split, the same for every call with the same arguments."""
    gen = torch.Generator().manual_seed(seed)
    dgl.seed(seed)
    graph = dgl.rand_graph(nodes, edges)
    feat = torch.randn(nodes, features, generator=gen)
    graph.ndata["feat"] = feat
    graph.ndata["label"] = (feat @ torch.randn(features, classes, generator=gen)).argmax(1)
    order = torch.randperm(nodes, generator=gen)
    split = Split(
        train=order[:train_nodes],
        val=order[train_nodes : train_nodes + eval_nodes],
        test=order[train_nodes + eval_nodes : train_nodes + 2 * eval_nodes],
    )
    return NodeDataset.from_graph(graph, split, name="synthetic")


def train_once(args, exchange=None) -> dict:
    """One epoch of the cohort (all of it, or this rank's share); returns the measurements."""
    torch.set_num_threads(1 if exchange is not None else args.threads)
    start = time.perf_counter()
    data = synthetic(
        args.nodes, args.edges, args.features, args.classes, args.train_nodes, args.eval_nodes
    )
    built_s, built_mb = time.perf_counter() - start, memory_mb("VmRSS")
    seed_everything(0)
    students = [
        build_student(arch, "node", data.num_features, data.num_classes)
        for arch in args.students.split(",")
    ]
    for k, student in enumerate(students):  # as distributed runs do, in both configurations
        use_generator(student, student_generator(0, k))
    train = TrainConfig(
        epochs=1, fanouts=args.fanouts, batch_size=args.batch_size, progress=False, student_rng=True
    )
    mutual = MutualConfig(kl_rows="train")  # gml: alw coordinator + entropy term
    result = fit(
        students, data, data.split, train=train, method="gml", mutual=mutual, exchange=exchange
    )
    row = dict(
        build_s=built_s,
        epoch_s=result.seconds,
        seeds_per_s=args.train_nodes / result.seconds,
        rss_after_build_mb=built_mb,
        peak_mb=memory_mb(),
        test_acc=[round(s.test_acc, 4) for s in result.students],
    )
    if exchange is None:
        return dict(row, ranks=1)
    rows = exchange.gather_objects(row)
    return dict(
        ranks=exchange.world_size,
        build_s=max(r["build_s"] for r in rows),
        epoch_s=max(r["epoch_s"] for r in rows),
        seeds_per_s=args.train_nodes / max(r["epoch_s"] for r in rows),
        rss_after_build_mb=max(r["rss_after_build_mb"] for r in rows),
        peak_mb=max(r["peak_mb"] for r in rows),
        peak_mb_all_ranks=sum(r["peak_mb"] for r in rows),
        test_acc=rows[0]["test_acc"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2_000_000)
    parser.add_argument("--edges", type=int, default=20_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--students", default="gcn,sage")
    parser.add_argument("--fanouts", default="10,10")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument(
        "--train-nodes",
        type=int,
        default=300 * 1024,
        help="training seed nodes: the epoch's mini-batches are this / batch size",
    )
    parser.add_argument("--eval-nodes", type=int, default=4096)
    parser.add_argument("--ranks", default="1,2", help="configurations to run, e.g. 1,2")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of the one-process run"
    )
    parser.add_argument("--doc", default=None, help="write the table into this markdown file")
    args = parser.parse_args(argv)
    args.fanouts = [int(f) for f in args.fanouts.split(",")]
    rows = []
    for ranks in [int(r) for r in args.ranks.split(",")]:
        # every configuration in a fresh process, so peak memory is its own
        row = launch(ranks, _rank_main, args)
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    cmd = "python benchmarks/scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = _markdown(table, args, cmd)
    print(text)
    if args.doc:
        write_section(args.doc, "Measured here", text, title="# Scaling")


def _rank_main(exchange, args):
    return train_once(args, exchange if exchange.world_size > 1 else None)


def _markdown(table, args, cmd) -> str:
    v = versions()
    first = ["ranks", "epoch_s", "seeds_per_s", "peak_mb", "peak_mb_all_ranks"]
    table = table[[c for c in first if c in table] + [c for c in table if c not in first]]
    shown = table.rename(
        columns={
            "build_s": "graph build s",
            "epoch_s": "epoch s",
            "seeds_per_s": "seed nodes / s",
            "rss_after_build_mb": "RSS after build MB (per rank)",
            "peak_mb": "peak MB (per rank)",
            "peak_mb_all_ranks": "peak MB (all ranks)",
        }
    )
    return "\n".join(
        [
            f"Command: `{cmd.strip()}`",
            "",
            f"Graph: {args.nodes:,} nodes, {args.edges:,} random edges, {args.features} features, "
            f"{args.classes} classes; students {args.students}; fanouts {args.fanouts}, batch "
            f"{args.batch_size}; one epoch of {args.train_nodes:,} training seeds "
            f"({-(-args.train_nodes // args.batch_size)} mini-batches), {args.eval_nodes:,} "
            "validation and test nodes each.",
            "",
            f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), one torch thread per "
            f"process. Versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)) + ".",
            "",
            shown.to_markdown(index=False, floatfmt=".1f"),
            "",
        ]
    )


if __name__ == "__main__":
    main()
