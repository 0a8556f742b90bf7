"""Mini-batch node training with DGL's neighbour sampler (``train.fanouts``): students on blocks,
fanout validation, batches without labels, end-to-end fits, one sample per batch, the CLI."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from mutualgnn import (
    ExperimentConfig,
    MutualConfig,
    TrainConfig,
    build_student,
    fit,
    predict,
    run_experiment,
)
from mutualgnn._dgl_compat import dgl
from mutualgnn.cli import main
from mutualgnn.config import ConfigError
from mutualgnn.mutual import Coordinator
from mutualgnn.training.fused import Cohort
from mutualgnn.metrics import accuracy as _accuracy
from mutualgnn.mutual import cohort_loss
from mutualgnn.training import full_graph_norm, node_graph, seed_everything

NODE_ARCHS = ["gcn", "gat", "sage", "gin", "mlp"]


def quick(epochs=4, **kw) -> TrainConfig:
    return TrainConfig(epochs=epochs, patience=epochs, progress=False, threads=1, **kw)


def _graph(data):
    return node_graph(data.graph, keep_node_data=True)  # as sampled training prepares it


def _full_blocks(graph, seeds):
    """(input nodes, blocks) of ``seeds`` with every neighbour, as evaluation samples them."""
    input_nodes, _, blocks = dgl.dataloading.MultiLayerFullNeighborSampler(2).sample_blocks(
        graph, seeds
    )
    return input_nodes, blocks


def _student(data, arch, seed=0, **hp):
    seed_everything(seed)
    return build_student(arch, "node", data.num_features, data.num_classes, **hp)


# ----------------------------------------------------------------------------- students on blocks


@pytest.mark.parametrize("arch", NODE_ARCHS)
def test_block_forward_equals_full_graph_forward(karate, arch):
    graph, feat = _graph(karate), karate.graph.ndata["feat"]
    model = _student(karate, arch).eval()
    input_nodes, blocks = _full_blocks(graph, torch.arange(graph.num_nodes()))
    with torch.no_grad():
        full = model(graph, feat)
        on_blocks = model(blocks, feat[input_nodes])
    torch.testing.assert_close(on_blocks, full[input_nodes[: blocks[-1].num_dst_nodes()]])
    model.train()  # training mode: one row per output node, gradients reach every parameter
    seeds = torch.tensor([0, 5, 33])
    input_nodes, _, blocks = dgl.dataloading.NeighborSampler([3, 3]).sample_blocks(graph, seeds)
    out = model(blocks, feat[input_nodes])
    assert out.shape == (3, karate.num_classes)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("arch", NODE_ARCHS)
def test_full_neighbour_blocks_of_some_nodes_are_exact(karate, arch):
    # evaluation's blocks cover a batch of nodes only; the students then compute exactly the
    # full-graph logits of those nodes (GCN with full_graph_norm's edge weights)
    graph, feat = _graph(karate), karate.graph.ndata["feat"]
    model = _student(karate, arch).eval()
    seeds = karate.split.test
    input_nodes, blocks = _full_blocks(graph, seeds)
    blocks = full_graph_norm(blocks, graph.out_degrees())
    with torch.no_grad():
        torch.testing.assert_close(model(blocks, feat[input_nodes]), model(graph, feat)[seeds])


def test_gcn_on_blocks_without_the_weights_uses_block_degrees(karate):
    # the weights matter: without them GraphConv normalises by the block's degrees
    graph, feat = _graph(karate), karate.graph.ndata["feat"]
    model = _student(karate, "gcn").eval()
    input_nodes, blocks = _full_blocks(graph, karate.split.test)
    with torch.no_grad():
        assert not torch.allclose(
            model(blocks, feat[input_nodes]), model(graph, feat)[karate.split.test], atol=1e-3
        )


def test_blocks_must_match_the_layers(karate):
    graph = _graph(karate)
    input_nodes, _, blocks = dgl.dataloading.NeighborSampler([2, 2, 2]).sample_blocks(
        graph, torch.arange(4)
    )
    with pytest.raises(ValueError, match="2 layers.*got 3 blocks"):
        _student(karate, "sage")(blocks, karate.graph.ndata["feat"][input_nodes])


@pytest.mark.parametrize("arch", ["gcn", "gat"])
def test_fused_cohort_on_blocks_matches_separate_students(karate, arch):
    graph, feat = _graph(karate), karate.graph.ndata["feat"]
    seed_everything(0)
    students = [
        build_student(arch, "node", karate.num_features, karate.num_classes) for _ in range(2)
    ]
    cohort = Cohort(students).eval()
    assert cohort.fused
    input_nodes, _, blocks = dgl.dataloading.NeighborSampler([4, 4]).sample_blocks(
        graph, torch.arange(10)
    )
    with torch.no_grad():
        fused = cohort(blocks, feat[input_nodes])
        for s, z in zip(students, fused):
            torch.testing.assert_close(z, s.eval()(blocks, feat[input_nodes]))


# ----------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("fanouts", ["10,x", [0, 5], [], 10, [2.5, 2], [True, 1]])
def test_invalid_fanouts_are_refused(fanouts):
    with pytest.raises(ConfigError, match="train.fanouts must be a positive number"):
        TrainConfig(fanouts=fanouts)


def test_fanouts_forms_and_task_dependent_batch_size():
    assert TrainConfig(fanouts="10, 5").fanouts == [10, 5]
    assert TrainConfig(fanouts=(10, 5)).fanouts == [10, 5]
    assert TrainConfig().resolved("node").batch_size == 1024
    assert TrainConfig().resolved("graph").batch_size == 32
    assert TrainConfig(batch_size=7).resolved("node").batch_size == 7


def test_fanouts_need_one_per_layer_and_a_node_task(karate, minigc):
    with pytest.raises(ConfigError, match="one fanout per layer"):
        fit([_student(karate, "gcn")], karate, karate.split, train=quick(fanouts=[5]))
    split = minigc.splits(folds=4, seed=0)[0]
    student = build_student("gin", "graph", minigc.num_features, minigc.num_classes)
    with pytest.raises(ConfigError, match="graph tasks"):
        fit([student], minigc, split, train=quick(fanouts=[5, 5]))


# ----------------------------------------------------------------------------- losses


def test_batch_without_labelled_nodes_gives_a_finite_loss():
    torch.manual_seed(0)
    logits = [torch.randn(6, 3, requires_grad=True) for _ in range(2)]
    labels = torch.randint(0, 3, (6,))
    coordinator = Coordinator(2, 3, "alw")
    nobody = torch.tensor([], dtype=torch.long)
    total, per_student, out = cohort_loss(logits, labels, nobody, MutualConfig(), 0.05, coordinator)
    assert torch.isfinite(total) and all(torch.isfinite(v) for v in per_student)
    assert float(out.loss) == 0.0  # the coordinator has no labels to learn from
    total.backward()
    assert all(torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0 for z in logits)
    independent = MutualConfig(coordinator="uniform", lam=0.0, gamma=0.0)
    total, _, _ = cohort_loss(logits, labels, nobody, independent, 0.0, None)
    assert total.item() == 0.0


# ----------------------------------------------------------------------------- fit


def _run(karate, method, seed=0, **train):
    config = ExperimentConfig(
        dataset="karate",
        students=["gcn", "gat", "sage"],
        method=method,
        seeds=[seed],
        train=quick(**train),
    )
    return run_experiment(config, dataset=karate)


@pytest.mark.parametrize("method", ["independent", "dml", "gml"])
def test_fit_with_fanouts_is_deterministic_under_a_seed(karate, method):
    # batches of 4 of 34 nodes with 8 labelled: many batches have no labelled node
    a, b = (_run(karate, method, fanouts=[3, 3], batch_size=4) for _ in range(2))
    c = _run(karate, method, seed=1, fanouts=[3, 3], batch_size=4)
    ha, hb = a.histories[0]["history"], b.histories[0]["history"]
    assert ha == hb and len(ha) == 4 * 3
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in ha)
    assert ha != c.histories[0]["history"]
    cols = ["student", "test_acc", "val_acc", "best_epoch"]
    assert a.records[cols].equals(b.records[cols])


def test_fit_with_fanouts_learns_and_reports_the_best_checkpoints(karate):
    seed_everything(0)
    students = [
        build_student(a, "node", karate.num_features, karate.num_classes)
        for a in ("gcn", "gcn", "sage", "mlp")
    ]
    result = fit(
        students,
        karate,
        karate.split,
        method="gml",
        mutual=MutualConfig(kl_rows="train"),
        train=quick(epochs=30, fanouts=[5, 5], batch_size=4),
    )
    assert all(s.val_acc > 0.7 for s in result.students[:3])  # 2 classes: chance is 0.5
    # evaluation used every neighbour and is exact: each student gives the same test accuracy
    # on the full graph at its best checkpoint
    test = karate.split.test
    for s, res in zip(students, result.students):
        (z,) = predict([s], karate.graph)
        assert _accuracy(z[test], karate.labels[test]) == res.test_acc


def test_kd_distils_one_student_on_sampled_batches(karate):
    # distillation (mutualgnn distil) with train.fanouts: the teacher runs on each batch's
    # blocks and gives the rows of its output nodes
    teacher = _student(karate, "gcn")
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    result = fit(
        [_student(karate, "mlp")],
        karate,
        karate.split,
        method="kd",
        teachers=[teacher],
        train=quick(fanouts=[2, 2], batch_size=8),
    )
    assert len(result.history) == 4 * 1
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in before.items())


def test_blocks_are_sampled_once_per_batch_for_the_whole_cohort(karate, monkeypatch):
    sampler = dgl.dataloading.NeighborSampler
    calls, seen = [], {k: [] for k in range(3)}
    original = sampler.sample_blocks

    def counting(self, *args, **kwargs):
        calls.append(tuple(self.fanouts))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sampler, "sample_blocks", counting)
    students = [_student(karate, a) for a in ("gcn", "gat", "sage")]
    for k, s in enumerate(students):
        s.register_forward_pre_hook(lambda m, args, k=k: seen[k].append(id(args[0])))
    fit(
        students,
        karate,
        karate.split,
        method="gml",
        mutual=MutualConfig(),
        train=quick(epochs=2, fanouts=[3, 3], batch_size=10),
    )
    train_batches = 2 * 4  # 2 epochs, 34 nodes in batches of 10
    eval_batches = 2 * 3  # 2 epochs, 26 validation and test nodes in batches of 10
    assert calls.count((3, 3)) == train_batches
    assert len(calls) == train_batches + eval_batches  # evaluation: full neighbours, once a batch
    assert seen[0] == seen[1] == seen[2] and len(seen[0]) == len(calls)


# ----------------------------------------------------------------------------- command line


def test_cli_run_with_fanouts(tmp_path):
    runner = CliRunner()
    common = [
        "run",
        "-d",
        "karate",
        "-s",
        "gcn,sage",
        "-m",
        "gml",
        "--epochs",
        "3",
        "--threads",
        "1",
        "--no-progress",
    ]
    saved = tmp_path / "models"
    result = runner.invoke(
        main,
        common + ["--fanouts", "3,3", "--batch-size", "8", "--epochs", "30", "--save", str(saved)],
    )
    assert result.exit_code == 0, result.output
    assert "ensemble" in result.output
    # predict evaluates as the run did
    result = runner.invoke(main, ["predict", str(saved)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, common + ["--set", "train.fanouts=[5,5]"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, common + ["--fanouts", "5"])
    assert result.exit_code == 1 and "one fanout per layer" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(main, common + ["--batch-size", "8"])  # full-batch: nothing to size
    assert result.exit_code == 1 and "add --fanouts" in result.output, result.output
