"""The verdict of the results page, with its rules declared before any number: whether GML
beats every equal-budget baseline, per dataset and cohort (and per student), and whether a
control does as well as GML.

* A *unit* is one student of a cohort (``level="student"``) or the cohort itself
  (``level="cohort"``: its students' test scores averaged within each run).
* Runs are paired by (``split_seed``, ``seed``, ``fold``): repetition (the split's draw),
  initialisation and fold. Graph datasets (cross-validated) are compared by the corrected
  resampled t-test over r repetitions x k folds (:func:`~.stats.mean_test` with n_test /
  n_train = 1 / (k - 1)); node datasets by the ordinary paired t-test over splits x
  initialisations.
* *Beats every baseline*: the intersection-union test of the one-sided tests "GML > b" for
  every baseline b (p = the largest of their p-values), Holm-adjusted over the family of
  units of the table, at most ``alpha``.
* *Below a baseline*: some baseline is above GML with a two-sided p, Holm-adjusted over the
  family of every (unit, baseline) comparison of the table, at most ``alpha``.
* Otherwise *no difference detected* (the confidence intervals say how large a difference
  the runs leave open).
* *Does as well* (a control against GML): only where the TOST equivalence test within
  ``margin`` rejects, Holm-adjusted over the table's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import holm, intersection_union, mean_test
from .tables import RUN, group_columns, sorted_rows

ALPHA = 0.05
#: the baselines GML is judged against, each tuned with the same budget as GML
BASELINES = ("dml", "kd", "online-ensemble")
#: GML with one ingredient changed: fixed sharpening for ALW, no ALW, no entropy term
CONTROLS = ("gml-sharpen", "gml-no-alw", "gml-no-entropy")
#: the equivalence margin of TOST, in accuracy (1 point)
MARGIN = 0.01
BEATS, NONE, BELOW = "beats every baseline", "no difference detected", "below a baseline"


def scores(runs: pd.DataFrame, level: str = "cohort") -> pd.DataFrame:
    """Test scores of ``runs`` (:func:`~.tables.records_frame`) with one row per (dataset,
    cohort, [variant,] unit, split_seed, seed, fold) and a column per method; ``unit`` is
    the student's label, or ``"cohort"`` for its students' mean within a run. A run without
    a fold (a node dataset) has fold -1."""
    if level not in ("cohort", "student"):
        raise ValueError(f"level must be 'cohort' or 'student', got {level!r}")
    singles = runs[(runs["student"] != "ensemble") & (runs["method"] != "ensemble")].copy()
    singles["fold"] = pd.to_numeric(singles["fold"]).fillna(-1).astype(int)
    singles["unit"] = "cohort" if level == "cohort" else singles["model"]
    index = group_columns(runs) + ["unit"] + RUN
    table = singles.pivot_table(index=index, columns="method", values="test_acc", aggfunc="mean")
    return table.reindex(pd.MultiIndex.from_frame(singles[index].drop_duplicates()))


def ratio_test_train(runs: pd.DataFrame) -> dict:
    """n_test / n_train of one fold per dataset: 1 / (k - 1) for k-fold cross-validation
    (the learning set, training and validation rows, against the test fold), 0 for a dataset
    without folds (a fixed or random split: the ordinary paired t-test)."""
    out = {}
    for dataset, grp in runs.groupby("dataset", sort=False):
        k = pd.to_numeric(grp.get("folds", pd.Series(dtype=float))).dropna()
        if len(k):
            out[dataset] = 1 / (int(k.max()) - 1)
        elif pd.to_numeric(grp["fold"]).notna().any():  # records without their config
            out[dataset] = 1 / (int(pd.to_numeric(grp["fold"]).max()))
        else:
            out[dataset] = 0.0
    return out


def comparisons(
    runs: pd.DataFrame, pairs, level: str = "cohort", margin: float = MARGIN
) -> pd.DataFrame:
    """For each unit and each ``(a, b)`` of ``pairs`` (methods) that both ran on >= 2 shared
    pairs of runs: ``a - b`` over those pairs (fractions): ``n``, ``repetitions``, ``diff``,
    its 95% CI (``ci_low``, ``ci_high``) and 90% CI (``ci90_low``, ``ci90_high``: TOST's at
    alpha 0.05), ``p_greater`` (H0: a <= b), ``p_two`` (H0: a = b) and ``p_tost`` (H0: |a -
    b| >= ``margin``), under the dataset's test (:func:`ratio_test_train`)."""
    table = scores(runs, level)
    ratio = ratio_test_train(runs)
    keys = list(table.index.names[: -len(RUN)])
    rows = []
    for names, grp in table.groupby(level=keys, sort=False):
        for a, b in pairs:
            if a not in grp or b not in grp:
                continue
            shared = grp[[a, b]].dropna()
            if len(shared) < 2:
                continue
            dataset = dict(zip(keys, names))["dataset"]
            test = mean_test(shared[a] - shared[b], ratio[dataset])
            (lo, hi), (lo90, hi90) = test.ci(0.95), test.ci(0.90)
            rows.append(
                {
                    **dict(zip(keys, names)),
                    "a": a,
                    "b": b,
                    "n": test.n,
                    "repetitions": shared.index.get_level_values("split_seed").nunique(),
                    "test_train": ratio[dataset],
                    "diff": test.mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "ci90_low": lo90,
                    "ci90_high": hi90,
                    "p_greater": test.p("greater"),
                    "p_two": test.p("two-sided"),
                    "p_tost": test.tost(margin),
                }
            )
    return pd.DataFrame(rows)


