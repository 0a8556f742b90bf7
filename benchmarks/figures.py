"""Redraw the committed figures of result folders from what they store, training nothing and
writing no table.

    python benchmarks/figures.py benchmarks/results/fair benchmarks/results/paper \
        benchmarks/results/noise benchmarks/results/cohort-size benchmarks/results/cka-cora

A `mutualgnn bench` folder (runs.jsonl) gets the figures `mutualgnn table` draws
(:func:`mutualgnn.bench.plots.store_figures`: accuracy, training curves and coordinator from
curves.jsonl, a grid's or the cohort sizes' lines); a `mutualgnn cka` folder (cka.csv) gets
cka.png again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from mutualgnn.bench import ResultStore, records_frame
from mutualgnn.bench.plots import cka_heatmaps, store_figures


def redraw(folder: Path) -> list:
    if (folder / "cka.csv").is_file():
        return [cka_heatmaps(pd.read_csv(folder / "cka.csv"), folder / "cka.png")]
    records = ResultStore(folder).records()
    if not records:
        raise SystemExit(f"{folder} holds neither runs.jsonl nor cka.csv")
    final = [r for r in records if not r.tuning and not r.failed]
    return store_figures(records_frame(final), folder)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    for folder in ap.parse_args(argv).folders:
        for path in redraw(folder):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
