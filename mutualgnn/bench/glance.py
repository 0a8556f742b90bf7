"""The block of results at a glance (the README's): between the markers :data:`GLANCE_START`
... :data:`GLANCE_END` of a page, the verdict per dataset and cohort under the results page's
declared rules (:mod:`~.verdict`), a forest plot of each cohort against each baseline and the
verdict sentence; the rest of the page is kept (:func:`~.report.write_results_page`). The forest
plot (SVG, :func:`forest_plot`): each cohort (or student) of a method against each baseline, the
paired mean difference with its 95% confidence interval, significant ones filled."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from . import figstyle
from .coverage import judged_runs
from .verdict import ALPHA, BASELINES, verdict_counts, verdict_table, verdicts

#: the markers of a page's generated block of results at a glance; the start marker may name
#: the forest plot's file, relative to the page: ``<!-- results:start figure=PATH -->``
GLANCE_START = "<!-- results:start"
GLANCE_END = "<!-- results:end -->"
GLANCE_FIGURE = "figures/gml-vs-baselines.svg"


def glance_table(units: pd.DataFrame, against: pd.DataFrame) -> pd.DataFrame:
    """The verdict's table (:func:`~.verdict.verdict_table`: per dataset and cohort, GML minus
    each baseline with its 95% CI, the Holm p of "beats every baseline" and the verdict)
    without the columns a reader of the README does not need (the test's name, the unadjusted
    p)."""
    return verdict_table(units, against).drop(columns=["test", "IUT p"])


def forest_rows(against: pd.DataFrame, runs: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """The rows :func:`forest_plot` draws from the verdict's comparisons
    (:func:`~.verdict.verdicts`): per unit and baseline the difference and its 95% CI in
    points, ``significant`` where the two-sided Holm p over all of them is at most ``alpha``."""
    task = dict(zip(runs["dataset"], runs["task"]))
    return pd.DataFrame(
        {
            "task": against["dataset"].map(task),
            "dataset": against["dataset"],
            "cohort": against["cohort"],
            "student": against["unit"],
            "baseline": against["b"],
            "diff": 100 * against["diff"],
            "ci_low": 100 * against["ci_low"],
            "ci_high": 100 * against["ci_high"],
            "significant": against["holm_two"] <= alpha,
        }
    )


def glance(folders, command: str, figure=None, link: str = GLANCE_FIGURE) -> str:
    """The block of results at a glance for the result ``folders``, written by ``command``,
    under the rules the results page declares (:mod:`~.verdict`): per dataset and cohort,
    GML against every baseline. Its forest plot is written to ``figure`` (a path; None: not
    written) and shown from ``link`` (the path relative to the page)."""
    folders = [str(f) for f in folders]
    runs, coverage, pending, judged = judged_runs(folders)
    units, against = (
        verdicts(judged, baselines=BASELINES) if len(judged) else (pd.DataFrame(), pd.DataFrame())
    )
    if figure is not None and len(against):
        forest_plot(forest_rows(against, judged), figure)
    others = ", ".join(f"`{b}`" for b in BASELINES)
    return "\n".join(
        [
            f"Written by `{command}` from the runs in "
            + ", ".join(f"[{f}]({f})" for f in folders)
            + "; every number below comes from them.",
            "",
            glance_table(units, against).to_markdown(index=False)
            if len(units)
            else "(not enough runs yet)",
            "",
            f"Per dataset and cohort (its students' test accuracy averaged within each run): GML "
            f"minus each of {others} on the same splits, seeds and folds, in points with its 95% "
            "confidence interval (graph datasets: the corrected resampled t-test over the "
            "cross-validation's folds; node datasets: the paired t-test). *Beats every baseline*: "
            "the one-sided tests against all three reject together (intersection-union), Holm "
            "over the cohorts (the column's p); *below a baseline*: a two-sided test, Holm over "
            "every cohort and baseline.",
            *(
                ["", "Left out until their runs are complete: " + ", ".join(pending) + "."]
                if pending
                else []
            ),
            "",
            *(
                [
                    f"![Each GML cohort minus each baseline: mean paired difference in test accuracy "
                    f"with its 95% confidence interval]({link})",
                    "",
                    "The forest plot: the same differences; filled where the two-sided test is "
                    "significant after Holm's correction over the plot's comparisons (p < 0.05).",
                    "",
                ]
                if len(against)
                else []
            ),
            f"**{verdict_counts(units)}**" if len(units) else "",
            "",
        ]
    )


def glance_parts(text: str):
    """``(head, start marker line, block, tail, figure link)`` of a page holding the glance
    markers, or None; the start marker's ``figure=PATH`` (else :data:`GLANCE_FIGURE`) names
    the plot."""
    match = re.search(
        re.escape(GLANCE_START) + r"(?: figure=(\S+))? -->\n(.*?)" + re.escape(GLANCE_END),
        text,
        re.S,
    )
    if not match:
        return None
    return (
        text[: match.start()],
        text[match.start() : match.start(2)],
        match.group(2),
        text[match.end(2) :],
        match.group(1) or GLANCE_FIGURE,
    )


def forest_plot(diffs: pd.DataFrame, path, method: str = "gml") -> Path:
    """A forest plot (SVG) of :func:`forest_rows`' rows: one line
    per (dataset, cohort, student or ``cohort``), a marker per baseline at the mean paired difference in
    points with its 95% confidence interval, filled where significant (``significant``); a
    panel per task, each with its own x range (graph datasets vary far more)."""
    baselines = list(dict.fromkeys(diffs["baseline"]))
    styles = dict(zip(baselines, zip(("#0072b2", "#d55e00", "#009e73", "#cc79a7"), "os^D")))
    tasks = list(dict.fromkeys(diffs["task"]))
    rows = {
        t: list(
            dict.fromkeys(
                zip(*(diffs.loc[diffs["task"] == t, c] for c in ("dataset", "cohort", "student")))
            )
        )
        for t in tasks
    }
    fig, axes = plt.subplots(
        len(tasks),
        1,
        squeeze=False,
        figsize=(7.2, 1.5 + 0.3 * sum(len(r) for r in rows.values()) + 0.5 * len(tasks)),
        gridspec_kw=dict(height_ratios=[len(rows[t]) + 1.5 for t in tasks]),
    )
    for ax, task in zip(axes[:, 0], tasks):
        labels = rows[task]
        sub = diffs[diffs["task"] == task]
        _forest_panel(ax, task, labels, sub, baselines, styles, method)
    handles = [
        plt.Line2D(
            [],
            [],
            color=styles[b][0],
            marker=styles[b][1],
            mfc=styles[b][0],
            ls="-",
            lw=1.2,
            label=b,
        )
        for b in baselines
    ]
    handles += [
        plt.Line2D([], [], color="0.3", marker="o", ls="none", label=label, mfc=face)
        for label, face in (("significant (Holm p < 0.05)", "0.3"), ("not significant", "white"))
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=len(handles),
        fontsize=8.5,
        handlelength=1.6,
        columnspacing=1.1,
        handletextpad=0.5,
        frameon=False,
        bbox_to_anchor=(0.5, 1.0),
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return figstyle.save(fig, path, tight=False, format="svg")


def _forest_panel(ax, task: str, labels: list, sub, baselines: list, styles: dict, method):
    """One task's panel of :func:`forest_plot`: a line per ``labels`` (dataset, cohort,
    student), a marker per baseline (``styles``: its colour and marker) on it, filled where
    significant."""
    for i, baseline in enumerate(baselines):
        colour, marker = styles[baseline]
        offset = (i - (len(baselines) - 1) / 2) * 0.22
        for _, r in sub[sub["baseline"] == baseline].iterrows():
            y = labels.index((r["dataset"], r["cohort"], r["student"])) + offset
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=1.2)
            ax.plot(
                r["diff"],
                y,
                marker=marker,
                ms=5.5,
                color=colour,
                mec=colour,
                mew=1.2,
                mfc=colour if r["significant"] else "white",
                ls="none",
            )
    for i in range(1, len(labels)):  # a rule between datasets
        if labels[i][0] != labels[i - 1][0]:
            ax.axhline(i - 0.5, color="0.8", lw=0.8)
    ax.axvline(0, color="0.3", lw=0.9, ls="--")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(
        [f"{d}  {c}" + ("" if s == "cohort" else f": {s}") for d, c, s in labels], fontsize=9
    )
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.tick_params(axis="x", labelsize=9)
    ax.grid(axis="x", color="0.92", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_title(f"{task} classification", fontsize=10, loc="left")
    unit = "" if set(sub["student"]) == {"cohort"} else " student"
    ax.set_xlabel(
        f"{method.upper()}{unit} − baseline, test accuracy (points): mean and 95% CI",
        fontsize=9,
    )
