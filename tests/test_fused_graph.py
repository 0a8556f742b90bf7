"""Fused graph classifiers (GIN, GCN) compute what the separate students compute: same logits,
same gradients, same batch-norm statistics, written back exactly."""

from __future__ import annotations

import pytest
import torch

from mutualgnn import TrainConfig, build_student, fit, seed_everything
from mutualgnn._dgl_compat import dgl
from mutualgnn.training.fused import Cohort, fusion_key
from mutualgnn.training.fused_graph import FusedGraphClassifier, StackedLinear


def _batch(data, n=24):
    """n graphs of every class, with random features: well-conditioned batch norm (minigc's
    one-hot degrees are nearly constant within a class)."""
    rows = torch.linspace(0, len(data.graphs) - 1, n).long()
    graph = dgl.batch([data.graphs[i] for i in rows.tolist()])
    feat = torch.randn(
        graph.num_nodes(), data.num_features, generator=torch.Generator().manual_seed(0)
    )
    return graph, feat, data.labels[rows]


def _students(data, arch, k, **hp):
    seed_everything(0)
    students = [
        build_student(arch, "graph", data.num_features, data.num_classes, **hp) for _ in range(k)
    ]
    for s in students:  # batch norm starts at weight 1, bias 0: make every parameter count
        for m in s.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                torch.nn.init.normal_(m.weight)
                torch.nn.init.normal_(m.bias)
    return students


def _member_grads(fused, k):
    """Member k's parameter gradients, named like a student's state dict."""
    out = {}
    for i, layer in enumerate(fused.layers):
        linears = (
            {"apply_func.0": layer["lin1"], "apply_func.3": layer["lin2"]}
            if fused.arch == "gin"
            else {"": layer["lin"]}
        )
        for name, lin in linears.items():
            prefix = f"convs.{i}.{name}." if name else f"convs.{i}."
            weight = lin.weight.grad[k]
            out[prefix + "weight"] = weight if name else weight.t()  # GraphConv: (in, out)
            out[prefix + "bias"] = lin.bias.grad[k]
        norms = {f"norms.{i}": layer["norm"]}
        if fused.arch == "gin":
            norms[f"convs.{i}.apply_func.1"] = layer["norm1"]
        for name, norm in norms.items():
            size = norm.num_features // fused.num_members
            out[name + ".weight"] = norm.weight.grad[k * size : (k + 1) * size]
            out[name + ".bias"] = norm.bias.grad[k * size : (k + 1) * size]
    for i, head in enumerate(fused.heads):
        out[f"heads.{i}.weight"], out[f"heads.{i}.bias"] = head.weight.grad[k], head.bias.grad[k]
    return out


@pytest.mark.parametrize("arch,hp", [("gin", {}), ("gcn", {}), ("gcn", {"norm": "right"})])
def test_fused_graph_classifier_matches_separate_students(minigc, arch, hp):
    graph, feat, labels = _batch(minigc)
    students = _students(minigc, arch, 3, dropout=0.0, **hp)  # dropout off: deterministic
    fused = FusedGraphClassifier(students)
    logits = fused(graph, feat)  # training mode: batch norm uses the batch's statistics
    assert logits.shape == (3, graph.batch_size, minigc.num_classes)
    sum(torch.nn.functional.cross_entropy(z, labels) for z in logits).backward()
    close = dict(rtol=1e-4, atol=1e-5)
    for k, s in enumerate(students):
        z = s(graph, feat)
        torch.testing.assert_close(logits[k], z, **close)
        torch.nn.functional.cross_entropy(z, labels).backward()
        grads = _member_grads(fused, k)
        own = {name: p.grad for name, p in s.named_parameters()}
        assert set(grads) == set(own)  # every parameter of the student is a member's
        for name, grad in grads.items():
            torch.testing.assert_close(grad, own[name], **close, msg=f"{arch} {k} {name}")
        # the running statistics moved alike
        torch.testing.assert_close(
            fused.layers[0]["norm"].running_mean[k * 64 : (k + 1) * 64],
            s.norms[0].running_mean,
            **close,
        )


