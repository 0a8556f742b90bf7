"""Figures of a results folder (matplotlib, no display needed), sized for a printed page: 7.2
inches wide, at most three panels a row, text of 8.5 points or more at that width.

* :func:`accuracy_plot`: test accuracy of every method, a panel per (dataset, cohort): each
  student and the cohort's ensemble as a point at the mean with a bar of ± 1 s.d. over the
  runs, each architecture trained alone as a dashed reference line.
* :func:`grid_curves`: a one-setting grid (e.g. label noise) as lines, x the setting, y the
  students' mean test accuracy, a line per method with the 95% confidence band of its mean.
* :func:`cohort_curves`: the same against the cohort's size, for a suite of cohorts of
  several sizes.
* :func:`training_curves`, :func:`coordinator_curves`: per epoch, from the folder's
  ``curves.jsonl`` (:mod:`~.curves`), each dataset's representative run.
* :func:`cka_heatmaps`: linear CKA between architectures, the colour scale from the values.
* :func:`forest_plot` (SVG): each student of a method against each baseline, the paired mean
  difference with its 95% confidence interval, significant ones filled.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ..files import replacing_path  # noqa: E402
from ..mutual import METHOD_NAMES  # noqa: E402
from .curves import curves_from_histories, read_curves  # noqa: E402
from .store import ResultStore  # noqa: E402
from .tables import accuracy_cells  # noqa: E402

#: a printed page's text width (inches) and the most panels a row
WIDTH, COLUMNS = 7.2, 3
#: matplotlib settings of every figure: text of 8.5-9.5 points at the page's width
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8.5,
         "ytick.labelsize": 8.5, "legend.fontsize": 8.5, "axes.spines.top": False,
         "axes.spines.right": False}
#: colours (Okabe-Ito, distinguishable in grey and by colour-blind readers)
ARCH_COLOURS = {"gcn": "#0072b2", "gat": "#e69f00", "gin": "#009e73", "sage": "#d55e00",
                "mlp": "#cc79a7"}
METHOD_COLOURS = {"independent": "0.35", "ensemble": "#56b4e9", "dml": "#e69f00",
                  "gml": "#0072b2", "gml-no-alw": "#009e73", "gml-no-entropy": "#cc79a7",
                  "gml-sharpen": "#d55e00", "online-ensemble": "#f0e442", "kd": "#882255"}
_SPARE = ("#999933", "#44aa99", "#aa4499", "#332288", "#117733")


def _colour(table: dict, name: str) -> str:
    return table.get(name) or _SPARE[sum(map(ord, name)) % len(_SPARE)]


def _width(cols: int) -> float:
    """A figure's width (inches) for ``cols`` panels a row: a panel as wide as in a full row."""
    return WIDTH if cols >= COLUMNS else min(WIDTH, WIDTH * cols / COLUMNS + 1.2)


