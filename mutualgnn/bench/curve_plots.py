"""Per-epoch figures of a results folder, from its ``curves.jsonl`` (:mod:`~.curves`): each
dataset's representative run (its first ``gml`` run), validation accuracy per epoch with the
epoch validation selects, and the coordinator's weights with the students' entropy.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt

from . import figstyle
from .curves import curves_from_histories, read_curves
from .store import ResultStore


def store_curves(directory) -> list:
    """The folder's curves (:mod:`~.curves`): ``curves.jsonl``, else made from a local
    ``histories.jsonl`` (a folder written before ``curves.jsonl`` existed)."""
    curves = read_curves(directory)
    store = ResultStore(directory)
    if not curves and store.histories_path.is_file():
        curves = curves_from_histories(store.records(), store.histories())
    return curves


def _representative(curves: list, coordinator: bool = False) -> dict:
    """dataset -> its first ``gml`` curves line (else its first line); with ``coordinator``,
    only lines whose coordinator weighted (they have ``weight``)."""
    chosen = {}
    for c in curves:
        if coordinator and "weight" not in c["students"][0]:
            continue
        if c["dataset"] not in chosen or (
            c["method"] == "gml" and chosen[c["dataset"]]["method"] != "gml"
        ):
            chosen[c["dataset"]] = c
    return chosen


def _where(c: dict) -> str:
    """A panel's title: the dataset and cohort, then the run (variant, method, seed, fold)."""
    seed = f"seed {c['seed']}" + ("" if c.get("fold") is None else f", fold {c['fold']}")
    return f"{c['dataset']} · {figstyle.cohort_name(c['cohort'])}\n" + " · ".join(
        filter(None, [c.get("variant"), c["method"], seed])
    )


def training_curves(curves: list, path) -> Path | None:
    """Validation accuracy per epoch of each student in each dataset's representative run (a
    panel per dataset), the epoch validation selected marked; dashed, the same cohort's
    students trained alone (``independent``, same seed and fold) where the folder keeps them."""
    chosen = _representative(curves)
    if not chosen:
        return None
    alone = {
        (c["dataset"], c["cohort"], c.get("variant"), c["seed"], c.get("fold")): c
        for c in curves
        if c["method"] == "independent"
    }
    with plt.rc_context(figstyle.STYLE):
        fig, axes = figstyle.panels(len(chosen), 2.5)
        archs, dashed = {}, False
        for ax, c in zip(axes.flat, chosen.values()):
            pair = alone.get(
                (c["dataset"], c["cohort"], c.get("variant"), c["seed"], c.get("fold"))
            )
            for line, ls in ((c, "-"), *(((pair, "--"),) if pair and pair is not c else ())):
                dashed |= ls == "--"
                for s in line["students"]:
                    colour = figstyle.arch_colour(s["arch"])
                    archs[s["arch"]] = None
                    ax.plot(
                        line["epoch"],
                        [100 * v for v in s["val"]],
                        color=colour,
                        lw=0.9,
                        ls=ls,
                        alpha=1 if ls == "-" else 0.8,
                    )
                    if ls == "-" and s.get("best_epoch") in line["epoch"]:
                        i = line["epoch"].index(s["best_epoch"])
                        ax.plot(
                            s["best_epoch"],
                            100 * s["val"][i],
                            "o",
                            ms=4,
                            color=colour,
                            mec="black",
                            mew=0.6,
                        )
            # the plateau, not the first epochs, sets the range: early values may leave it
            later = [100 * v for s in c["students"] for v in s["val"][len(c["epoch"]) // 10 :]]
            later += [
                100 * s["val"][c["epoch"].index(s["best_epoch"])]
                for s in c["students"]
                if s.get("best_epoch") in c["epoch"]
            ]
            low, high = min(later), max(later)
            ax.set_ylim(low - 0.15 * (high - low) - 0.5, high + 0.08 * (high - low) + 0.5)
            ax.set_title(_where(c), fontsize=8.5)
            ax.set_xlabel("epoch")
            ax.set_ylabel("validation accuracy (%)" if ax in axes[:, 0] else "")
        handles = [
            plt.Line2D([], [], color=figstyle.arch_colour(a), lw=1.2, label=a) for a in archs
        ]
        handles.append(
            plt.Line2D(
                [],
                [],
                color="0.5",
                marker="o",
                mec="black",
                mew=0.6,
                ls="none",
                label="epoch selected on validation",
            )
        )
        if dashed:
            handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=1, label="trained alone"))
        figstyle.legend(fig, handles)
        return figstyle.save(fig, path, tight=False)


def coordinator_curves(curves: list, path) -> Path | None:
    """Per dataset (its representative run whose coordinator weighted), the coordinator's mean
    adaptive weight (above) and each student's mean predictive entropy (below) per epoch."""
    chosen = _representative(curves, coordinator=True)
    if not chosen:
        return None
    cols = min(figstyle.COLUMNS, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    with plt.rc_context(figstyle.STYLE):
        # a row of runs is a subfigure: a run's two panels close together, sharing epochs
        fig = plt.figure(
            figsize=(figstyle.page_width(cols), 3.3 * rows + 0.35), layout="constrained"
        )
        pairs = [
            sub.subplots(2, cols, sharex="col", squeeze=False)
            for sub in fig.subfigures(rows, 1, squeeze=False)[:, 0]
        ]
        archs = {}
        for i, c in enumerate(chosen.values()):
            top, bottom = pairs[i // cols][:, i % cols]
            for s in c["students"]:
                colour = figstyle.arch_colour(s["arch"])
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
        fig.legend(
            handles=[
                plt.Line2D([], [], color=figstyle.arch_colour(a), lw=1.2, label=a) for a in archs
            ],
            loc="outside upper center",
            ncol=len(archs),
            frameon=False,
        )
        return figstyle.save(fig, path, tight=False)
