"""A suite's tuning stage: every tuned method gets the same grid on the same tuning seeds and
folds, the choice is made on validation scores only, and the final runs use it."""

from __future__ import annotations

import json

import pytest

from mutualgnn.bench import ResultStore, RunRecord, StudentResult, Suite, plan, run_suite
from mutualgnn.bench.units import spec_config
from mutualgnn.bench.tuning import choose, tuning_table
from mutualgnn.config import ConfigError, ExperimentConfig

TRAIN = {"epochs": 5, "patience": 5, "threads": 1}
GRID = {"mutual.lam": [0.1, 1.0]}


def _suite(**kw):
    args = dict(
        name="t",
        datasets=["karate"],
        methods=["independent", "dml", "kd"],
        seeds={"node": "0-1"},
        settings={"train": TRAIN},
        tuning={"grid": GRID, "seeds": {"node": "0"}},
    )
    args.update(kw)
    return Suite(**args)


@pytest.mark.parametrize(
    "tuning, fragment",
    [
        ({"grid": GRID, "folds": 3}, "unknown key"),
        ({"seeds": {"node": "0"}}, "'grid' must map settings"),
        ({"grid": {"mutual.lam": []}}, "'grid' must map settings"),
        ({"grid": GRID, "methods": ["independent"]}, "other than independent"),
        ({"grid": GRID, "methods": ["gml"]}, "methods of the suite"),
        ({"grid": {"mutual.nope": [1]}}, "nope"),
    ],
)
def test_bad_tuning_is_one_clear_error(tuning, fragment):
    with pytest.raises(ConfigError, match=fragment):
        _suite(tuning=tuning)
    with pytest.raises(ConfigError, match="not both"):
        _suite(grid={"label_noise": [0.0]})


def test_plan_tunes_every_method_alike_and_teachers_first():
    suite = _suite()
    assert suite.tuning["methods"] == ["dml", "kd"]  # every method with those settings
    tune = [(s.method, s.seed, s.variant) for s in plan(suite, stage="tune")]
    assert tune == [
        ("independent", 0, ""),  # kd's teachers: a final run, trained first
        ("dml", 0, "tune:mutual.lam=0.1"),
        ("dml", 0, "tune:mutual.lam=1.0"),
        ("kd", 0, "tune:mutual.lam=0.1"),
        ("kd", 0, "tune:mutual.lam=1.0"),
    ]
    final = [(s.method, s.seed) for s in plan(suite, stage="final")]
    assert final == [(m, seed) for seed in (0, 1) for m in ("independent", "dml", "kd")]
    everything = plan(suite)
    assert len(everything) == len(set(everything)) == len(tune) + len(final) - 1
    with pytest.raises(ConfigError, match="finish the tuning runs first"):
        spec_config(suite, plan(suite, stage="final")[1])


def _record(method, point, seed, vals):
    return RunRecord(
        suite="t",
        dataset="karate",
        task="node",
        cohort="gcn,gat",
        method=method,
        seed=seed,
        variant=f"tune:mutual.lam={point}",
        students=[
            StudentResult("gcn", val_acc=vals[0], test_acc=0.0, best_epoch=1),
            StudentResult("gat", val_acc=vals[1], test_acc=1.0, best_epoch=1),
        ],
    )


def test_choice_by_mean_validation_score_by_hand():
    suite = _suite(seeds={"node": "0-1"}, tuning={"grid": GRID, "seeds": {"node": "0-1"}})
    records = [
        _record("dml", 0.1, 0, (0.6, 0.8)),
        _record("dml", 0.1, 1, (0.7, 0.7)),  # 0.70
        _record("dml", 1.0, 0, (0.9, 0.5)),
        _record("dml", 1.0, 1, (0.8, 0.8)),  # 0.75
        _record("kd", 0.1, 0, (0.5, 0.5)),
        _record("kd", 1.0, 0, (0.5, 0.5)),
    ]  # tie
    assert choose(suite, records) == {
        ("karate", "gcn,gat", "dml"): ["mutual.lam=1.0"],
        ("karate", "gcn,gat", "kd"): ["mutual.lam=0.1"],
    }
    table = tuning_table(suite, records)
    dml = table[table["method"] == "dml"]
    assert list(dml["mean val (%)"]) == [70.0, 75.0] and list(dml["chosen"]) == ["", "yes"]
    assert list(dml["runs"]) == [2, 2]


