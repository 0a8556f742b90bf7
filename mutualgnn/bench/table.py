"""``mutualgnn table DIR``: a results folder's tables (:mod:`~.tables`), figures (:mod:`~.plots`)
and the list of its failed runs, written beside its runs (:func:`tabulate`).

Each run counts once: of a run stored on several lines, the first counts and the others are
named (with their line numbers) in a :class:`DuplicateRunsWarning`. Failed runs (``status``
``"failed"``, a diverged training) are left out of the tables and listed in ``DIR/failed.md``.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..config import ConfigError
from ..files import write_text
from . import plots as figures
from . import tables
from .store import ResultStore
from .suite import KEY
from .units import where

FAILED_FILE = "failed.md"


class DuplicateRunsWarning(UserWarning):
    """A results folder stores some run on more than one line; only the first counts."""


def tabulate(directory, formats=("md", "csv", "latex"), plots: bool = True) -> list:
    """Write the tables (and PNG plots) of the results in ``directory``; returns the paths.

    Each run counts once (a duplicated one raises a :class:`DuplicateRunsWarning` naming its
    lines); failed runs are left out of the tables and listed in ``failed.md`` (dataset, cohort,
    variant, method, seed, fold, error), whose path is then among those returned; a
    ``failed.md`` of an earlier report is removed when no run has failed. The runs of a
    suite's tuning stage (variant ``tune:...``) are left out of the tables: ``tuning.md``
    shows them (:mod:`~.tuning`)."""
    store = ResultStore(directory)
    records = store.records()
    if not records:
        raise ConfigError(
            f"no results in {directory} (expected {store.runs_path}); run "
            "`mutualgnn bench --out DIR` first"
        )
    duplicates = store.duplicates()
    if duplicates:
        warnings.warn(duplicates_message(store, duplicates), DuplicateRunsWarning, stacklevel=2)
    paths = []
    failed_path = store.dir / FAILED_FILE
    failed = [(line, r) for line, r in _first_lines(store) if r.failed]
    if failed:
        paths.append(write_failed(failed, failed_path))
    elif failed_path.exists():
        failed_path.unlink()  # from an earlier report; those runs have been retried since
    if len(failed) == len(records):
        raise ConfigError(
            f"every run in {store.runs_path} failed ({len(failed)}); see {failed_path}"
        )
    runs = tables.records_frame([r for r in records if not r.tuning])
    paths = tables.write_tables(runs, store.dir, formats) + paths
    if plots:
        paths += figures.store_figures(runs, store.dir)
    return paths


def duplicates_message(store: ResultStore, duplicates: dict) -> str:
    """One line per run stored more than once: what it is and its line numbers."""
    runs = "; ".join(
        f"{_unit(key)} on lines {', '.join(map(str, lines))}" for key, lines in duplicates.items()
    )
    return (
        f"{store.runs_path}: {len(duplicates)} run(s) stored more than once; the first "
        f"line of each counts: {runs}"
    )


def write_failed(failed: list, path):
    """``failed.md``: a table of the failed runs, ``(line, record)`` each, and how to retry."""
    frame = pd.DataFrame(
        [
            dict(
                line=line,
                **{k: "" if v is None else str(v) for k, v in zip(KEY, r.key)},
                error=r.error,
            )
            for line, r in failed
        ]
    )
    write_text(
        path,
        f"# Failed runs ({len(failed)})\n\nLeft out of the tables. A failed run "
        "is not retrained on resume; delete its line (`line`) from runs.jsonl and "
        "rerun `mutualgnn bench` to retry it.\n\n" + frame.to_markdown(index=False) + "\n",
    )
    return path


def _first_lines(store: ResultStore) -> list:
    """``(line, record)`` of the first line of each stored run."""
    seen, out = set(), []
    for line, record in store.numbered():
        if record.key not in seen:
            seen.add(record.key)
            out.append((line, record))
    return out


def _unit(key: tuple) -> str:
    """A run's :data:`~.suite.KEY` in words."""
    record = dict(zip(KEY, key))
    named = [
        str(record[k])
        for k in ("dataset", "cohort", "variant", "method")
        if record[k] not in (None, "")
    ]
    return " ".join(named + [where(record["split_seed"], record["seed"], record["fold"])])
