"""PNG figures of a results folder (matplotlib, no display needed).

* :func:`accuracy_bars`: test accuracy per method, grouped by dataset, a bar per student and the
  ensemble, error bars one standard deviation.
* :func:`training_curves`: validation accuracy per epoch of each student in one representative
  run per dataset (the first seed/fold of ``gml``, else of the first method stored).
* :func:`coordinator_curves`: the coordinator's mean weight and each student's mean predictive
  entropy per epoch in that run.
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


def _save(fig, path, tight: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    with replacing_path(path) as tmp:  # whole or not at all
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