def verdicts(
    runs: pd.DataFrame,
    method: str = "gml",
    baselines=("dml", "kd", "online-ensemble"),
    level: str = "cohort",
    alpha: float = ALPHA,
):
    """The verdict of ``method`` against ``baselines`` per unit (see the module's rules), and
    the comparisons it rests on (:func:`comparisons`, with ``holm_two`` over their family).
    Returns ``(units, against)``: ``units`` one row per unit compared with every baseline
    (``p_iut``, ``holm_iut``, ``verdict``, ``below``: the baselines significantly above)."""
    against = comparisons(runs, [(method, b) for b in baselines], level)
    if not len(against):
        return pd.DataFrame(), against
    keys = [c for c in against.columns if c in ("dataset", "cohort", "variant", "unit")]
    complete = against.groupby(keys, sort=False)["b"].transform("nunique") == len(baselines)
    against = against[complete].reset_index(drop=True)
    if not len(against):
        return pd.DataFrame(), against
    against["holm_two"] = holm(against["p_two"])
    against["significant_above"] = (against["holm_two"] <= alpha) & (against["diff"] < 0)
    units = against.groupby(keys, sort=False).agg(
        n=("n", "min"),
        repetitions=("repetitions", "min"),
        test_train=("test_train", "first"),
        p_iut=("p_greater", intersection_union),
        below=("b", lambda b: ", ".join(b[against.loc[b.index, "significant_above"]])),
    )
    units = units.reset_index()
    units["holm_iut"] = holm(units["p_iut"])
    units["verdict"] = np.where(
        units["holm_iut"] <= alpha, BEATS, np.where(units["below"] != "", BELOW, NONE)
    )
    return units, against


def _pts(x: float) -> str:
    return f"{100 * x:+.2f}"


def _p(p: float) -> float:
    return float(f"{p:.2g}")


def _test_name(row) -> str:
    if row["test_train"] > 0:
        k = round(1 / row["test_train"]) + 1
        return f"corrected t, {row['repetitions']} × {k} folds"
    return f"paired t, {row['n']} pairs over {row['repetitions']} split(s)"


def verdict_table(units: pd.DataFrame, against: pd.DataFrame, method: str = "gml") -> pd.DataFrame:
    """The page's table: per unit, the verdict first (it fits a screen before the rest), the
    intersection-union p's Holm value and the p itself, ``method`` minus each baseline in
    points with its 95% CI, and the test."""
    keys = [c for c in ("dataset", "cohort", "variant", "unit") if c in units]
    rows = []
    for _, unit in units.iterrows():
        row = {k: unit[k] for k in keys}
        row["verdict"] = unit["verdict"] + (f" ({unit['below']})" if unit["below"] else "")
        row["Holm p"] = _p(unit["holm_iut"])
        row["IUT p"] = _p(unit["p_iut"])
        mine = against[(against[keys] == unit[keys]).all(axis=1)]
        for _, c in mine.iterrows():
            row[f"{method} − {c['b']} (pts) [95% CI]"] = (
                f"{_pts(c['diff'])} [{_pts(c['ci_low'])}, {_pts(c['ci_high'])}]"
            )
        row["test"] = _test_name(unit)
        rows.append(row)
    return _unit_named(pd.DataFrame(rows))


