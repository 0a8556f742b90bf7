"""Reuse finished runs of one results folder in another suite's folder, when the training is
provably the same computation.

A run is copied only when its (dataset, cohort, method, seed, fold) is planned by the target
suite and not yet done there, and its stored config equals the config the target suite would
train it with *after the method's presets* (``config.method_settings``; e.g. `independent`
ignores every ``mutual.*`` setting; a full-batch node task ignores the batch size). The config decides, not the grid's variant label: a tuning
grid's `mutual.lam=0.3` run is reused by a suite whose settings say `lam: 0.3`. Threads, progress bars and the data folder are not part of
the computation and are ignored. Copied records keep their numbers and versions, take the target
suite's name and gain ``reused_from``. Per-epoch histories are copied for the units whose
history the target keeps (the first seed/fold of each method) and lacks.

    python benchmarks/reuse_runs.py benchmarks/results/graph-standard benchmarks/results/enzymes-lam \\
        --suite benchmarks/suites/enzymes-lam.yaml --methods independent
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from mutualgnn.bench import ResultStore, first_runs, load_suite, plan, spec_config
from mutualgnn.config import ExperimentConfig
from mutualgnn.mutual import method_settings
from mutualgnn.data import task_of

NOT_COMPUTATION = ("threads", "progress")


def effective(config: dict, method: str) -> dict:
    """What a run computes: ``config`` with the method's presets applied, without the keys
    that do not change the numbers."""
    cfg = ExperimentConfig.from_dict(config)
    out = cfg.to_dict()
    out["mutual"] = ExperimentConfig(mutual=method_settings(method, cfg.mutual)).to_dict()["mutual"]
    # the task's defaults filled in (an unset batch size is 32 graphs), and a full-batch node
    # task's batch size dropped: it reads none (runs stored before the default became
    # per-task say 32 there)
    task = task_of(cfg.dataset)
    out["train"] = ExperimentConfig(train=cfg.train.resolved(task)).to_dict()["train"]
    if task == "node" and cfg.train.fanouts is None:
        out["train"].pop("batch_size")
    for key in NOT_COMPUTATION:
        out["train"].pop(key, None)
    out.pop("data_dir", None)
    return out


def reuse(source, target, suite_file, methods=None, log=print) -> int:
    suite = load_suite(suite_file)
    dst = ResultStore(target)
    dst.check_suite(suite)
    specs = {s.key: s for s in plan(suite, methods=methods)}
    done = dst.done()
    first = first_runs(list(specs.values()))
    src = Path(source)
    histories = {}
    if (src / "histories.jsonl").exists():
        for line in open(src / "histories.jsonl"):
            h = json.loads(line)
            histories[(h["dataset"], h["cohort"], h.get("variant") or "", h["method"], h["seed"],
                       h["fold"])] = h["history"]
    copied = 0
    for record in ResultStore(src).read():
        source_key = (record["dataset"], record["cohort"], record.get("variant") or "",
                      record["method"], record["seed"], record["fold"])
        for key, spec in specs.items():
            if key in done or (key[:2] + key[3:]) != (source_key[:2] + source_key[3:]):
                continue
            wanted = spec_config(suite, spec).to_dict()
            if effective(record["config"], spec.method) != effective(wanted, spec.method):
                log(f"not reused (another computation): {source_key}")
                continue
            copy = dict(record, suite=suite.name, variant=spec.variant, reused_from=str(src))
            dst.append(copy, histories.get(source_key) if key in first else None)
            done.add(key)
            copied += 1
    log(f"reused {copied} run(s) from {src} in {target}")
    return copied


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--suite", required=True, help="the target's suite (name or YAML file)")
    parser.add_argument("--methods", default=None, help="e.g. independent [every method]")
    args = parser.parse_args(argv)
    reuse(args.source, args.target, args.suite,
          args.methods.split(",") if args.methods else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
