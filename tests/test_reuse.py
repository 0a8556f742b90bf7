"""Reuse: any nn.Module as a student through fit, and MutualLoss in a loop of one's own (on
logits from any library, without DGL)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mutualgnn.mutual import METHOD_NAMES, MutualConfig, MutualLoss


def _logits(k=2, n=6, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, c, generator=g, requires_grad=True) for _ in range(k)]


def test_dml_loss_is_ce_plus_lam_times_the_peers_kl_by_hand():
    z = _logits()
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    mask = torch.tensor([True, True, False, False, True, False])
    out = MutualLoss(2, 3, "dml", lam=0.5)(z, labels, mask)
    p = [F.softmax(zk, -1) for zk in z]
    by_hand = 0
    for j, k in ((0, 1), (1, 0)):
        ce = F.cross_entropy(z[j][mask], labels[mask])
        kl = (p[k] * (p[k].log() - p[j].log())).sum(-1).mean()  # KL(p_k || p_j), all rows
        by_hand = by_hand + ce + 0.5 * kl
    torch.testing.assert_close(out.loss, by_hand)
    assert len(out.per_student) == 2 and out.weights.shape == (2, 6, 3)


def test_independent_is_the_sum_of_cross_entropies_and_has_no_coordinator():
    z = _logits(k=3)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    criterion = MutualLoss(3, 3, "independent")
    out = criterion(z, labels, torch.arange(4))
    torch.testing.assert_close(out.loss, sum(F.cross_entropy(zk[:4], labels[:4]) for zk in z))
    assert criterion.coordinator is None and list(criterion.parameters()) == []
    assert out.targets is None and out.weights is None


def test_a_bool_mask_and_an_index_give_the_same_loss():
    z, labels = _logits(), torch.tensor([0, 1, 2, 0, 1, 2])
    torch.manual_seed(0)
    a = MutualLoss(2, 3, "gml")(z, labels, torch.tensor([1, 0, 1, 0, 0, 1], dtype=torch.bool))
    torch.manual_seed(0)
    b = MutualLoss(2, 3, "gml")(z, labels, torch.tensor([0, 2, 5]))
    torch.testing.assert_close(a.loss, b.loss)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_method_of_the_command_line_is_a_criterion(method):
    criterion = MutualLoss(2, 3, method, settings=MutualConfig(lam=0.3))
    teachers = _logits() if criterion.needs_teachers else None
    out = criterion(
        _logits(), torch.tensor([0, 1, 2, 0, 1, 2]), slice(0, 3), teacher_logits=teachers
    )
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert criterion.settings.lam == (0.0 if method in ("independent", "ensemble") else 0.3)


def test_gml_trains_its_coordinator_through_the_loss():
    criterion = MutualLoss(2, 3, "gml")
    params = list(criterion.parameters())
    assert params and all(p.grad is None for p in params)
    criterion(_logits(), torch.tensor([0, 1, 2, 0, 1, 2]), slice(None)).loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


@pytest.mark.parametrize(
    "logits, fragment",
    [
        (
            [torch.zeros(6, 3), torch.zeros(6, 4)],
            "student 1 returned logits of shape (6, 4); expected (6, 3)",
        ),
        ([torch.zeros(6, 3), torch.zeros(5, 3)], "expected (6, 3)"),
        ([torch.zeros(6, 3), None], "student 1 returned NoneType, not a tensor"),
        ([torch.zeros(6, 3)], "2 students' logits expected, got 1"),
    ],
)
def test_bad_logits_name_the_student_and_what_was_expected(logits, fragment):
    with pytest.raises(ValueError) as caught:
        MutualLoss(2, 3, "dml")(logits, torch.zeros(6, dtype=torch.long), slice(None))
    assert fragment in str(caught.value)


def test_the_readme_loop_trains_plain_torch_mlps_without_dgl():
    code = """
import sys, torch
from torch import nn
from mutualgnn.mutual import MutualLoss
torch.manual_seed(0)
x, y = torch.randn(200, 10), torch.randint(0, 3, (200,))
train = torch.rand(200) < 0.5
models = [nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3)) for _ in range(2)]
criterion = MutualLoss(num_students=2, num_classes=3, method="gml")
params = [p for m in models for p in m.parameters()] + list(criterion.parameters())
optimiser = torch.optim.Adam(params, lr=0.01)
first = None
for _ in range(50):
    optimiser.zero_grad()
    out = criterion([m(x) for m in models], y, train)
    out.loss.backward()
    optimiser.step()
    first = first if first is not None else out.loss.item()
