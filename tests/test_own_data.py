"""Data that needs no data directory: Cora's files shipped in the package, and graph files of
one's own written by ``dgl.save_graphs``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from mutualgnn._dgl_compat import dgl
from mutualgnn.cli import main
from mutualgnn.data import (
    EMBEDDED_DIR,
    DatasetError,
    DatasetFormatError,
    DatasetNotFoundError,
    GraphDataset,
    NodeDataset,
    canonical_name,
    expected_files,
    files_present,
    has_official_split,
    is_file_dataset,
    load_dataset,
    task_of,
)


def _listing(root):
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def assert_same_node_dataset(a: NodeDataset, b: NodeDataset):
    assert a.num_classes == b.num_classes
    assert a.graph.num_nodes() == b.graph.num_nodes()
    for x, y in zip(a.graph.edges(), b.graph.edges()):
        assert torch.equal(x, y)
    for key in ("feat", "label"):
        assert torch.equal(a.graph.ndata[key], b.graph.ndata[key]), key
    for part in ("train", "val", "test"):
        assert torch.equal(getattr(a.split, part), getattr(b.split, part)), part


def _staged_from(cache):
    """The folder each staged copy in ``cache`` was made from."""
    return [json.loads(p.read_text())["source"] for p in cache.rglob("*.source.json")]


# ----------------------------------------------------------------------------- embedded Cora


@pytest.fixture(scope="module")
def shared_cora(shared_data, tmp_path_factory):
    return load_dataset("cora", data_dir=shared_data, cache_dir=tmp_path_factory.mktemp("cache"))


def test_embedded_cora_is_the_shared_one(tmp_path, monkeypatch, shared_cora):
    empty = tmp_path / "empty"
    empty.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("MUTUALGNN_DATA_DIR", str(empty))
    monkeypatch.setenv("MUTUALGNN_DOWNLOAD", "0")
    monkeypatch.setenv("MUTUALGNN_CACHE_DIR", str(cache))
    package_before = _listing(EMBEDDED_DIR)
    for _ in range(2):  # staged, then DGL's processed cache
        assert_same_node_dataset(load_dataset("cora"), shared_cora)
    assert _staged_from(cache) == [str(EMBEDDED_DIR / "cora_v2")]
    assert any(p.name == "cora_v2_dgl_graph.bin" for p in cache.rglob("*")), "processed: cache"
    assert _listing(EMBEDDED_DIR) == package_before, "the package's folder is never written"
    assert list(empty.iterdir()) == []
    assert files_present("cora", empty) is False  # the data directory lacks them


def test_data_directory_wins_over_embedded(tmp_path, raw_copy, shared_cora):
    data = raw_copy("cora", tmp_path / "data")
    cache = tmp_path / "cache"
    # first staged from the package (no files), then from the data directory once it has them
    assert_same_node_dataset(
        load_dataset("cora", data_dir=tmp_path / "none", cache_dir=cache, download=False),
        shared_cora,
    )
    assert_same_node_dataset(
        load_dataset("cora", data_dir=data, cache_dir=cache, download=False), shared_cora
    )
    assert _staged_from(cache) == [str(data / "cora_v2")]
    # the data directory's files are the ones read: a damaged one is an error, not a fallback
    with open(data / "cora_v2" / "ind.cora_v2.x", "r+b") as fh:
        fh.truncate(5)
    with pytest.raises(DatasetFormatError, match="truncated or malformed"):
        load_dataset("cora", data_dir=data, cache_dir=tmp_path / "cache2", download=False)


def test_embedded_cora_without_a_word_of_the_network(tmp_path, monkeypatch, capfd, shared_cora):
    """Downloads allowed and an empty data directory: Cora is the package's copy at once, with
    no download tried and nothing printed; a dataset not shipped is still downloaded."""

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")

    def unreachable(self):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(dgl.data.dgl_dataset, "download", no_network)  # DGL's downloader
    monkeypatch.setattr(dgl.data.CoraGraphDataset, "download", no_network)
    monkeypatch.delenv("MUTUALGNN_DOWNLOAD", raising=False)
    capfd.readouterr()
    cache = tmp_path / "cache"
    got = load_dataset("cora", data_dir=tmp_path / "none", cache_dir=cache)
    assert_same_node_dataset(got, shared_cora)
    assert _staged_from(cache) == [str(EMBEDDED_DIR / "cora_v2")]
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    # no other dataset is shipped: it is downloaded, and a failure is reported
    monkeypatch.setattr(dgl.data.CiteseerGraphDataset, "download", unreachable)
    with pytest.raises(DatasetNotFoundError, match="Downloading failed too: no route to host"):
        load_dataset("citeseer", data_dir=tmp_path / "none", cache_dir=cache, download=True)


def test_only_cora_is_embedded():
    files = sorted(str(p.relative_to(EMBEDDED_DIR)) for p in EMBEDDED_DIR.rglob("*") if p.is_file())
    assert files == sorted(["LICENSE.planetoid", *expected_files("cora")])


# ----------------------------------------------------------------------------- graph files


@pytest.fixture
def node_file(tmp_path, karate):
    """karate's graph with its split as boolean masks, saved as one graph."""
    g = dgl.graph(karate.graph.edges(), num_nodes=karate.graph.num_nodes())
    g.ndata["feat"] = karate.graph.ndata["feat"]
    g.ndata["label"] = karate.graph.ndata["label"]
    for part in ("train", "val", "test"):
        mask = torch.zeros(g.num_nodes(), dtype=torch.bool)
        mask[getattr(karate.split, part)] = True
        g.ndata[f"{part}_mask"] = mask
    path = tmp_path / "club.bin"
    dgl.save_graphs(str(path), [g])
    return path


