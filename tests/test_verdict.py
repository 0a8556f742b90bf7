"""The verdict (`mutualgnn.bench.verdict`): pairing by repetition, initialisation and fold, the
corrected test on cross-validated datasets, the intersection-union test with Holm, the three
verdicts, equivalence of the controls, kd's cost with its teachers, and the page's order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from mutualgnn.bench import ResultStore, RunRecord, holm, records_frame
from mutualgnn.bench.report import results_page
from mutualgnn.bench.tables import cost_table
from mutualgnn.bench.verdict import (
    BEATS,
    BELOW,
    NONE,
    comparisons,
    equivalence_table,
    ratio_test_train,
    verdict_counts,
    verdict_table,
    verdicts,
)

BASELINES = ("dml", "kd", "online-ensemble")


def _run(dataset, method, seed, fold, scores, split_seed=0, folds=None, seconds=1.0):
    """One stored run of a (gcn, gat) cohort with test accuracies ``scores``."""
    task = "graph" if fold is not None else "node"
    return RunRecord.from_dict(
        dict(
            suite="t",
            dataset=dataset,
            task=task,
            cohort="gcn,gat",
            variant="",
            method=method,
            seed=seed,
            fold=fold,
            status="ok",
            seconds=seconds,
            peak_rss_mb=1.0,
            epochs_run=5,
            split_sha1="x",
            students=[
                dict(arch=a, test_acc=s, val_acc=s, best_epoch=1)
                for a, s in zip(("gcn", "gat"), scores)
            ],
            ensemble=dict(test_acc=scores[0], val_acc=scores[0]),
            config=dict(split_seed=split_seed, folds=folds or 10),
        )
    )


def _node(dataset, offsets, noise=0.0):
    """Ten seeds of each method on one split: 0.7 + seed/100, each method ``offsets[method]``
    above it (both students), with a wobble of ``noise`` that differs by seed and method."""
    out = []
    for seed in range(10):
        for k, (method, off) in enumerate(offsets.items()):
            base = 0.7 + seed / 100
            shift = noise * (-1) ** (seed + k) * (1 + (seed + k) % 3)
            out.append(
                _run(dataset, method, seed, None, (base + off + shift, base + off + 0.5 * shift))
            )
    return out


def test_graph_pairs_are_repetition_by_fold_and_the_test_is_corrected():
    # 2 repetitions x 3 folds; gml's cohort mean minus dml's per pair:
    diffs = {(0, 0): 0.02, (0, 1): 0.00, (0, 2): 0.04, (1, 0): 0.03, (1, 1): 0.01, (1, 2): 0.02}
    records = []
    for (rep, fold), d in diffs.items():
        records.append(_run("MUTAG", "dml", 0, fold, (0.70, 0.80), rep, folds=3))
        # students differ by d + 0.01 and d - 0.01: their mean differs by d
        records.append(_run("MUTAG", "gml", 0, fold, (0.71 + d, 0.79 + d), rep, folds=3))
    records.append(_run("MUTAG", "gml", 0, 0, (0.9, 0.9), 2, folds=3))  # no dml to pair with
    runs = records_frame(records)
    assert ratio_test_train(runs) == {"MUTAG": 0.5}  # 3-fold: 1 / (3 - 1)
    row = comparisons(runs, [("gml", "dml")]).iloc[0]
    d = np.array(list(diffs.values()))
    assert (row["n"], row["repetitions"]) == (6, 2)
    assert row["diff"] == pytest.approx(d.mean())
    t = d.mean() / math.sqrt((1 / 6 + 0.5) * d.var(ddof=1))
    assert row["p_greater"] == pytest.approx(scipy_stats.t.sf(t, 5))
    assert row["p_two"] == pytest.approx(2 * scipy_stats.t.sf(t, 5))
    # per student: gcn's differences are d + 0.01
    student = comparisons(runs, [("gml", "dml")], level="student").set_index("unit")
    assert student.loc["gcn", "diff"] == pytest.approx(d.mean() + 0.01)


def test_one_repetition_is_the_ordinary_case_with_the_correction():
    records = [
        _run("MUTAG", m, 0, fold, (0.7 + (m == "gml") * 0.01 * (fold % 3), 0.7), folds=10)
        for fold in range(10)
        for m in ("gml", "dml")
    ]
    row = comparisons(records_frame(records), [("gml", "dml")]).iloc[0]
    d = np.array([0.005 * (fold % 3) for fold in range(10)])
    ordinary = scipy_stats.ttest_1samp(d, 0.0)
    se = math.sqrt((1 / 10 + 1 / 9) * d.var(ddof=1))
    assert row["n"] == 10 and row["repetitions"] == 1
    assert d.mean() / se == pytest.approx(
        ordinary.statistic * math.sqrt((1 / 10) / (1 / 10 + 1 / 9))
    )
    assert row["p_two"] == pytest.approx(2 * scipy_stats.t.sf(d.mean() / se, 9))


def test_node_datasets_take_the_ordinary_paired_test():
    runs = records_frame(_node("cora", {"gml": 0.01, "dml": 0.0}, noise=0.004))
    assert ratio_test_train(runs) == {"cora": 0.0}
    row = comparisons(runs, [("gml", "dml")]).iloc[0]
    gml = (
        runs[(runs.method == "gml") & (runs.student != "ensemble")]
        .groupby("seed")["test_acc"]
        .mean()
    )
    dml = (
        runs[(runs.method == "dml") & (runs.student != "ensemble")]
        .groupby("seed")["test_acc"]
        .mean()
    )
    want = scipy_stats.ttest_rel(gml, dml, alternative="greater")
    assert row["n"] == 10 and row["p_greater"] == pytest.approx(want.pvalue)


def test_the_three_verdicts_and_holm_over_the_family():
    records = (
        _node(
            "cora", {"gml": 0.03, "dml": 0.0, "kd": 0.01, "online-ensemble": 0.02}, noise=0.002
        )  # above all three
        + _node(
            "citeseer", {"gml": 0.0, "dml": 0.0, "kd": 0.04, "online-ensemble": 0.0}, noise=0.002
        )  # kd far above
        + _node(
            "pubmed", {"gml": 0.03, "dml": 0.0, "kd": 0.03, "online-ensemble": 0.0}, noise=0.002
        )
    )  # kd level with gml
    units, against = verdicts(records_frame(records), baselines=BASELINES)
    by = units.set_index("dataset")
    assert by.loc["cora", "verdict"] == BEATS
    assert by.loc["citeseer", "verdict"] == BELOW and by.loc["citeseer", "below"] == "kd"
    assert by.loc["pubmed", "verdict"] == NONE and by.loc["pubmed", "below"] == ""
    # the IUT's p is the largest one-sided p of the unit; Holm over the units and, for
    # "below", over every (unit, baseline) comparison
    iut = against.groupby("dataset", sort=False)["p_greater"].max()
    assert list(by["p_iut"]) == pytest.approx(list(iut[by.index]))
    assert list(by["holm_iut"]) == pytest.approx(list(holm(by["p_iut"])))
    assert list(against["holm_two"]) == pytest.approx(list(holm(against["p_two"])))
    table = verdict_table(units, against).set_index("dataset")
    assert table.loc["citeseer", "verdict"] == "below a baseline (kd)"
    assert "student" not in table and table.loc["cora", "test"].startswith("paired t, 10 pairs")
    assert verdict_counts(units).startswith(
        "A GML cohort beats every baseline, Holm-significantly, on 1 of 3 datasets (cora); "
        "some cohort is below a baseline on 1 of 3 datasets (citeseer)"
    )


def test_a_unit_without_every_baseline_gets_no_verdict():
    runs = records_frame(_node("cora", {"gml": 0.03, "dml": 0.0, "kd": 0.01}))
    units, against = verdicts(runs, baselines=BASELINES)
    assert units.empty and against.empty


def test_equivalence_only_where_tost_rejects():
    records = _node(
        "cora",
        {"gml": 0.0, "gml-sharpen": 0.001, "gml-no-alw": -0.03, "gml-no-entropy": 0.0},
        noise=0.002,
    )
    records += _node("MUTAG", {"gml": 0.0, "gml-sharpen": 0.0}, noise=0.05)
    table = equivalence_table(
        records_frame(records), ["gml-sharpen", "gml-no-alw", "gml-no-entropy"]
    )
    reads = dict(zip(zip(table["dataset"], table["method"]), table["reads"]))
    assert reads[("cora", "gml-sharpen")] == "equivalent within ±1 pt"
    assert reads[("cora", "gml-no-alw")] == "differs"
    assert reads[("MUTAG", "gml-sharpen")] == NONE  # wide: neither equal nor different
    runs = records_frame(records)
    cohort = (
        runs[runs.student != "ensemble"].groupby(["dataset", "method", "seed"])["test_acc"].mean()
    )
    d = (cohort["cora", "gml-sharpen"] - cohort["cora", "gml"]).to_numpy()
    tost = max(
        scipy_stats.ttest_1samp(d, -0.01, alternative="greater").pvalue,
        scipy_stats.ttest_1samp(d, 0.01, alternative="less").pvalue,
    )
    row = table[(table.dataset == "cora") & (table.method == "gml-sharpen")].iloc[0]
    assert row["TOST p"] == pytest.approx(float(f"{tost:.2g}"))


def test_kd_costs_its_teachers_too():
    records = [_run("cora", "independent", s, None, (0.8, 0.7), seconds=10.0 + s) for s in range(2)]
    records += [_run("cora", "kd", s, None, (0.8, 0.7), seconds=3.0) for s in range(2)]
    records += [_run("cora", "gml", s, None, (0.8, 0.7), seconds=5.0) for s in range(2)]
    cost = cost_table(records_frame(records)).set_index("method")
    assert cost.loc["kd", "median_seconds"] == 3.0
    assert cost.loc["kd", "median_seconds_with_teachers"] == 13.5  # (13 + 14) / 2
    assert cost.loc["gml", "median_seconds_with_teachers"] == 5.0
    assert cost.loc["kd", "median_epochs"] == 5.0
    assert cost.loc["kd", "median_epochs_with_teachers"] == 10.0  # 5 of its own + 5 taught
    # a kd run whose teachers' run is not stored has no total
    cost = cost_table(records_frame(records[2:])).set_index("method")
    assert math.isnan(cost.loc["kd", "median_seconds_with_teachers"])


def test_the_page_declares_its_rules_before_any_number(tmp_path):
    store = ResultStore(tmp_path / "runs")
    store.dir.mkdir()
    for r in _node(
        "cora",
        {"independent": 0.0, "gml": 0.03, "dml": 0.0, "kd": 0.01, "online-ensemble": 0.02},
        noise=0.002,
    ):
        store.append(r)
    page = results_page([store.dir], "cmd")
    rules = page.index("## How the verdict is judged")
    assert rules < page.index("|") and rules < page.index("## Where the runs come from")
    declared = page[rules : page.index("## Where")]
    for words in (
        "alpha = 0.05",
        "one-sided",
        "two-sided",
        "Family",
        "±1 accuracy point",
        "cora: 1 split(s)",
    ):
        assert words in declared
    verdict = page.split("## The verdict")[1].split("\n## ")[0]
    assert "| cora      | gcn,gat  |" in verdict and BEATS in verdict
    assert "on 1 of 1 datasets (cora)" in verdict


def test_the_one_split_and_one_repetition_caveats_only_where_they_hold():
    from mutualgnn.bench.verdict import declarations

    def held(runs):
        text = declarations(records_frame(runs), BASELINES, ())
        return text.split("**What these folders hold**: ")[1]

    one = [_run("cora", "gml", s, None, (0.7, 0.7)) for s in range(2)] + [
        _run("MUTAG", "gml", 0, f, (0.7, 0.7)) for f in range(3)
    ]
    both = held(one)
    assert "With one repetition the corrected test still corrects" in both
    assert "with one split a node verdict holds for that split only" in both
    more = [_run("cora", "gml", 0, None, (0.7, 0.7), split_seed=s) for s in range(2)] + [
        _run("MUTAG", "gml", 0, f, (0.7, 0.7), split_seed=s) for f in range(3) for s in range(3)
    ]
    assert held(more) == ("MUTAG: 3 repetition(s) of 10-fold cross-validation; cora: 2 split(s).")
    for r in more[:2]:
        r.config["node_split"] = "random"
    assert held(more[:2]) == "cora: 2 random split(s)."
    two_splits = [_run("cora", "gml", 0, None, (0.7, 0.7), split_seed=s) for s in range(2)]
    graph_once = held(two_splits + one[2:])
    assert graph_once.endswith(
        "cora: 2 split(s). With one repetition the corrected test still corrects for the "
        "folds' overlapping training sets."
    )