def test_bench_tunes_then_runs_the_choice(tmp_path):
    suite = _suite(methods=["independent", "dml"])
    out = tmp_path / "out"
    counts = run_suite(suite, out, progress=False, log=lambda *_: None)
    # 2 tuning runs, then 2 x 2 final runs, of which dml seed 0 with the chosen lam is the
    # tuning run of that point: found, not trained again
    assert counts["ran"] == 2 + 3 and counts["found"] == 1 and counts["failed"] == 0
    choices = json.loads((out / "tuning.json").read_text())
    assert [c["method"] for c in choices] == ["dml"]
    chosen = choices[0]["setting"]
    assert "| karate" in (out / "tuning.md").read_text()
    finals = [r for r in ResultStore(out).read() if r.method == "dml" and not r.variant]
    assert len(finals) == 2
    for r in finals:  # the final runs carry the chosen lam in their config
        assert f"mutual.lam={r.config['mutual']['lam']}" == chosen[0]
    found = [r for r in finals if r.same_as is not None]
    assert [(r.seed, r.same_as) for r in found] == [(0, "tune:" + chosen[0])]
    tune = [r for r in ResultStore(out).read() if r.variant == found[0].same_as][0]
    assert found[0].students == tune.students and found[0].seconds == tune.seconds
    # a resume finds nothing left to do
    again = run_suite(suite, out, progress=False, log=lambda *_: None)
    assert again["ran"] == again["found"] == 0 and again["skipped"] == 6
    from mutualgnn.bench import tabulate

    tabulate(out, formats=("md",), plots=False)
    assert "tune:" not in (out / "accuracy.md").read_text()


def test_inheriting_method_runs_its_sources_choice_and_is_not_tuned(tmp_path):
    suite = _suite(
        methods=["independent", "dml", "gml", "gml-no-alw"],
        tuning={"grid": GRID, "seeds": {"node": "0"}, "inherit": {"gml-no-alw": "gml"}},
    )
    assert suite.tuning["methods"] == ["dml", "gml"]  # the inheriting method is not tuned
    assert {s.method for s in plan(suite, stage="tune")} == {"dml", "gml"}
    no_alw = [s for s in plan(suite, stage="final") if s.method == "gml-no-alw"][0]
    with pytest.raises(ConfigError, match="gml's tuning chooses"):
        spec_config(suite, no_alw, choices={("karate", "gcn,gat", "dml"): ["mutual.lam=1.0"]})
    config = spec_config(
        suite,
        no_alw,
        choices={
            ("karate", "gcn,gat", "gml"): ["mutual.lam=0.1"],
            ("karate", "gcn,gat", "dml"): ["mutual.lam=1.0"],
        },
    )
    assert config.method == "gml-no-alw" and config.mutual.lam == 0.1
    from mutualgnn.bench.tuning import write_choices

    records = [_record("gml", 0.1, 0, (0.9, 0.9)), _record("gml", 1.0, 0, (0.5, 0.5))]
    write_choices(suite, records, tmp_path)
    assert json.loads((tmp_path / "tuning.json").read_text()) == [
        dict(dataset="karate", cohort="gcn,gat", method="gml", setting=["mutual.lam=0.1"]),
        dict(
            dataset="karate",
            cohort="gcn,gat",
            method="gml-no-alw",
            setting=["mutual.lam=0.1"],
            **{"from": "gml"},
        ),
    ]
    assert "Not tuned: `gml-no-alw` runs `gml`'s choice." in (tmp_path / "tuning.md").read_text()


@pytest.mark.parametrize(
    "inherit, fragment",
    [
        ({"gml-no-alw": "dml"}, "not gml-no-alw: dml"),  # dml is not a tuned method
        ({"independent": "gml"}, "not independent: gml"),
        ({"gml-no-alw": "nope"}, "not gml-no-alw: nope"),
        (["gml"], "'inherit' must map"),
    ],
)
def test_bad_inherit_is_one_clear_error(inherit, fragment):
    with pytest.raises(ConfigError, match=fragment):
        _suite(
            methods=["independent", "dml", "gml", "gml-no-alw"],
            tuning={"grid": GRID, "methods": ["gml"], "inherit": inherit},
        )


def test_tuning_folds_per_dataset():
    suite = Suite(
        name="t",
        datasets=["MUTAG", "PROTEINS"],
        methods=["independent", "dml"],
        seeds={"graph": "0"},
        folds=4,
        settings={"train": TRAIN},
        tuning={"grid": GRID, "run_folds": {"MUTAG": "0-1", "graph": "0"}},
    )
    tune = {(s.dataset, s.fold) for s in plan(suite, stage="tune")}
    assert tune == {("MUTAG", 0), ("MUTAG", 1), ("PROTEINS", 0)}
    assert len(plan(suite, stage="final")) == 2 * 4 * 2  # every fold of both datasets
    with pytest.raises(ConfigError, match=r"run_folds \[4\] outside 0-3"):
        Suite(
            name="t",
            datasets=["MUTAG"],
            methods=["independent", "dml"],
            folds=4,
            tuning={"grid": GRID, "run_folds": {"MUTAG": "4"}},
        )


def test_computation_ignores_where_and_how_fast_only():
    from mutualgnn.bench.runner import computation

    base = ExperimentConfig.from_dict({"dataset": "cora", "mutual": {"lam": 0.3}}).to_dict()
    kept = json.loads(json.dumps(base))
    other = json.loads(json.dumps(base))
    other["data_dir"] = "/somewhere"
    other["train"].update(threads=4, progress=True)
    assert computation(other) == computation(base)
    other["train"]["epochs"] = 7
    assert computation(other) != computation(base)
    assert base == kept  # the input is not changed
