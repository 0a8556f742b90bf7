"""The results page: every table of ``docs/results.md`` written from result folders, with the
one command that rewrites it in its first lines (``mutualgnn report``).

The page holds: its statistical rules, before any number (:mod:`~.verdict`); where the runs
come from (folders, suites, commits, core-hours); the verdict, GML against every equal-budget
baseline (:mod:`~.verdict`); the best baseline by mean as a secondary view; the controls and
whether they do as well as GML; the tuning stage's choices; accuracy; each method
against the same student trained alone; cost. Every number comes from the folders' runs; a
hand-written interpretation below the ``## Reading`` heading of an existing page is kept as it
is (it cites the tables; it copies no number) when the page is rewritten for the same folders;
a page written for other folders is never overwritten unless forced (:func:`write_results_page`).

A page holding the glance markers (the README) gets only that block rewritten, the rest kept
(:mod:`~.glance`); the runs a page judges and where they come from: :mod:`~.coverage`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ConfigError
from ..files import write_text
from .coverage import checked_folders, judged_runs, sources_table
from .curves import CURVES_FILE
from .glance import glance, glance_parts
from .stats import holm, paired
from .store import ResultStore
from .suite import TUNE, Suite
from .tables import (
    COST_HEADERS,
    RUN,
    accuracy_table,
    cost_table,
    early_stopping_table,
    literature_table,
    paired_table,
    with_settings,
)
from .tuning import inherit_note, nested_bias_table, tuning_table
from .verdict import (
    BASELINES,
    CONTROLS,
    declarations,
    equivalence_table,
    verdict_section,
)

READING = "\n## Reading"


def best_baseline_table(
    runs: pd.DataFrame, method: str = "gml", baselines=BASELINES, alpha: float = 0.05
) -> pd.DataFrame:
    """Per (dataset, cohort, student): ``method`` minus the best of ``baselines`` for that
    student (the one of highest mean test score on the runs all of them share: the strongest
    rival), the paired difference in points with its 95% confidence interval, the paired
    t-test p and its Holm-corrected value over every row of the table (the family the page
    reports); then per (dataset, cohort) whether a student beats its best baseline by the mean
    and significantly after Holm (adjusted p < ``alpha``)."""
    singles = runs[
        (runs["student"] != "ensemble") & ~runs["variant"].astype(str).str.startswith(TUNE)
    ]
    rows = []
    for (dataset, cohort, model), grp in singles.groupby(
        ["dataset", "cohort", "model"], sort=False
    ):
        scores = grp.pivot_table(index=RUN, columns="method", values="test_acc", dropna=False)
        present = [b for b in baselines if b in scores.columns]
        if method not in scores.columns or not present:
            continue
        shared = scores[[method, *present]].dropna()
        if len(shared) < 2:
            continue
        best = max(present, key=lambda b: shared[b].mean())
        result = paired(shared[method], shared[best])
        rows.append(
            dict(
                dataset=dataset,
                cohort=cohort,
                student=model,
                runs=result.n,
                best_baseline=best,
                diff=100 * result.mean_diff,
                ci=(100 * result.ci_low, 100 * result.ci_high),
                p=result.t_p,
            )
        )
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows)
    table["holm"] = holm(table["p"])
    table["wins"] = (table["diff"] > 0) & (table["holm"] < alpha)
    return pd.DataFrame(
        {
            "dataset": table["dataset"],
            "cohort": table["cohort"],
            "student": table["student"],
            "runs": table["runs"],
            "best baseline": table["best_baseline"],
            f"{method} − best (pts)": table["diff"].round(2),
            "95% CI (pts)": [f"[{lo:+.2f}, {hi:+.2f}]" for lo, hi in table["ci"]],
            "t-test p": table["p"].map(lambda p: float(f"{p:.2g}")),
            "Holm p": table["holm"].map(lambda p: float(f"{p:.2g}")),
            f"beats, Holm p < {alpha:g}": np.where(table["wins"], "yes", "no"),
        }
    )


def target_counts(table: pd.DataFrame, method: str = "gml") -> str:
    """The sentence the target is judged by: on how many datasets some student of ``method``
    beats its best baseline by the mean, and significantly after Holm."""
    if not len(table):
        return "Not enough runs yet to judge the target."
    diff = f"{method} − best (pts)"
    sig = next(c for c in table.columns if c.startswith("beats, Holm"))
    by_dataset = table.groupby("dataset", sort=False)
    beats = sum((g[diff] > 0).any() for _, g in by_dataset)
    significant = sum((g[sig] == "yes").any() for _, g in by_dataset)
    return (
        f"A {method.upper()} student beats its best baseline by the mean on "
        f"{beats} of {by_dataset.ngroups} datasets, Holm-significantly on {significant}."
    )


#: the figures of a result folder a page shows (file, what it shows), where the folder has them
FIGURES = {
    "accuracy": [
        (
            "accuracy.png",
            "test accuracy of every method, student and cohort: "
            "mean ± 1 s.d. over the runs; dashed, each architecture trained alone",
        )
    ],
    "curves": [
        (
            "training_curves.png",
            "validation accuracy per epoch of each student in "
            "each dataset's first GML run; dots: the epoch validation selects",
        ),
        (
            "coordinator.png",
            "the coordinator's mean adaptive weight and each "
            "student's mean predictive entropy per epoch, the same runs",
        ),
    ],
}


def figures(folders, doc, kind: str) -> list:
    """Markdown lines showing the ``kind`` figures (:data:`FIGURES`) of ``folders`` that exist,
    linked relative to the page ``doc`` (None: no figures); the curves only of a folder that
    keeps the values they draw (``curves.jsonl``)."""
    if doc is None:
        return []
    lines = []
    for folder in folders:
        if kind == "curves" and not (Path(folder) / CURVES_FILE).is_file():
            continue
        for name, alt in FIGURES[kind]:
            path = Path(folder).resolve() / name
            if path.is_file():
                name = Path(folder).name
                lines += [
                    f"![{name}: {alt}]({os.path.relpath(path, Path(doc).resolve().parent)})",
                    "",
                    f"*`{name}`: {alt[0].upper()}{alt[1:]}.*",
                    "",
                ]
    return lines


def results_page(folders, command: str, reading: str = "", doc=None, title="Results") -> str:
    """The page for the result ``folders`` (``mutualgnn bench --out`` folders), headed ``title``;
    ``command`` is the one that writes it; ``reading`` the kept hand-written section (without its
    heading); ``doc``, the page's path, from which it shows the folders' figures."""
    folders = checked_folders(folders)
    stores = {f: ResultStore(f).records() for f in folders}
    runs, coverage, pending, judged = judged_runs(folders, stores)
    suites = [ResultStore(f).dir / "suite.json" for f in folders]
    tuning = []
    for folder, suite_file in zip(folders, suites):
        table, note = _tuning(suite_file, stores[folder])
        if table is not None and len(table):
            tuning.append(table.to_markdown(index=False) + (f"\n\n{note}" if note else ""))
    return "\n".join(
        [
            *_origin_lines(command, judged, folders, stores, coverage, title),
            *_verdict_lines(judged, pending, tuning),
            *_control_lines(judged),
            *_detail_lines(runs, folders, doc, tuning),
        ]
    ) + (f"{READING}{reading}" if reading else "")


def _origin_lines(command: str, judged, folders: list, stores: dict, coverage, title) -> list:
    """The page's title, its declared rules, and where its runs come from."""
    return [
        f"# {title}",
        "",
        "Written by `" + command + "` from the result folders below; every number on this page "
        "comes from their runs (regenerate it with the same command).",
        "",
        "## How the verdict is judged (declared before any number)",
        "",
        declarations(judged, BASELINES, CONTROLS),
        "",
        "## Where the runs come from",
        "",
        sources_table(folders, stores),
        "",
        *(
            [
                "Runs stored against each suite's plan (a dataset not complete is still being run; "
                "its rows below use the runs stored so far):",
                "",
                coverage.to_markdown(index=False),
                "",
            ]
            if len(coverage)
            else []
        ),
    ]


