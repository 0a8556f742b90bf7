"""ogb's datasets (ogbn-arxiv, ogbn-products, ogbg-molhiv) on tiny files in ogb's raw format.

Each test writes what ogb 1.3 reads from its download (gzip'd csv without header, under ogb's
folder name) into a temporary data directory: a few dozen nodes or molecules, consistent with
ogb's master.csv (the split folder, node_year for arxiv, 9 atom feature columns for molhiv).
Nothing is downloaded (conftest sets MUTUALGNN_DOWNLOAD=0 and every load passes download=False).
"""

from __future__ import annotations

import builtins
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mutualgnn.data import (
    OGB,
    DatasetFormatError,
    DatasetNotFoundError,
    GraphDataset,
    NodeDataset,
    dataset_table,
    expected_files,
    has_official_split,
    load_dataset,
    task_of,
)
from mutualgnn.metrics import metric_of, ogb_score

NODES, EDGES, FEATURES = 40, 100, 8
MOLECULES = 40
ATOM_DIMS = [119, 5, 12, 12, 10, 6, 6, 2, 2]  # ogb.utils.features.get_atom_feature_dims()
SPLIT = {"ogbn-arxiv": "time", "ogbn-products": "sales_ranking", "ogbg-molhiv": "scaffold"}
CLASSES = {"ogbn-arxiv": 40, "ogbn-products": 47, "ogbg-molhiv": 2}  # ogb's master.csv


def _write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(np.asarray(rows)).to_csv(path, header=False, index=False, compression="gzip")


def write_ogb(root: Path, name: str) -> Path:
    """Tiny raw files of ``name`` in ogb's layout under ``root``; returns ``root``. Node sets:
    40 nodes, 100 directed edges without self-loops, 4 classes, features that carry the class,
    split 20/10/10. molhiv: 40 chains of 3-7 atoms (labels alternate), split 24/8/8."""
    rng = np.random.default_rng(0)
    folder = root / name.replace("-", "_")
    raw = folder / "raw"
    if name.startswith("ogbn-"):
        src = rng.integers(0, NODES, EDGES)
        dst = (src + rng.integers(1, NODES, EDGES)) % NODES  # never a self-loop
        labels = rng.integers(0, 4, NODES)
        feat = rng.normal(size=(NODES, FEATURES)).astype(np.float32)
        feat[np.arange(NODES), labels] += 2.0
        _write(raw / "edge.csv.gz", np.stack([src, dst], 1))
        _write(raw / "node-feat.csv.gz", feat)
        _write(raw / "node-label.csv.gz", labels[:, None])
        _write(raw / "num-node-list.csv.gz", [[NODES]])
        _write(raw / "num-edge-list.csv.gz", [[EDGES]])
        if name == "ogbn-arxiv":
            _write(raw / "node_year.csv.gz", rng.integers(1990, 2021, (NODES, 1)))
        parts = np.split(rng.permutation(NODES), [20, 30])
    else:
        sizes = rng.integers(3, 8, MOLECULES)
        bonds = [(i, i + 1) for n in sizes for i in range(n - 1)]  # within each molecule
        _write(raw / "edge.csv.gz", bonds)
        _write(raw / "edge-feat.csv.gz", rng.integers(0, 3, (len(bonds), 3)))  # read, unused
        _write(
            raw / "node-feat.csv.gz",
            np.stack([rng.integers(0, d, sizes.sum()) for d in ATOM_DIMS], 1),
        )
        _write(raw / "graph-label.csv.gz", (np.arange(MOLECULES) % 2)[:, None])
        _write(raw / "num-node-list.csv.gz", sizes[:, None])
        _write(raw / "num-edge-list.csv.gz", (sizes - 1)[:, None])
        parts = np.split(np.arange(MOLECULES), [24, 32])  # both classes in each part
    for part, rows in zip(("train", "valid", "test"), parts):
        _write(folder / "split" / SPLIT[name] / f"{part}.csv.gz", np.sort(rows)[:, None])
    return root