def _grid(n: int, row_height: float):
    """A figure of ``n`` panels, at most ``COLUMNS`` a row, ``row_height`` inches each."""
    cols = min(COLUMNS, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(_width(cols), row_height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _cohort(cohort: str) -> str:
    """A cohort as a title names it: ``gcn+gat``; one architecture repeated, ``6×gcn``."""
    archs = cohort.split(",")
    return f"{len(archs)}×{archs[0]}" if len(archs) > 2 and len(set(archs)) == 1 \
        else "+".join(archs)


def _ordered(methods) -> list:
    methods = list(dict.fromkeys(methods))
    return [m for m in METHOD_NAMES if m in methods] + [m for m in methods if m not in METHOD_NAMES]


def _legend(fig, handles, caption: str = "") -> None:
    """The figure's legend above its panels, in as many rows as its width needs, and below it
    a one-line ``caption``; the figure grows by their height."""
    columns = min(len(handles), 5, max(2, int(fig.get_figwidth() / 1.4)))
    rows = math.ceil(len(handles) / columns)
    top = 0.27 * rows + (0.25 if caption else 0) + 0.12
    height = fig.get_figheight() + top
    fig.set_figheight(height)
    fig.legend(handles=handles, loc="upper center", ncol=columns, frameon=False,
               bbox_to_anchor=(0.5, 1.0), handlelength=1.8, columnspacing=1.2)
    if caption:
        fig.text(0.5, 1 - (0.27 * rows + 0.06) / height, caption, ha="center", va="top",
                 fontsize=8.5, color="0.25")
    fig.tight_layout(rect=(0, 0, 1, 1 - top / height))


def accuracy_plot(runs: pd.DataFrame, path) -> Path:
    """A panel per (dataset, cohort): a row per method (a grid suite's variants each their
    own rows), each student (coloured by architecture) and the cohort's ensemble (black) at
    its mean test score with a bar of ± 1 s.d. over the runs; each architecture's mean trained
    alone (``independent``) as a dashed line. The rows line up across a row of panels."""
    cells = accuracy_cells(runs)
    variant = cells["variant"] if "variant" in cells else pd.Series("", index=cells.index)
    cells["row"] = [f"{v} · {m}" if v else m for v, m in zip(variant, cells["method"])]
    variants = list(dict.fromkeys(variant))
    rows = [f"{v} · {m}" if v else m for v in variants for m in _ordered(cells["method"])
            if ((variant == v) & (cells["method"] == m)).any()]
    panels = list(dict.fromkeys(zip(cells["dataset"], cells["cohort"])))
    metric = dict(zip(runs["dataset"], runs["metric"])) if "metric" in runs else {}
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(panels), 0.19 * len(rows) + 0.75)
        archs = {}
        for ax, (dataset, cohort) in zip(axes.flat, panels):
            sub = cells[(cells["dataset"] == dataset) & (cells["cohort"] == cohort)]
            models = [m for m in dict.fromkeys(sub["model"]) if m != "ensemble"] + ["ensemble"]
            arch_of = dict(zip(runs["model"], runs["arch"]))
            step = 0.6 / max(1, len(models) - 1)
            for i, model in enumerate(models):
                cell = sub[sub["model"] == model]
                arch = "ensemble" if model == "ensemble" else arch_of.get(model, model)
                archs[arch] = None
                ys = [rows.index(r) - 0.3 + i * step for r in cell["row"]]
                ax.errorbar(cell["mean"], ys, xerr=cell["std"], ls="none", elinewidth=1,
                            marker="D" if arch == "ensemble" else "o", ms=3.6,
                            color="black" if arch == "ensemble" else _colour(ARCH_COLOURS, arch))
            alone = sub[(sub["method"] == "independent") & (sub["model"] != "ensemble")]
            for (v, arch), grp in alone.groupby([variant[alone.index], alone["model"].map(arch_of)],
                                                sort=False):
                block = [i for i, r in enumerate(rows) if r.startswith(f"{v} · ") or not v]
                ax.vlines(grp["mean"].mean(), block[0] - 0.5, block[-1] + 0.5, lw=0.9, ls="--",
                          color=_colour(ARCH_COLOURS, arch), zorder=0)
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
            runs_text = "" if len(set(cells["runs"])) == 1 else \
                f" · n = {n[0]}" if len(n) == 1 else f" · n = {n[0]}-{n[-1]}"
            ax.set_title(f"{dataset} · {_cohort(cohort)}{runs_text}")
            score = metric.get(dataset, "acc")
            ax.set_xlabel("test accuracy (%)" if score == "acc" else f"test {score} (%)")
        handles = [plt.Line2D([], [], color=_colour(ARCH_COLOURS, a), marker="o", ls="none",
                              label=a) for a in archs if a != "ensemble"]
        handles += [plt.Line2D([], [], color="black", marker="D", ms=4, ls="none",
                               label="cohort's ensemble"),
                    plt.Line2D([], [], color="0.4", ls="--", lw=0.9,
                               label="trained alone (mean)")]
        n = sorted(set(cells["runs"]))
        _legend(fig, handles, "mean ± 1 s.d. over " + (
            f"n = {n[0]} runs" if len(n) == 1 else "the panel's n runs") + " (seeds or folds)")
        return _save(fig, path, tight=False)


def _bands(ax, frame: pd.DataFrame, style=None, dashes=None) -> None:
    """A line per ``method`` (and value of the column ``style``, drawn with ``dashes[value]``)
    through the mean of ``y`` over the runs at each ``x``, with the 95% t confidence band of
    that mean."""
    keys = ["method"] + ([style] if style else [])
    for key, grp in frame.groupby(keys, sort=False):
        per_x = grp.groupby("x")["y"].agg(["mean", "std", "count"]).sort_index()
        half = stats.t.ppf(0.975, np.maximum(per_x["count"] - 1, 1)) * \
            per_x["std"].fillna(0) / np.sqrt(per_x["count"])
        colour = _colour(METHOD_COLOURS, key[0])
        ax.plot(per_x.index, per_x["mean"], color=colour, marker="o", ms=3, lw=1.4,
                ls=dashes[key[1]] if style else "-")
        ax.fill_between(per_x.index, per_x["mean"] - half, per_x["mean"] + half, color=colour,
                        alpha=0.18, lw=0)


def _per_run(singles: pd.DataFrame, keys: list) -> pd.DataFrame:
    """The students' mean test accuracy (%) per run: the unit whose spread the bands show."""
    return (singles.groupby(keys + ["method", "seed", "fold"], dropna=False, sort=False)
            ["test_acc"].mean().mul(100).rename("y").reset_index())


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
        chosen = chosen.assign(family=[
            f"cohorts of {arch} only" if set(c.split(",")) == {arch} else "mixed cohorts"
            for c in chosen["cohort"]])
        parts.append(_per_run(chosen, ["dataset", "family", "x"]).assign(
            dataset=dataset, what=f"{arch} students" if arch else "students"))
    per_run = pd.concat(parts, ignore_index=True)
    return _line_figure(per_run, path, "students in the cohort (K)", "family")


def _line_figure(per_run: pd.DataFrame, path, xlabel: str, style) -> Path:
    datasets = list(dict.fromkeys(per_run["dataset"]))
    n = per_run.groupby(["dataset", "method", "x"] + ([style] if style else []))["y"].count()
    dashes = dict(zip(dict.fromkeys(per_run[style]), ("-", "--", ":", "-."))) if style else None
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(datasets), 2.4)
        for ax, dataset in zip(axes.flat, datasets):
            sub = per_run[per_run["dataset"] == dataset]
            _bands(ax, sub, style, dashes)
            what = sub["what"].iloc[0] if "what" in sub else "students"
            counts = n[dataset]
            ax.set_title(f"{dataset} · n = " + (f"{counts.min()}" if counts.min() == counts.max()
                                                  else f"{counts.min()}-{counts.max()}"))
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"test accuracy of the {what} (%)" if ax in axes[:, 0] else "")
            xs = sorted(set(sub["x"]))
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{x:g}" for x in xs])
            ax.grid(color="0.92", lw=0.8)
        methods = _ordered(per_run["method"])
        handles = [plt.Line2D([], [], color=_colour(METHOD_COLOURS, m), marker="o", ms=3,
                              lw=1.4, label=m) for m in methods]
        if style:
            handles += [plt.Line2D([], [], color="0.3", ls=ls, lw=1.4, label=f)
                        for f, ls in dashes.items()]
        _legend(fig, handles, "line: mean of the panel's n runs (students averaged per run); "
                "band: 95% CI of the mean")
        return _save(fig, path, tight=False)


