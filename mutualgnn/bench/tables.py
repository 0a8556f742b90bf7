"""Result tables with pandas, from the long frame of a folder's runs, :func:`records_frame`
(one row per run and student, ``model`` naming the column: an architecture or ``ensemble``).
``mutualgnn table`` (:mod:`~.table`) writes them into a results folder; ``mutualgnn report``
(:mod:`~.report`) puts them on the results page.

* :func:`accuracy_table`: rows (dataset, cohort, method), a column per student and the cohort
  ensemble, cells "mean ± std" of test accuracy in percent (of the dataset's ``metric``, e.g.
  ROC-AUC for ogbg-molhiv, named in a ``metric`` column when some dataset is not judged by
  accuracy), plus the literature's single-model numbers on the ``independent`` rows; with
  ``score="val_acc"`` the same table of validation accuracy, by which settings are chosen.
* :func:`paired_table`: each method minus ``independent`` for the same student on the same
  seed and fold: mean difference, wins/ties/losses, paired t-test and Wilcoxon p-values (scipy).
  ``mutualgnn report`` (:mod:`~.report`) builds the results page's target from these.
* :func:`cost_table`: time and memory per run next to the mean student accuracy.
* :func:`write_tables`: all of them (``accuracy``, ``validation``, ``paired``, ``cost``), as
  markdown (``to_markdown``), CSV and LaTeX (``to_latex``, the best cell of each row in bold).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..files import replacing, write_text
from ..mutual import METHOD_NAMES, METHODS
from .stats import holm, mean_test, paired

#: the columns that name one run of a (dataset, cohort, method), and so pair two methods' runs:
#: its repetition (the split's draw), initialisation and fold
RUN = ["split_seed", "seed", "fold"]

FORMATS = ("md", "csv", "latex")


def records_frame(records: list):
    """Stored run records -> one row per (run, student) plus one ``ensemble`` row per run,
    and the ``ensemble`` method's rows (the ensemble of each ``independent`` run). Failed runs
    (``status`` ``"failed"``) have no scores and are left out; ``records`` are taken as given,
    so pass them deduplicated (:meth:`ResultStore.records`)."""
    rows = []
    for r in records:
        if r.failed:
            continue
        base = dict(
            dataset=r.dataset,
            task=r.task,
            cohort=r.cohort,
            method=r.method,
            seed=r.seed,
            fold=r.fold,
            seconds=r.seconds,
            peak_rss_mb=r.peak_rss_mb,
            rss_before_mb=r.rss_before_mb,
            epochs_run=r.epochs_run,
            split_sha1=r.split_sha1,
            variant=r.variant,
            split_seed=r.split_seed,  # the repetition of a cross-validation
            folds=r.config.get("folds") if r.fold is not None else None,
            node_split=r.config.get("node_split", "public") if r.fold is None else None,
            metric=r.metric,
            lam=(r.config.get("mutual") or {}).get("lam"),  # the mutual term's weight
            temperature=(r.config.get("mutual") or {}).get("temperature"),
        )
        labels = student_labels([s.arch for s in r.students])
        for k, (label, st) in enumerate(zip(labels, r.students)):
            rows.append(
                dict(
                    base,
                    student=k,
                    model=label,
                    arch=st.arch,
                    test_acc=st.test_acc,
                    val_acc=st.val_acc,
                    best_epoch=st.best_epoch,
                    last_test_acc=st.last_test_acc,
                )
            )
        ens = dict(
            base,
            student="ensemble",
            model="ensemble",
            arch=r.cohort,
            test_acc=r.ensemble["test_acc"],
            val_acc=r.ensemble["val_acc"],
            best_epoch=None,
        )
        rows.append(ens)
        if r.method == "independent":
            rows.append(dict(ens, method="ensemble"))
    return pd.DataFrame(rows)


def student_labels(archs) -> list:
    """Column labels of a cohort's students: the architecture, numbered when it repeats
    (``gcn, gat``; ``gin#0, gin#1``)."""
    return [a if archs.count(a) == 1 else f"{a}#{archs[:i].count(a)}" for i, a in enumerate(archs)]


def reference() -> pd.DataFrame:
    """Published single-model test accuracies (percent): ``dataset``, ``arch``, ``test_acc``,
    ``std`` (empty where not published), ``selection`` (how the paper chose its epoch or
    setting: on validation, or on the test folds) and ``source``; a pair may have several."""
    with resources.files("mutualgnn").joinpath("reference.csv").open() as fh:
        return pd.read_csv(fh)


def sorted_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df``'s rows with datasets in order of first appearance and methods in the registry's
    order (:data:`~mutualgnn.mutual.METHOD_NAMES`), others last."""
    datasets = list(dict.fromkeys(df["dataset"]))
    key = {
        "dataset": lambda c: c.map(datasets.index),
        "method": lambda c: c.map(
            lambda m: METHOD_NAMES.index(m) if m in METHOD_NAMES else len(METHOD_NAMES)
        ),
    }
    for col in ("method", "dataset"):  # stable sorts: dataset first, then method
        if col in df:
            df = df.sort_values(col, key=key[col], kind="stable")
    return df


def group_columns(runs: pd.DataFrame) -> list:
    """The columns that name a table row: dataset, cohort, the grid's variant when there is one."""
    has_variant = "variant" in runs and runs["variant"].fillna("").astype(bool).any()
    return ["dataset", "cohort"] + (["variant"] if has_variant else [])


def accuracy_cells(runs: pd.DataFrame, score: str = "test_acc") -> pd.DataFrame:
    """Mean and std (percent) of ``score`` (``test_acc`` or ``val_acc``) and run count per
    (dataset, cohort, [variant,] method, model)."""
    keep = ~((runs["method"] == "independent") & (runs["model"] == "ensemble")) & ~(
        (runs["method"] == "ensemble") & (runs["model"] != "ensemble")
    )
    grouped = runs[keep].groupby(group_columns(runs) + ["method", "model"], sort=False)[score]
    cells = grouped.agg(mean="mean", std="std", runs="count").reset_index()
    cells[["mean", "std"]] = 100 * cells[["mean", "std"]].fillna(0.0)
    return cells


def _scored_otherwise(runs: pd.DataFrame) -> bool:
    """Whether some runs hold another score than accuracy (ogb's ROC-AUC for ogbg-molhiv)."""
    return "metric" in runs and bool((runs["metric"].fillna("acc") != "acc").any())


def accuracy_table(
    runs: pd.DataFrame, bold: str | None = None, score: str = "test_acc"
) -> pd.DataFrame:
    """Rows (dataset, cohort, method); columns the cohort's students, ``ensemble``, ``runs`` and
    (test scores) ``literature``. ``bold`` wraps the best mean of each row, e.g.
    ``"\\textbf{%s}"``. ``score="val_acc"``: the validation scores, what a setting is chosen by."""
    cells = accuracy_cells(runs, score)
    models = list(dict.fromkeys(m for m in cells["model"] if m != "ensemble")) + ["ensemble"]
    cells["text"] = [f"{m:.1f} ± {s:.1f}" for m, s in zip(cells["mean"], cells["std"])]
    index = group_columns(runs) + ["method"]
    if bold:
        best = cells.groupby(index)["mean"].transform("max")
        cells.loc[np.isclose(cells["mean"], best), "text"] = cells.loc[
            np.isclose(cells["mean"], best), "text"
        ].map(lambda t: bold % t)
    table = cells.pivot_table(
        index=index, columns="model", values="text", aggfunc="first", sort=False
    )
    table = table.reindex(columns=[m for m in models if m in table.columns]).fillna("")
    table["runs"] = cells.groupby(index, sort=False)["runs"].max()
    if _scored_otherwise(runs):  # say what the cells hold where it is not accuracy
        table["metric"] = runs.groupby(index, sort=False)["metric"].first()
    table = sorted_rows(table.reset_index())
    ref = reference()
    ref = ref.drop_duplicates(["dataset", "arch"])  # the first source of each, for a glance
    ref_text = {
        d: ", ".join(f"{a} {v:.1f}" for a, v in zip(g["arch"], g["test_acc"]))
        for d, g in ref.groupby("dataset")
    }
    if score == "test_acc":
        table["literature"] = [
            ref_text.get(d, "") if m == "independent" else ""
            for d, m in zip(table["dataset"], table["method"])
        ]
    return table.reset_index(drop=True)


def paired_table(runs: pd.DataFrame, baseline: str = "independent") -> pd.DataFrame:
    """Each method minus ``baseline`` per student, on the seeds/folds both have (points), with
    its 95% confidence interval and the t-test p-values corrected by Holm's method over every
    comparison of the table (:func:`~.stats.holm`: the family is the table)."""
    singles = runs[runs["student"] != "ensemble"]
    groups = group_columns(runs)
    rows = []
    for names, grp in singles.groupby(groups + ["model"], sort=False):
        base = grp[grp["method"] == baseline].set_index(RUN)
        for method in grp["method"].unique():
            if method in (baseline, "ensemble"):
                continue
            other = grp[grp["method"] == method].set_index(RUN)
            common = base.index.intersection(other.index)
            if len(common) < 2:
                continue
            result = paired(other.loc[common, "test_acc"], base.loc[common, "test_acc"])
            rows.append(
                {
                    **dict(zip(groups, names[:-1])),
                    "student": names[-1],
                    "method": method,
                    "runs": result.n,
                    f"diff vs {baseline} (pts)": round(100 * result.mean_diff, 2),
                    "95% CI (pts)": f"[{100 * result.ci_low:+.2f}, {100 * result.ci_high:+.2f}]",
                    "wins/ties/losses": result.record,
                    "t-test p": result.t_p,
                    "Wilcoxon p": float(f"{result.wilcoxon_p:.2g}"),
                }
            )
    if not rows:
        return pd.DataFrame(rows)
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("Wilcoxon p"), "Holm p", holm(table["t-test p"]))
    for column in ("t-test p", "Holm p"):
        table[column] = table[column].map(lambda p: float(f"{p:.2g}"))
    return sorted_rows(table).reset_index(drop=True)


