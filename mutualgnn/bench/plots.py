"""PNG figures of a results folder (matplotlib, no display needed).

* :func:`accuracy_bars`: test accuracy per method, grouped by dataset, a bar per student and the
  ensemble, error bars one standard deviation.
* :func:`training_curves`: validation accuracy per epoch of each student in one representative
  run per dataset (the first seed/fold of ``gml``, else of the first method stored).
* :func:`coordinator_curves`: the coordinator's mean weight and each student's mean predictive
  entropy per epoch in that run.
* :func:`forest_plot` (SVG): each student of a method against each baseline, the paired mean
  difference with its 95% confidence interval, significant ones filled.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..mutual import METHOD_NAMES  # noqa: E402
from ..files import replacing_path  # noqa: E402
from .tables import accuracy_cells  # noqa: E402


def accuracy_bars(runs: pd.DataFrame, path) -> Path:
    cells = accuracy_cells(runs)
    if "variant" in cells:  # a grid suite: one bar group per (variant, method)
        cells["method"] = cells["variant"] + " " + cells["method"]
    several = cells["dataset"].map(cells.groupby("dataset")["cohort"].nunique() > 1)
    # several cohorts on one dataset (e.g. cohort-size): one bar group per (cohort, method)
    cells.loc[several, "method"] = cells["cohort"] + " " + cells["method"]
    datasets = list(dict.fromkeys(cells["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        sub = cells[cells["dataset"] == dataset]
        methods = [m for m in METHOD_NAMES if m in set(sub["method"])] + \
            [m for m in dict.fromkeys(sub["method"]) if m not in METHOD_NAMES]
        models = list(dict.fromkeys(sub["model"]))
        width = 0.8 / len(models)
        for i, model in enumerate(models):
            cell = sub[sub["model"] == model].set_index("method").reindex(methods)
            xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(methods))]
            ax.bar(xs, cell["mean"], width, yerr=cell["std"], capsize=2, label=model)
        low = sub["mean"].min() - sub["std"].max() - 2
        ax.set_ylim(max(0, low), min(100, sub["mean"].max() + sub["std"].max() + 2))
        ax.set_xticks(range(len(methods)))
        ax.set_xticklabels(methods, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{dataset} ({', '.join(dict.fromkeys(sub['cohort']))})", fontsize=10)
        metric = runs.loc[runs["dataset"] == dataset, "metric"].iloc[0] \
            if "metric" in runs else "acc"
        ax.set_ylabel("test accuracy (%)" if metric == "acc" else f"test {metric} (%)")
        ax.legend(fontsize=7)
    return _save(fig, path)


def _representative(histories: list) -> dict:
    """dataset -> the history of its first ``gml`` run (else the first stored run)."""
    chosen = {}
    for h in histories:
        if h["dataset"] not in chosen or (h["method"] == "gml" and chosen[h["dataset"]]["method"] != "gml"):
            chosen[h["dataset"]] = h
    return chosen


def training_curves(histories: list, path) -> Path | None:
    chosen = _representative(histories)
    if not chosen:
        return None
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.2 * len(chosen), 3.2), squeeze=False)
    for ax, (dataset, h) in zip(axes[0], chosen.items()):
        frame = pd.DataFrame(h["history"])
        for (student, arch), grp in frame.groupby(["student", "arch"]):
            ax.plot(grp["epoch"], 100 * grp["val_acc"], label=f"{student}: {arch}", lw=1)
        where = f"seed {h['seed']}" + ("" if h["fold"] is None else f", fold {h['fold']}")
        ax.set_title(f"{dataset} {h['method']} ({where})", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.legend(fontsize=7)
    return _save(fig, path)


def coordinator_curves(histories: list, path) -> Path | None:
    chosen = {d: h for d, h in _representative(histories).items() if h["method"] == "gml"}
    if not chosen:
        return None
    fig, axes = plt.subplots(2, len(chosen), figsize=(4.2 * len(chosen), 5.6), squeeze=False)
    for col, (dataset, h) in enumerate(chosen.items()):
        frame = pd.DataFrame(h["history"])
        for (student, arch), grp in frame.groupby(["student", "arch"]):
            axes[0][col].plot(grp["epoch"], grp["weight"], label=f"{student}: {arch}", lw=1)
            axes[1][col].plot(grp["epoch"], grp["entropy"], label=f"{student}: {arch}", lw=1)
        axes[0][col].set_title(f"{dataset} gml", fontsize=10)
        axes[0][col].set_ylabel("mean adaptive weight")
        axes[1][col].set_ylabel("mean predictive entropy (nats)")
        axes[1][col].set_xlabel("epoch")
        axes[0][col].legend(fontsize=7)
    return _save(fig, path)


def grid_curves(runs: pd.DataFrame, path) -> Path | None:
    """Mean single-student test accuracy against the value of a one-key grid (e.g. label
    noise), a line per method, a panel per dataset; None unless the runs vary one setting."""
    if "variant" not in runs or not runs["variant"].astype(bool).any():
        return None
    keys = {v.split("=", 1)[0] for v in runs["variant"] if v}
    if len(keys) != 1 or any("," in v for v in runs["variant"]):
        return None
    (key,) = keys
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")].copy()
    singles["x"] = [float(v.split("=", 1)[1]) for v in singles["variant"]]
    datasets = list(dict.fromkeys(singles["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        sub = singles[singles["dataset"] == dataset]
        for method, grp in sub.groupby("method", sort=False):
            per_x = grp.groupby("x")["test_acc"]
            ax.errorbar(per_x.mean().index, 100 * per_x.mean(), yerr=100 * per_x.std().fillna(0),
                        label=method, capsize=2, marker="o", ms=3)
        ax.set_title(dataset, fontsize=10)
        ax.set_xlabel(key)
        ax.set_ylabel("single-student test accuracy (%)")
        ax.legend(fontsize=7)
    return _save(fig, path)


def cka_heatmaps(frame: pd.DataFrame, path) -> Path:
    """Mean linear CKA between architectures (rows x columns), one panel per method, from
    :func:`mutualgnn.analyses.cka_study`'s frame (pairs ``a-b``; ``a-a`` on the diagonal)."""
    import numpy as np

    pairs = [p.split("-") for p in dict.fromkeys(frame["pair"])]
    archs = list(dict.fromkeys(a for pair in pairs for a in pair))
    methods = list(dict.fromkeys(frame["method"]))
    fig, axes = plt.subplots(1, len(methods), figsize=(3.6 * len(methods), 3.2), squeeze=False)
    for ax, method in zip(axes[0], methods):
        grid = np.full((len(archs), len(archs)), np.nan)
        for pair, value in frame[frame["method"] == method].groupby("pair")["cka"].mean().items():
            a, b = (archs.index(x) for x in pair.split("-"))
            grid[a, b] = grid[b, a] = value
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(grid):
            if not np.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if value < 0.6 else "black")
        ax.set_xticks(range(len(archs)))
        ax.set_xticklabels(archs)
        ax.set_yticks(range(len(archs)))
        ax.set_yticklabels(archs)
        ax.set_title(f"{frame['dataset'].iloc[0]}: {method}", fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="linear CKA")
    return _save(fig, path, tight=False)


def forest_plot(diffs: pd.DataFrame, path, method: str = "gml") -> Path:
    """A forest plot (SVG) of :func:`mutualgnn.bench.page.forest_rows`' rows: one line
    per (dataset, cohort, student or ``cohort``), a marker per baseline at the mean paired difference in
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
        ax.set_xlabel(f"{method.upper()} student − baseline, test accuracy (points)", fontsize=9)
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


def _save(fig, path, tight: bool = True, format: str = "png") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    # the same figure gives the same bytes: no date, SVG ids from a fixed salt
    with replacing_path(path) as tmp, plt.rc_context({"svg.hashsalt": "mutualgnn",
                                                      "svg.fonttype": "none"}):
        fig.savefig(tmp, dpi=110, format=format,
                    metadata={"Date": None} if format == "svg" else None)
    plt.close(fig)
    return path