def _verdict_lines(judged, pending: list, tuning: list) -> list:
    """The verdict (GML against every baseline) and the secondary view (against the best)."""
    target = best_baseline_table(judged) if len(judged) else pd.DataFrame()
    waiting = (
        "Left out of this table and the next until their runs are complete: "
        + ", ".join(pending)
        + " (their stored runs are in the tables further down)."
        if pending
        else ""
    )
    return [
        "## The verdict: GML against every baseline",
        "",
        verdict_section(judged, BASELINES, pending),
        "",
        "## The target: GML against its best " + ("equal-budget " if tuning else "") + "baseline",
        "",
        "A secondary view, with the ordinary paired t-test (uncorrected for cross-validation) "
        "and the rival chosen after the fact: each student of a GML cohort against the best of "
        + ", ".join(f"`{b}`" for b in BASELINES)
        + " for the same student on the same seeds and folds (the strongest rival by mean test "
        "score), "
        + (
            "every method tuned with its suite's one grid (below)"
            if tuning
            else "with the suite's settings (no tuning stage in these folders)"
        )
        + "; t-test p-values corrected by Holm's method over all rows.",
        "",
        target.to_markdown(index=False) if len(target) else "(not enough runs yet)",
        "",
        target_counts(target),
        "",
        *([waiting, ""] if waiting else []),
    ]