#: the cost table's columns (:func:`~.tables.cost_table`) as the page heads them
COST_HEADERS = {
    "median_seconds": "seconds",
    "median_seconds_with_teachers": "seconds with teachers",
    "median_epochs": "epochs",
    "median_epochs_with_teachers": "epochs with teachers",
    "median_ms_per_epoch": "ms / epoch",
    "ms_per_epoch_spread": "p90/p10",
    "median_peak_growth_mb": "memory growth (MB)",
    "median_peak_mb": "peak memory (MB)",
    "mean_student_acc": "student acc (%)",
}


def cost_table(runs: pd.DataFrame) -> pd.DataFrame:
    """What each (dataset, cohort, method) costs, next to what it gives: median wall seconds
    per run, the same with what the run needs first added (``kd``: its teachers' run, the
    cohort trained alone on the same seed and fold), the median epochs run (with the
    teachers' too), per epoch (runs stop early at different epochs) with its spread (the 90th
    over the 10th percentile of the runs' ms per epoch: near 1 where the machine was as busy
    for every run), the median growth of the process's peak resident memory during a run (MB;
    a lower bound, since memory that earlier runs freed is reused unseen), the process's peak
    (MB), and the mean single-student test accuracy (percent)."""
    per_run = runs[runs["student"] == "ensemble"]
    per_run = per_run[per_run["method"] != "ensemble"].copy()
    per_run["ms_per_epoch"] = 1000 * per_run["seconds"] / per_run["epochs_run"]
    before = per_run["rss_before_mb"] if "rss_before_mb" in per_run else float("nan")
    per_run["peak_growth_mb"] = per_run["peak_rss_mb"] - before
    per_run["with_teachers"] = per_run["seconds"] + _teacher_value(per_run, "seconds")
    per_run["epochs_with_teachers"] = per_run["epochs_run"] + _teacher_value(per_run, "epochs_run")
    index = group_columns(runs) + ["method"]
    groups = per_run.groupby(index, sort=False)
    out = groups.agg(
        runs=("seconds", "count"),
        median_seconds=("seconds", "median"),
        median_seconds_with_teachers=("with_teachers", "median"),
        median_epochs=("epochs_run", "median"),
        median_epochs_with_teachers=("epochs_with_teachers", "median"),
        median_ms_per_epoch=("ms_per_epoch", "median"),
        median_peak_growth_mb=("peak_growth_mb", "median"),
        median_peak_mb=("peak_rss_mb", "median"),
    )
    spread = groups["ms_per_epoch"].quantile(0.9) / groups["ms_per_epoch"].quantile(0.1)
    out.insert(out.columns.get_loc("median_ms_per_epoch") + 1, "ms_per_epoch_spread", spread)
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")]
    out["mean_student_acc"] = 100 * singles.groupby(index, sort=False)["test_acc"].mean()
    return sorted_rows(out.round(1).reset_index()).reset_index(drop=True)


