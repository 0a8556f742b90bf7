"""Analyses: linear CKA against hand computations and its invariances; hidden layers; the CKA
study end to end on the built-in karate graph."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from mutualgnn import build_student, seed_everything
from mutualgnn.analyses import hidden_states, linear_cka
from mutualgnn.cli import main


def test_linear_cka_by_hand():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])  # centred already
    y = torch.tensor([[1.0], [1.0], [-1.0], [-1.0]])
    # X^T X = 2 I (norm 2 sqrt 2); Y^T Y = [[4]] (norm 4); Y^T X = [[2, 2]] (squared norm 8)
    assert linear_cka(x, y) == pytest.approx(8 / (2 * 2**0.5 * 4))


def test_linear_cka_invariances():
    torch.manual_seed(0)
    x = torch.randn(200, 8)
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert linear_cka(x, 3 * x @ q + 5) == pytest.approx(1.0, abs=1e-9)  # rotation, scale, shift
    assert linear_cka(x, torch.randn(200, 8)) < 0.2
    with pytest.raises(ValueError, match="same rows"):
        linear_cka(x, x[:10])


@pytest.mark.parametrize(
    "arch, width", [("gcn", 64), ("gat", 64), ("sage", 64), ("gin", 64), ("mlp", 64)]
)
def test_hidden_states_shape(karate, arch, width):
    seed_everything(0)
    student = build_student(arch, "node", karate.num_features, karate.num_classes)
    h = hidden_states(student, karate.graph, karate.graph.ndata["feat"])
    assert h.shape == (karate.graph.num_nodes(), width)
    assert not student.training


def test_cka_command(tmp_path):
    out = tmp_path / "cka"
    result = CliRunner().invoke(
        main,
        [
            "cka",
            "-d",
            "karate",
            "--pairs",
            "gcn-gat,gcn-gcn",
            "--seeds",
            "0",
            "--out",
            str(out),
            "--threads",
            "1",
            "--set",
            "train.epochs=10",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"cka.csv", "cka.md", "cka.png"}
    import pandas as pd

    frame = pd.read_csv(out / "cka.csv")
    assert len(frame) == 4 and frame["cka"].between(0, 1 + 1e-9).all()
    bad = CliRunner().invoke(main, ["cka", "-d", "minigc"])
    assert bad.exit_code != 0 and "node-level" in bad.output


class _FixedTeacher(torch.nn.Module):
    """A teacher whose logits (N, C) are given: what kd distils from must be a module."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits)

    def forward(self, graph, feat):
        return self.logits


def test_kd_distils_one_mlp_from_one_teacher(karate):
    # mutualgnn distil: a cohort of one MLP and its one teacher (K = 1 under kd)
    from mutualgnn import TrainConfig, fit
    from mutualgnn.config import MutualConfig

    torch.manual_seed(0)
    teacher_logits = 5 * torch.randn(karate.graph.num_nodes(), karate.num_classes)
    teacher = _FixedTeacher(teacher_logits.clone())
    seed_everything(0)
    mlp = build_student("mlp", "node", karate.num_features, karate.num_classes)
    train = TrainConfig(epochs=150, patience=150, progress=False, threads=1)
    result = fit(
        [mlp],
        karate,
        karate.split,
        train=train,
        method="kd",
        mutual=MutualConfig(lam=5.0),
        teachers=[teacher],
    )
    assert len(result.students) == 1 and torch.equal(teacher.logits, teacher_logits)
    with torch.no_grad():
        z = mlp.eval()(karate.graph, karate.graph.ndata["feat"])
    agree = (z.argmax(1) == teacher_logits.argmax(1)).float().mean()
    # the teacher's random labels on the unlabelled nodes are learned from the KL term alone
    assert agree > 0.7


def test_distil_command(tmp_path):
    import pandas as pd

    out = tmp_path / "distil"
    result = CliRunner().invoke(
        main,
        [
            "distil",
            "-d",
            "karate",
            "--seeds",
            "0",
            "--out",
            str(out),
            "--threads",
            "1",
            "--set",
            "train.epochs=10",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "distil.csv")
    assert list(frame["teacher"]) == ["gcn (alone)", "gcn (gml)"]
    assert (frame["teacher_ms"] > 0).all() and (frame["mlp_ms"] > 0).all()
    assert "speed-up" in (out / "distil.md").read_text()