def _control_lines(judged) -> list:
    """Each control against GML, and whether it does as well."""
    controls = (
        paired_table(judged[judged["method"].isin(("gml", *CONTROLS))], baseline="gml")
        if len(judged)
        else pd.DataFrame()
    )
    equivalent = equivalence_table(judged, CONTROLS) if len(judged) else pd.DataFrame()
    return [
        "## Which ingredient of GML matters: each control against GML",
        "",
        "Each control minus GML for the same student, seed and fold (`gml-sharpen`: a fixed "
        "sharpening instead of the learned ALW weights; `gml-no-alw`: uniform weights; "
        "`gml-no-entropy`: no entropy term); a negative difference means GML's own ingredient "
        "helps, at the setting the control ran with (*lam, T*: its mutual term's weight and "
        "temperature, which a control inherits from GML where the suite tunes). Holm over the "
        "rows of this table.",
        "",
        with_settings(controls, judged).to_markdown(index=False)
        if len(controls)
        else "(no control runs yet)",
        "",
        "Whether a control does as well as GML, per cohort (students averaged within a run), "
        "under the declared tests: equivalent only where TOST rejects a difference of a "
        "margin or more (Holm over the rows); its 90% CI is TOST's.",
        "",
        equivalent.to_markdown(index=False) if len(equivalent) else "(no control runs yet)",
        "",
    ]


def _detail_lines(runs, folders: list, doc, tuning: list) -> list:
    """The tuning choices, accuracy, training curves, each method against its student alone,
    and cost."""
    paired_vs_alone = paired_table(runs) if len(runs) else pd.DataFrame()
    return [
        "## Tuning: the settings each method runs with",
        "",
        "\n\n".join(tuning) if tuning else "(no tuning stage in these folders)",
        "",
        "## Accuracy (%)",
        "",
        *figures(folders, doc, "accuracy"),
        accuracy_table(runs).to_markdown(index=False) if len(runs) else "(no runs yet)",
        "",
        *(
            ["## Training curves", "", *figures(folders, doc, "curves")]
            if figures(folders, doc, "curves")
            else []
        ),
        "## Each method against the same student trained alone (same seed / fold)",
        "",
        paired_vs_alone.to_markdown(index=False)
        if len(paired_vs_alone)
        else "(not enough runs yet)",
        "",
        "## Cost per run",
        "",
        "Medians over a row's runs. *With teachers* adds the run a method needs first: "
        "`kd`'s teachers, its cohort trained alone on the same seed and fold. Seconds are "
        "wall-clock on the machine that ran the suite, as busy as it was at the time: a method "
        "whose runs met more load than its rival's looks dearer for that alone. *p90/p10* (the "
        "90th over the 10th percentile of a row's milliseconds per epoch) shows how much that "
        "load varied within a row; epochs are what the runs computed, whatever the load; "
        "`benchmarks/cost.py` times the methods' epochs interleaved in one process. *Memory "
        "growth*: the process's peak resident memory during a run over the one before it (a "
        "lower bound); *student acc*: the mean single-student test accuracy.",
        "",
        cost_table(runs).rename(columns=COST_HEADERS).to_markdown(index=False)
        if len(runs)
        else "(no runs yet)",
        "",
        *_yardstick_lines(runs),
    ]


