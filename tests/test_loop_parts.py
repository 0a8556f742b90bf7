"""The parts of ``fit``: the best-checkpoint and early-stopping bookkeeping by hand, the epoch
state the criterion holds, and the optimiser chosen in ``TrainConfig``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mutualgnn import MutualConfig, MutualLoss, TrainConfig, build_student, fit, load_dataset
from mutualgnn.config import ConfigError
from mutualgnn.training.fused import Cohort
from mutualgnn.training.checkpoints import Checkpoints
from mutualgnn.training.loop import make_optimizer


def _scores(*rows):
    """Per student (val_acc, val_loss, test_acc) -> what a runner's evaluate returns."""
    return [
        dict(val_acc=v, val_loss=loss, test_acc=t, probs=("p", k))
        for k, (v, loss, t) in enumerate(rows)
    ]


def test_checkpoints_keep_the_best_validation_epoch_and_count_stale_epochs():
    students = [nn.Linear(2, 2), nn.Linear(2, 2)]
    cohort = Cohort(students, fuse=False)
    best = Checkpoints(2, patience=2)
    best.update(1, _scores((0.5, 1.0, 0.4), (0.6, 1.0, 0.5)), cohort, students)
    weights_at_1 = students[0].weight.detach().clone()
    with torch.no_grad():
        students[0].weight.add_(1.0)
    # student 0: same accuracy, higher loss -> no improvement; student 1: lower loss -> improved
    best.update(2, _scores((0.5, 1.2, 0.9), (0.6, 0.8, 0.7)), cohort, students)
    assert best.stale == 0 and best.val_accs == [0.5, 0.6]
    best.update(3, _scores((0.4, 0.1, 0.9), (0.6, 0.9, 0.9)), cohort, students)
    best.update(4, _scores((0.5, 1.0, 0.9), (0.55, 0.1, 0.9)), cohort, students)
    assert best.stale == 2  # neither improved at epochs 3 and 4: fit stops here
    assert best.probs == [("p", 0), ("p", 1)]
    results = best.restore(cohort, students, ["a", "b"])
    assert [(r.arch, r.best_epoch, r.val_acc, r.val_loss, r.test_acc) for r in results] == [
        ("a", 1, 0.5, 1.0, 0.4),
        ("b", 2, 0.6, 0.8, 0.7),
    ]
    # the student is left at its best checkpoint, a CPU copy taken at that epoch
    assert torch.equal(students[0].weight, weights_at_1)
    assert results[0].state_dict["weight"].device.type == "cpu"


def test_the_criterion_holds_the_epochs_entropy_coefficient():
    loss = MutualLoss(2, 3, "gml", MutualConfig(gamma=0.2, gamma_warmup=4))
    assert loss.gamma_now == 0.2  # before any epoch: the setting
    loss.start_epoch(1)
    assert loss.gamma_now == pytest.approx(0.05)  # ramped: 0.2 * 1/4
    z = [torch.randn(5, 3), torch.randn(5, 3)]
    y = torch.tensor([0, 1, 2, 0, 1])
    assert torch.equal(loss(z, y, slice(None)).loss, loss(z, y, slice(None), gamma=0.05).loss)
    loss.start_epoch(9)
    assert loss.gamma_now == pytest.approx(0.2)


@pytest.mark.parametrize(
    "name, kind",
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)],
)
def test_the_optimiser_is_the_one_train_config_names(name, kind):
    train = TrainConfig(optimizer=name, momentum=0.9 if name == "sgd" else 0.0)
    optimiser = make_optimizer(train, nn.Linear(2, 2).parameters(), lr=0.05, weight_decay=1e-4)
    assert type(optimiser) is kind
    group = optimiser.param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.05, 1e-4)
    if name == "sgd":
        assert group["momentum"] == 0.9


def test_a_wrong_optimiser_setting_says_the_choices():
    with pytest.raises(ConfigError, match="train.optimizer must be one of adam, adamw, sgd"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ConfigError, match="train.momentum is SGD's"):
        TrainConfig(momentum=0.9)


def test_fit_trains_with_sgd_and_the_default_is_unchanged_adam():
    karate = load_dataset("karate")

    def gcn_pair():
        torch.manual_seed(0)
        return [
            build_student(a, "node", karate.num_features, karate.num_classes)
            for a in ("gcn", "gat")
        ]

    short = dict(epochs=5, patience=5, progress=False, threads=1)
    adam = fit(gcn_pair(), karate, train=TrainConfig(**short), method="gml")
    again = fit(gcn_pair(), karate, train=TrainConfig(optimizer="adam", **short), method="gml")
    assert [s.test_acc for s in adam.students] == [s.test_acc for s in again.students]
    assert [h["train_loss"] for h in adam.history] == [h["train_loss"] for h in again.history]
    sgd = fit(
        gcn_pair(), karate, method="gml", train=TrainConfig(optimizer="sgd", momentum=0.9, **short)
    )
    assert sgd.epochs_run == 5
    assert [h["train_loss"] for h in sgd.history] != [h["train_loss"] for h in adam.history]