def with_settings(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows of a dataset, cohort and method) with a ``lam, T`` column after
    ``method``: the mutual term's weight and temperature its ``runs`` ran with ("1, 2"), or
    "varies" where they differ (a choice nested in each outer fold)."""

    def setting(row) -> str:
        mine = runs[
            (runs["dataset"] == row["dataset"])
            & (runs["cohort"] == row["cohort"])
            & (runs["method"] == row["method"])
        ]
        pairs = set(zip(mine["lam"], mine["temperature"]))
        if len(pairs) != 1:
            return "varies"
        lam, temperature = pairs.pop()
        if pd.isna(lam) or pd.isna(temperature):  # a run stored without its config
            return "—"
        return f"{lam:g}, {temperature:g}"

    out = table.copy()
    out.insert(out.columns.get_loc("method") + 1, "lam, T", [setting(r) for _, r in out.iterrows()])
    return out


def difference_cells(diff, folds=None) -> tuple:
    """The mean of paired differences ``diff`` (fractions) in points and its 95% CI, as table
    cells; over cross-validation's folds (``folds`` = k) with the corrected resampled t-test's
    standard error (:func:`~.stats.mean_test`, n_test / n_train = 1 / (k - 1)), else the
    paired t-test's. ``("—", "—")`` for fewer than two differences."""
    if len(diff) < 2:
        return "—", "—"
    k = 0 if folds is None or pd.isna(folds) else int(folds)
    test = mean_test(diff, 1 / (k - 1) if k > 1 else 0.0)
    low, high = test.ci()
    return round(100 * test.mean, 2) + 0.0, f"[{100 * low:+.2f}, {100 * high:+.2f}]"


