"""Figures of a results folder (matplotlib, no display needed), sized for a printed page
(:mod:`~.figstyle`: 7.2 inches wide, at most three panels a row, text of 8.5 points or more).

* :func:`accuracy_plot`: test accuracy of every method, a panel per (dataset, cohort): each
  student and the cohort's ensemble as a point at the mean with a bar of ± 1 s.d. over the
  runs, each architecture trained alone as a dashed reference line.
* :func:`grid_curves`: a one-setting grid (e.g. label noise) as lines, x the setting, y the
  students' mean test accuracy, a line per method with the 95% confidence band of its mean.
* :func:`cohort_curves`: the same against the cohort's size, for a suite of cohorts of
  several sizes.
* :func:`~.curve_plots.training_curves`, :func:`~.curve_plots.coordinator_curves`: per epoch,
  from the folder's ``curves.jsonl`` (:mod:`~.curves`), each dataset's representative run.
* :func:`cka_heatmaps`: linear CKA between architectures, the colour scale from the values.

The results page's forest plot is :func:`~.glance.forest_plot`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from scipy import stats

from ..mutual import METHOD_NAMES
from . import figstyle
from .curve_plots import coordinator_curves, store_curves, training_curves
from .tables import accuracy_cells


def _ordered(methods) -> list:
    methods = list(dict.fromkeys(methods))
    return [m for m in METHOD_NAMES if m in methods] + [m for m in methods if m not in METHOD_NAMES]


def accuracy_plot(runs: pd.DataFrame, path) -> Path:
    """A panel per (dataset, cohort): a row per method (a grid suite's variants each their
    own rows), each student (coloured by architecture) and the cohort's ensemble (black) at
    its mean test score with a bar of ± 1 s.d. over the runs; each architecture's mean trained
    alone (``independent``) as a dashed line. The rows line up across a row of panels."""
    cells = accuracy_cells(runs)
    variant = cells["variant"] if "variant" in cells else pd.Series("", index=cells.index)
    cells["row"] = [f"{v} · {m}" if v else m for v, m in zip(variant, cells["method"])]
    variants = list(dict.fromkeys(variant))
    rows = [
        f"{v} · {m}" if v else m
        for v in variants
        for m in _ordered(cells["method"])
        if ((variant == v) & (cells["method"] == m)).any()
    ]
    panels = list(dict.fromkeys(zip(cells["dataset"], cells["cohort"])))
    metric = dict(zip(runs["dataset"], runs["metric"])) if "metric" in runs else {}
    with plt.rc_context(figstyle.STYLE):
        fig, axes = figstyle.panels(len(panels), 0.19 * len(rows) + 0.75)
        archs = {}
        for ax, (dataset, cohort) in zip(axes.flat, panels):
            sub = cells[(cells["dataset"] == dataset) & (cells["cohort"] == cohort)]
            arch_of = dict(zip(runs["model"], runs["arch"]))
            archs.update(dict.fromkeys(_accuracy_points(ax, sub, rows, arch_of)))
            _alone_lines(ax, sub, rows, variant, arch_of)
            low, high = (sub["mean"] - sub["std"]).min(), (sub["mean"] + sub["std"]).max()
            pad = max(0.5, 0.06 * (high - low))
            ax.set_xlim(max(0.0, low - pad), min(100.0, high + pad))
            ax.set_ylim(len(rows) - 0.5, -0.5)
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels(rows if ax in axes[:, 0] else [])
            ax.grid(axis="x", color="0.92", lw=0.8)
            ax.set_axisbelow(True)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            n = sorted(set(sub["runs"]))
            runs_text = (
                ""
                if len(set(cells["runs"])) == 1
                else f" · n = {n[0]}"
                if len(n) == 1
                else f" · n = {n[0]}-{n[-1]}"
            )
            ax.set_title(f"{dataset} · {figstyle.cohort_name(cohort)}{runs_text}")
            score = metric.get(dataset, "acc")
            ax.set_xlabel("test accuracy (%)" if score == "acc" else f"test {score} (%)")
        handles = [
            plt.Line2D([], [], color=figstyle.arch_colour(a), marker="o", ls="none", label=a)
            for a in archs
            if a != "ensemble"
        ]
        handles += [
            plt.Line2D(
                [], [], color="black", marker="D", ms=4, ls="none", label="cohort's ensemble"
            ),
            plt.Line2D([], [], color="0.4", ls="--", lw=0.9, label="trained alone (mean)"),
        ]
        n = sorted(set(cells["runs"]))
        figstyle.legend(
            fig,
            handles,
            "mean ± 1 s.d. over "
            + (f"n = {n[0]} runs" if len(n) == 1 else "the panel's n runs")
            + " (seeds or folds)",
        )
        return figstyle.save(fig, path, tight=False)


def _accuracy_points(ax, sub: pd.DataFrame, rows: list, arch_of: dict) -> list:
    """A panel's markers: each student and the ensemble at its mean with a bar of ± 1 s.d.,
    on its row (``rows``); returns the architectures drawn, in order."""
    archs = []
    models = [m for m in dict.fromkeys(sub["model"]) if m != "ensemble"] + ["ensemble"]
    step = 0.6 / max(1, len(models) - 1)
    for i, model in enumerate(models):
        cell = sub[sub["model"] == model]
        arch = "ensemble" if model == "ensemble" else arch_of.get(model, model)
        archs.append(arch)
        ys = [rows.index(r) - 0.3 + i * step for r in cell["row"]]
        ax.errorbar(
            cell["mean"],
            ys,
            xerr=cell["std"],
            ls="none",
            elinewidth=1,
            marker="D" if arch == "ensemble" else "o",
            ms=3.6,
            color="black" if arch == "ensemble" else figstyle.arch_colour(arch),
        )
    return archs


def _alone_lines(ax, sub: pd.DataFrame, rows: list, variant: pd.Series, arch_of: dict) -> None:
    """A panel's dashed lines: each architecture's mean trained alone (``independent``),
    across the rows of its variant."""
    alone = sub[(sub["method"] == "independent") & (sub["model"] != "ensemble")]
    for (v, arch), grp in alone.groupby(
        [variant[alone.index], alone["model"].map(arch_of)], sort=False
    ):
        block = [i for i, r in enumerate(rows) if r.startswith(f"{v} · ") or not v]
        ax.vlines(
            grp["mean"].mean(),
            block[0] - 0.5,
            block[-1] + 0.5,
            lw=0.9,
            ls="--",
            color=figstyle.arch_colour(arch),
            zorder=0,
        )


def _bands(ax, frame: pd.DataFrame, style=None, dashes=None) -> None:
    """A line per ``method`` (and value of the column ``style``, drawn with ``dashes[value]``)
    through the mean of ``y`` over the runs at each ``x``, with the 95% t confidence band of
    that mean."""
    keys = ["method"] + ([style] if style else [])
    for key, grp in frame.groupby(keys, sort=False):
        per_x = grp.groupby("x")["y"].agg(["mean", "std", "count"]).sort_index()
        half = (
            stats.t.ppf(0.975, np.maximum(per_x["count"] - 1, 1))
            * per_x["std"].fillna(0)
            / np.sqrt(per_x["count"])
        )
        colour = figstyle.method_colour(key[0])
        ax.plot(
            per_x.index,
            per_x["mean"],
            color=colour,
            marker="o",
            ms=3,
            lw=1.4,
            ls=dashes[key[1]] if style else "-",
        )
        ax.fill_between(
            per_x.index, per_x["mean"] - half, per_x["mean"] + half, color=colour, alpha=0.18, lw=0
        )


def _per_run(singles: pd.DataFrame, keys: list) -> pd.DataFrame:
    """The students' mean test accuracy (%) per run: the unit whose spread the bands show."""
    return (
        singles.groupby(keys + ["method", "seed", "fold"], dropna=False, sort=False)["test_acc"]
        .mean()
        .mul(100)
        .rename("y")
        .reset_index()
    )