def store_curves(directory) -> list:
    """The folder's curves (:mod:`~.curves`): ``curves.jsonl``, else made from a local
    ``histories.jsonl`` (a folder written before ``curves.jsonl`` existed)."""
    curves = read_curves(directory)
    store = ResultStore(directory)
    if not curves and store.histories_path.is_file():
        curves = curves_from_histories(store.records(), store.records(store.histories_path))
    return curves


def _representative(curves: list, coordinator: bool = False) -> dict:
    """dataset -> its first ``gml`` curves line (else its first line); with ``coordinator``,
    only lines whose coordinator weighted (they have ``weight``)."""
    chosen = {}
    for c in curves:
        if coordinator and "weight" not in c["students"][0]:
            continue
        if c["dataset"] not in chosen or (c["method"] == "gml" and
                                          chosen[c["dataset"]]["method"] != "gml"):
            chosen[c["dataset"]] = c
    return chosen


def _where(c: dict) -> str:
    """A panel's title: the dataset and cohort, then the run (variant, method, seed, fold)."""
    seed = f"seed {c['seed']}" + ("" if c.get("fold") is None else f", fold {c['fold']}")
    return (f"{c['dataset']} · {_cohort(c['cohort'])}\n"
            + " · ".join(filter(None, [c.get("variant"), c["method"], seed])))


