"""The tuning stage of a suite: every tuned method's grid point of best validation accuracy.

A suite with ``tuning`` (:class:`~.suite.Suite`) runs every point of its grid for every tuned
method on the same tuning seeds and folds (variant ``tune:...``). :func:`choose` picks, per
(dataset, cohort, method), the point whose runs have the highest mean validation score over
runs and students (ties: the earlier point of the grid); test scores play no part. The final
runs use it (:func:`~.units.spec_config`), and :func:`tuning_table` shows the choice with the
validation numbers behind it (``tuning.md`` in the results folder).

A nested dataset (``tuning.nested``) is chosen for inside each outer split and fold instead:
every tuned method's points run on every split seed, seed and fold, and each final run takes
the point of best validation score of its own run (model selection inside the outer fold, as
Errica et al. 2020 do); the table then counts how many outer folds chose each point.
"""

from __future__ import annotations

import json

import pandas as pd

from ..files import write_text
from ..data import task_of
from .suite import TUNE, Suite
from .tables import difference_cells, sorted_rows


def _scores(suite: Suite, records: list) -> pd.DataFrame:
    """One row per tuning run: dataset, cohort, method, point, its outer fold, its students'
    mean validation and test scores."""
    points = [label for label, _ in suite.tuning_points()]
    rows = []
    for r in records:
        if r.variant not in points or r.failed:
            continue
        rows.append(
            dict(
                dataset=r.dataset,
                cohort=r.cohort,
                method=r.method,
                point=r.variant,
                split_seed=r.split_seed,
                seed=r.seed,
                fold=-1 if r.fold is None else r.fold,
                val=sum(s.val_acc for s in r.students) / len(r.students),
                test=sum(s.test_acc for s in r.students) / len(r.students),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "cohort",
            "method",
            "point",
            "split_seed",
            "seed",
            "fold",
            "val",
            "test",
        ],
    )


#: what names one outer fold of a nested choice
OUTER = ["dataset", "cohort", "method", "split_seed", "seed", "fold"]