def grid_curves(runs: pd.DataFrame, path) -> Path | None:
    """Single-student test accuracy against the value of a one-key numeric grid (e.g. label
    noise), a line per method with its 95% confidence band, a panel per dataset; None unless
    the runs vary one setting."""
    if "variant" not in runs or not runs["variant"].astype(bool).any():
        return None
    keys = {v.split("=", 1)[0] for v in runs["variant"] if v}
    if len(keys) != 1 or any("," in v for v in runs["variant"]):
        return None
    (key,) = keys
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")].copy()
    try:
        singles["x"] = [float(v.split("=", 1)[1]) for v in singles["variant"]]
    except ValueError:
        return None
    per_run = _per_run(singles, ["dataset", "cohort", "x"])
    return _line_figure(per_run, path, key.replace("_", " "), None)


def cohort_curves(runs: pd.DataFrame, path) -> Path | None:
    """Test accuracy of the architecture every cohort of a dataset shares (e.g. GCN) against
    the cohort's size, a line per method (solid: cohorts of that architecture alone; dashed:
    mixed cohorts) with the 95% confidence band of its mean over the runs, a panel per
    dataset; None unless some dataset has cohorts of three or more sizes."""
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")].copy()
    singles["x"] = singles["cohort"].str.count(",") + 1
    if not len(singles) or singles.groupby("dataset")["x"].nunique().max() < 3:
        return None
    parts = []
    for dataset, grp in singles.groupby("dataset", sort=False):
        shared = set.intersection(*(set(c.split(",")) for c in grp["cohort"].unique()))
        arch = next((a for a in grp["arch"] if a in shared), None)
        chosen = grp[grp["arch"] == arch] if arch else grp
        chosen = chosen.assign(
            family=[
                f"cohorts of {arch} only" if set(c.split(",")) == {arch} else "mixed cohorts"
                for c in chosen["cohort"]
            ]
        )
        parts.append(
            _per_run(chosen, ["dataset", "family", "x"]).assign(
                dataset=dataset, what=f"{arch} students" if arch else "students"
            )
        )
    per_run = pd.concat(parts, ignore_index=True)
    return _line_figure(per_run, path, "students in the cohort (K)", "family")


