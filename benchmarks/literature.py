"""Our single graph classifiers against the literature's numbers, under our protocol and theirs.

Trains a built-in student alone (method ``independent``) on the folds of a graph dataset's
stratified 10-fold cross-validation (split seed 0, as the suites) for every epoch (no early
stopping) and stores, per fold and student, the validation and test accuracy of every epoch
(as counts of correct graphs) and the validation loss in
``benchmarks/results/literature/runs.jsonl``:

    python benchmarks/literature.py run --dataset MUTAG --arch gcn --members 4 --name defaults
    python benchmarks/literature.py run --dataset MUTAG --arch gcn --members 4 \
        --name mean-aggregation --set hparams.gcn.norm=right

``--set`` takes the keys of ``mutualgnn run --set`` (the experiment's config); ``--members K``
trains K copies of the student side by side, each on its own (its own initialisation and
dropout; method ``independent``, fused into one wide model: about 1.6 times the cost of one
for K = 4), as K replicates; ``--split xu`` trains on the whole training fold (Xu et al. 2019
hold out no validation graphs) with the test fold standing in as the validation set;
``--features labels`` keeps only the one-hot node labels (Xu et al. discard the continuous
attributes); ``--run-folds 0-2`` runs some folds only.

    python benchmarks/literature.py table --doc docs/literature.md

writes the tables: per (dataset, student, setting) the test accuracy (mean ± std over folds
and members, percent) under

* *ours*: each fold at its best validation epoch (more correct graphs; ties: lower validation
  loss), training stopped after ``PATIENCE`` epochs without improvement (replayed on the
  stored curves: the runs themselves ran every epoch), as every suite of the package; and
  the same without early stopping;
* *Xu's*: the single epoch at which the test accuracy averaged over the folds is highest, per
  member (Xu et al. 2019, section 7: a selection on the test folds);
* *last epoch*: no selection;

with the literature's numbers and their sources (the package's, ``mutualgnn/reference.csv``), and
the validation / test accuracy averaged over blocks of 50 epochs (do the curves still rise?).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsection import write_section  # noqa: E402

from mutualgnn.config import ExperimentConfig, apply_overrides, parse_numbers  # noqa: E402
from mutualgnn.data import Split, load_dataset  # noqa: E402
from mutualgnn.experiment import run_once  # noqa: E402
from mutualgnn.bench.tables import reference  # noqa: E402
from mutualgnn.provenance import versions  # noqa: E402

STORE = Path(__file__).resolve().parent / "results" / "literature"
SECTION = "Single models against the literature"
SPLITS = ("ours", "xu")
FEATURES = ("as-loaded", "labels")
ORDER = ("MUTAG", "PROTEINS", "ENZYMES")  #: the tables' order of datasets
NO_STOP = 100_000  #: the runs' train.patience: every epoch is run, early stopping is replayed
PATIENCE = 100  #: the package's graph default (TrainConfig.resolved), replayed on the curves


def node_labels_only(dataset):
    """``dataset`` with only its one-hot node-label columns as features, (n_i, L): the trailing
    columns whose values are 0 or 1 and which sum to one on every node (the loader appends
    the one-hot labels after the continuous attributes)."""
    x = torch.cat([g.ndata["feat"] for g in dataset.graphs])
    start = x.shape[1]
    while start > 0 and bool(((x[:, start - 1] == 0) | (x[:, start - 1] == 1)).all()):
        start -= 1
    while start < x.shape[1] and not bool((x[:, start:].sum(1) == 1).all()):
        start += 1
    if start == x.shape[1]:
        raise SystemExit(f"{dataset.name} has no one-hot node-label columns")
    graphs = []
    for g in dataset.graphs:
        h = g.local_var()
        h.ndata["feat"] = g.ndata["feat"][:, start:].contiguous()
        graphs.append(h)
    return dataclasses.replace(dataset, graphs=graphs)


def xu_split(split: Split) -> Split:
    """Xu et al.'s fold: train on every graph outside the test fold; the test fold stands in as
    the validation set (their protocol selects on it)."""
    train = torch.sort(torch.cat([split.train, split.val])).values
    return Split(train, split.test, split.test, fold=split.fold)


def run(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "runs.jsonl"
    done = {(r["name"], r["dataset"], r["arch"], r["seed"], r["fold"]) for r in read(store)}
    # ``--members`` copies of the student trained side by side: method independent trains each
    # on its own (own initialisation and dropout, the same batches), fused into one wide model
    base = dict(
        dataset=args.dataset,
        students=[args.arch] * args.members,
        method="independent",
        folds=args.folds,
        split_seed=0,
        train=dict(threads=args.threads, progress=False, patience=NO_STOP),
    )
    config = ExperimentConfig.from_dict(apply_overrides(base, args.set))
    dataset = load_dataset(args.dataset)
    if args.features == "labels":
        dataset = node_labels_only(dataset)
    splits = dataset.splits(folds=config.folds, seed=config.split_seed)
    folds = parse_numbers(args.run_folds, "--run-folds") if args.run_folds else range(len(splits))
    for seed in parse_numbers(args.seeds):
        for fold in folds:
            if (args.name, dataset.name, args.arch, seed, fold) in done:
                continue
            split = splits[fold] if args.split == "ours" else xu_split(splits[fold])
            start = time.perf_counter()
            result = run_once(config, dataset, seed, split).fit
            seconds = round(time.perf_counter() - start, 1)
            n_val, n_test = len(split.val), len(split.test)
            with store.open("a") as fh:
                for k, student in enumerate(result.students):
                    hist = [h for h in result.history if h["student"] == k]
                    record = dict(
                        name=args.name,
                        dataset=dataset.name,
                        arch=args.arch,
                        seed=seed,
                        fold=fold,
                        member=k,
                        members=args.members,
                        split=args.split,
                        features=args.features,
                        set=args.set,
                        note=args.note,
                        n_val=n_val,
                        n_test=n_test,
                        epochs=config.train.resolved("graph").epochs,
                        epochs_run=result.epochs_run,
                        best_epoch=student.best_epoch,
                        test_at_best=round(student.test_acc, 6),
                        val_correct=[round(h["val_acc"] * n_val) for h in hist],
                        val_loss=[round(h["val_loss"], 5) for h in hist],
                        test_correct=[round(h["test_acc"] * n_test) for h in hist],
                        seconds=seconds,
                        commit=versions().get("commit"),
                    )
                    fh.write(json.dumps(record) + "\n")
            print(
                f"{args.name} {dataset.name} {args.arch} seed {seed} fold {fold}: best epochs "
                f"{[s.best_epoch for s in result.students]}, test "
                f"{[round(s.test_acc, 3) for s in result.students]}, {result.epochs_run} "
                f"epochs, {seconds} s",
                flush=True,
            )


def read(path) -> list:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def replay(val_correct, val_loss, patience: int) -> tuple:
    """The training loop's selection replayed on one fold's curves: the best validation epoch
    (more correct graphs; ties: lower validation loss) when training stops after ``patience``
    epochs without improvement. Returns (that epoch, 1-based; the epochs run)."""
    best, key, stale = 0, None, 0
    for epoch, (correct, loss) in enumerate(zip(val_correct, val_loss), start=1):
        if key is None or correct > key[0] or (correct == key[0] and loss < key[1]):
            best, key, stale = epoch, (correct, loss), 0
        else:
            stale += 1
        if stale >= patience:
            return best, epoch
    return best, len(val_correct)


def protocols(runs: list) -> dict:
    """Test accuracy (percent: mean, std over runs, count) of one setting's runs (one per seed
    and fold): ``ours`` at the best validation epoch with the package's early stopping
    (:data:`PATIENCE`, replayed), ``ours_all`` at the best validation epoch of all epochs,
    ``xu`` at the epoch of the highest mean test curve (per seed), ``last`` at the last epoch;
    None where it does not apply. ``xu_epoch``: the epochs Xu's protocol picks; ``epochs_run``:
    the median epochs run with early stopping."""

    def stats(values):
        if values is None:
            return None
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        return float(np.mean(values)), spread, len(values)

    curves = [np.array(r["test_correct"]) / r["n_test"] for r in runs]
    out = dict(
        ours=None,
        ours_all=None,
        xu=None,
        last=None,
        xu_epoch=[],
        epochs_run=float(np.median([r["epochs_run"] for r in runs])),
    )
    if runs[0]["split"] == "ours":
        for key, patience in (("ours", PATIENCE), ("ours_all", NO_STOP)):
            chosen = [replay(r["val_correct"], r["val_loss"], patience) for r in runs]
            out[key] = stats([100 * c[best - 1] for c, (best, _) in zip(curves, chosen)])
            if key == "ours":
                out["epochs_run"] = float(np.median([ran for _, ran in chosen]))
    if all(len(c) == r["epochs"] for c, r in zip(curves, runs)):  # every epoch was run
        xu = []
        for rep in sorted({(r["seed"], r.get("member", 0)) for r in runs}):  # one mean curve
            mine = np.stack(
                [
                    c
                    for c, r in zip(curves, runs)  # per replicate
                    if (r["seed"], r.get("member", 0)) == rep
                ]
            )
            epoch = int(np.argmax(mine.mean(0)))  # the first of equal maxima
            out["xu_epoch"].append(epoch + 1)
            xu.extend(100 * mine[:, epoch])
        out["xu"], out["last"] = stats(xu), stats([100 * c[-1] for c in curves])
    return out


def check_replay(runs: list) -> int:
    """How many runs' stored best epoch (the loop's own, at the run's patience) the replay
    does not find: 0 unless rounding the stored losses changed a tie."""
    bad = 0
    for r in runs:
        patience = next(
            (int(s.split("=", 1)[1]) for s in r["set"] if s.startswith("train.patience=")), NO_STOP
        )
        bad += replay(r["val_correct"], r["val_loss"], patience)[0] != r["best_epoch"]
    return bad


def table(store: Path) -> pd.DataFrame:
    runs = read(store / "runs.jsonl")
    refs = reference()
    groups = _groups(runs)
    fmt = lambda s: "—" if s is None else f"{s[0]:.1f} ± {s[1]:.1f}"  # noqa: E731
    rows = []
    for (dataset, arch, name), mine in groups.items():
        p = protocols(mine)
        ref = refs[(refs["dataset"] == dataset) & (refs["arch"] == arch)]
        first = mine[0]
        setting = (
            ", ".join(
                first["set"]
                + ([] if first["split"] == "ours" else ["trained on the whole training fold"])
                + ([] if first["features"] == "as-loaded" else ["node labels only"])
            )
            or "package defaults"
        )
        rows.append(
            {
                "dataset": dataset,
                "student": arch,
                "setting": name,
                "what": first["note"] or setting,
                "runs": len(mine),
                "epochs run (median)": f"{p['epochs_run']:.0f}",
                f"ours: best val epoch, patience {PATIENCE}": fmt(p["ours"]),
                "ours: best val epoch, no early stopping": fmt(p["ours_all"]),
                "Xu's: best epoch of the mean test curve": fmt(p["xu"])
                + (f" (epoch {', '.join(map(str, p['xu_epoch']))})" if p["xu"] else ""),
                "last epoch": fmt(p["last"]),
                "Xu's − ours (points)": "—"
                if p["xu"] is None or p["ours"] is None
                else f"{p['xu'][0] - p['ours'][0]:+.1f}",
                "literature": "; ".join(
                    f"{a:.1f}{'' if pd.isna(s) else f' ± {s:.1f}'} ({src})"
                    for a, s, src in zip(ref["test_acc"], ref["std"], ref["source"])
                ),
            }
        )
    return pd.DataFrame(rows)


def _groups(runs: list) -> dict:
    """(dataset, student, setting) -> its runs, datasets in :data:`ORDER`, settings as stored."""
    groups: dict = {}
    for r in runs:
        groups.setdefault((r["dataset"], r["arch"], r["name"]), []).append(r)
    rank = lambda d: ORDER.index(d) if d in ORDER else len(ORDER)  # noqa: E731
    return dict(sorted(groups.items(), key=lambda item: rank(item[0][0])))


def curve_tables(store: Path) -> list:
    """Per (dataset, student, setting): validation / test accuracy (%) averaged over the runs
    and over blocks of epochs (50; 150 for runs longer than 500 epochs), while every run ran
    them: do the curves still rise? One table per block size."""
    tables: dict = {}
    for (dataset, arch, name), mine in _groups(read(store / "runs.jsonl")).items():
        length = min(len(r["test_correct"]) for r in mine)
        block = 50 if length <= 500 else 150
        row = {"dataset": dataset, "student": arch, "setting": name}
        val = np.mean([np.array(r["val_correct"][:length]) / r["n_val"] for r in mine], 0)
        test = np.mean([np.array(r["test_correct"][:length]) / r["n_test"] for r in mine], 0)
        for lo in range(0, length - block + 1, block):
            v = "—" if mine[0]["split"] == "xu" else f"{100 * val[lo : lo + block].mean():.1f}"
            row[f"{lo + 1}-{lo + block}"] = f"{v} / {100 * test[lo : lo + block].mean():.1f}"
        tables.setdefault(block, []).append(row)
    return [(block, pd.DataFrame(rows).fillna("")) for block, rows in sorted(tables.items())]


def write_table(args) -> None:
    store = Path(args.out)
    bad = check_replay(read(store / "runs.jsonl"))
    if bad:
        print(
            f"warning: the replayed selection misses {bad} run(s)' stored best epoch",
            file=sys.stderr,
        )
    frame = table(store)
    store_name = (
        store.resolve().relative_to(Path.cwd().resolve())
        if store.resolve().is_relative_to(Path.cwd().resolve())
        else store
    )
    body = (
        f"Generated by `python benchmarks/literature.py table --doc {args.doc}` from "
        f"`{store_name}/runs.jsonl`; each setting's runs by `python "
        f"benchmarks/literature.py run --dataset D --arch A --members K --name SETTING "
        f"[--set KEY=VALUE ...]` with the settings the table names (the store's lines "
        f"keep them). One student trained alone (K copies side by side, each on its own), "
        f"stratified 10-fold cross-validation with split seed 0 (the suites' folds), "
        f"every epoch run. Test accuracy (%), mean ± std over folds and copies:\n\n"
        f"* *ours*: each fold at its best validation epoch (a tenth of the training fold "
        f"held out), training stopped after {PATIENCE} epochs without a better validation "
        f"score (the package's graph default, replayed on the stored curves), as every "
        f"suite; and the best validation epoch of all epochs (no early stopping);\n"
        f"* *Xu's*: Xu et al. (2019)'s protocol: the one epoch where the test accuracy "
        f"averaged over the folds is highest, per copy (a selection on the test folds; "
        f"the epochs chosen are given);\n"
        f"* *last epoch*: no selection.\n\n"
        + frame.to_markdown(index=False)
        + "".join(
            f"\n\nValidation / test accuracy (%) averaged over the folds, the "
            f"copies and blocks of {block} epochs (— : no validation graphs):\n\n"
            + frame.to_markdown(index=False)
            for block, frame in curve_tables(store)
        )
    )
    write_section(args.doc, SECTION, body, title="# Baselines against the literature")
    print(frame.to_markdown(index=False))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train the folds of one setting and store their curves")
    r.add_argument("--dataset", required=True)
    r.add_argument("--arch", required=True)
    r.add_argument("--name", required=True, help="the setting's name in the table")
    r.add_argument("--note", default="", help="what the setting is, for the table")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    r.add_argument("--split", choices=SPLITS, default="ours")
    r.add_argument("--features", choices=FEATURES, default="as-loaded")
    r.add_argument("--seeds", default="0")
    r.add_argument(
        "--members",
        type=int,
        default=1,
        help="copies of the student trained alone side by side (replicates)",
    )
    r.add_argument("--folds", type=int, default=10)
    r.add_argument("--run-folds", default=None, help="only these folds, e.g. 0-4")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--out", default=str(STORE))
    t = sub.add_parser("table", help="write the table from the store")
    t.add_argument("--doc", default="docs/literature.md")
    t.add_argument("--out", default=str(STORE))
    args = parser.parse_args(argv)
    (run if args.command == "run" else write_table)(args)


if __name__ == "__main__":
    main()