@pytest.mark.parametrize("arch", ["gin", "gcn"])
def test_fused_graph_write_back_round_trip(minigc, arch):
    graph, feat, _ = _batch(minigc)
    students = _students(minigc, arch, 2)
    cohort = Cohort(students)
    ((module, idx, fused),) = cohort.groups
    assert fused and idx == [0, 1] and isinstance(module, FusedGraphClassifier)
    with torch.no_grad():
        for p in module.parameters():  # "train" the fused copy by hand
            p.add_(0.1 * torch.randn_like(p))
        cohort.train()(graph, feat)  # moves the batch-norm running statistics
        out = cohort.eval()(graph, feat)
        for k in idx:
            cohort.sync(k)
            torch.testing.assert_close(
                students[k].eval()(graph, feat), out[k], rtol=1e-4, atol=1e-5
            )


def test_graph_cohort_groups_by_convolution_and_settings(minigc):
    make = lambda arch, **hp: build_student(
        arch,
        "graph",
        minigc.num_features,  # noqa: E731
        minigc.num_classes,
        **hp,
    )
    students = [
        make("gin"),
        make("gcn"),
        make("gin"),
        make("gcn"),
        make("gat"),
        make("gat"),
        make("gin", hidden=32),
    ]
    # gin and gcn have the same hyper-parameters: the convolution keeps them apart
    assert fusion_key(students[0]) != fusion_key(students[1])
    assert fusion_key(students[4]) is None  # graph-level GAT has no fused implementation
    groups = sorted((idx, fused) for _, idx, fused in Cohort(students).groups)
    assert groups == [([0, 2], True), ([1, 3], True), ([4], False), ([5], False), ([6], False)]
    with pytest.raises(ValueError, match="do not fuse"):
        FusedGraphClassifier(students[4:6])


def test_stacked_linear_shared_and_separate_inputs():
    torch.manual_seed(0)
    weights, biases = [torch.randn(3, 5) for _ in range(2)], [torch.randn(3) for _ in range(2)]
    x = torch.randn(4, 5)
    want = torch.cat([x @ w.t() + b for w, b in zip(weights, biases)], 1)  # (4, 2*3)
    torch.testing.assert_close(StackedLinear(weights, biases, shared=True)(x), want)
    x2 = torch.randn(4, 10)  # member k's input in columns 5k..5k+4
    want2 = torch.cat(
        [x2[:, 5 * k : 5 * k + 5] @ w.t() + b for k, (w, b) in enumerate(zip(weights, biases))], 1
    )
    torch.testing.assert_close(StackedLinear(weights, biases, shared=False)(x2), want2)


def test_fit_fuses_graph_students_and_keeps_their_best_checkpoints(minigc, monkeypatch):
    import mutualgnn.training.loop as training

    built = []
    monkeypatch.setattr(
        training, "Cohort", lambda *a, **k: built.append(Cohort(*a, **k)) or built[-1]
    )
    students = _students(minigc, "gin", 2)
    split = minigc.splits(5, 0)[0]
    result = fit(
        students,
        minigc,
        split,
        method="gml",
        train=TrainConfig(epochs=6, patience=6, progress=False, threads=1),
    )
    assert built[0].fused and built[0].groups[0][1] == [0, 1]
    graphs = dgl.batch([minigc.graphs[i] for i in split.val.tolist()])
    for s, res in zip(students, result.students):  # each left fit at its best checkpoint
        z = s.eval()(graphs, graphs.ndata["feat"])
        acc = (z.argmax(1) == minigc.labels[split.val]).double().mean().item()
        assert acc == pytest.approx(res.val_acc)
    assert not torch.equal(students[0].heads[1].weight, students[1].heads[1].weight)
