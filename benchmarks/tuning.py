"""Compare settings across result folders on the same runs, by VALIDATION accuracy.

A tuning suite (e.g. benchmarks/suites/enzymes-tune.yaml) writes its own folder; its settings
are compared here with the paper suite's runs on the same dataset, cohort and seeds/folds.
Every (folder, method, variant) is one candidate; only the (seed, fold) units that every
candidate has are used, so the means are paired. The choice is the candidate with the highest
mean validation accuracy of its single students; test accuracy is shown beside it, never used.

    python benchmarks/tuning.py --dataset ENZYMES --folds 0-2 --out docs/notes/tuning-enzymes.md \\
        benchmarks/results/paper benchmarks/results/enzymes-features benchmarks/results/enzymes-tune
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore, records_frame
from mutualgnn.config import parse_numbers


def candidates(folders, dataset: str, cohort: str | None, folds=None, seeds=None) -> pd.DataFrame:
    """One row per (candidate, run, student or ensemble), restricted to the units every
    candidate has; a candidate without every requested fold / seed is dropped (and named)."""
    frames = []
    for folder in folders:
        runs = records_frame(ResultStore(folder).read())
        if runs.empty:
            continue
        runs = runs[runs["dataset"] == dataset]
        if cohort:
            runs = runs[runs["cohort"] == cohort]
        if folds is not None:
            runs = runs[runs["fold"].isin(folds)]
        if seeds is not None:
            runs = runs[runs["seed"].isin(seeds)]
        settings = json.loads((Path(folder) / "suite.json").read_text()).get("settings", {})
        label = Path(folder).name + (
            "" if not settings else " " + json.dumps(settings, sort_keys=True)
        )
        runs = runs.assign(
            candidate=[
                f"{label} | {m}" + (f" | {v}" if v else "")
                for m, v in zip(runs["method"], runs["variant"])
            ]
        )
        if not runs.empty:
            frames.append(runs[runs["method"] != "ensemble"])
    if not frames:
        raise SystemExit(f"no runs of {dataset} in {', '.join(map(str, folders))}")
    runs = pd.concat(frames, ignore_index=True)
    unit = (
        runs["seed"].astype(str)
        + "/"
        + runs["fold"].map(lambda f: "-" if pd.isna(f) else str(int(f)))
    )
    runs = runs.assign(unit=unit)
    per = runs.groupby("candidate")["unit"].agg(set)
    if folds is not None or seeds is not None:  # the requested units: keep complete candidates
        wanted = set.union(*per.tolist())
        dropped = sorted(c for c, units in per.items() if units != wanted)
        if dropped:
            print(
                f"dropped (not every unit of {sorted(wanted)}): {'; '.join(dropped)}",
                file=sys.stderr,
            )
        per = per.drop(dropped)
        runs = runs[runs["candidate"].isin(per.index)]
    if per.empty:
        raise SystemExit("no candidate has every requested unit")
    shared = set.intersection(*per.tolist())
    if not shared:
        raise SystemExit(
            "the candidates share no (seed, fold); pick --folds / --seeds they all ran"
        )
    return runs[runs["unit"].isin(shared)]


def table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean validation and test accuracy (%) per candidate and model, sorted by the students'
    mean validation accuracy (the selection criterion)."""
    grouped = runs.groupby(["candidate", "model"])
    wide = grouped[["val_acc", "test_acc"]].mean().mul(100).round(1).unstack("model")
    wide.columns = [f"{'val' if s == 'val_acc' else 'test'} {m}" for s, m in wide.columns]
    students = runs[runs["model"] != "ensemble"]
    wide.insert(
        0, "val (students' mean)", students.groupby("candidate")["val_acc"].mean().mul(100).round(2)
    )
    wide.insert(1, "best epoch (median)", students.groupby("candidate")["best_epoch"].median())
    wide.insert(2, "runs", runs[runs["model"] == "ensemble"].groupby("candidate").size())
    order = ["val (students' mean)", "best epoch (median)", "runs"]
    order += sorted(c for c in wide.columns if c.startswith("val ") and c not in order)
    order += sorted(c for c in wide.columns if c.startswith("test "))
    return wide[order].sort_values("val (students' mean)", ascending=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--cohort", default=None, help="e.g. gin,gcn [every cohort]")
    parser.add_argument("--folds", default=None, help="e.g. 0-2 [all shared]")
    parser.add_argument("--seeds", default=None, help="e.g. 0-4 [all shared]")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    runs = candidates(
        args.folders,
        args.dataset,
        args.cohort,
        parse_numbers(args.folds, "--folds") if args.folds else None,
        parse_numbers(args.seeds) if args.seeds else None,
    )
    text = (
        f"Candidates on {args.dataset}, units (seed/fold) shared by all: "
        f"{', '.join(sorted(runs['unit'].unique()))}. Sorted by the students' mean "
        f"validation accuracy (%), the criterion; test accuracy is shown, not used.\n\n"
        + table(runs).to_markdown()
        + "\n"
    )
    print(text)
    if args.out:
        command = "python benchmarks/tuning.py " + " ".join(sys.argv[1:] if argv is None else argv)
        args.out.write_text(
            f"# Settings compared on validation: {args.dataset}\n\n"
            f"Generated by:\n\n    {command}\n\n{text}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