def early_stopping_table(runs: pd.DataFrame) -> pd.DataFrame:
    """What early stopping is worth, per (dataset, cohort, method): the mean student test
    accuracy (percent) at each student's best validation epoch against the same at the last
    epoch run (where training stopped), the students averaged within a run and the difference
    paired over runs (points, with its 95% CI), and the median epochs run. Runs stored before
    the last epoch's scores were recorded are left out."""
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")]
    if "last_test_acc" not in singles:
        return pd.DataFrame()
    singles = singles[singles["last_test_acc"].notna()]
    index = group_columns(runs) + ["method"]
    keys = [c for c in RUN if c in singles]
    per_run = (
        singles.fillna({c: -1 for c in keys})
        .groupby(index + keys, sort=False)
        .agg(
            best=("test_acc", "mean"),
            last=("last_test_acc", "mean"),
            ran=("epochs_run", "first"),
            folds=("folds", "first"),
        )
        .reset_index()
    )
    rows = []
    for names, grp in per_run.groupby(index, sort=False):
        row = dict(zip(index, names), runs=len(grp))
        row["best validation epoch"] = f"{100 * grp['best'].mean():.1f}"
        row["last epoch run"] = f"{100 * grp['last'].mean():.1f}"
        row["last − best (pts)"], row["95% CI (pts)"] = difference_cells(
            grp["last"] - grp["best"], grp["folds"].max()
        )
        row["epochs run (median)"] = f"{grp['ran'].median():.0f}"
        rows.append(row)
    return sorted_rows(pd.DataFrame(rows)).reset_index(drop=True) if rows else pd.DataFrame()