def _fold_choices(suite: Suite, scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``scores`` chosen inside each outer fold of the nested datasets: per
    :data:`OUTER`, the point of best validation score (ties: the earlier point)."""
    order = {label: i for i, (label, _) in enumerate(suite.tuning_points())}
    nested = scores[[suite.nested(d, task_of(d)) for d in scores["dataset"]]].copy()
    nested["order"] = nested["point"].map(order)
    nested = nested.sort_values(["val", "order"], ascending=[False, True], kind="stable")
    return nested.drop_duplicates(OUTER, keep="first")


def nested_bias_table(suite: Suite, records: list) -> pd.DataFrame:
    """What a nested dataset's cheaper choice would have given: per (dataset, cohort, method),
    over the outer folds where every grid point ran, the mean student test score (percent) at
    each fold's own choice (nested) against the same folds at the choice of the first fold
    alone (its lowest split seed, seed and fold: the rule of the datasets not nested), their
    difference paired over folds (points, with its 95% CI from the corrected resampled t-test:
    :func:`~.tables.difference_cells`), and how many folds chose as the
    first did. Empty without nested datasets."""
    scores = _scores(suite, records)
    scores = scores[[suite.nested(d, task_of(d)) for d in scores["dataset"]]]
    if scores.empty:
        return pd.DataFrame()
    whole = scores.groupby(OUTER)["point"].transform("nunique") == len(suite.tuning_points())
    scores = scores[whole]
    chosen = _fold_choices(suite, scores).sort_values(OUTER[3:])
    rows = []
    for key, folds in chosen.groupby(OUTER[:3], sort=False):
        first = folds["point"].iloc[0]
        cheap = folds[OUTER].merge(scores[scores["point"] == first], on=OUTER)["test"]
        row = dict(zip(OUTER[:3], key), folds=len(folds))
        row["nested (%)"] = round(100 * folds["test"].mean(), 2)
        row["first fold's choice (%)"] = round(100 * cheap.mean(), 2)
        row["difference (pts)"], row["95% CI (pts)"] = difference_cells(
            cheap.to_numpy() - folds["test"].to_numpy(), suite.folds
        )
        row["folds choosing as the first"] = int((folds["point"] == first).sum())
        rows.append(row)
    return sorted_rows(pd.DataFrame(rows)).reset_index(drop=True) if rows else pd.DataFrame()


def tuning_table(suite: Suite, records: list) -> pd.DataFrame:
    """Per (dataset, cohort, method, grid point): tuning runs, mean validation score (percent)
    over runs and students, and whether it is the choice."""
    scores = _scores(suite, records)
    if scores.empty:
        return pd.DataFrame(
            columns=["dataset", "cohort", "method", "setting", "runs", "mean val (%)", "chosen"]
        )
    order = {label: i for i, (label, _) in enumerate(suite.tuning_points())}
    table = (
        scores.groupby(["dataset", "cohort", "method", "point"], sort=False)["val"]
        .agg(["count", "mean"])
        .reset_index()
    )
    table["order"] = table["point"].map(order)
    table = table.sort_values(["dataset", "cohort", "method", "order"], kind="stable")
    table["chosen"] = ""
    per_fold = _fold_choices(suite, scores)
    picked = per_fold.groupby(["dataset", "cohort", "method", "point"]).size()
    folds = per_fold.groupby(["dataset", "cohort", "method"]).size()
    for key, group in table.groupby(["dataset", "cohort", "method"], sort=False):
        if suite.nested(key[0], task_of(key[0])):
            for i, point in zip(group.index, group["point"]):
                table.loc[i, "chosen"] = (
                    f"{picked.get((*key, point), 0)} of {folds.get(key, 0)} folds"
                )
            continue
        best = group.sort_values(["mean", "order"], ascending=[False, True]).index[0]
        table.loc[best, "chosen"] = "yes"
    return pd.DataFrame(
        {
            "dataset": table["dataset"],
            "cohort": table["cohort"],
            "method": table["method"],
            "setting": table["point"].str[len(TUNE) :],
            "runs": table["count"],
            "mean val (%)": (100 * table["mean"]).round(2),
            "chosen": table["chosen"],
        }
    ).reset_index(drop=True)


def choose(suite: Suite, records: list) -> dict:
    """``{(dataset, cohort, method): assignments}``: each tuned method's chosen grid point
    (``key=value`` strings, as :func:`~mutualgnn.config.apply_overrides` takes them); a method
    with no finished tuning run is absent. A nested dataset's choices are per outer fold,
    ``{(dataset, cohort, method, split_seed, seed, fold): assignments}`` (fold None for a
    dataset's one split)."""
    points = dict(suite.tuning_points())
    table = tuning_table(suite, records)
    chosen = table[table["chosen"] == "yes"]
    out = {
        (r.dataset, r.cohort, r.method): points[TUNE + r.setting]
        for r in chosen.itertuples(index=False)
    }
    for r in _fold_choices(suite, _scores(suite, records)).itertuples(index=False):
        out[
            (r.dataset, r.cohort, r.method, r.split_seed, r.seed, None if r.fold == -1 else r.fold)
        ] = points[r.point]
    return out


def inherit_note(suite: Suite) -> str:
    """The sentence saying which methods run another's choice (``tuning.inherit``); ``""``."""
    inherit = suite.tuning.get("inherit") or {}
    sources = sorted(set(inherit.values()))
    return " ".join(
        f"Not tuned: {', '.join(f'`{m}`' for m in inherit if inherit[m] == source)} "
        f"run{'s' if sum(v == source for v in inherit.values()) == 1 else ''} "
        f"`{source}`'s choice."
        for source in sources
    )


def write_choices(suite: Suite, records: list, directory) -> list:
    """``tuning.md`` (the table) and ``tuning.json`` (the choices, an inheriting method's
    with ``from``) in ``directory``."""
    table = tuning_table(suite, records)
    chosen = choose(suite, records)
    names = ("dataset", "cohort", "method", "split_seed", "seed", "fold")
    choices = [dict(zip(names, key), setting=a) for key, a in chosen.items()]
    choices += [
        dict(zip(names, (key[0], key[1], m, *key[3:])), setting=a, **{"from": source})
        for key, a in chosen.items()
        for m, source in (suite.tuning.get("inherit") or {}).items()
        if source == key[2]
    ]
    note = inherit_note(suite)
    return [
        write_text(
            f"{directory}/tuning.md",
            "# Tuning: mean validation score per setting "
            "(the final runs use the chosen one)\n\n"
            + table.to_markdown(index=False)
            + "\n"
            + (f"\n{note}\n" if note else ""),
        ),
        write_text(f"{directory}/tuning.json", json.dumps(choices, indent=1) + "\n"),
    ]