def training_curves(curves: list, path) -> Path | None:
    """Validation accuracy per epoch of each student in each dataset's representative run (a
    panel per dataset), the epoch validation selected marked; dashed, the same cohort's
    students trained alone (``independent``, same seed and fold) where the folder keeps them."""
    chosen = _representative(curves)
    if not chosen:
        return None
    alone = {(c["dataset"], c["cohort"], c.get("variant"), c["seed"], c.get("fold")): c
             for c in curves if c["method"] == "independent"}
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(chosen), 2.5)
        archs, dashed = {}, False
        for ax, c in zip(axes.flat, chosen.values()):
            pair = alone.get((c["dataset"], c["cohort"], c.get("variant"), c["seed"],
                              c.get("fold")))
            for line, ls in ((c, "-"), *(((pair, "--"),) if pair and pair is not c else ())):
                dashed |= ls == "--"
                for s in line["students"]:
                    colour = _colour(ARCH_COLOURS, s["arch"])
                    archs[s["arch"]] = None
                    ax.plot(line["epoch"], [100 * v for v in s["val"]], color=colour, lw=0.9,
                            ls=ls, alpha=1 if ls == "-" else 0.8)
                    if ls == "-" and s.get("best_epoch") in line["epoch"]:
                        i = line["epoch"].index(s["best_epoch"])
                        ax.plot(s["best_epoch"], 100 * s["val"][i], "o", ms=4, color=colour,
                                mec="black", mew=0.6)
            # the plateau, not the first epochs, sets the range: early values may leave it
            later = [100 * v for s in c["students"] for v in s["val"][len(c["epoch"]) // 10:]]
            later += [100 * s["val"][c["epoch"].index(s["best_epoch"])] for s in c["students"]
                      if s.get("best_epoch") in c["epoch"]]
            low, high = min(later), max(later)
            ax.set_ylim(low - 0.15 * (high - low) - 0.5, high + 0.08 * (high - low) + 0.5)
            ax.set_title(_where(c), fontsize=8.5)
            ax.set_xlabel("epoch")
            ax.set_ylabel("validation accuracy (%)" if ax in axes[:, 0] else "")
        handles = [plt.Line2D([], [], color=_colour(ARCH_COLOURS, a), lw=1.2, label=a)
                   for a in archs]
        handles.append(plt.Line2D([], [], color="0.5", marker="o", mec="black", mew=0.6, ls="none",
                                  label="epoch selected on validation"))
        if dashed:
            handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=1, label="trained alone"))
        _legend(fig, handles)
        return _save(fig, path, tight=False)