def _line_figure(per_run: pd.DataFrame, path, xlabel: str, style) -> Path:
    datasets = list(dict.fromkeys(per_run["dataset"]))
    n = per_run.groupby(["dataset", "method", "x"] + ([style] if style else []))["y"].count()
    dashes = dict(zip(dict.fromkeys(per_run[style]), ("-", "--", ":", "-."))) if style else None
    with plt.rc_context(figstyle.STYLE):
        fig, axes = figstyle.panels(len(datasets), 2.4)
        for ax, dataset in zip(axes.flat, datasets):
            sub = per_run[per_run["dataset"] == dataset]
            _bands(ax, sub, style, dashes)
            what = sub["what"].iloc[0] if "what" in sub else "students"
            counts = n[dataset]
            ax.set_title(
                f"{dataset} · n = "
                + (
                    f"{counts.min()}"
                    if counts.min() == counts.max()
                    else f"{counts.min()}-{counts.max()}"
                )
            )
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"test accuracy of the {what} (%)" if ax in axes[:, 0] else "")
            xs = sorted(set(sub["x"]))
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{x:g}" for x in xs])
            ax.grid(color="0.92", lw=0.8)
        methods = _ordered(per_run["method"])
        handles = [
            plt.Line2D([], [], color=figstyle.method_colour(m), marker="o", ms=3, lw=1.4, label=m)
            for m in methods
        ]
        if style:
            handles += [
                plt.Line2D([], [], color="0.3", ls=ls, lw=1.4, label=f) for f, ls in dashes.items()
            ]
        figstyle.legend(
            fig,
            handles,
            "line: mean of the panel's n runs (students averaged per "
            "run); band: 95% CI of the mean",
        )
        return figstyle.save(fig, path, tight=False)


def cka_heatmaps(frame: pd.DataFrame, path) -> Path:
    """Mean linear CKA between architectures (rows x columns), one panel per method, from
    :func:`mutualgnn.analyses.cka_study`'s frame (pairs ``a-b``; ``a-a`` on the diagonal); one
    colour scale for all panels, from the smallest to the largest value shown."""
    pairs = [p.split("-") for p in dict.fromkeys(frame["pair"])]
    archs = list(dict.fromkeys(a for pair in pairs for a in pair))
    methods = list(dict.fromkeys(frame["method"]))
    grids = {}
    for method in methods:
        grid = np.full((len(archs), len(archs)), np.nan)
        for pair, value in frame[frame["method"] == method].groupby("pair")["cka"].mean().items():
            a, b = (archs.index(x) for x in pair.split("-"))
            grid[a, b] = grid[b, a] = value
        grids[method] = grid
    values = np.concatenate([g[~np.isnan(g)] for g in grids.values()])
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-3:
        low, high = low - 5e-4, high + 5e-4
    with plt.rc_context(figstyle.STYLE):
        width = min(figstyle.WIDTH, 2.6 * len(methods) + 1.2)
        fig, axes = plt.subplots(1, len(methods), figsize=(width, 2.7), squeeze=False)
        for ax, method in zip(axes[0], methods):
            image = ax.imshow(grids[method], vmin=low, vmax=high, cmap="viridis")
            ax.set_facecolor("0.93")
            for (i, j), value in np.ndenumerate(grids[method]):
                if not np.isnan(value):
                    ax.text(
                        j,
                        i,
                        f"{value:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8.5,
                        color="white" if value < (low + high) / 2 else "black",
                    )
            ax.set_xticks(range(len(archs)), archs)
            ax.set_yticks(range(len(archs)), archs)
            ax.spines[:].set_visible(False)
            ax.set_title(f"{frame['dataset'].iloc[0]}: {method}")
        fig.subplots_adjust(left=0.08, right=0.8, bottom=0.17, top=0.88, wspace=0.3)
        bar = fig.colorbar(
            image,
            cax=fig.add_axes((0.83, 0.17, 0.022, 0.71)),
            label="linear CKA (the values' range)",
        )
        if np.isnan(np.concatenate([g.ravel() for g in grids.values()])).any():
            fig.text(
                0.44,
                0.02,
                "diagonal: two students of one architecture; grey: not measured",
                ha="center",
                fontsize=8.5,
                color="0.25",
            )
        bar.set_ticks(np.linspace(low, high, 5))
        bar.ax.set_yticklabels([f"{t:.3f}" for t in np.linspace(low, high, 5)])
        return figstyle.save(fig, path, tight=False)


def store_figures(runs: pd.DataFrame, directory) -> list:
    """Every figure of a results folder that its runs (a :func:`~.tables.records_frame`) and
    curves give, written beside them: ``accuracy.png``, ``training_curves.png``,
    ``coordinator.png``, ``grid.png``, ``cohort_size.png``; returns the paths written."""
    directory = Path(directory)
    curves = store_curves(directory)
    made = [
        accuracy_plot(runs, directory / "accuracy.png"),
        training_curves(curves, directory / "training_curves.png"),
        coordinator_curves(curves, directory / "coordinator.png"),
        grid_curves(runs, directory / "grid.png"),
        cohort_curves(runs, directory / "cohort_size.png"),
    ]
    return [p for p in made if p is not None]