def _unit_named(table: pd.DataFrame) -> pd.DataFrame:
    """A table's ``unit`` column: dropped for cohorts, named ``student`` for students."""
    if set(table.get("unit", [])) == {"cohort"}:
        return table.drop(columns="unit")
    return table.rename(columns={"unit": "student"})


def against_table(against: pd.DataFrame, method: str = "gml") -> pd.DataFrame:
    """Each comparison the verdict rests on: one-sided p (``method`` above the baseline),
    two-sided p and its Holm value."""
    keys = [c for c in ("dataset", "cohort", "variant", "unit") if c in against]
    table = against[keys + ["b", "n"]].rename(columns={"b": "baseline", "n": "pairs"})
    table[f"p ({method} > baseline)"] = against["p_greater"].map(_p)
    table["p (two-sided)"] = against["p_two"].map(_p)
    table["Holm p (two-sided)"] = against["holm_two"].map(_p)
    return _unit_named(table)


def verdict_counts(units: pd.DataFrame, method: str = "gml") -> str:
    """The sentence the target is judged by: per verdict, the datasets where some cohort has
    it."""
    if not len(units):
        return "Not enough runs yet for a verdict."
    datasets = list(dict.fromkeys(units["dataset"]))
    by = {
        v: [d for d in datasets if (units[units["dataset"] == d]["verdict"] == v).any()]
        for v in (BEATS, BELOW, NONE)
    }

    def say(names):
        return f"{len(names)} of {len(datasets)} datasets" + (
            f" ({', '.join(names)})" if names else ""
        )

    return (
        f"A {method.upper()} cohort beats every baseline, Holm-significantly, on "
        f"{say(by[BEATS])}; some cohort is below a baseline on {say(by[BELOW])}; for "
        f"some cohort no difference is detected on {say(by[NONE])}."
    )


def verdict_section(runs: pd.DataFrame, baselines, pending=()) -> str:
    """The page's verdict (markdown): per cohort, the verdict table, the sentence of counts and
    the comparisons it rests on; then per student. ``pending``: datasets not judged yet."""
    units, against = verdicts(runs, baselines=baselines) if len(runs) else (pd.DataFrame(),) * 2
    if not len(units):
        return (
            "(no cohort has enough shared runs of GML and each of "
            + ", ".join(f"`{b}`" for b in baselines)
            + " for a verdict)"
        )
    students, student_against = verdicts(runs, baselines=baselines, level="student")
    waiting = (
        ["Not judged until their runs are complete: " + ", ".join(pending) + "."] if pending else []
    )
    return "\n\n".join(
        [
            "Per dataset and cohort (its students averaged within each run), GML minus each of "
            + ", ".join(f"`{b}`" for b in baselines)
            + " with its 95% CI under the declared test; "
            "the intersection-union p of the one-sided tests, Holm over the cohorts.",
            verdict_table(units, against).to_markdown(index=False),
            verdict_counts(units),
            *waiting,
            "The comparisons the cohort verdicts rest on (two-sided Holm over these rows: the "
            "family of *below a baseline*):",
            against_table(against).to_markdown(index=False),
            "Per student: the same rules with each student as the unit (its own families: Holm "
            "over the students, and over every student and baseline for *below*).",
            verdict_table(students, student_against).to_markdown(index=False),
        ]
    )