assert out.loss.item() < first, (first, out.loss.item())
assert not any(m == "dgl" or m.startswith("dgl.") for m in sys.modules), "imported dgl"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


# ----------------------------------------------------------------------------- fit


class MyGCN(nn.Module):
    """A node classifier as a user writes it, from dgl.nn.GraphConv."""

    def __init__(self, in_features, num_classes, hidden=16):
        super().__init__()
        from mutualgnn.data import load_dataset  # noqa: F401  (DGL's compatibility step)
        from dgl.nn import GraphConv

        self.conv1 = GraphConv(in_features, hidden, activation=torch.relu)
        self.conv2 = GraphConv(hidden, num_classes)
        self.seen = set()

    def forward(self, graph, features):
        self.seen.add(type(features))
        return self.conv2(graph, self.conv1(graph, features))


class MyGraphClassifier(nn.Module):
    def __init__(self, in_features, num_classes, hidden=16):
        super().__init__()
        from dgl.nn import GraphConv, MaxPooling

        self.conv = GraphConv(in_features, hidden, activation=torch.relu, allow_zero_in_degree=True)
        self.pool, self.out = MaxPooling(), nn.Linear(hidden, num_classes)

    def forward(self, graph, features):
        return self.out(self.pool(graph, self.conv(graph, features)))


def test_own_dgl_modules_train_with_gml_and_get_dense_features(karate):
    from mutualgnn import TrainConfig, fit, seed_everything

    seed_everything(0)
    students = [MyGCN(karate.num_features, karate.num_classes) for _ in range(2)]
    result = fit(
        students,
        karate,
        karate.split,
        method="gml",
        train=TrainConfig(epochs=20, progress=False, threads=1),
    )
    assert [s.arch for s in result.students] == ["mygcn", "mygcn"]
    assert all(s.seen == {torch.Tensor} for s in students)  # never SparseFeatures
    assert all(0 <= s.test_acc <= 1 and s.best_epoch >= 1 for s in result.students)
    assert {row["arch"] for row in result.history} == {"mygcn"}


def test_own_graph_classifiers_train_on_a_list_of_graphs(minigc):
    from mutualgnn import TrainConfig, fit, seed_everything

    seed_everything(0)
    split = minigc.splits(folds=3)[0]
    students = [MyGraphClassifier(minigc.num_features, minigc.num_classes) for _ in range(2)]
    result = fit(
        students,
        (minigc.graphs, minigc.labels),
        split,
        method="dml",
        train=TrainConfig(epochs=3, progress=False, threads=1),
    )
    assert len(result.students) == 2 and 0 <= result.ensemble["test_acc"] <= 1


def test_fit_uses_the_criterion_it_is_given_the_same_as_one_it_builds(karate):
    from mutualgnn import TrainConfig, build_student, fit, seed_everything

    def students():
        seed_everything(3)
        return [build_student(a, "node", karate.num_features, 2) for a in ("gcn", "gat")]

    train = TrainConfig(epochs=10, progress=False, threads=1)
    built = fit(
        students(), karate, karate.split, train=train, method="gml", mutual=MutualConfig(lam=0.5)
    )
    cohort = students()
    criterion = MutualLoss(2, 2, "gml", lam=0.5)
    before = [p.detach().clone() for p in criterion.parameters()]
    given = fit(cohort, karate, karate.split, train=train, criterion=criterion)
    assert [(s.test_acc, s.best_epoch) for s in built.students] == [
        (s.test_acc, s.best_epoch) for s in given.students
    ]
    assert any(not torch.equal(a, b) for a, b in zip(before, criterion.parameters()))
    with pytest.raises(ValueError, match="either a criterion or method"):
        fit(cohort, karate, karate.split, train=train, criterion=criterion, method="dml")