def _yardstick_lines(runs) -> list:
    """What early stopping is worth, and each architecture trained alone against the
    literature."""
    stopping = early_stopping_table(runs) if len(runs) else pd.DataFrame()
    published = literature_table(runs) if len(runs) else pd.DataFrame()
    return [
        "## Early stopping: the best validation epoch against the last epoch run",
        "",
        "Every run reports each student at its best validation epoch. Here the same students' "
        "test accuracy at the last epoch run (where early stopping ended the run, or the epoch "
        "cap) beside it, the students averaged within a run; the difference is paired over "
        "runs.",
        "",
        stopping.to_markdown(index=False)
        if len(stopping)
        else "(not recorded: these runs were stored before runs kept their last epoch's scores)",
        "",
        "## Trained alone against the literature",
        "",
        "Each architecture trained alone (`independent`) under this page's protocol, against "
        "the published numbers. The protocols differ where the column *published selection* "
        "says so: Xu et al. (2019) report the epoch of the best mean test curve over the folds, a "
        "selection on test data, and the Planetoid papers use the public split (ours: the rules' "
        "splits). What the selection alone is worth, on runs of every epoch: docs/literature.md.",
        "",
        published.to_markdown(index=False) if len(published) else "(no runs trained alone yet)",
        "",
    ]


def _tuning(suite_file: Path, records: list):
    """The tuning table of a folder whose suite tunes (its suite.json) and the sentence on
    inheriting methods; (None, "") for a folder without tuning."""
    identity = json.loads(suite_file.read_text()) if suite_file.is_file() else {}
    if not identity.get("tuning") or not records:
        return None, ""
    tuning = dict(identity["tuning"])
    inherit = tuning.get("inherit") or {}
    methods = sorted(
        {r.method for r in records}
        | set(tuning.get("methods", []))
        | set(inherit)
        | set(inherit.values())
    )
    suite = Suite(
        name=identity["name"],
        datasets=sorted({r.dataset for r in records}),
        folds=identity["folds"],
        settings=identity["settings"],
        tuning=tuning,
        methods=methods,
    )
    bias = nested_bias_table(suite, records)
    return tuning_table(suite, records), inherit_note(suite) + (
        "\n\nWhat choosing on one fold would have given where the choice is nested: each "
        "method's mean student test score at each outer fold's own choice against the same "
        "folds at the first fold's choice (the rule of the datasets not nested), paired over "
        "folds.\n\n" + bias.to_markdown(index=False)
        if len(bias)
        else ""
    )


def written_for(text: str) -> list | None:
    """The result folders a page names in its first lines (the ``mutualgnn report`` command
    that wrote it: its arguments before the first option), or None if it names no command."""
    found = re.search(r"Written by `mutualgnn report ([^`]+)`", "\n".join(text.splitlines()[:5]))
    if found is None:
        return None
    args = found.group(1).split()
    return args[: next((i for i, a in enumerate(args) if a.startswith("-")), len(args))]


def write_results_page(folders, doc, command: str, force: bool = False) -> Path:
    """Write the page to ``doc``. An existing page is rewritten only for the folders it was
    written for (:func:`written_for`, read from the page's first lines, or from the glance
    block's); a page written for other folders, or a file not written by ``mutualgnn
    report``, raises :class:`ConfigError` unless ``force``. A page holding the glance markers
    gets only their block (and its forest plot) rewritten; another, rewritten for its own
    folders, keeps its title and its ``## Reading`` (forced over another's: replaced whole)."""
    doc = Path(doc)
    old = doc.read_text() if doc.is_file() else None
    parts = glance_parts(old) if old is not None else None
    if old is not None:
        written = written_for(parts[2] if parts else old)
        same = written is not None and _resolved(written) == _resolved(folders)
        if not same and not force and not (parts and written is None):
            what = (
                "was not written by `mutualgnn report` (its first lines name no report command)"
                if written is None
                else f"was written for the result folder(s) {' '.join(written)}, not "
                f"{' '.join(map(str, folders))}"
            )
            raise ConfigError(
                f"{doc} {what}: write this page elsewhere (-o PAGE), or add --force to replace it"
            )
    if parts:
        head, start, _, tail, link = parts
        block = glance(checked_folders(folders), command, figure=doc.parent / link, link=link)
        return write_text(doc, head + start + block + tail)
    reading = old.partition(READING)[2] if old is not None and same else ""
    title = old.splitlines()[0][2:] if old and same and old.startswith("# ") else "Results"
    return write_text(doc, results_page(folders, command, reading, doc, title))


def _resolved(folders) -> set:
    return {Path(f).resolve() for f in folders}
