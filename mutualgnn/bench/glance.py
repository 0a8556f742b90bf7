"""The block of results at a glance (the README's): between the markers :data:`GLANCE_START`
... :data:`GLANCE_END` of a page, the verdict per dataset and cohort under the results page's
declared rules (:mod:`~.verdict`), a forest plot of each cohort against each baseline and the
verdict sentence; the rest of the page is kept (:func:`~.report.write_results_page`)."""

from __future__ import annotations

import re

import pandas as pd

from .coverage import judged_runs
from .plots import forest_plot
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
    """The rows :func:`~.plots.forest_plot` draws from the verdict's comparisons
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
