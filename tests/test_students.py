"""Students: output shapes, the registry's errors, hyper-parameter defaults and overrides."""

from __future__ import annotations

import pytest
import torch

from mutualgnn._dgl_compat import dgl
from mutualgnn.students import (
    DATASET_DEFAULTS,
    DEFAULTS,
    StudentError,
    architectures,
    build_student,
    student_hparams,
)
from mutualgnn.training import predict, seed_everything

NODE_ARCHS = ["gcn", "gat", "sage", "gin", "mlp"]
GRAPH_ARCHS = ["gin", "gcn", "sage", "gat"]
READOUTS = ["sum", "mean", "max"]


def test_registry_names():
    assert architectures("node") == NODE_ARCHS
    assert architectures("graph") == GRAPH_ARCHS


@pytest.mark.parametrize("arch", NODE_ARCHS)
def test_node_student_shapes(karate, arch):
    seed_everything(0)
    g = dgl.add_self_loop(dgl.remove_self_loop(karate.graph))
    feat = g.ndata["feat"]
    model = build_student(arch, "node", karate.num_features, karate.num_classes)
    assert (model.arch, model.task) == (arch, "node")
    assert model.hparams == student_hparams(arch, "node")
    model.train()
    out = model(g, feat)
    assert out.shape == (34, 2) and out.dtype == torch.float32
    out.sum().backward()  # every parameter takes part in the output
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with torch.no_grad():
        a, b = model(g, feat), model(g, feat)
    assert torch.isfinite(a).all() and torch.equal(a, b), "eval mode is deterministic"
    # predict adds the self-loops and passes the features the way training does (karate's
    # one-hot identity features are sparse enough to be given as a sparse matrix): same logits
    (logits,) = predict([model], karate.graph)
    assert logits.shape == (34, 2) and not logits.is_sparse
    assert torch.allclose(logits, a, atol=1e-5)


@pytest.fixture(scope="module")
def minigc_batch(minigc):
    # one graph of each of the first 7 shapes (graphs of one shape can be indistinguishable)
    graphs = [minigc.graphs[int((minigc.labels == c).nonzero()[0])] for c in range(7)]
    batch = dgl.batch(graphs)
    assert batch.batch_size == 7
    return batch, graphs


@pytest.mark.parametrize("readout", READOUTS)
@pytest.mark.parametrize("arch", GRAPH_ARCHS)
def test_graph_student_shapes(minigc, minigc_batch, arch, readout):
    batch, graphs = minigc_batch
    seed_everything(0)
    model = build_student(arch, "graph", minigc.num_features, minigc.num_classes, readout=readout)
    assert model.hparams["readout"] == readout
    model.train()
    out = model(batch, batch.ndata["feat"])
    assert out.shape == (7, 8)
    out.sum().backward()
    model.eval()
    with torch.no_grad():
        z = model(batch, batch.ndata["feat"])
        assert z.shape == (7, 8) and torch.isfinite(z).all()
        # graph-level: each row depends on its own graph only
        single = model(graphs[3], graphs[3].ndata["feat"])
    assert single.shape == (1, 8)
    assert torch.allclose(single[0], z[3], atol=1e-5)
    (logits,) = predict([model], batch)
    assert torch.allclose(logits, z)


def test_readouts_differ(minigc, minigc_batch):
    batch, _ = minigc_batch
    outs = []
    for readout in READOUTS:
        seed_everything(0)
        model = build_student(
            "gin", "graph", minigc.num_features, minigc.num_classes, readout=readout
        ).eval()
        with torch.no_grad():
            outs.append(model(batch, batch.ndata["feat"]))
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[1], outs[2])


def test_graph_gcn_aggregates_by_the_mean_with_norm_right():
    """norm "right": node v gets W * mean of x_u over u in N(v) and v itself, plus the bias
    (Xu et al.'s GCN baseline); the default "both" is D^-1/2 (A + I) D^-1/2."""
    g = dgl.graph(([0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]))  # a path 0-1-2-3, both directions
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    seed_everything(0)
    mean = build_student("gcn", "graph", 3, 2, hidden=4, norm="right")
    conv = mean.convs[0]
    with torch.no_grad():
        out = conv(dgl.add_self_loop(g), x)
    by_hand = torch.stack(
        [(x[0] + x[1]) / 2, (x[0] + x[1] + x[2]) / 3, (x[1] + x[2] + x[3]) / 3, (x[2] + x[3]) / 2]
    )
    torch.testing.assert_close(out, by_hand @ conv.weight + conv.bias)
    sym = build_student("gcn", "graph", 3, 2, hidden=4).convs[0]
    assert student_hparams("gcn", "graph")["norm"] == "both" and sym._norm == "both"
    with pytest.raises(StudentError, match="right"):
        build_student("gcn", "graph", 3, 2, norm="left")


def test_sum_readout_over_every_layer_by_hand():
    """The logits are the sum over layers of head_l(sum of the nodes' states at layer l): the
    input features first, then each conv block's (conv, batch norm, ReLU)."""
    graphs = [dgl.graph(([0, 1], [1, 0])), dgl.graph(([0, 1, 2], [1, 2, 0]))]
    for g in graphs:
        g.ndata["feat"] = torch.randn(g.num_nodes(), 3, generator=torch.Generator().manual_seed(1))
    batch = dgl.batch(graphs)
    seed_everything(0)
    model = build_student("gin", "graph", 3, 2, hidden=4, layers=3).eval()
    with torch.no_grad():
        logits = model(batch, batch.ndata["feat"])
        h, states = batch.ndata["feat"], [batch.ndata["feat"]]
        for conv, norm in zip(model.convs, model.norms):
            h = torch.relu(norm(conv(batch, h)))
            states.append(h)
        sizes = [g.num_nodes() for g in graphs]
        by_hand = sum(
            head(torch.stack([part.sum(0) for part in s.split(sizes)]))
            for head, s in zip(model.heads, states)
        )
    assert len(states) == 3  # layers counts the input
    torch.testing.assert_close(logits, by_hand)