class _Wrong(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.lin, self.out = nn.Linear(34, 2), out

    def forward(self, graph, features):
        return self.out(self.lin(features))


@pytest.mark.parametrize(
    "student, fragment",
    [
        (
            _Wrong(lambda z: z[:, :1]),
            "student 1 (_wrong) returned logits of shape (34, 1); expected (34, 2)",
        ),
        (_Wrong(lambda z: None), "student 1 (_wrong) returned NoneType, not a tensor"),
        (nn.Identity(), "student 1 (identity) has no parameters"),
        ("gcn", "student 1 (str) is a str, not a torch.nn.Module"),
    ],
)
def test_fit_names_a_student_that_breaks_the_contract(karate, student, fragment):
    from mutualgnn import TrainConfig, fit

    with pytest.raises(ValueError) as caught:
        fit(
            [MyGCN(34, 2), student],
            karate,
            karate.split,
            method="dml",
            train=TrainConfig(epochs=2, progress=False, threads=1),
        )
    assert fragment in str(caught.value)


def test_kd_loss_is_ce_plus_lam_t2_kl_to_the_own_teacher_by_hand():
    """kd (Hinton et al.): CE + lam * T^2 * KL(softmax(t_j / T) || softmax(z_j / T)), each
    student against its own teacher only; a missing teacher is a clear error."""
    torch.manual_seed(0)
    z = [torch.randn(6, 3, requires_grad=True) for _ in range(2)]
    t = [torch.randn(6, 3) for _ in range(2)]
    y, rows, lam, T = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 1, 2]), 0.5, 2.0
    out = MutualLoss(2, 3, "kd", lam=lam, temperature=T)(z, y, rows, teacher_logits=t)
    for j in range(2):
        q, log_p = torch.softmax(t[j] / T, -1), torch.log_softmax(z[j] / T, -1)
        kl = (q * (q.log() - log_p)).sum(-1).mean()
        want = torch.nn.functional.cross_entropy(z[j][rows], y[rows]) + lam * T**2 * kl
        assert out.per_student[j].item() == pytest.approx(want.item(), rel=1e-5)
    with pytest.raises(ValueError, match="give teacher_logits"):
        MutualLoss(2, 3, "kd")(z, y, rows)
    with pytest.raises(ValueError, match="takes no teacher_logits"):
        MutualLoss(2, 3, "dml")(z, y, rows, teacher_logits=t)
    with pytest.raises(ValueError, match="the teacher of student 1 returned logits of shape"):
        MutualLoss(2, 3, "kd")(z, y, rows, teacher_logits=[t[0], torch.zeros(6, 4)])


def test_kd_of_one_student_is_dml_next_to_its_frozen_teacher():
    """kd takes a cohort of one (mutualgnn distil: one MLP, one GNN teacher); its loss is the
    one dml gives a student whose only peer has the teacher's logits; gml with one student
    stays an error."""
    torch.manual_seed(0)
    z, t = torch.randn(6, 3, requires_grad=True), torch.randn(6, 3)
    y, rows = torch.tensor([0, 1, 2, 0, 1, 2]), torch.tensor([0, 1, 2])
    kd = MutualLoss(1, 3, "kd", lam=0.7, temperature=2.0)([z], y, rows, teacher_logits=[t])
    dml = MutualLoss(2, 3, "dml", lam=0.7, temperature=2.0)([z, t], y, rows)
    assert kd.per_student[0].item() == pytest.approx(dml.per_student[0].item(), rel=1e-6)
    with pytest.raises(ValueError, match="K >= 2"):
        MutualLoss(1, 3, "gml")


def test_fit_distils_from_teachers_that_stay_unchanged(karate):
    """fit(method="kd", teachers=...): the teachers teach in evaluation mode and are not
    trained; without them, or with them for another method, fit says what to give."""
    from mutualgnn import TrainConfig, build_student, fit, seed_everything
    from mutualgnn.mutual import teacher_of

    make = lambda arch: build_student(
        arch,
        "node",
        karate.num_features,  # noqa: E731
        karate.num_classes,
    )
    seed_everything(0)
    train = TrainConfig(epochs=15, patience=15, progress=False, threads=1)
    alone = [make("gcn"), make("gat")]
    fit(alone, karate, train=train)
    before = [{k: v.clone() for k, v in s.state_dict().items()} for s in alone]
    teachers = [alone[teacher_of(k, 2)] for k in range(2)]  # gcn learns from gat and back
    result = fit([make("gcn"), make("gat")], karate, method="kd", teachers=teachers, train=train)
    assert len(result.students) == 2 and result.epochs_run == 15
    for s, state in zip(alone, before):  # unchanged, and left in evaluation mode
        assert all(torch.equal(v, s.state_dict()[k]) for k, v in state.items())
        assert not s.training
    with pytest.raises(ValueError, match="needs one trained teacher per student"):
        fit([make("gcn"), make("gat")], karate, method="kd", train=train)
    with pytest.raises(ValueError, match="teachers are for method 'kd'"):
        fit([make("gcn"), make("gat")], karate, method="dml", teachers=teachers, train=train)
