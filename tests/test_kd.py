"""Knowledge distillation (``kd``): each student learns from the other student of its cohort
trained alone, on the same seed and split; a bench trains that run once and finds it."""

from __future__ import annotations

import pytest
import torch

from mutualgnn import ExperimentConfig, TrainConfig
from mutualgnn.bench import ResultStore, Suite, plan, run_suite
from mutualgnn.experiment import run_once, teachers_for
from mutualgnn.mutual import teacher_of, trained_methods

TRAIN = dict(epochs=8, patience=8, progress=False, threads=1)


def test_kd_plans_its_teachers_first():
    assert trained_methods(["kd"]) == ["independent", "kd"]
    assert trained_methods(["gml", "kd", "independent"]) == ["gml", "independent", "kd"]
    suite = Suite(name="t", datasets=["karate"], methods=["kd"], seeds={"node": "0-1"})
    assert [(s.seed, s.method) for s in plan(suite)] == [
        (0, "independent"),
        (0, "kd"),
        (1, "independent"),
        (1, "kd"),
    ]
    assert [teacher_of(k, 3) for k in range(3)] == [1, 2, 0]


def test_run_once_trains_the_teachers_when_none_are_given(karate):
    config = ExperimentConfig(
        dataset="karate", students=["gcn", "gat"], method="kd", train=TrainConfig(**TRAIN)
    )
    alone = run_once(
        ExperimentConfig(
            dataset="karate",
            students=["gcn", "gat"],
            method="independent",
            train=TrainConfig(**TRAIN),
        ),
        karate,
        0,
        karate.split,
    )
    taught = run_once(config, karate, 0, karate.split)
    again = run_once(config, karate, 0, karate.split, teachers=teachers_for(alone.students))
    # the same teachers (the independent run is deterministic) give the same distillation
    assert [s.test_acc for s in taught.fit.students] == [s.test_acc for s in again.fit.students]
    assert [s.best_epoch for s in taught.fit.students] == [s.best_epoch for s in again.fit.students]
    assert teachers_for(alone.students) == [alone.students[1], alone.students[0]]


@pytest.mark.parametrize("jobs", [1, 2])
def test_bench_finds_the_independent_run_and_does_not_retrain_it(tmp_path, monkeypatch, jobs):
    import mutualgnn.experiment as experiment

    suite = Suite(
        name="t",
        datasets=["karate"],
        methods=["independent", "kd"],
        seeds={"node": "0-1"},
        settings={"train": TRAIN},
    )
    out = tmp_path / "out"
    if jobs == 1:  # count the trainings: one per unit, no extra one for the teachers
        calls = []
        real = experiment.fit
        monkeypatch.setattr(
            experiment, "fit", lambda *a, **k: calls.append(k["method"]) or real(*a, **k)
        )
    counts = run_suite(suite, out, jobs=jobs, progress=False, log=lambda *_: None)
    assert counts["ran"] == 4 and counts["failed"] == 0
    if jobs == 1:
        assert calls == ["independent", "kd", "independent", "kd"]
    assert len(list((out / "teachers").glob("*.pt"))) == 2  # one per independent unit
    records = {(r.method, r.seed): r for r in ResultStore(out).read()}
    # the stored teachers give what training them afresh gives
    from mutualgnn import load_dataset

    karate = load_dataset("karate")
    config = ExperimentConfig(
        dataset="karate", students=["gcn", "gat"], method="kd", train=TrainConfig(**TRAIN)
    )
    fresh = run_once(config, karate, 1, karate.split)
    assert [s.test_acc for s in records[("kd", 1)].students] == [
        s.test_acc for s in fresh.fit.students
    ]


def test_stored_teachers_of_another_unit_are_refused(tmp_path, karate):
    from mutualgnn.bench import RunSpec
    from mutualgnn.bench.teachers import (
        _path,
        read_teachers,
        rebuild_teachers,
        save_teachers,
        teacher_key,
        teacher_payload,
    )

    spec = RunSpec("karate", "gcn,gat", "kd", 0, None, "")
    alone = RunSpec("karate", "gcn,gat", "independent", 0, None, "")
    students = [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)]
    written = save_teachers(tmp_path, teacher_payload(alone, students))
    assert written == _path(tmp_path, teacher_key(spec))
    loaded = rebuild_teachers(
        read_teachers(tmp_path, teacher_key(spec)),
        lambda: [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)],
    )
    assert torch.equal(loaded[0].weight, students[1].weight)  # student 0 is taught by student 1
    other = RunSpec("karate", "gcn,gat", "kd", 1, None, "")
    assert read_teachers(tmp_path, teacher_key(other)) is None  # nothing stored for seed 1
    _path(tmp_path, teacher_key(other)).write_bytes(written.read_bytes())  # the wrong unit's
    with pytest.raises(ValueError, match="delete it to have the teachers trained again"):
        read_teachers(tmp_path, teacher_key(other))
