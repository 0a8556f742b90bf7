"""Which runs a results page judges: the result folders checked, their final runs, where the
runs come from (folders, commits, core-hours), how far each shipped suite's plan is stored, and
the datasets complete enough to judge (a dataset still being run gets no verdict)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..config import ConfigError
from .store import ResultStore, jsonable
from .suite import load_suite, suite_names
from .units import plan
from .tables import records_frame


def judged_runs(folders: list, stores: dict | None = None):
    """The final runs of ``folders`` (a frame), the coverage table, the datasets still being
    run, and the runs of the datasets complete (the ones judged)."""
    stores = stores or {f: ResultStore(f).records() for f in folders}
    records = [r for f in folders for r in stores[f]]
    final = [r for r in records if not r.tuning]
    runs = records_frame(final)
    coverage = coverage_table(folders, stores)
    # a dataset still being run gets no verdict: a few seeds would judge it too early
    pending = (
        list(dict.fromkeys(coverage["dataset"][coverage["complete"] == "no"]))
        if len(coverage)
        else []
    )
    judged = runs[~runs["dataset"].isin(pending)] if len(runs) else runs
    return runs, coverage, pending, judged


def sources_table(folders: list, stores: dict) -> str:
    rows = []
    for folder in folders:
        records = stores[folder]
        commits = sorted({r.commit for r in records})
        ok = [r for r in records if not r.failed]
        rows.append(
            {
                "results": f"`{folder}`",
                "runs": len(records),
                "failed": len(records) - len(ok),
                "found in tuning runs": sum(r.same_as is not None for r in records),
                "core-hours": round(sum(r.seconds for r in records if r.same_as is None) / 3600, 2),
                "commits": ", ".join(commits),
            }
        )
    return (
        pd.DataFrame(rows).to_markdown(index=False) + "\n\nA run *found in tuning runs* is "
        "a final run whose computation a tuning run had made (the chosen setting on a "
        "tuning seed or fold): stored from it, not trained again, and its time not counted "
        "twice in the core-hours."
    )


def coverage_table(folders: list, stores: dict) -> pd.DataFrame:
    """Per folder written by a shipped suite (its ``suite.json`` matches the suite's identity)
    and dataset: the runs its plan holds (tuning and final), how many are stored and how many
    of those failed. A failed (diverged) run is done, as for the runner: it is never retrained
    and never in a table, so a dataset is complete when every planned run is stored."""
    rows = []
    for folder in folders:
        suite = _shipped_suite(ResultStore(folder).dir / "suite.json")
        if suite is None:
            continue
        done = {r.key: r.failed for r in stores[folder]}
        for dataset in suite.datasets:
            planned = [s.key for s in plan(suite, datasets=[dataset])]
            stored = sum(key in done for key in planned)
            rows.append(
                {
                    "results": f"`{folder}`",
                    "dataset": dataset,
                    "planned runs": len(planned),
                    "stored": stored,
                    "failed": sum(done.get(key, False) for key in planned),
                    "complete": "yes" if stored == len(planned) else "no",
                }
            )
    return pd.DataFrame(rows)


def _shipped_suite(suite_file: Path):
    """The shipped suite a folder's ``suite.json`` names, if its identity is the folder's."""
    identity = json.loads(suite_file.read_text()) if suite_file.is_file() else {}
    if identity.get("name") not in suite_names():
        return None
    suite = load_suite(identity["name"])
    return suite if jsonable(suite.identity()) == identity else None


def checked_folders(folders) -> list:
    folders = [str(f) for f in folders]
    for folder in folders:
        if not ResultStore(folder).has_runs():
            raise ConfigError(
                f"no results in {folder} (expected "
                f"{ResultStore(folder).runs_path}); run `mutualgnn bench --out "
                f"{folder}` first"
            )
    return folders