def coordinator_curves(curves: list, path) -> Path | None:
    """Per dataset (its representative run whose coordinator weighted), the coordinator's mean
    adaptive weight (above) and each student's mean predictive entropy (below) per epoch."""
    chosen = _representative(curves, coordinator=True)
    if not chosen:
        return None
    cols = min(COLUMNS, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    with plt.rc_context(STYLE):
        # a row of runs is a subfigure: a run's two panels close together, sharing epochs
        fig = plt.figure(figsize=(_width(cols), 3.3 * rows + 0.35), layout="constrained")
        pairs = [sub.subplots(2, cols, sharex="col", squeeze=False)
                 for sub in fig.subfigures(rows, 1, squeeze=False)[:, 0]]
        archs = {}
        for i, c in enumerate(chosen.values()):
            top, bottom = pairs[i // cols][:, i % cols]
            for s in c["students"]:
                colour = _colour(ARCH_COLOURS, s["arch"])
                archs[s["arch"]] = None
                top.plot(c["epoch"], s["weight"], color=colour, lw=1)
                bottom.plot(c["epoch"], s["entropy"], color=colour, lw=1)
            top.set_title(_where(c), fontsize=8.5)
            top.set_ylabel("mean adaptive weight" if i % cols == 0 else "")
            bottom.set_ylabel("entropy (nats)" if i % cols == 0 else "")
            bottom.set_xlabel("epoch")
        for j in range(len(chosen), rows * cols):
            for ax in pairs[j // cols][:, j % cols]:
                ax.set_visible(False)
        fig.legend(handles=[plt.Line2D([], [], color=_colour(ARCH_COLOURS, a), lw=1.2, label=a)
                            for a in archs], loc="outside upper center", ncol=len(archs),
                   frameon=False)
        return _save(fig, path, tight=False)


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
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(methods), figsize=(min(WIDTH, 2.6 * len(methods) + 1.2),
                                                           2.7), squeeze=False)
        for ax, method in zip(axes[0], methods):
            image = ax.imshow(grids[method], vmin=low, vmax=high, cmap="viridis")
            ax.set_facecolor("0.93")
            for (i, j), value in np.ndenumerate(grids[method]):
                if not np.isnan(value):
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8.5,
                            color="white" if value < (low + high) / 2 else "black")
            ax.set_xticks(range(len(archs)), archs)
            ax.set_yticks(range(len(archs)), archs)
            ax.spines[:].set_visible(False)
            ax.set_title(f"{frame['dataset'].iloc[0]}: {method}")
        fig.subplots_adjust(left=0.08, right=0.8, bottom=0.17, top=0.88, wspace=0.3)
        bar = fig.colorbar(image, cax=fig.add_axes((0.83, 0.17, 0.022, 0.71)),
                           label="linear CKA (the values' range)")
        if np.isnan(np.concatenate([g.ravel() for g in grids.values()])).any():
            fig.text(0.44, 0.02, "diagonal: two students of one architecture; grey: not measured",
                     ha="center", fontsize=8.5, color="0.25")
        bar.set_ticks(np.linspace(low, high, 5))
        bar.ax.set_yticklabels([f"{t:.3f}" for t in np.linspace(low, high, 5)])
        return _save(fig, path, tight=False)


def forest_plot(diffs: pd.DataFrame, path, method: str = "gml") -> Path:
    """A forest plot (SVG) of :func:`mutualgnn.bench.page.baseline_differences`' rows: one line
    per (dataset, cohort, student), a marker per baseline at the mean paired difference in
    points with its 95% confidence interval, filled where significant (``significant``); a
    panel per task, each with its own x range (graph datasets vary far more)."""
    baselines = list(dict.fromkeys(diffs["baseline"]))
    styles = dict(zip(baselines, zip(("#0072b2", "#d55e00", "#009e73", "#cc79a7"), "os^D")))
    tasks = list(dict.fromkeys(diffs["task"]))
    rows = {t: list(dict.fromkeys(zip(*(diffs.loc[diffs["task"] == t, c]
                                        for c in ("dataset", "cohort", "student")))))
            for t in tasks}
    fig, axes = plt.subplots(len(tasks), 1, squeeze=False, figsize=(7.2, 1.5 + 0.3 * sum(
        len(r) for r in rows.values()) + 0.5 * len(tasks)), gridspec_kw=dict(
        height_ratios=[len(rows[t]) + 1.5 for t in tasks]))
    for ax, task in zip(axes[:, 0], tasks):
        labels = rows[task]
        sub = diffs[diffs["task"] == task]
        for i, baseline in enumerate(baselines):
            colour, marker = styles[baseline]
            offset = (i - (len(baselines) - 1) / 2) * 0.22
            for _, r in sub[sub["baseline"] == baseline].iterrows():
                y = labels.index((r["dataset"], r["cohort"], r["student"])) + offset
                ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=1.2)
                ax.plot(r["diff"], y, marker=marker, ms=5.5, color=colour, mec=colour, mew=1.2,
                        mfc=colour if r["significant"] else "white", ls="none")
        for i in range(1, len(labels)):  # a rule between datasets
            if labels[i][0] != labels[i - 1][0]:
                ax.axhline(i - 0.5, color="0.8", lw=0.8)
        ax.axvline(0, color="0.3", lw=0.9, ls="--")
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels([f"{d}  {c}: {s}" for d, c, s in labels], fontsize=9)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.tick_params(axis="x", labelsize=9)
        ax.grid(axis="x", color="0.92", lw=0.8)
        ax.set_axisbelow(True)
        ax.set_title(f"{task} classification", fontsize=10, loc="left")
        ax.set_xlabel(f"{method.upper()} student − baseline, test accuracy (points): "
                      "mean and 95% CI", fontsize=9)
    handles = [plt.Line2D([], [], color=styles[b][0], marker=styles[b][1], mfc=styles[b][0],
                          ls="-", lw=1.2, label=b) for b in baselines]
    handles += [plt.Line2D([], [], color="0.3", marker="o", ls="none", label=label, mfc=face)
                for label, face in (("significant (Holm p < 0.05)", "0.3"),
                                    ("not significant", "white"))]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8.5,
               handlelength=1.6, columnspacing=1.1, handletextpad=0.5,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return _save(fig, path, tight=False, format="svg")


def store_figures(runs: pd.DataFrame, directory) -> list:
    """Every figure of a results folder that its runs (a :func:`~.report.records_frame`) and
    curves give, written beside them: ``accuracy.png``, ``training_curves.png``,
    ``coordinator.png``, ``grid.png``, ``cohort_size.png``; returns the paths written."""
    directory = Path(directory)
    curves = store_curves(directory)
    made = [accuracy_plot(runs, directory / "accuracy.png"),
            training_curves(curves, directory / "training_curves.png"),
            coordinator_curves(curves, directory / "coordinator.png"),
            grid_curves(runs, directory / "grid.png"),
            cohort_curves(runs, directory / "cohort_size.png")]
    return [p for p in made if p is not None]


def _save(fig, path, tight: bool = True, format: str = "png") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    # the same figure gives the same bytes: no date, SVG ids from a fixed salt
    with replacing_path(path) as tmp, plt.rc_context({"svg.hashsalt": "mutualgnn",
                                                      "svg.fonttype": "none"}):
        fig.savefig(tmp, dpi=150, format=format,
                    metadata={"Date": None} if format == "svg" else None)
    plt.close(fig)
    return path