def _shapes(num: int = 40):
    """``num`` small graphs: cycles (class 0) and stars (class 1), degree one-hot features."""
    graphs, labels = [], []
    for i in range(num):
        n, label = 5 + i % 7, i % 2
        src = torch.arange(n) if label == 0 else torch.zeros(n - 1, dtype=torch.long)
        dst = (torch.arange(n) + 1) % n if label == 0 else torch.arange(1, n)
        g = dgl.to_bidirected(dgl.graph((src, dst), num_nodes=n))
        g.ndata["feat"] = torch.nn.functional.one_hot(g.in_degrees().clamp(max=7), 8).float()
        graphs.append(g)
        labels.append(label)
    return graphs, torch.tensor(labels)


@pytest.fixture
def graph_file(tmp_path):
    graphs, labels = _shapes()
    path = tmp_path / "shapes.bin"
    dgl.save_graphs(str(path), graphs, {"labels": labels})
    return path


def test_node_task_file(node_file, karate):
    name = str(node_file)
    assert canonical_name(name) == name and is_file_dataset(name)
    assert task_of(name) == "node" and has_official_split(name)
    assert files_present(name) and expected_files(name) == []
    data = load_dataset(name, data_dir="/nonexistent", download=False)
    assert isinstance(data, NodeDataset) and data.name == "club"
    assert_same_node_dataset(data, karate)
    assert data.graph.ndata["feat"].dtype == torch.float32


def test_graph_task_file(graph_file):
    name = str(graph_file)
    assert task_of(name) == "graph" and not has_official_split(name)
    data = load_dataset(name)
    graphs, labels = _shapes()
    assert isinstance(data, GraphDataset) and data.name == "shapes"
    assert (len(data.graphs), data.num_classes, data.num_features) == (40, 2, 8)
    assert torch.equal(data.labels, labels)
    assert all(torch.equal(a.ndata["feat"], b.ndata["feat"]) for a, b in zip(data.graphs, graphs))
    splits = data.splits(folds=4)
    assert len(splits) == 4 and all(s.fold == k for k, s in enumerate(splits))


def test_known_names_are_not_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cora").write_text("not a graph")  # a file named like a dataset
    assert canonical_name("cora") == "cora" and task_of("cora") == "node"
    assert not is_file_dataset("cora") and not is_file_dataset("NCI1")
    assert is_file_dataset("graphs.BIN") and is_file_dataset("sub/graphs")


@pytest.mark.parametrize(
    "case, fragment, error",
    [
        ("missing", "no such file", DatasetNotFoundError),
        ("folder", "not a file", DatasetNotFoundError),
        ("text", "not a DGL graph file", DatasetFormatError),
        ("truncated", "a damaged DGL graph file", DatasetFormatError),
        ("no-masks", "lacks 'train_mask', 'val_mask', 'test_mask'", DatasetFormatError),
        ("no-labels", "no graph labels under the key 'labels' (it holds 'y')", DatasetFormatError),
        ("few-labels", "one class index >= 0 per graph", DatasetFormatError),
    ],
)
def test_bad_graph_files(tmp_path, karate, case, fragment, error):
    path = tmp_path / "bad.bin"
    graphs, labels = _shapes(6)
    if case == "folder":
        path = tmp_path / "folder"
        path.mkdir()
    elif case == "text":
        path.write_text("feat,label\n1,0\n")
    elif case == "truncated":
        dgl.save_graphs(str(path), graphs, {"labels": labels})
        path.write_bytes(path.read_bytes()[:200])
    elif case == "no-masks":
        g = karate.graph.local_var()
        dgl.save_graphs(str(path), [g])
    elif case == "no-labels":
        dgl.save_graphs(str(path), graphs, {"y": labels})
    elif case == "few-labels":
        dgl.save_graphs(str(path), graphs, {"labels": labels[:3]})
    with pytest.raises(error) as info:
        load_dataset(str(path))
    message = str(info.value)
    assert isinstance(info.value, DatasetError) and "\n" not in message
    assert fragment in message and str(path) in message
    assert "dgl.save_graphs(path, graphs, labels)" in message  # says what is expected
    if case in ("missing", "folder", "text"):  # the task needs the file too
        with pytest.raises(error, match=fragment):
            task_of(str(path))


# ----------------------------------------------------------------------------- command line

QUICK = ["-s", "gcn", "--epochs", "3", "--no-progress", "--threads", "1"]


def test_cli_runs_node_file(node_file, tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["run", "--dataset", str(node_file), *QUICK, "-o", str(out)])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert df["dataset"].eq("club").all() and df["fold"].isna().all()
    assert len(df) == 2 and df["test_acc"].between(0, 1).all()  # the student and the ensemble


def test_cli_runs_graph_file(graph_file, tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["run", "--dataset", str(graph_file), *QUICK, "--folds", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert df["dataset"].eq("shapes").all() and sorted(set(df["fold"])) == [0, 1]


@pytest.mark.parametrize("case", ["missing", "text"])
def test_cli_bad_graph_file_is_one_line(tmp_path, case):
    path = tmp_path / "bad.bin"
    if case == "text":
        path.write_text("hello\n")
    result = CliRunner().invoke(main, ["run", "--dataset", str(path), *QUICK])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and str(path) in lines[0], lines
    assert "Traceback" not in result.output
