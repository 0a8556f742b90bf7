"""The mutual-learning terms and the coordinator, against hand computations."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from mutualgnn.mutual import losses
from mutualgnn.config import ConfigError, ExperimentConfig, MutualConfig, method_settings
from mutualgnn.mutual import Coordinator
from mutualgnn.mutual import cohort_loss


def test_entropy_by_hand():
    z = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    h = losses.entropy(z)
    assert h[0].item() == pytest.approx(math.log(2))
    p = torch.tensor([0.75, 0.25])
    assert h[1].item() == pytest.approx(-(p * p.log()).sum().item())
    # temperature flattens: logits / 2 -> p = softmax([ln3/2, 0]) = [sqrt3, 1] / (sqrt3 + 1)
    q = torch.tensor([math.sqrt(3), 1.0]) / (math.sqrt(3) + 1)
    assert losses.entropy(z[1:], 2.0).item() == pytest.approx(-(q * q.log()).sum().item())


def test_kl_by_hand_and_temperature_scaling():
    target = torch.tensor([[0.5, 0.5]])
    logits = torch.tensor([[math.log(3.0), 0.0]])  # p = [0.75, 0.25]
    expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert losses.kl_to_target(target, logits).item() == pytest.approx(expected, rel=1e-5)
    q = torch.tensor([math.sqrt(3), 1.0]) / (math.sqrt(3) + 1)  # softmax(logits / 2)
    expected_t = 4 * (0.5 * math.log(0.5 / q[0].item()) + 0.5 * math.log(0.5 / q[1].item()))
    assert losses.kl_to_target(target, logits, 2.0).item() == pytest.approx(expected_t, rel=1e-5)
    # batchmean: two identical rows give the same value as one
    assert losses.kl_to_target(target.repeat(2, 1), logits.repeat(2, 1)).item() == pytest.approx(
        expected
    )


def test_mutual_term_averages_over_peers():
    torch.manual_seed(0)
    targets = torch.softmax(torch.randn(3, 4, 5), -1)
    logits = torch.randn(4, 5)
    for temperature in (1.0, 2.0):
        expected = (
            losses.kl_to_target(targets[0], logits, temperature)
            + losses.kl_to_target(targets[2], logits, temperature)
        ) / 2
        log_p = torch.log_softmax(logits / temperature, -1)
        got = losses.PeerTargets(targets).mutual(log_p, student=1, temperature=temperature)
        assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_alw_is_identity_at_init_and_weights_have_documented_range():
    torch.manual_seed(0)
    z = torch.randn(3, 7, 4)
    c = Coordinator(3, 4, "alw", temperature=2.0)
    out = c(z)
    assert out.targets.shape == out.weights.shape == (3, 7, 4)
    assert torch.allclose(out.weights, torch.ones(3, 7, 4))
    assert torch.allclose(out.targets, torch.softmax(z / 2.0, -1))
    with torch.no_grad():
        c.phi.normal_(0, 10.0)  # push the sigmoid towards its ends
    w = c(z).weights
    assert w.shape == (3, 7, 4) and (w >= 0).all() and (w <= 2).all() and w.std() > 0.1


def test_gate_and_temperature_and_uniform_kinds():
    torch.manual_seed(0)
    z, y = torch.randn(2, 6, 3), torch.randint(0, 3, (6,))
    gate = Coordinator(2, 3, "gate")
    out = gate(z, y, torch.arange(3))
    assert torch.allclose(out.weights, torch.full((2, 6, 3), 0.5))  # uniform at start
    assert torch.allclose(out.targets[0], out.targets[1])  # one ensemble target
    assert torch.allclose(out.targets[0], torch.softmax(z.mean(0), -1))
    with torch.no_grad():
        gate.phi.normal_(0, 5.0)
    w = gate(z).weights
    assert torch.allclose(w.sum(0), torch.ones(6, 3)) and (w >= 0).all()

    temp = Coordinator(2, 3, "temperature", temperature=1.0, t_min=0.5, t_max=4.0)
    out = temp(z)
    assert torch.allclose(out.weights, torch.ones_like(z), atol=1e-6)  # T_v = T at start
    with torch.no_grad():
        temp.phi.normal_(0, 10.0)
    w = temp(z).weights
    assert (w >= 1 / 4.0 - 1e-6).all() and (w <= 1 / 0.5 + 1e-6).all()

    uni = Coordinator(2, 3, "uniform")
    out = uni(z, y, torch.arange(3))
    assert list(uni.parameters()) == [] and out.loss.item() == 0
    assert torch.allclose(out.targets, torch.softmax(z, -1))


def test_coordinator_loss_reaches_only_its_parameters():
    torch.manual_seed(0)
    z = torch.randn(2, 5, 3, requires_grad=True)
    y = torch.randint(0, 3, (5,))
    c = Coordinator(2, 3, "alw")
    out = c(z, y, torch.arange(5))
    out.loss.backward()
    assert z.grad is None
    assert c.phi.grad is not None and c.phi.grad.abs().sum() > 0


def test_peer_targets_are_detached():
    torch.manual_seed(0)
    z1 = torch.randn(6, 3, requires_grad=True)
    z2 = torch.randn(6, 3, requires_grad=True)
    y = torch.randint(0, 3, (6,))
    mutual = MutualConfig(coordinator="alw", lam=1.0, gamma=0.1)
    _, per_student, _ = cohort_loss(
        [z1, z2], y, torch.arange(3), mutual, 0.1, Coordinator(2, 3, "alw")
    )
    per_student[0].backward()
    assert z2.grad is None  # student 0's loss sends nothing into its peer
    assert z1.grad is not None and z1.grad.abs().sum() > 0


def test_k2_uniform_gamma0_equals_dml_by_hand():
    torch.manual_seed(1)
    z1, z2 = torch.randn(8, 4), torch.randn(8, 4)
    y = torch.randint(0, 4, (8,))
    rows = torch.tensor([0, 1, 2])
    mutual = MutualConfig(coordinator="uniform", lam=1.0, gamma=0.0)
    total, _, _ = cohort_loss([z1, z2], y, rows, mutual, 0.0, Coordinator(2, 4, "uniform"))
    p1, p2 = torch.softmax(z1, -1), torch.softmax(z2, -1)

    def kl(q, p):  # KL(q || p), mean over rows
        return (q * (q.log() - p.log())).sum(-1).mean()

    dml = (
        F.cross_entropy(z1[rows], y[rows])
        + kl(p2, p1)
        + F.cross_entropy(z2[rows], y[rows])
        + kl(p1, p2)
    )
    assert total.item() == pytest.approx(dml.item(), rel=1e-5)


def test_entropy_term_and_lambda_enter_the_loss_as_documented():
    torch.manual_seed(2)
    z1, z2 = torch.randn(5, 3), torch.randn(5, 3)
    y = torch.randint(0, 3, (5,))
    rows = torch.arange(2)
    base = MutualConfig(coordinator="uniform", lam=0.0, gamma=0.0)
    t0, _, _ = cohort_loss([z1, z2], y, rows, base, 0.0, None)
    t_gamma, _, _ = cohort_loss([z1, z2], y, rows, base, 0.5, None)
    ent = losses.entropy(z1).mean() + losses.entropy(z2).mean()
    assert (t_gamma - t0).item() == pytest.approx(-0.5 * ent.item(), rel=1e-5)
    # kl over train rows only
    train_rows = MutualConfig(coordinator="uniform", lam=2.0, gamma=0.0, kl_rows="train")
    t_kl, _, _ = cohort_loss([z1, z2], y, rows, train_rows, 0.0, Coordinator(2, 3, "uniform"))
    p1, p2 = torch.softmax(z1[rows], -1), torch.softmax(z2[rows], -1)
    kl = lambda q, p: (q * (q.log() - p.log())).sum(-1).mean()  # noqa: E731
    assert (t_kl - t0).item() == pytest.approx(2.0 * (kl(p2, p1) + kl(p1, p2)).item(), rel=1e-5)


def test_method_presets():
    m = MutualConfig(coordinator="gate", lam=0.7, gamma=0.2)
    assert method_settings("independent", m).lam == 0 and method_settings("ensemble", m).gamma == 0
    dml = method_settings("dml", m)
    assert (dml.coordinator, dml.lam, dml.gamma) == ("uniform", 0.7, 0.0)
    gml = method_settings("gml", m)
    assert (gml.coordinator, gml.lam, gml.gamma) == ("gate", 0.7, 0.2)
    assert method_settings("gml-no-alw", m).coordinator == "uniform"
    assert method_settings("gml-no-entropy", m).gamma == 0.0
    sharp = method_settings("gml-sharpen", dataclasses.replace(m, sharpen=3.0))
    assert (sharp.coordinator, sharp.lam, sharp.gamma, sharp.sharpen) == ("sharpen", 0.7, 0.2, 3.0)
    online = method_settings("online-ensemble", m)
    assert (online.coordinator, online.lam, online.gamma) == ("gate", 0.7, 0.0)


def test_online_ensemble_teaches_every_student_one_target():
    """online-ensemble: one gated-ensemble target for all students, no entropy term."""
    from mutualgnn import MutualLoss

    torch.manual_seed(0)
    z = [torch.randn(6, 3, requires_grad=True) for _ in range(3)]
    y, rows = torch.randint(0, 3, (6,)), torch.arange(4)
    out = MutualLoss(3, 3, "online-ensemble")(z, y, rows)
    assert out.targets.shape == (3, 6, 3)
    assert torch.equal(out.targets[0], out.targets[1]) and torch.equal(
        out.targets[0], out.targets[2]
    )
    # at the start the gate is uniform: the target is softmax of the students' mean logits
    torch.testing.assert_close(out.targets[0], torch.softmax(torch.stack(z).mean(0), -1).detach())
    sharp = MutualLoss(3, 3, "gml-sharpen", sharpen=2.0)(z, y, rows)
    torch.testing.assert_close(sharp.targets, torch.softmax(2 * torch.stack(z), -1).detach())


def test_mutual_method_with_one_student_is_a_clear_error():
    with pytest.raises(ConfigError, match="at least 2 students"):
        ExperimentConfig(dataset="karate", students=["gcn"], method="gml")
    with pytest.raises(ValueError, match="K >= 1"):
        Coordinator(0, 3)


def test_sharpen_kind_by_hand():
    z = torch.tensor([[[1.0, 0.0, -1.0]], [[0.5, 0.5, 0.0]]])  # (K=2, N=1, C=3)
    out = Coordinator(2, 3, "sharpen", sharpen=2.0, temperature=1.0)(z)
    expected = torch.softmax(2 * z, -1)
    assert torch.allclose(out.targets, expected)
    assert torch.allclose(out.weights, torch.full_like(z, 2.0))
    assert float(out.loss) == 0.0 and not list(Coordinator(2, 3, "sharpen").parameters())
    with pytest.raises(ValueError, match="sharpen must be > 0"):
        Coordinator(2, 3, "sharpen", sharpen=0.0)


@pytest.mark.parametrize(
    "temperature,kl_rows,labelled",
    [
        (1.0, "all", torch.tensor([0, 2, 5])),
        (2.0, "all", torch.tensor([True, False, True, False, False, True, False, False])),
        (0.5, "train", torch.tensor([1, 3, 4, 6])),
    ],
)
def test_cohort_loss_equals_its_terms_one_by_one(temperature, kl_rows, labelled):
    """The shared log-softmax and the O(K) peer sum give the loss and the gradients of the
    terms computed one at a time (docs/method.md), for K = 3 with a learned coordinator."""
    torch.manual_seed(0)
    K, n, C, lam, gamma = 3, 8, 4, 0.7, 0.3
    settings = MutualConfig(lam=lam, temperature=temperature, kl_rows=kl_rows)
    coordinator = Coordinator(K, C, "alw")
    with torch.no_grad():
        coordinator.phi.normal_()  # weights away from 1
    labels = torch.randint(0, C, (n,))
    leaves = [torch.randn(n, C, requires_grad=True) for _ in range(K)]
    total, per_student, out = cohort_loss(leaves, labels, labelled, settings, gamma, coordinator)
    rows = labelled if kl_rows == "train" else slice(None)
    expected = []
    for j, z in enumerate(leaves):
        term = torch.nn.functional.cross_entropy(z[labelled], labels[labelled])
        term = term + lam * sum(
            losses.kl_to_target(out.targets[k], z[rows], temperature) for k in range(K) if k != j
        ) / (K - 1)
        expected.append(term - gamma * losses.entropy(z, temperature).mean())
    for got, want in zip(per_student, expected):
        assert got.item() == pytest.approx(want.item(), rel=1e-5, abs=1e-6)
    grads = torch.autograd.grad(sum(per_student), leaves)
    want_grads = torch.autograd.grad(sum(expected), leaves)
    for got, want in zip(grads, want_grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    assert total.item() == pytest.approx((sum(expected) + out.loss).item(), rel=1e-5)


@pytest.mark.parametrize("shape", [(3000, 7), (2, 1500, 3), (40, 7), (1200, 20)])
def test_fast_softmax_equals_torch(shape):
    """The class-dimension (log-)softmax and cross-entropy give torch's values and gradients,
    on the transposed layout (many rows, few classes) and on torch's own (few rows, or many
    classes)."""
    torch.manual_seed(0)
    x = torch.randn(*shape, requires_grad=True)
    for ours, theirs in (
        (losses.log_softmax, lambda z: F.log_softmax(z, -1)),
        (losses.softmax, lambda z: F.softmax(z, -1)),
    ):
        g = torch.randn(*shape)
        (got,) = torch.autograd.grad(ours(x), x, g)
        (want,) = torch.autograd.grad(theirs(x), x, g)
        torch.testing.assert_close(ours(x), theirs(x))
        torch.testing.assert_close(got, want)
    rows = x.detach().reshape(-1, shape[-1])
    y = torch.randint(0, shape[-1], (len(rows),))
    torch.testing.assert_close(losses.cross_entropy(rows, y), F.cross_entropy(rows, y))
