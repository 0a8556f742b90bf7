"""Did the speed work change accuracy? Runs made before a change side by side with runs of the
same method, architecture, seed and fold made after it.

    python benchmarks/accuracy_check.py --doc docs/performance.md

compares the first measurements (single models: `benchmarks/results/legacy/baselines.jsonl`;
cohorts: `benchmarks/results/legacy/mutual.jsonl`, both made before fused Adam, the faster dropout
and fused cohorts) with the `paper` suite's runs;

    python benchmarks/accuracy_check.py --before benchmarks/results/paper benchmarks/results/speed-check-before benchmarks/results/speed-check-split1-before --after benchmarks/results/speed-check benchmarks/results/speed-check-split1 --doc docs/performance.md --section 'Accuracy before and after the cohort speed-ups' --note '...'

compares result folders (`mutualgnn bench --out`): pairs then also share the cohort, the
student's place in it and the split.

The two runs of a pair draw different random numbers (the dropout sampler changed), so they
differ by seed noise; a paired t-test says whether the mean moved by more than that.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from docsection import write_section
from mutualgnn.bench import ResultStore, holm, paired, records_frame
from mutualgnn.mutual import METHOD_NAMES

SECTION = "Accuracy before and after the speed work"
KEYS = ["dataset", "method", "arch", "seed", "fold"]


#: what pairs results folders' runs besides KEYS: the cohort, the student's place in it and the
#: split (folds of another split seed are other folds)
STORE_KEYS = ["cohort", "student", "split_sha1"]


def _read(*paths) -> pd.DataFrame:
    """Runs of result folders (``mutualgnn bench --out``) or of the legacy JSON-lines files."""
    frames = []
    for p in paths:
        if Path(p).is_dir():
            frames.append(records_frame(ResultStore(p).read()))
        else:
            rows = [json.loads(line) for line in Path(p).read_text().splitlines() if line]
            frames.append(pd.DataFrame(rows))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["student"].astype(str) != "ensemble"]
    return frame.assign(fold=frame["fold"].astype("float"))


def compare(before: pd.DataFrame, after: pd.DataFrame, keys: list) -> pd.DataFrame:
    pairs = before[keys + ["test_acc"]].merge(
        after[keys + ["test_acc"]], on=keys, suffixes=(" before", " after")
    )
    rows = []
    group = ["dataset"] + (["cohort"] if "cohort" in keys else []) + ["method", "arch"]
    for names, grp in pairs.groupby(group + (["student"] if "student" in keys else []), sort=False):
        dataset, method, arch = names[0], names[len(group) - 2], names[len(group) - 1]
        a, b = grp["test_acc after"].to_numpy(float), grp["test_acc before"].to_numpy(float)
        p = paired(a, b).t_p  # unrounded: Holm's correction over the table reads it
        cohort = {"cohort": names[1]} if "cohort" in keys else {}
        rows.append(
            {
                "dataset": dataset,
                **cohort,
                "method": method,
                "student": arch,
                "runs": len(grp),
                "before (%)": f"{100 * b.mean():.1f} ± {100 * b.std(ddof=1):.1f}",
                "after (%)": f"{100 * a.mean():.1f} ± {100 * a.std(ddof=1):.1f}",
                "after − before (pts)": round(100 * (a - b).mean(), 2),
                "paired t-test p": p,
            }
        )
    frame = pd.DataFrame(rows)
    frame["Holm p"] = [float(f"{p:.2g}") for p in holm(frame["paired t-test p"])]
    frame["paired t-test p"] = [float(f"{p:.2g}") for p in frame["paired t-test p"]]
    rows = frame.to_dict("records")
    order = {"method": list(METHOD_NAMES), "dataset": list(dict.fromkeys(after["dataset"]))}
    return pd.DataFrame(rows).sort_values(
        ["method", "dataset"],
        kind="stable",
        key=lambda col: col.map(
            lambda v: order[col.name].index(v) if v in order[col.name] else len(order[col.name])
        ),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--before",
        nargs="+",
        default=[
            "benchmarks/results/legacy/baselines.jsonl",
            "benchmarks/results/legacy/mutual.jsonl",
        ],
    )
    ap.add_argument("--after", nargs="+", default=["benchmarks/results/paper"])
    ap.add_argument("--doc", default=None)
    ap.add_argument("--section", default=SECTION)
    ap.add_argument(
        "--note",
        default="made before fused Adam, the faster dropout sampler and fused cohorts",
        help="what the before runs were made with",
    )
    args = ap.parse_args()
    stores = all(Path(p).is_dir() for p in args.before)
    keys = KEYS + (STORE_KEYS if stores else [])
    before = _read(*args.before).drop_duplicates(keys)  # legacy files repeat `independent` runs
    after = _read(*args.after).drop_duplicates(keys)
    table = compare(before, after, keys).to_markdown(index=False)
    print(table)
    if args.doc:
        defaults = {a.dest: a.default for a in ap._actions}
        flags = "".join(
            f" --{name} " + (" ".join(v) if isinstance(v, list) else f"'{v}'")
            for name, v in vars(args).items()
            if name not in ("doc", "note") and v != defaults[name]
        )
        write_section(
            args.doc,
            args.section,
            f"""
Command: `python benchmarks/accuracy_check.py{flags} --doc {args.doc}`

Before: {", ".join(f"`{p}`" for p in args.before)} ({args.note}). After: {", ".join(f"`{p}`" for p in args.after)}. Pairs
share method, architecture, seed and fold{" (and cohort, place in it and split)" if stores else ""};
they draw different dropout masks or sum in another order, so they differ by seed noise.

{table}
""",
        )


if __name__ == "__main__":
    main()