def _size(model):
    return sum(p.numel() for p in model.parameters())


def test_overrides_change_the_model():
    small = build_student("gcn", "node", 34, 2, hidden=16)
    assert small.hparams["hidden"] == 16
    assert _size(small) < _size(build_student("gcn", "node", 34, 2))
    # Kipf & Welling's two layers: W1 (34 x 16) + b1 (16) + W2 (16 x 2) + b2 (2)
    assert _size(small) == 34 * 16 + 16 + 16 * 2 + 2
    gat = build_student("gat", "node", 34, 2, heads=2, hidden=4)
    assert _size(gat) < _size(build_student("gat", "node", 34, 2))
    deep = build_student("gin", "graph", 16, 8, layers=3)
    assert _size(deep) < _size(build_student("gin", "graph", 16, 8))


# ----------------------------------------------------------------------------- errors


def test_unknown_node_student_lists_choices():
    with pytest.raises(StudentError) as info:
        build_student("transformer", "node", 34, 2)
    assert "transformer" in str(info.value)
    for arch in NODE_ARCHS:
        assert arch in str(info.value)


def test_unknown_graph_student_lists_choices():
    with pytest.raises(StudentError) as info:
        build_student("mlp", "graph", 16, 8)  # mlp is node-level only
    for arch in GRAPH_ARCHS:
        assert arch in str(info.value)


def test_unknown_hyperparameter_lists_valid_ones():
    with pytest.raises(StudentError) as info:
        build_student("gcn", "node", 34, 2, hiden=32)
    message = str(info.value)
    assert "hiden" in message
    for key in ("hidden", "dropout", "lr", "weight_decay"):
        assert key in message
    with pytest.raises(StudentError, match="heads"):
        student_hparams("gin", "graph", overrides={"heads": 2})  # only graph-level gat has heads


def test_unknown_readout_and_task():
    with pytest.raises(StudentError) as info:
        build_student("gin", "graph", 16, 8, readout="attention")
    for readout in READOUTS:
        assert readout in str(info.value)
    with pytest.raises(StudentError, match="node or graph"):
        build_student("gcn", "edge", 16, 8)
    with pytest.raises(StudentError, match="divisible"):
        build_student("gat", "graph", 16, 8, hidden=30, heads=4)
    assert issubclass(StudentError, ValueError)


# ----------------------------------------------------------------------------- defaults


def test_literature_defaults():
    assert student_hparams("gcn", "node") == dict(
        hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4
    )
    gat = student_hparams("gat", "node")
    assert (gat["heads"], gat["hidden"], gat["out_heads"], gat["dropout"], gat["lr"]) == (
        8,
        8,
        1,
        0.6,
        0.005,
    )
    gin = student_hparams("gin", "graph")
    assert (gin["layers"], gin["hidden"], gin["readout"], gin["dropout"], gin["lr"]) == (
        5,
        64,
        "sum",
        0.5,
        0.01,
    )


def test_pubmed_gat_dataset_default():
    assert DATASET_DEFAULTS[("pubmed", "gat")] == dict(out_heads=8, lr=0.01, weight_decay=1e-3)
    pubmed = student_hparams("gat", "node", "pubmed")
    assert (pubmed["out_heads"], pubmed["lr"], pubmed["weight_decay"]) == (8, 0.01, 1e-3)
    assert pubmed["heads"] == 8 and pubmed["dropout"] == 0.6  # the rest stays default
    assert student_hparams("gat", "node", "cora") == student_hparams("gat", "node")
    assert student_hparams("gcn", "node", "pubmed") == student_hparams("gcn", "node")
    # overrides come last: they beat the dataset's setting
    assert student_hparams("gat", "node", "pubmed", {"lr": 0.02})["lr"] == 0.02
    model = build_student("gat", "node", 500, 3, **{k: v for k, v in pubmed.items()})
    assert model.conv2._num_heads == 8


def test_overrides_do_not_leak_into_defaults():
    before = {task: {a: dict(hp) for a, hp in archs.items()} for task, archs in DEFAULTS.items()}
    hp = student_hparams("gcn", "node", overrides={"hidden": 7, "lr": 0.1})
    assert (hp["hidden"], hp["lr"]) == (7, 0.1)
    build_student("sage", "node", 34, 2, hidden=9)
    student_hparams("gat", "node", "pubmed")
    assert DEFAULTS == before
    assert student_hparams("gcn", "node")["hidden"] == 64


def test_sparse_features_move_with_their_transpose_and_order():
    from mutualgnn.students import SparseFeatures

    dense = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    feat = SparseFeatures.from_dense(dense)
    for device in ("cpu", torch.device("cpu")):
        moved = feat.to(device)
        assert moved.shape == feat.shape
        for part in ("csr", "csr_t", "perm"):
            assert getattr(moved, part).device == torch.device("cpu")
        assert torch.equal(moved.to_dense(), dense)
        assert torch.equal(moved.csr_t.to_dense(), dense.t())
        # the moved values keep their order in the transpose (what dropout relies on)
        values = torch.tensor([10.0, 20.0, 30.0, 40.0])
        assert torch.equal(
            moved.with_values(values).csr_t.to_dense(), feat.with_values(values).csr_t.to_dense()
        )
