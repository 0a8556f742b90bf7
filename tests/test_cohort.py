"""Cohorts trained end to end: methods, equivalences and determinism."""

import pandas as pd
import pytest
import torch

import mutualgnn
from mutualgnn.config import ExperimentConfig, MutualConfig, TrainConfig
from mutualgnn.experiment import run_experiment

FAST = dict(epochs=15, patience=15, progress=False, threads=1)


def _run(method="gml", dataset="karate", students=("gcn", "gat"), seeds=(0,), folds=3, **mutual):
    cfg = ExperimentConfig(
        dataset=dataset,
        students=list(students),
        method=method,
        seeds=list(seeds),
        folds=folds,
        train=TrainConfig(**FAST),
        mutual=MutualConfig(**mutual),
    )
    return run_experiment(cfg)


def _numbers(result):
    return result.records[["seed", "fold", "student", "test_acc", "val_acc", "best_epoch"]]


def test_gml_with_lambda0_gamma0_equals_independent():
    independent = _run("independent")
    gml = _run("gml", lam=0.0, gamma=0.0)
    pd.testing.assert_frame_equal(_numbers(independent), _numbers(gml))
    h1 = pd.DataFrame(independent.histories[0]["history"])
    h2 = pd.DataFrame(gml.histories[0]["history"])
    pd.testing.assert_frame_equal(h1, h2)


def test_gml_is_deterministic_under_a_seed_and_differs_from_independent():
    a, b = _run("gml"), _run("gml")
    pd.testing.assert_frame_equal(_numbers(a), _numbers(b))
    ha = pd.DataFrame(a.histories[0]["history"])
    hi = pd.DataFrame(_run("independent").histories[0]["history"])
    assert not ha["train_loss"].equals(hi["train_loss"])  # the mutual terms do something


@pytest.mark.parametrize(
    "method", ["independent", "ensemble", "dml", "gml", "gml-no-alw", "gml-no-entropy"]
)
def test_every_method_trains_on_node_and_graph_data(method):
    for dataset, students in (("karate", ("gcn", "gat", "sage")), ("minigc", ("gin", "gcn"))):
        result = _run(method, dataset=dataset, students=students, folds=2)
        rec = result.records
        assert set(rec["student"]) == set(range(len(students))) | {"ensemble"}
        assert rec["test_acc"].between(0, 1).all()
        hist = pd.DataFrame(result.histories[0]["history"])
        assert {"weight", "entropy", "val_acc", "train_loss"} <= set(hist.columns)


@pytest.mark.parametrize("coordinator", ["alw", "gate", "temperature", "uniform"])
def test_coordinator_kinds_and_options_run(coordinator):
    result = _run(
        "gml",
        coordinator=coordinator,
        alternating=coordinator == "gate",
        kl_rows="train" if coordinator == "temperature" else "all",
        gamma_warmup=5,
        temperature=2.0 if coordinator != "temperature" else 1.0,
    )
    hist = pd.DataFrame(result.histories[0]["history"])
    assert hist["weight"].notna().all() and hist["entropy"].gt(0).all()
    if coordinator == "alw":
        assert hist.loc[hist.epoch > 1, "weight"].ne(1.0).any()  # the weights moved


def test_cohort_of_four_same_architecture():
    result = _run("gml", students=("gcn",) * 4)
    assert len(result.records) == 5


def test_training_beats_chance_with_gml_on_minigc():
    cfg = ExperimentConfig(
        dataset="minigc",
        students=["gin", "gin"],
        method="gml",
        seeds=[0],
        folds=4,
        train=TrainConfig(epochs=40, patience=40, progress=False),
    )
    rec = run_experiment(cfg).records
    assert rec[rec.student != "ensemble"].test_acc.mean() > 0.5  # 8 classes: chance 0.125


def test_fit_rejects_mutual_learning_with_one_student():
    data = mutualgnn.load_dataset("karate")
    student = mutualgnn.build_student("gcn", "node", data.num_features, data.num_classes)
    with pytest.raises(ValueError, match="K >= 2"):
        mutualgnn.fit(
            [student],
            data,
            data.split,
            train=TrainConfig(**FAST),
            method="gml",
            mutual=MutualConfig(lam=1.0),
        )


def test_students_end_at_their_best_checkpoint():
    data = mutualgnn.load_dataset("karate")
    torch.manual_seed(0)
    students = [
        mutualgnn.build_student(a, "node", data.num_features, data.num_classes)
        for a in ("gcn", "sage")
    ]
    result = mutualgnn.fit(
        students,
        data,
        data.split,
        train=TrainConfig(**FAST),
        method="gml",
        mutual=MutualConfig(lam=1.0, gamma=0.05),
    )
    logits = mutualgnn.predict(students, data.graph)
    for z, res in zip(logits, result.students):
        val = data.split.val
        acc = (z[val].argmax(-1) == data.labels[val]).float().mean().item()
        assert acc == pytest.approx(res.val_acc)


def test_fit_takes_a_plain_dgl_graph_and_a_list_of_graphs():
    karate = mutualgnn.load_dataset("karate")
    graph = karate.graph
    for part in ("train", "val", "test"):
        mask = torch.zeros(graph.num_nodes(), dtype=torch.bool)
        mask[getattr(karate.split, part)] = True
        graph.ndata[f"{part}_mask"] = mask
    mutualgnn.seed_everything(0)
    students = [mutualgnn.build_student("gcn", "node", 34, 2) for _ in range(2)]
    plain = mutualgnn.fit(
        students, graph, None, train=TrainConfig(**FAST), method="gml", mutual=MutualConfig(lam=1.0)
    )
    mutualgnn.seed_everything(0)
    students = [mutualgnn.build_student("gcn", "node", 34, 2) for _ in range(2)]
    wrapped = mutualgnn.fit(
        students,
        karate,
        karate.split,
        train=TrainConfig(**FAST),
        method="gml",
        mutual=MutualConfig(lam=1.0),
    )
    assert [s.val_acc for s in plain.students] == [s.val_acc for s in wrapped.students]

    mini = mutualgnn.load_dataset("minigc")
    split = mini.splits(folds=3)[0]
    students = [mutualgnn.build_student("gin", "graph", 16, 8) for _ in range(2)]
    result = mutualgnn.fit(
        students,
        (mini.graphs, mini.labels.tolist()),
        split,
        train=TrainConfig(**FAST),
        method="gml",
        mutual=MutualConfig(lam=1.0),
    )
    assert len(result.students) == 2 and 0 <= result.ensemble["test_acc"] <= 1