def equivalence_table(
    runs: pd.DataFrame, controls, method: str = "gml", margin: float = MARGIN, alpha: float = ALPHA
) -> pd.DataFrame:
    """Each control minus ``method`` per cohort (students averaged within a run): the
    difference with its 90% CI (TOST's), the TOST p of equivalence within ``margin`` and the
    two-sided p, each Holm-adjusted over the table's rows, and what may be said: "equivalent
    within ±margin", "differs" or "no difference detected"."""
    comp = comparisons(runs, [(c, method) for c in controls], "cohort", margin)
    if not len(comp):
        return pd.DataFrame()
    comp["holm_tost"], comp["holm_two"] = holm(comp["p_tost"]), holm(comp["p_two"])
    keys = [c for c in ("dataset", "cohort", "variant") if c in comp]
    table = comp[keys + ["a", "n"]].rename(columns={"a": "control", "n": "pairs"})
    table[f"control − {method} (pts)"] = (100 * comp["diff"]).round(2)
    table["90% CI (pts)"] = [
        f"[{_pts(lo)}, {_pts(hi)}]" for lo, hi in zip(comp["ci90_low"], comp["ci90_high"])
    ]
    table["TOST p"], table["Holm TOST p"] = comp["p_tost"].map(_p), comp["holm_tost"].map(_p)
    table["Holm p (two-sided)"] = comp["holm_two"].map(_p)
    table["reads"] = np.where(
        comp["holm_tost"] <= alpha,
        f"equivalent within ±{100 * margin:g} pt",
        np.where(comp["holm_two"] <= alpha, "differs", NONE),
    )
    return sorted_rows(table.rename(columns={"control": "method"})).reset_index(drop=True)


def declarations(
    runs: pd.DataFrame, baselines, controls, alpha: float = ALPHA, margin: float = MARGIN
) -> str:
    """The page's rules, stated before any number: level, sidedness, families, tests,
    equivalence margin, and the repetitions the folders hold."""
    ratio = ratio_test_train(runs) if len(runs) else {}
    graph = [d for d, r in ratio.items() if r > 0]
    node = [d for d, r in ratio.items() if r == 0]
    reps = (
        runs.groupby("dataset", sort=False)["split_seed"].nunique().to_dict() if len(runs) else {}
    )
    random_split = (
        (runs["node_split"] == "random").groupby(runs["dataset"]).all().to_dict()
        if "node_split" in runs
        else {}
    )
    held = {}
    for d in graph + node:
        held.setdefault(
            f"{reps[d]} repetition(s) of {round(1 / ratio[d]) + 1}-fold cross-validation"
            if ratio[d]
            else f"{reps[d]} {'random ' if random_split.get(d) else ''}split(s)",
            [],
        ).append(d)
    held = "; ".join(f"{', '.join(ds)}: {what}" for what, ds in held.items())
    caveats = [
        *(
            [
                "with one repetition the corrected test still corrects for the folds' overlapping "
                "training sets"
            ]
            if any(reps[d] == 1 for d in graph)
            else []
        ),
        *(
            ["with one split a node verdict holds for that split only"]
            if any(reps[d] == 1 for d in node)
            else []
        ),
    ]
    caveats = "; ".join(caveats)
    names = ", ".join(f"`{b}`" for b in baselines)
    return "\n".join(
        [
            f"- **Level**: alpha = {alpha:g} for every claim, after Holm's correction within its "
            "family.",
            f"- **Beats every baseline** (one-sided): a GML unit is above each of {names} by a "
            "one-sided test (H0: GML <= baseline); the intersection-union test's p is the largest "
            "of the three. Units: each cohort (its students' test accuracies averaged within a "
            "run) and, in a second table, each student. Family: the units of the table (Holm).",
            "- **Below a baseline** (two-sided): some baseline above GML with a two-sided p; family: "
            "every (unit, baseline) comparison of the table (Holm). Neither: **no difference "
            "detected**, with the 95% confidence intervals of the differences.",
            f"- **Does as well** (equivalence): only where the two one-sided tests (TOST) reject "
            f"a difference of ±{100 * margin:g} accuracy point or more; family: the rows of the "
            "equivalence table (Holm). Otherwise the page says no difference detected, with the CI.",
            "- **Tests**: runs are paired by repetition (split seed), initialisation (seed) and "
            "fold. Cross-validated (graph) datasets: the corrected resampled t-test (Nadeau & "
            "Bengio 2003; Bouckaert & Frank 2004) over r repetitions × k folds, variance scaled "
            "by 1/n + n_test/n_train with n_test/n_train = 1/(k − 1), df = rk − 1. Node "
            "datasets: the paired t-test over splits × initialisations. Confidence intervals use "
            "the same standard error.",
            "- **Cost** includes what a method needs first: `kd`'s teachers (its cohort trained "
            "alone) are added to its seconds.",
            f"- **What these folders hold**: {held or 'no runs yet apart from tuning runs'}."
            + (f" {caveats[0].upper()}{caveats[1:]}." if caveats else ""),
        ]
    )
