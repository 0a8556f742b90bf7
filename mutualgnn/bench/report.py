"""A results folder's records as a table, and its tables and plots written beside them."""
from __future__ import annotations

import pandas as pd

from ..config import ConfigError
from . import plots as figures
from . import tables
from .store import ResultStore


def records_frame(records: list):
    """Stored run records -> one row per (run, student) plus one ``ensemble`` row per run,
    and the ``ensemble`` method's rows (the ensemble of each ``independent`` run)."""
    rows = []
    for r in records:
        base = {k: r.get(k) for k in ("dataset", "task", "cohort", "method", "seed", "fold",
                                       "seconds", "peak_rss_mb", "rss_before_mb", "epochs_run",
                                       "split_sha1")}
        base["variant"] = r.get("variant") or ""
        base["metric"] = r.get("metric") or "acc"  # records before ogb's datasets were all accuracy
        labels = student_labels([s["arch"] for s in r["students"]])
        for k, (label, st) in enumerate(zip(labels, r["students"])):
            rows.append(dict(base, student=k, model=label, arch=st["arch"],
                             test_acc=st["test_acc"], val_acc=st["val_acc"],
                             best_epoch=st["best_epoch"]))
        ens = dict(base, student="ensemble", model="ensemble", arch=r["cohort"],
                   test_acc=r["ensemble"]["test_acc"], val_acc=r["ensemble"]["val_acc"],
                   best_epoch=None)
        rows.append(ens)
        if r["method"] == "independent":
            rows.append(dict(ens, method="ensemble"))
    return pd.DataFrame(rows)


def student_labels(archs) -> list:
    """Column labels of a cohort's students: the architecture, numbered when it repeats
    (``gcn, gat``; ``gin#0, gin#1``)."""
    return [a if archs.count(a) == 1 else f"{a}#{archs[:i].count(a)}" for i, a in enumerate(archs)]



def report(directory, formats=("md", "csv", "latex"), plots: bool = True) -> list:
    """Write the tables (and PNG plots) of the results in ``directory``; returns the paths."""
    store = ResultStore(directory)
    records = store.read()
    if not records:
        raise ConfigError(f"no results in {directory} (expected {store.runs_path}); run "
                          "`mutualgnn bench --out DIR` first")
    runs = records_frame(records)
    paths = tables.write_tables(runs, store.dir, formats)
    if plots:
        histories = store.read(store.histories_path)
        paths.append(figures.accuracy_bars(runs, store.dir / "accuracy.png"))
        for made in (figures.training_curves(histories, store.dir / "training_curves.png"),
                     figures.coordinator_curves(histories, store.dir / "coordinator.png"),
                     figures.grid_curves(runs, store.dir / "grid.png")):
            if made is not None:
                paths.append(made)
    return paths