def literature_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Each architecture trained alone (``independent``) against its published numbers
    (:func:`reference`), one row per (dataset, student, source): ours (mean ± std, percent, at
    the best validation epoch, and at the last epoch run), the paper's, how the paper chose
    (on validation or on the test folds), and ours minus the paper's (points)."""
    alone = runs[(runs["method"] == "independent") & (runs["student"] != "ensemble")]
    ref = reference()
    rows = []
    for (dataset, arch), grp in alone.groupby(["dataset", "arch"], sort=False):
        for _, paper in ref[(ref["dataset"] == dataset) & (ref["arch"] == arch)].iterrows():
            last = grp["last_test_acc"].dropna() if "last_test_acc" in grp else grp["test_acc"][:0]
            spread = "" if pd.isna(paper["std"]) else f" ± {paper['std']:.1f}"
            rows.append(
                {
                    "dataset": dataset,
                    "student": arch,
                    "runs": len(grp),
                    "ours: best val epoch": _mean_std(grp["test_acc"]),
                    "ours: last epoch run": _mean_std(last) if len(last) else "—",
                    "published": f"{paper['test_acc']:.1f}{spread}",
                    "ours − published (pts)": round(
                        100 * grp["test_acc"].mean() - paper["test_acc"], 1
                    )
                    + 0.0,  # no -0.0
                    "published selection": paper["selection"],
                    "source": paper["source"],
                }
            )
    return sorted_rows(pd.DataFrame(rows)).reset_index(drop=True) if rows else pd.DataFrame()


def _mean_std(scores: pd.Series) -> str:
    """``mean ± std`` of fractions, in percent."""
    return f"{100 * scores.mean():.1f} ± {100 * scores.std(ddof=1) if len(scores) > 1 else 0:.1f}"


def _teacher_value(per_run: pd.DataFrame, column: str) -> pd.Series:
    """Per run (one row each), ``column`` (seconds, epochs_run) of the run its method needs
    first (``kd``: the cohort trained alone on the same unit,
    :attr:`~mutualgnn.mutual.methods.Method.teachers`); 0 for a method without one, NaN where
    that run is not stored."""
    unit = [
        c for c in ("dataset", "cohort", "variant", "split_seed", "seed", "fold") if c in per_run
    ]
    key = list(zip(*(per_run[c].fillna(-1).astype(str) for c in unit)))
    value = dict(zip(zip(per_run["method"], key), per_run[column]))
    teachers = [getattr(METHODS.get(m), "teachers", None) for m in per_run["method"]]
    return pd.Series(
        [0.0 if t is None else value.get((t, k), float("nan")) for t, k in zip(teachers, key)],
        index=per_run.index,
    )


def write_tables(runs: pd.DataFrame, directory, formats=FORMATS) -> list:
    """Write the accuracy (test), validation, paired and cost tables in ``formats`` into
    ``directory``; returns paths."""
    bad = sorted(set(formats) - set(FORMATS))
    if bad:
        raise ValueError(
            f"unknown table format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "accuracy": accuracy_table(runs),
        "validation": accuracy_table(runs, score="val_acc"),
        "paired": paired_table(runs),
        "cost": cost_table(runs),
    }
    paths = []
    for name, table in tables.items():
        if "md" in formats:
            paths.append(directory / f"{name}.md")
            write_text(paths[-1], table.to_markdown(index=False) + "\n")
        if "csv" in formats:
            paths.append(directory / f"{name}.csv")
            with replacing(paths[-1]) as fh:
                table.to_csv(fh, index=False)
        if "latex" in formats:
            paths.append(directory / f"{name}.tex")
            bold = dict(accuracy="test_acc", validation="val_acc").get(name)
            write_text(
                paths[-1],
                _latex(accuracy_table(runs, bold="\x01%s\x02", score=bold) if bold else table),
            )
    return paths


def _latex(table: pd.DataFrame) -> str:
    """``to_latex`` with LaTeX's special characters escaped and the marked cells in bold."""
    text = table.to_latex(index=False, escape=True)
    return text.replace("\x01", "\\textbf{").replace("\x02", "}").replace("±", "$\\pm$")
