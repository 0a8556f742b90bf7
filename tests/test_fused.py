"""Fused cohorts compute what the separate students compute: same logits, same gradients."""

from __future__ import annotations

import pytest
import torch

from mutualgnn import build_student, fit, TrainConfig, MutualConfig, seed_everything
from mutualgnn._dgl_compat import dgl
from mutualgnn.training.fused import Cohort, FusedGAT, FusedGCN
from mutualgnn.training import as_input


def _students(data, k, **hp):
    seed_everything(0)
    return [
        build_student("gcn", "node", data.num_features, data.num_classes, **hp) for _ in range(k)
    ]


@pytest.mark.parametrize("sparse", [True, False])
def test_fused_gcn_matches_separate_students(dataset, sparse):
    cora = dataset("cora")
    graph = dgl.add_self_loop(dgl.remove_self_loop(cora.graph))
    feat = as_input(cora.graph.ndata["feat"]) if sparse else cora.graph.ndata["feat"]
    students = _students(cora, 3, dropout=0.0)  # dropout off: both paths are deterministic
    fused = FusedGCN(students)
    labels, rows = cora.labels, cora.split.train
    fused_logits = fused(graph, feat)
    assert fused_logits.shape == (3, cora.graph.num_nodes(), cora.num_classes)
    sum(torch.nn.functional.cross_entropy(z[rows], labels[rows]) for z in fused_logits).backward()
    for k, s in enumerate(students):
        z = s(graph, feat)
        torch.testing.assert_close(fused_logits[k], z, rtol=1e-5, atol=1e-5)
        torch.nn.functional.cross_entropy(z[rows], labels[rows]).backward()
        torch.testing.assert_close(fused.proj.grad[k], s.proj.weight.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(fused.bias1.grad[k], s.conv1.bias.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(fused.weight2.grad[k], s.conv2.weight.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(fused.bias2.grad[k], s.conv2.bias.grad, rtol=1e-4, atol=1e-6)


def test_write_back_and_cohort_order(karate):
    graph = dgl.add_self_loop(karate.graph)
    feat = karate.graph.ndata["feat"]
    seed_everything(1)
    make = lambda arch, **hp: build_student(
        arch, "node", karate.num_features, karate.num_classes, **hp
    )
    students = [make("gcn"), make("gat"), make("gcn"), make("gcn", hidden=8)]
    cohort = Cohort(students).eval()
    kinds = sorted((idx, fused) for _, idx, fused in cohort.groups)
    assert kinds == [([0, 2], True), ([1], False), ([3], False)]  # hidden=8 differs: not fused
    with torch.no_grad():
        fused_group = cohort.groups[0][0]
        fused_group.weight2.mul_(2.0)  # train the fused copy "by hand"
        out = cohort(graph, feat)
        cohort.sync(2)
        torch.testing.assert_close(students[2].eval()(graph, feat), out[2])
        for k in (1, 3):
            torch.testing.assert_close(students[k].eval()(graph, feat), out[k])
    assert not Cohort(students, fuse=False).fused


def test_fit_with_fused_students_learns_and_keeps_best_checkpoints(karate, monkeypatch):
    import mutualgnn.training.loop as training

    built = []
    monkeypatch.setattr(
        training, "Cohort", lambda *a, **k: built.append(Cohort(*a, **k)) or built[-1]
    )
    students = _students(karate, 3)
    result = fit(
        students,
        karate,
        karate.split,
        method="gml",
        mutual=MutualConfig(lam=1.0, gamma=0.05),
        train=TrainConfig(epochs=40, patience=40, progress=False, threads=1),
    )
    graph = dgl.add_self_loop(karate.graph)
    for s, res in zip(students, result.students):  # the students hold their best weights
        z = s.eval()(graph, karate.graph.ndata["feat"])
        val = karate.split.val
        acc = (z[val].argmax(1) == karate.labels[val]).double().mean().item()
        assert acc == pytest.approx(res.val_acc)
    assert built[0].fused and built[0].groups[0][1] == [0, 1, 2]  # the three ran as one model
    # the students left fit with different weights (their own checkpoints, not one copy)
    assert not torch.equal(students[0].conv2.weight, students[1].conv2.weight)


@pytest.mark.parametrize("sparse,out_heads", [(True, 1), (False, 2)])
def test_fused_gat_matches_separate_students(dataset, sparse, out_heads):
    cora = dataset("cora")
    graph = dgl.add_self_loop(dgl.remove_self_loop(cora.graph))
    feat = as_input(cora.graph.ndata["feat"]) if sparse else cora.graph.ndata["feat"]
    seed_everything(0)
    students = [
        build_student(
            "gat",
            "node",
            cora.num_features,
            cora.num_classes,
            dropout=0.0,
            attn_dropout=0.0,
            heads=3,
            out_heads=out_heads,
        )
        for _ in range(3)
    ]
    for s in students:  # GATConv starts with zero biases: make them count
        for conv in (s.conv1, s.conv2):
            torch.nn.init.normal_(conv.bias)
    fused = FusedGAT(students)
    labels, rows = cora.labels, cora.split.train
    fused_logits = fused(graph, feat)
    assert fused_logits.shape == (3, cora.graph.num_nodes(), cora.num_classes)
    sum(torch.nn.functional.cross_entropy(z[rows], labels[rows]) for z in fused_logits).backward()
    close = dict(rtol=1e-4, atol=1e-6)
    for k, s in enumerate(students):
        z = s(graph, feat)
        torch.testing.assert_close(fused_logits[k], z, rtol=1e-5, atol=1e-5)
        torch.nn.functional.cross_entropy(z[rows], labels[rows]).backward()
        torch.testing.assert_close(fused.proj.grad[k], s.conv1.fc.weight.grad, **close)
        torch.testing.assert_close(fused.fc2.grad[k], s.conv2.fc.weight.grad, **close)
        for wide, own in ((fused.conv1, s.conv1), (fused.conv2, s.conv2)):
            h, size = own._num_heads, own.bias.numel()
            torch.testing.assert_close(
                wide.attn_l.grad[:, k * h : (k + 1) * h], own.attn_l.grad, **close
            )
            torch.testing.assert_close(
                wide.attn_r.grad[:, k * h : (k + 1) * h], own.attn_r.grad, **close
            )
            torch.testing.assert_close(
                wide.bias.grad[k * size : (k + 1) * size], own.bias.grad, **close
            )


@pytest.mark.parametrize("arch,fused_class", [("gcn", FusedGCN), ("gat", FusedGAT)])
def test_fused_write_back_round_trip(karate, arch, fused_class):
    graph = dgl.add_self_loop(karate.graph)
    feat = karate.graph.ndata["feat"]
    seed_everything(2)
    students = [
        build_student(arch, "node", karate.num_features, karate.num_classes) for _ in range(2)
    ]
    cohort = Cohort(students).eval()
    ((fused_group, idx, fused),) = cohort.groups
    assert fused and idx == [0, 1] and isinstance(fused_group, fused_class)
    with torch.no_grad():
        for p in fused_group.parameters():  # "train" the fused copy by hand
            p.add_(torch.randn_like(p))
        out = cohort(graph, feat)
        for k in (0, 1):
            cohort.sync(k)
            torch.testing.assert_close(students[k].eval()(graph, feat), out[k])


def test_fit_fuses_a_large_graph_on_the_cpu_only_where_it_pays(karate, monkeypatch):
    """Full-batch node students fuse on the CPU while nodes x students stays small (on
    PubMed the fused path measured slower); graph tasks and accelerators always fuse."""
    import mutualgnn.training.loop as training
    from mutualgnn.training.loop import fusion_pays

    train = TrainConfig()
    assert fusion_pays(karate, 4, "cpu", train)
    monkeypatch.setattr(training, "CPU_FUSE_ROWS", karate.graph.num_nodes() * 2 - 1)
    assert not fusion_pays(karate, 2, "cpu", train) and fusion_pays(karate, 1, "cpu", train)
    assert fusion_pays(karate, 2, "cuda", train)
    built = []
    monkeypatch.setattr(
        training, "Cohort", lambda *a, **k: built.append(Cohort(*a, **k)) or built[-1]
    )
    fit(
        _students(karate, 2),
        karate,
        method="gml",
        train=TrainConfig(epochs=2, patience=2, progress=False, threads=1),
    )
    assert not built[0].fused  # over the (lowered) limit: one by one
