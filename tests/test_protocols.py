"""The evaluation protocols of a suite: random node splits (Shchur et al. 2018), repetitions
over split seeds (repeated cross-validation), and model selection inside each outer fold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
import torch

from mutualgnn.bench import ResultStore, RunRecord, StudentResult, Suite, plan, run_suite
from mutualgnn.bench.units import spec_config
from mutualgnn.bench.tuning import choose, tuning_table
from mutualgnn.config import ConfigError, ExperimentConfig
from mutualgnn.data import load_dataset
from mutualgnn.data.containers import random_node_split
from mutualgnn.experiment import splits_for
from mutualgnn.bench.verify import verify

LABELS = np.repeat(np.arange(3), [60, 55, 80])  # three classes of 60, 55 and 80 nodes


def test_a_random_node_split_has_20_and_30_nodes_of_every_class_and_tests_the_rest():
    split = random_node_split(LABELS, seed=4)
    for c in range(3):
        assert (LABELS[split.train.numpy()] == c).sum() == 20
        assert (LABELS[split.val.numpy()] == c).sum() == 30
    rows = torch.cat([split.train, split.val, split.test]).sort().values
    assert torch.equal(rows, torch.arange(len(LABELS)))  # disjoint and covering
    assert len(split.test) == len(LABELS) - 150 and split.fold is None


def test_a_random_node_split_is_fixed_by_its_seed():
    first, again, other = (random_node_split(LABELS, s) for s in (1, 1, 2))
    assert first.as_lists() == again.as_lists()
    assert first.as_lists() != other.as_lists()


def test_a_class_too_small_for_a_random_split_is_named():
    with pytest.raises(ValueError, match="class 1 has 50 nodes"):
        random_node_split(np.repeat([0, 1], [60, 50]), seed=0)


def test_experiments_run_on_a_public_or_random_node_split():
    karate = load_dataset("karate")
    public = ExperimentConfig(dataset="karate")
    assert splits_for(public, karate) == [karate.split]
    with pytest.raises(ConfigError, match="unknown node_split 'shchur'"):
        ExperimentConfig(dataset="karate", node_split="shchur")
    cora = load_dataset("cora")
    drawn = splits_for(ExperimentConfig(dataset="cora", node_split="random", split_seed=3), cora)
    assert drawn[0].as_lists() == random_node_split(cora.labels.numpy(), 3).as_lists()
    assert len(drawn[0].train) == 20 * cora.num_classes


def test_a_suite_repeats_every_run_on_its_split_seeds():
    suite = Suite(
        name="r",
        datasets=["karate", "minigc"],
        methods=["independent"],
        cohorts={"node": ["gcn"], "graph": ["gin"]},
        seeds={"node": "0-1", "graph": 0},
        folds=3,
        splits={"node": "5-6", "graph": "0-1"},
    )
    specs = plan(suite)
    node = [(s.split_seed, s.seed) for s in specs if s.dataset == "karate"]
    assert node == [(5, 0), (5, 1), (6, 0), (6, 1)]
    graph = [(s.split_seed, s.fold) for s in specs if s.dataset == "minigc"]
    assert graph == [(r, f) for r in (0, 1) for f in range(3)]
    assert spec_config(suite, specs[-1]).split_seed == 1
    with pytest.raises(ConfigError, match="not both"):
        Suite(name="r", datasets=["karate"], splits={"node": 1}, settings={"split_seed": 2})


def _nested_suite(**kw):
    args = dict(
        name="n",
        datasets=["minigc"],
        methods=["independent", "dml", "gml-no-alw"],
        cohorts={"graph": ["gcn,gcn"]},
        seeds={"graph": 0},
        folds=3,
        splits={"graph": "0-1"},
        settings={"train": {"epochs": 3, "patience": 3, "threads": 1}},
        tuning={
            "grid": {"mutual.lam": [0.1, 1.0]},
            "nested": ["minigc"],
            "inherit": {"gml-no-alw": "dml"},
        },
    )
    args.update(kw)
    return Suite(**args)


def test_a_nested_dataset_tunes_on_every_outer_fold_and_others_on_the_first_split():
    suite = _nested_suite()
    tune = [(s.split_seed, s.fold) for s in plan(suite, stage="tune") if s.method == "dml"]
    assert sorted(set(tune)) == [(r, f) for r in (0, 1) for f in range(3)]
    flat = _nested_suite(tuning={"grid": {"mutual.lam": [0.1, 1.0]}, "run_folds": "0"})
    tune = {(s.split_seed, s.fold) for s in plan(flat, stage="tune") if s.method == "dml"}
    assert tune == {(0, 0)}  # the first split seed's fold 0 only


def _tuning_record(point, split_seed, fold, val):
    return RunRecord(
        suite="t",
        dataset="minigc",
        task="graph",
        cohort="gcn,gcn",
        method="dml",
        split_seed=split_seed,
        seed=0,
        fold=fold,
        variant=f"tune:mutual.lam={point}",
        students=[StudentResult("gcn", val_acc=val, test_acc=0.0, best_epoch=1)] * 2,
    )


def test_a_nested_choice_is_each_outer_folds_best_validation_point():
    suite = _nested_suite()
    records = [
        _tuning_record(0.1, 0, 0, 0.9),
        _tuning_record(1.0, 0, 0, 0.8),
        _tuning_record(0.1, 0, 1, 0.5),
        _tuning_record(1.0, 0, 1, 0.7),
        _tuning_record(0.1, 1, 0, 0.6),
        _tuning_record(1.0, 1, 0, 0.6),
    ]  # a tie
    chosen = choose(suite, records)
    assert chosen[("minigc", "gcn,gcn", "dml", 0, 0, 0)] == ["mutual.lam=0.1"]
    assert chosen[("minigc", "gcn,gcn", "dml", 0, 0, 1)] == ["mutual.lam=1.0"]
    assert chosen[("minigc", "gcn,gcn", "dml", 1, 0, 0)] == ["mutual.lam=0.1"]  # earlier point
    table = tuning_table(suite, records)
    assert list(table["chosen"]) == ["2 of 3 folds", "1 of 3 folds"]


def test_nested_against_the_first_folds_choice_by_hand():
    from mutualgnn.bench.tuning import nested_bias_table

    def run(point, split_seed, fold, val, test):
        record = _tuning_record(point, split_seed, fold, val)
        record.students = [StudentResult("gcn", val_acc=val, test_acc=test, best_epoch=1)] * 2
        return record

    records = [
        run(0.1, 0, 0, 0.9, 0.80),  # the first fold chooses 0.1
        run(1.0, 0, 0, 0.8, 0.70),
        run(0.1, 0, 1, 0.5, 0.60),  # this fold chooses 1.0
        run(1.0, 0, 1, 0.7, 0.90),
        run(0.1, 1, 2, 0.9, 0.75),  # 0.1, as the first
        run(1.0, 1, 2, 0.6, 0.50),
        run(0.1, 1, 0, 0.9, 0.99),  # a fold without every point is left out
    ]
    row = nested_bias_table(_nested_suite(), records).iloc[0]
    nested, cheap = [0.80, 0.90, 0.75], [0.80, 0.60, 0.75]
    assert row["folds"] == 3 and row["folds choosing as the first"] == 2
    assert row["nested (%)"] == pytest.approx(100 * np.mean(nested), abs=0.005)
    assert row["first fold's choice (%)"] == pytest.approx(100 * np.mean(cheap), abs=0.005)
    diff = np.subtract(cheap, nested)  # 0, -0.3, 0
    assert row["difference (pts)"] == pytest.approx(-10.0)
    # the corrected resampled t-test over 3-fold CV: se = sqrt((1/3 + 1/2) var(diff))
    half = stats.t.ppf(0.975, 2) * np.sqrt((1 / 3 + 1 / 2) * diff.var(ddof=1))
    assert (
        row["95% CI (pts)"]
        == f"[{100 * (diff.mean() - half):+.2f}, {100 * (diff.mean() + half):+.2f}]"
    )
    flat = _nested_suite(tuning={"grid": {"mutual.lam": [0.1, 1.0]}})
    assert nested_bias_table(flat, records).empty  # nothing nested


def test_a_nested_suite_finds_each_final_run_in_its_folds_tuning_runs(tmp_path):
    suite = _nested_suite()
    counts = run_suite(suite, tmp_path, progress=False)
    final_dml = [s for s in plan(suite, stage="final") if s.method == "dml"]
    assert counts["found"] == len(final_dml) == 6  # each fold's choice was a tuning run
    records = ResultStore(tmp_path).records()
    by_key = {(r.method, r.variant, r.split_seed, r.fold): r for r in records}
    chosen = choose(suite, records)
    for spec in final_dml:
        stored = by_key[("dml", "", spec.split_seed, spec.fold)]
        point = chosen[("minigc", "gcn,gcn", "dml", spec.split_seed, 0, spec.fold)]
        assert stored.same_as == "tune:" + point[0]
        assert (
            stored.students == by_key[("dml", stored.same_as, spec.split_seed, spec.fold)].students
        )
        # the inheriting control runs dml's choice of the same fold
        control = by_key[("gml-no-alw", "", spec.split_seed, spec.fold)]
        assert control.config["mutual"]["lam"] == float(point[0].split("=")[1])


def test_kd_learns_from_the_teachers_of_its_own_split_seed(tmp_path):
    # verify trains each kd run's teachers itself on the run's own split: a bench that gave
    # a kd run the teachers of another repetition would not reproduce
    suite = Suite(
        name="k",
        datasets=["minigc"],
        methods=["independent", "kd"],
        cohorts={"graph": ["gcn,gin"]},
        seeds={"graph": 0},
        folds=3,
        run_folds=[0],
        splits={"graph": "0-1"},
        settings={"train": {"epochs": 3, "patience": 3, "threads": 1}},
    )
    run_suite(suite, tmp_path, progress=False)
    kd_lines = [n for n, r in ResultStore(tmp_path).numbered() if r.method == "kd"]
    assert len(kd_lines) == 2 and len(list((tmp_path / "teachers").iterdir())) == 2
    assert all(r.ok for r in verify(tmp_path, lines=kd_lines))