def _listing(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def ogb_data(tmp_path_factory) -> Path:
    """A read-only data directory with the three tiny sets (like ../shared/datasets)."""
    root = tmp_path_factory.mktemp("ogb-data")
    for name in OGB:
        write_ogb(root, name)
    for p in [*root.rglob("*"), root]:
        p.chmod(p.stat().st_mode & ~0o222)
    yield root
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def ogb_loaded(ogb_data, tmp_path_factory):
    """``ogb_loaded(name)``: the tiny set loaded once per module."""
    cache, loaded = tmp_path_factory.mktemp("ogb-cache"), {}

    def get(name):
        if name not in loaded:
            loaded[name] = load_dataset(name, data_dir=ogb_data, cache_dir=cache, download=False)
        return loaded[name]

    return get


# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("name", ["ogbn-arxiv", "ogbn-products"])
def test_node_sets(ogb_loaded, name):
    data = ogb_loaded(name)
    assert isinstance(data, NodeDataset) and data.task == task_of(name) == "node"
    g = data.graph
    assert g.num_nodes() == NODES and set(g.ndata) == {"feat", "label"}
    assert g.num_edges() == 2 * EDGES  # arxiv: reverses added here; products: by ogb
    src, dst = g.edges()
    assert sorted(zip(src.tolist(), dst.tolist())) == sorted(zip(dst.tolist(), src.tolist()))
    assert g.ndata["feat"].shape == (NODES, FEATURES) and g.ndata["feat"].dtype == torch.float32
    assert data.labels.shape == (NODES,) and data.labels.dtype == torch.int64
    assert data.num_classes == CLASSES[name] and data.metric == metric_of(name) == "acc"
    assert [len(p) for p in (data.split.train, data.split.val, data.split.test)] == [20, 10, 10]
    assert data.split.train.dtype == torch.int64 and data.split.fold is None
    (only,) = data.splits(folds=5, seed=3)
    assert only is data.split


def test_molhiv(ogb_loaded):
    data = ogb_loaded("ogbg-molhiv")
    assert isinstance(data, GraphDataset) and data.task == task_of("ogbg-molhiv") == "graph"
    assert len(data.graphs) == MOLECULES and data.num_classes == 2
    assert data.labels.shape == (MOLECULES,) and data.labels.dtype == torch.int64
    assert data.labels.tolist() == [i % 2 for i in range(MOLECULES)]
    first = data.graphs[0]
    assert first.num_edges() == 2 * (first.num_nodes() - 1)  # bonds in both directions
    assert set(first.ndata) == {"feat"} and set(first.edata) == set()
    feat = torch.cat([g.ndata["feat"] for g in data.graphs])
    assert feat.dtype == torch.float32 and feat.shape[1] == sum(ATOM_DIMS) == data.num_features
    assert torch.equal(feat.sum(1), torch.full((feat.shape[0],), 9.0)), "one-hot per column"
    assert data.metric == metric_of("ogbg-molhiv") == "rocauc"
    # the official scaffold split is the only split, whatever folds asks for
    assert [len(p) for p in (data.split.train, data.split.val, data.split.test)] == [24, 8, 8]
    (only,) = data.splits(folds=10, seed=1)
    assert only is data.split and data.split.fold is None
    assert has_official_split("ogbg-molhiv") and not has_official_split("MUTAG")
    assert data.stats()["test"] == 8


def test_cache_dir_gets_processed_files_and_data_dir_is_untouched(ogb_data, tmp_path, monkeypatch):
    before = _listing(ogb_data)
    cache = tmp_path / "cache"

    def no_stdin(*args):
        raise AssertionError(f"ogb asked on stdin: {args}")

    # the data directory has no RELEASE_v1.txt marker: ogb would ask whether to update
    monkeypatch.setattr(builtins, "input", no_stdin)
    for _ in range(2):  # staging and ogb's processing, then the processed cache
        for name in OGB:
            assert load_dataset(name, data_dir=ogb_data, cache_dir=cache, download=False)
    assert _listing(ogb_data) == before
    for name in OGB:
        staged = cache / name / name.replace("-", "_")
        assert (staged / "processed" / "dgl_data_processed").is_file()
        assert (staged / "RELEASE_v1.txt").is_file()
        assert all((cache / name / f).is_file() for f in expected_files(name)), "staged"


def test_missing_files_name_what_and_where(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    messages = {}
    for name in OGB:
        with pytest.raises(DatasetNotFoundError) as info:
            load_dataset(name, data_dir=empty, cache_dir=tmp_path / "cache", download=False)
        messages[name] = message = str(info.value)
        assert f"'{name}'" in message and "ogb's raw layout" in message
        assert "MUTUALGNN_DATA_DIR" in message and "MUTUALGNN_DOWNLOAD=0" in message
        for f in expected_files(name):
            assert str(empty / f) in message
    assert list(empty.iterdir()) == []
    assert expected_files("ogbn-arxiv") == [
        f"ogbn_arxiv/raw/{f}.csv.gz"
        for f in ("edge", "num-node-list", "num-edge-list", "node-feat", "node-label", "node_year")
    ] + [f"ogbn_arxiv/split/time/{p}.csv.gz" for p in ("train", "valid", "test")]
    assert (
        "nodeproppred/arxiv.zip, unzipped, with its folder 'arxiv' renamed to 'ogbn_arxiv'"
        in messages["ogbn-arxiv"]
    )
    assert "ogbg_molhiv/split/scaffold/test.csv.gz" in messages["ogbg-molhiv"]


def test_atom_features_out_of_range_are_a_format_error(tmp_path):
    data = write_ogb(tmp_path / "data", "ogbg-molhiv")
    atoms = data / "ogbg_molhiv" / "raw" / "node-feat.csv.gz"
    table = pd.read_csv(atoms, header=None).to_numpy()
    table[0, 7] = 2  # "is aromatic" has 2 values
    _write(atoms, table)
    with pytest.raises(DatasetFormatError, match="9 integer atom features"):
        load_dataset("ogbg-molhiv", data_dir=data, cache_dir=tmp_path / "cache", download=False)


def test_incomplete_set_is_not_found(tmp_path):
    data = write_ogb(tmp_path / "data", "ogbn-arxiv")
    (data / "ogbn_arxiv" / "raw" / "node_year.csv.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match="node_year.csv.gz"):
        load_dataset("ogbn-arxiv", data_dir=data, cache_dir=tmp_path / "cache", download=False)


def test_names_and_table(tmp_path):
    from mutualgnn.data import canonical_name

    assert canonical_name("OGBN-ArXiv") == canonical_name("ogbn_arxiv") == "ogbn-arxiv"
    rows = {r["name"]: r for r in dataset_table(tmp_path)}
    assert all(n in rows and not rows[n]["present"] for n in OGB)
    assert rows["ogbg-molhiv"]["metric"] == "rocauc" and rows["cora"]["metric"] == "acc"


# ----------------------------------------------------------------------------- metric


def test_rocauc_is_ogbs_and_sklearns():
    labels = torch.tensor([0, 0, 1, 1, 0, 1])
    logits = torch.tensor(
        [[2.0, -1.0], [0.5, 0.4], [0.1, 0.3], [-1.0, 2.5], [0.0, 1.0], [0.3, 0.1]]
    )  # positive-class margins -3, -.1, .2, 3.5, 1, -.2
    positive = logits.softmax(-1)[:, 1].numpy()
    expected = roc_auc_score(labels.numpy(), positive)
    assert expected == pytest.approx(6 / 9)  # 6 of the 9 (positive, negative) pairs in order
    assert ogb_score("ogbg-molhiv", logits, labels) == pytest.approx(expected, abs=1e-12)
    # averaged probabilities (the ensemble) rank rows as their logits do
    assert ogb_score("ogbg-molhiv", logits.softmax(-1), labels) == pytest.approx(expected)
    assert ogb_score("ogbn-arxiv", logits, labels) == pytest.approx(4 / 6)


def test_training_scores_by_the_datasets_metric(karate, ogb_loaded):
    from mutualgnn.metrics import accuracy as _accuracy
    from mutualgnn.metrics import scorer

    assert scorer(karate.name) is _accuracy, "the default path keeps accuracy in torch"
    scores, labels = torch.tensor([[0.2, 0.8], [0.9, 0.1], [0.6, 0.4]]), torch.tensor([1, 1, 0])
    assert scorer(ogb_loaded("ogbg-molhiv").name)(scores, labels) == 0.5  # ROC-AUC, not accuracy
    assert _accuracy(scores, labels) == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- training


@pytest.mark.parametrize(
    "name, students",
    [
        ("ogbn-arxiv", ["gcn", "sage"]),
        ("ogbn-products", ["gcn", "mlp"]),
        ("ogbg-molhiv", ["gin", "gcn"]),
    ],
)
def test_cohort_trains_end_to_end(ogb_loaded, name, students):
    from mutualgnn.config import ExperimentConfig, TrainConfig
    from mutualgnn.experiment import run_experiment

    data = ogb_loaded(name)
    config = ExperimentConfig(
        dataset=name,
        students=students,
        method="gml",
        seeds=[0],
        folds=10,
        train=TrainConfig(epochs=3, threads=1, progress=False),
    )
    records = run_experiment(config, dataset=data).records
    assert len(records) == 3 and records["fold"].isna().all()  # the official split, once
    assert (records["metric"] == metric_of(name)).all()
    assert records["test_acc"].between(0, 1).all() and records["val_acc"].between(0, 1).all()


def test_molhiv_test_score_is_the_roc_auc_of_the_best_checkpoint(ogb_loaded):
    """``test_acc`` of a molhiv student is sklearn's ROC-AUC of its best checkpoint's
    positive-class probability on the official test molecules."""
    import mutualgnn
    from mutualgnn.config import MutualConfig, TrainConfig
    from mutualgnn.training import eval_batches

    data = ogb_loaded("ogbg-molhiv")
    mutualgnn.seed_everything(0)
    students = [
        mutualgnn.build_student(arch, "graph", data.num_features, data.num_classes)
        for arch in ("gin", "gcn")
    ]
    result = mutualgnn.fit(
        students,
        data,
        data.split,
        method="gml",
        mutual=MutualConfig(lam=1.0, gamma=0.0),
        train=TrainConfig(epochs=4, threads=1, progress=False),
    )
    batches = eval_batches(data.graphs, data.labels, data.split.test)
    labels = torch.cat([y for _, y in batches]).numpy()
    for k, student in enumerate(students):  # fit left each at its best checkpoint
        logits = torch.cat([mutualgnn.predict([student], g)[0] for g, _ in batches])
        positive = logits.double().softmax(-1)[:, 1].detach().numpy()
        assert result.students[k].test_acc == pytest.approx(roc_auc_score(labels, positive))


def test_bench_runs_molhiv_once_on_its_official_split(ogb_data):
    from mutualgnn.bench import Suite, execute, plan, plan_runs

    suite = Suite(
        name="ogb",
        datasets=["ogbg-molhiv", "MUTAG"],
        methods=["independent"],
        folds=5,
        settings={"train": {"epochs": 2}},
    )
    specs = plan(suite)
    assert {s.fold for s in specs if s.dataset == "ogbg-molhiv"} == {None}
    assert {s.fold for s in specs if s.dataset == "MUTAG"} == set(range(5))
    spec = next(s for s in specs if s.dataset == "ogbg-molhiv")
    record = execute(plan_runs(suite, [spec], data_dir=ogb_data, threads=1)[0]).record
    assert record.metric == "rocauc" and record.fold is None
    assert 0 <= record.ensemble["test_acc"] <= 1
