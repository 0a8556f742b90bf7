"""Datasets: statistics of the six benchmarks, offline staging, splits, names and errors."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from mutualgnn.data import (
    BUILTIN,
    OGB,
    SUITE,
    DatasetError,
    DatasetFormatError,
    DatasetNotFoundError,
    GraphDataset,
    NodeDataset,
    Split,
    canonical_name,
    dataset_table,
    expected_files,
    load_dataset,
    stratified_folds,
    task_of,
)

# ----------------------------------------------------------------------------- statistics

NODE_STATS = {
    "cora": dict(nodes=2708, edges=10556, features=1433, classes=7, train=140, val=500, test=1000),
    "citeseer": dict(
        nodes=3327, edges=9228, features=3703, classes=6, train=120, val=500, test=1000
    ),
    "pubmed": dict(nodes=19717, edges=88651, features=500, classes=3, train=60, val=500, test=1000),
}
GRAPH_STATS = {
    "MUTAG": dict(graphs=188, classes=2, features=7),  # 7 one-hot node labels
    "PROTEINS": dict(graphs=1113, classes=2, features=4),  # 1 attribute + 3 one-hot labels
    "ENZYMES": dict(graphs=600, classes=6, features=21),  # 18 attributes + 3 one-hot labels
}


@pytest.mark.parametrize("name", list(NODE_STATS))
def test_citation_statistics(dataset, name):
    ds = dataset(name)
    assert isinstance(ds, NodeDataset)
    stats = ds.stats()
    assert stats["name"] == name and stats["task"] == "node" and stats["graphs"] == 1
    assert {k: stats[k] for k in NODE_STATS[name]} == NODE_STATS[name]
    g = ds.graph
    assert g.ndata["feat"].dtype == torch.float32
    assert g.ndata["feat"].shape == (NODE_STATS[name]["nodes"], NODE_STATS[name]["features"])
    assert g.ndata["label"].dtype == torch.int64
    assert set(g.ndata["label"].unique().tolist()) == set(range(ds.num_classes))
    # the Planetoid public split: disjoint index sets, 20 training nodes per class
    parts = [set(getattr(ds.split, p).tolist()) for p in ("train", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    counts = torch.bincount(ds.labels[ds.split.train], minlength=ds.num_classes)
    assert counts.tolist() == [20] * ds.num_classes
    assert ds.split.fold is None
    assert ds.splits(folds=10, seed=3) == [ds.split]  # node sets have one split


@pytest.mark.parametrize("name", list(GRAPH_STATS))
def test_tu_statistics(dataset, name):
    ds = dataset(name)
    assert isinstance(ds, GraphDataset)
    stats = ds.stats()
    expected = GRAPH_STATS[name]
    assert stats["name"] == name and stats["task"] == "graph"
    assert (stats["graphs"], stats["classes"], stats["features"]) == (
        expected["graphs"],
        expected["classes"],
        expected["features"],
    )
    assert len(ds.graphs) == len(ds.labels) == expected["graphs"]
    assert ds.labels.dtype == torch.int64
    assert set(ds.labels.tolist()) == set(range(expected["classes"]))
    assert stats["nodes"] == sum(g.num_nodes() for g in ds.graphs)
    feat = torch.cat([g.ndata["feat"] for g in ds.graphs])
    assert feat.dtype == torch.float32 and feat.shape == (stats["nodes"], expected["features"])
    # the node labels come last, one-hot: every row has exactly one 1 among them
    n_attr = {"MUTAG": 0, "PROTEINS": 1, "ENZYMES": 18}[name]
    onehot = feat[:, n_attr:]
    assert set(onehot.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(onehot.sum(1), torch.ones(len(feat)))
    assert (onehot.sum(0) > 0).all(), "every node label value occurs"
    if n_attr:  # continuous attributes are not one-hot
        assert not set(feat[:, :n_attr].unique().tolist()) <= {0.0, 1.0}


def test_builtin_datasets_need_no_files(tmp_path, monkeypatch):
    monkeypatch.setenv("MUTUALGNN_DATA_DIR", str(tmp_path / "nothing"))
    karate = load_dataset("karate", data_dir=tmp_path / "nothing", download=False)
    assert isinstance(karate, NodeDataset)
    assert karate.stats() == {
        "name": "karate",
        "task": "node",
        "graphs": 1,
        "nodes": 34,
        "edges": 156,
        "features": 34,
        "classes": 2,
        "train": 8,
        "val": 13,
        "test": 13,
    }
    parts = [set(getattr(karate.split, p).tolist()) for p in ("train", "val", "test")]
    assert set.union(*parts) == set(range(34)) and sum(map(len, parts)) == 34
    minigc = load_dataset("MiniGC", download=False)
    assert isinstance(minigc, GraphDataset)
    assert (len(minigc.graphs), minigc.num_classes, minigc.num_features) == (240, 8, 16)
    assert set(minigc.labels.tolist()) == set(range(8))
    again = load_dataset("minigc")  # generated from a fixed seed
    assert torch.equal(again.labels, minigc.labels)
    assert all(torch.equal(a.edges()[0], b.edges()[0]) for a, b in zip(again.graphs, minigc.graphs))
    assert not (tmp_path / "nothing").exists()


# ----------------------------------------------------------------------------- staging


def _listing(root: Path) -> dict:
    """Every path under ``root`` with its kind, size, mode and modification time."""
    return {
        str(p.relative_to(root)): (
            p.is_dir(),
            p.stat().st_size if p.is_file() else 0,
            p.stat().st_mode,
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
    }


def test_data_dir_is_never_written(tmp_path, raw_copy):
    data = tmp_path / "data"
    raw_copy("cora", data)
    raw_copy("MUTAG", data)
    before = _listing(data)
    cache = tmp_path / "cache"
    for _ in range(2):  # staging, then DGL's processed cache
        assert load_dataset("cora", data_dir=data, cache_dir=cache).stats()["nodes"] == 2708
        assert load_dataset("mutag", data_dir=data, cache_dir=cache).stats()["graphs"] == 188
    assert _listing(data) == before
    staged = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.name == "ind.cora_v2.x" for p in staged), "raw files are staged into the cache"
    assert any(p.name == "MUTAG_A.txt" for p in staged)


def test_shared_folder_is_never_written(shared_data, tmp_path):
    before = _listing(shared_data / "cora_v2")
    load_dataset("cora", data_dir=shared_data, cache_dir=tmp_path / "cache")
    assert _listing(shared_data / "cora_v2") == before


def test_staged_copy_of_read_only_folder_is_writable(tmp_path, raw_copy):
    """The shared folder is read-only; its staged copy must not be, or a non-root user's DGL
    cannot write its processed cache there (PermissionError) and the stage cannot be removed."""
    data = raw_copy("MUTAG", tmp_path / "data")
    for p in [data, *data.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)  # read-only, like ../shared/datasets
    cache = tmp_path / "cache"
    try:
        assert load_dataset("MUTAG", data_dir=data, cache_dir=cache).stats()["graphs"] == 188
        read_only = [
            str(p.relative_to(cache))
            for p in [cache, *cache.rglob("*")]
            if p.is_dir() and not p.stat().st_mode & stat.S_IWUSR
        ]
        assert read_only == [], f"staged folders without owner write permission: {read_only}"
    finally:
        for p in [data, *data.rglob("*"), *(cache.rglob("*") if cache.exists() else [])]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_changed_raw_files_are_restaged(tmp_path, raw_copy):
    data = raw_copy("MUTAG", tmp_path / "data")
    cache = tmp_path / "cache"
    assert load_dataset("MUTAG", data_dir=data, cache_dir=cache).stats()["graphs"] == 188
    edges = data / "MUTAG" / "MUTAG" / "MUTAG_A.txt"
    good = edges.read_bytes()
    edges.write_bytes(good[:5])  # DGL's processed cache is stale now
    with pytest.raises(DatasetFormatError):
        load_dataset("MUTAG", data_dir=data, cache_dir=cache)
    edges.write_bytes(good)  # repaired: loads again from the same cache
    assert load_dataset("MUTAG", data_dir=data, cache_dir=cache).stats()["graphs"] == 188


# ----------------------------------------------------------------------------- errors


# cora is absent from no data directory: the package ships its files (tests/test_own_data.py)
@pytest.mark.parametrize("name", [n for n in SUITE if n != "cora"])
def test_missing_dataset_names_files_folder_and_variable(tmp_path, name):
    data = tmp_path / "empty"
    data.mkdir()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, data_dir=data, cache_dir=tmp_path / "cache", download=False)
    message = str(info.value)
    assert f"'{name}'" in message
    assert str(data) in message
    assert "MUTUALGNN_DATA_DIR" in message
    files = expected_files(name)
    assert len(files) >= 3
    for f in files:
        assert str(data / f) in message
    assert list(data.iterdir()) == []


def test_missing_dataset_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MUTUALGNN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MUTUALGNN_DOWNLOAD", "0")
    with pytest.raises(DatasetNotFoundError, match="ind.citeseer.graph") as info:
        load_dataset("Citeseer", cache_dir=tmp_path / "cache")  # download=None: env decides
    assert str(tmp_path) in str(info.value)


def test_incomplete_dataset_is_not_found(tmp_path, raw_copy):
    # not cora: an incomplete cora folder falls back to the package's copy
    data = raw_copy("citeseer", tmp_path / "data")
    (data / "citeseer" / "ind.citeseer.ty").unlink()
    with pytest.raises(DatasetNotFoundError, match="ind.citeseer.ty"):
        load_dataset("citeseer", data_dir=data, cache_dir=tmp_path / "cache", download=False)


def test_unknown_dataset_lists_known_names(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("no-such-set", data_dir=tmp_path, cache_dir=tmp_path / "c", download=False)
    message = str(info.value)
    assert "no-such-set" in message
    for known in SUITE + BUILTIN:
        assert known in message


@pytest.mark.parametrize(
    "name, file, size",
    [
        ("MUTAG", "MUTAG/MUTAG/MUTAG_A.txt", 5),
        ("MUTAG", "MUTAG/MUTAG/MUTAG_node_labels.txt", 0),
        ("MUTAG", "MUTAG/MUTAG/MUTAG_graph_labels.txt", 5),
        ("MUTAG", "MUTAG/MUTAG/MUTAG_graph_indicator.txt", 5),
        ("cora", "cora_v2/ind.cora_v2.x", 5),
        ("cora", "cora_v2/ind.cora_v2.graph", 0),
    ],
)
def test_truncated_raw_file_is_a_format_error(tmp_path, raw_copy, name, file, size):
    data = raw_copy(name, tmp_path / "data")
    with open(data / file, "r+b") as fh:
        fh.truncate(size)
    with pytest.raises(DatasetFormatError) as info:
        load_dataset(name, data_dir=data, cache_dir=tmp_path / "fresh-cache", download=False)
    message = str(info.value)
    assert f"'{name}'" in message and "truncated or malformed" in message
    assert isinstance(info.value, DatasetError)


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "given, expected",
    [
        ("cora", "cora"),
        ("Cora", "cora"),
        (" CITESEER ", "citeseer"),
        ("PubMed", "pubmed"),
        ("mutag", "MUTAG"),
        ("Mutag", "MUTAG"),
        ("MUTAG", "MUTAG"),
        ("proteins", "PROTEINS"),
        ("enzymes", "ENZYMES"),
        ("Karate", "karate"),
        ("MINIGC", "minigc"),
        ("tu:IMDB-BINARY", "IMDB-BINARY"),
        ("TU:MUTAG", "MUTAG"),
        ("tu:mutag", "mutag"),
        ("IMDB-BINARY", "IMDB-BINARY"),
        ("NCI1", "NCI1"),
    ],
)
def test_canonical_name(given, expected):
    assert canonical_name(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", "tu:", None])
def test_canonical_name_rejects_empty(bad):
    with pytest.raises(DatasetError):
        canonical_name(bad)


def test_tasks_and_expected_files():
    assert [task_of(n) for n in SUITE + BUILTIN] == ["node"] * 3 + ["graph"] * 3 + ["node", "graph"]
    assert task_of("tu:NCI1") == "graph"
    assert expected_files("cora")[0] == "cora_v2/ind.cora_v2.x"
    assert len(expected_files("pubmed")) == 8
    assert expected_files("proteins") == [
        "PROTEINS/PROTEINS/PROTEINS_A.txt",
        "PROTEINS/PROTEINS/PROTEINS_graph_indicator.txt",
        "PROTEINS/PROTEINS/PROTEINS_graph_labels.txt",
    ]
    assert expected_files("karate") == []


def test_dataset_table(shared_data, tmp_path):
    rows = dataset_table(shared_data)
    assert [r["name"] for r in rows] == list(SUITE + OGB + BUILTIN)
    # ogb's sets are not in the shared folder: tests/test_ogb.py writes tiny ones
    assert all(r["present"] for r in rows if r["name"] not in OGB)
    assert next(r for r in rows if r["name"] == "cora")["source"] == str(shared_data / "cora_v2")
    empty = {r["name"]: (r["present"], r["source"]) for r in dataset_table(tmp_path)}
    assert {n: present for n, (present, _) in empty.items()} == {
        **{n: False for n in SUITE + OGB},
        "cora": True,
        **{n: True for n in BUILTIN},
    }
    assert empty["cora"][1] == "embedded"  # the package's copy of Cora


# ----------------------------------------------------------------------------- splits


def _labels():
    rng = np.random.default_rng(1)
    return rng.permutation(np.repeat([0, 1, 2], [60, 25, 15]))  # imbalanced, 100 graphs


def _check_partition(splits, labels, folds, val_fraction=0.1):
    n = len(labels)
    classes, totals = np.unique(labels, return_counts=True)
    assert len(splits) == folds
    assert [s.fold for s in splits] == list(range(folds))
    tests = []
    for s in splits:
        assert isinstance(s, Split)
        for part in (s.train, s.val, s.test):
            assert part.dtype == torch.int64 and torch.equal(part, part.sort().values)
        tr, va, te = (set(p.tolist()) for p in (s.train, s.val, s.test))
        assert not (tr & va or tr & te or va & te), "train, val and test are disjoint"
        assert tr | va | te == set(range(n)), "each fold uses every graph"
        tests.extend(te)
        # stratified: per-class counts within one of their proportional share
        for part, share in ((s.test, 1 / folds), (s.val, None)):
            counts = np.bincount(labels[part.numpy()], minlength=len(classes))
            expected = totals * (share if share else len(part) / n)
            assert np.all(np.abs(counts - expected) <= 1.0 + 1e-9), (counts, expected)
        assert abs(len(s.val) - val_fraction * (n - len(s.test))) <= 1
    assert sorted(tests) == list(range(n)), "the test folds partition the graphs"


@pytest.mark.parametrize("folds", [10, 5])
def test_stratified_folds_properties(folds):
    labels = _labels()
    _check_partition(stratified_folds(labels, folds=folds, seed=0), labels, folds)


def test_stratified_folds_deterministic_in_seed():
    labels = _labels()
    a = [s.as_lists() for s in stratified_folds(labels, folds=10, seed=7)]
    b = [s.as_lists() for s in stratified_folds(labels, folds=10, seed=7)]
    c = [s.as_lists() for s in stratified_folds(labels, folds=10, seed=8)]
    assert a == b
    assert [s["test"] for s in a] != [s["test"] for s in c]
    assert [s["val"] for s in a] != [s["val"] for s in c]


def test_stratified_folds_rejects_bad_fold_counts():
    labels = _labels()
    with pytest.raises(ValueError, match="folds"):
        stratified_folds(labels, folds=1)
    with pytest.raises(ValueError, match="fewer folds"):
        stratified_folds(labels, folds=20)  # the smallest class has 15 graphs


def test_graph_dataset_splits(dataset):
    mutag = dataset("MUTAG")
    labels = mutag.labels.numpy()
    splits = mutag.splits(folds=10, seed=0)
    _check_partition(splits, labels, 10)
    assert sorted(len(s.test) for s in splits) == [18] * 2 + [19] * 8
    assert [s.as_lists() for s in mutag.splits(seed=0)] == [s.as_lists() for s in splits]
    assert [s.as_lists() for s in mutag.splits(seed=1)] != [s.as_lists() for s in splits]


def test_minigc_splits(minigc):
    _check_partition(
        minigc.splits(folds=5, seed=3, val_fraction=0.2), minigc.labels.numpy(), 5, val_fraction=0.2
    )


def test_flip_labels_counts_and_determinism():
    import torch

    from mutualgnn.data import flip_labels

    labels = torch.arange(100) % 4
    rows = torch.arange(0, 100, 2)  # 50 training rows
    noisy = flip_labels(labels, rows, 0.3, 4, seed=7)
    changed = (noisy != labels).nonzero().flatten()
    assert len(changed) == 15 and set(changed.tolist()) <= set(rows.tolist())
    assert ((noisy >= 0) & (noisy < 4)).all()
    assert torch.equal(noisy, flip_labels(labels, rows, 0.3, 4, seed=7))
    assert not torch.equal(noisy, flip_labels(labels, rows, 0.3, 4, seed=8))
    assert torch.equal(flip_labels(labels, rows, 0.0, 4, seed=7), labels)
    assert labels.tolist() == [i % 4 for i in range(100)]  # the input is not modified
    # every other class is drawn: 2000 flips of class 0 over 4 classes
    many = flip_labels(torch.zeros(2000, dtype=torch.long), torch.arange(2000), 1.0, 4, seed=0)
    counts = torch.bincount(many, minlength=4).tolist()
    assert counts[0] == 0 and all(550 < c < 780 for c in counts[1:])


def test_label_noise_reaches_training_only(karate):
    import torch

    from mutualgnn import ExperimentConfig
    from mutualgnn.experiment import run_once

    labels_before = karate.labels.clone()
    results = {}
    for noise in (0.0, 0.9):
        config = ExperimentConfig.from_dict(
            {
                "dataset": "karate",
                "students": ["gcn"],
                "label_noise": noise,
                "train": {"epochs": 30, "progress": False, "threads": 1},
            }
        )
        results[noise] = run_once(config, karate, 0, karate.split).fit.students[0]
    assert results[0.9].test_acc < results[0.0].test_acc  # 90% wrong training labels hurt
    assert torch.equal(karate.labels, labels_before)  # the loaded dataset is not modified


def test_graph_label_noise_flips_training_graphs_only(minigc, monkeypatch):
    import torch

    import mutualgnn.experiment as experiment
    from mutualgnn import ExperimentConfig

    seen = {}

    def fake_fit(students, data, split, **kwargs):  # what fit would train on
        seen["labels"], seen["split"] = data.labels, split
        raise StopIteration

    monkeypatch.setattr(experiment, "fit", fake_fit)
    config = ExperimentConfig.from_dict(
        {
            "dataset": "minigc",
            "students": ["gin"],
            "label_noise": 0.4,
            "train": {"progress": False, "threads": 1},
        }
    )
    split = minigc.splits(folds=5, seed=0)[2]
    with pytest.raises(StopIteration):
        experiment.run_once(config, minigc, 3, split)
    changed = torch.nonzero(seen["labels"] != minigc.labels).flatten()
    assert set(changed.tolist()) <= set(split.train.tolist())  # validation and test stay clean
    assert len(changed) == round(0.4 * len(split.train))


def test_standardize_features_uses_training_rows_only(minigc, karate):
    import torch

    from mutualgnn.data import standardize_features

    split = minigc.splits(folds=5, seed=0)[1]
    before = [g.ndata["feat"].clone() for g in minigc.graphs]
    scaled = standardize_features(minigc, split.train)
    x_train = torch.cat([before[i] for i in split.train.tolist()]).double()
    mean, std = x_train.mean(0), x_train.std(0, unbiased=False)  # by hand, training graphs only
    std[std == 0] = 1
    for i in (int(split.train[0]), int(split.test[0])):  # one training, one test graph
        expected = (before[i].double() - mean) / std
        assert torch.allclose(scaled.graphs[i].ndata["feat"].double(), expected, atol=1e-5)
        assert scaled.graphs[i].ndata["feat"].dtype == torch.float32
    pooled = torch.cat([scaled.graphs[i].ndata["feat"] for i in split.train.tolist()])
    assert torch.allclose(pooled.mean(0), torch.zeros(pooled.shape[1]), atol=1e-5)
    assert all(torch.equal(g.ndata["feat"], b) for g, b in zip(minigc.graphs, before))  # untouched
    assert scaled.graphs[0].num_edges() == minigc.graphs[0].num_edges()

    rows = karate.split.train
    node = standardize_features(karate, rows).graph.ndata["feat"]
    x = karate.graph.ndata["feat"].double()
    std = x[rows].std(0, unbiased=False)
    std[std == 0] = 1
    assert torch.allclose(node.double(), (x - x[rows].mean(0)) / std, atol=1e-5)


def test_features_setting_is_validated_and_reaches_training(minigc, monkeypatch):
    import torch

    import mutualgnn.experiment as experiment
    from mutualgnn import ExperimentConfig
    from mutualgnn.config import ConfigError

    with pytest.raises(
        ConfigError, match="unknown features 'scaled'; choose from: raw, standard, auto"
    ):
        ExperimentConfig.from_dict({"features": "scaled"})
    seen = {}

    def fake_fit(students, data, split, **kwargs):
        seen["feat"] = data.graphs[int(split.train[0])].ndata["feat"]
        raise StopIteration

    monkeypatch.setattr(experiment, "fit", fake_fit)
    split = minigc.splits(folds=5, seed=0)[0]
    for features in ("raw", "standard"):
        config = ExperimentConfig.from_dict(
            {
                "dataset": "minigc",
                "students": ["gin"],
                "features": features,
                "train": {"progress": False, "threads": 1},
            }
        )
        with pytest.raises(StopIteration):
            experiment.run_once(config, minigc, 0, split)
        raw = minigc.graphs[int(split.train[0])].ndata["feat"]
        assert torch.equal(seen["feat"], raw) == (features == "raw")


def test_auto_features_standardise_continuous_graph_attributes_only(minigc, karate):
    """``features: auto``: minigc's one-hot degrees and every node dataset stay as loaded; a
    graph dataset with one continuous column is standardised as ``standard`` does."""
    import dataclasses

    import torch

    from mutualgnn.data import continuous_features, standardize_features, with_features

    split = minigc.splits(folds=5, seed=0)[1]
    assert not continuous_features(minigc) and not continuous_features(karate)
    assert with_features(minigc, "auto", split.train) is minigc
    assert with_features(karate, "auto", karate.split.train) is karate
    graphs = []
    for g in minigc.graphs:  # a measured attribute beside the one-hot columns
        h = g.local_var()
        h.ndata["feat"] = torch.cat([g.ndata["feat"], 0.5 * g.in_degrees()[:, None].float()], 1)
        graphs.append(h)
    measured = dataclasses.replace(minigc, graphs=graphs)
    assert continuous_features(measured)
    auto = with_features(measured, "auto", split.train)
    standard = standardize_features(measured, split.train)
    assert all(
        torch.equal(a.ndata["feat"], s.ndata["feat"]) for a, s in zip(auto.graphs, standard.graphs)
    )
    assert with_features(measured, "raw", split.train) is measured
    with pytest.raises(ValueError, match="raw, standard, auto"):
        with_features(minigc, "scaled", split.train)
