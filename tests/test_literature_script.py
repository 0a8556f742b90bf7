"""benchmarks/literature.py: the protocols computed from stored per-epoch curves (by hand), the
replayed early stopping against the training loop's own, and a tiny run into a store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import literature  # noqa: E402


def _run(fold, member, val, loss, test, split="ours", n=4):
    return dict(
        name="s",
        dataset="D",
        arch="gcn",
        seed=0,
        fold=fold,
        member=member,
        split=split,
        features="as-loaded",
        set=[],
        note="",
        n_val=n,
        n_test=n,
        epochs=len(test),
        epochs_run=len(test),
        best_epoch=None,
        test_at_best=None,
        val_correct=val,
        val_loss=loss,
        test_correct=test,
    )


def test_replay_picks_the_best_validation_epoch_and_stops_on_patience():
    val, loss = [1, 3, 3, 2, 2, 2, 4], [0.9, 0.5, 0.4, 0.6, 0.6, 0.6, 0.1]
    # epoch 3 ties epoch 2 with a lower loss: an improvement; then 3 epochs without one
    assert literature.replay(val, loss, patience=3) == (3, 6)
    assert literature.replay(val, loss, patience=100) == (7, 7)
    assert literature.replay([2, 2, 2], [0.5, 0.5, 0.5], patience=100) == (1, 3)  # equal: no


def test_protocols_by_hand():
    # two folds of one member, 4 test graphs each, three epochs
    runs = [
        _run(0, 0, val=[1, 4, 2], loss=[1, 1, 1], test=[1, 2, 4]),
        _run(1, 0, val=[3, 2, 2], loss=[1, 1, 1], test=[2, 4, 3]),
    ]
    p = literature.protocols(runs)
    assert p["ours"][0] == pytest.approx(100 * (2 / 4 + 2 / 4) / 2)  # epochs 2 and 1
    # mean test curve: 37.5, 75, 87.5 -> epoch 3 for every fold
    assert p["xu"][0] == pytest.approx(87.5) and p["xu_epoch"] == [3]
    assert p["last"][0] == pytest.approx(87.5)
    assert p["xu"][2] == 2
    # a second member gets its own mean curve and epoch
    runs += [
        _run(0, 1, [4, 0, 0], [1, 1, 1], [4, 0, 0]),
        _run(1, 1, [4, 0, 0], [1, 1, 1], [2, 1, 0]),
    ]
    p = literature.protocols(runs)
    assert p["xu_epoch"] == [3, 1] and p["xu"][0] == pytest.approx((75 + 100 + 100 + 50) / 4)
    # no validation graphs (Xu's split): only Xu's protocol and the last epoch
    p = literature.protocols([_run(0, 0, [1, 1], [1, 1], [1, 3], split="xu")])
    assert p["ours"] is None and p["xu"][0] == 75


def test_protocols_without_every_epoch_give_no_test_curve_selection():
    run = _run(0, 0, [1, 2], [1, 1], [1, 2])
    run["epochs"] = 5  # stopped early
    p = literature.protocols([run])
    assert p["xu"] is None and p["last"] is None and p["ours"] is not None


def test_a_tiny_run_is_stored_and_its_replay_matches_the_loop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        literature,
        "reference",
        lambda: pd.DataFrame(
            [dict(dataset="minigc", arch="gin", test_acc=50.0, std=1.0, source="somewhere")]
        ),
    )
    literature.main(
        [
            "run",
            "--dataset",
            "minigc",
            "--arch",
            "gin",
            "--members",
            "2",
            "--name",
            "tiny",
            "--folds",
            "2",
            "--set",
            "train.epochs=4",
            "--set",
            "hparams.gin.hidden=8",
            "--out",
            str(tmp_path),
        ]
    )
    literature.main(
        [
            "run",
            "--dataset",
            "minigc",
            "--arch",
            "gin",
            "--name",
            "stops",
            "--folds",
            "2",
            "--run-folds",
            "1",
            "--set",
            "train.epochs=30",
            "--set",
            "train.patience=2",
            "--set",
            "hparams.gin.hidden=8",
            "--out",
            str(tmp_path),
        ]
    )
    runs = literature.read(tmp_path / "runs.jsonl")
    assert [(r["name"], r["fold"], r["member"]) for r in runs] == [
        ("tiny", 0, 0),
        ("tiny", 0, 1),
        ("tiny", 1, 0),
        ("tiny", 1, 1),
        ("stops", 1, 0),
    ]
    assert all(len(r["test_correct"]) == r["epochs_run"] for r in runs)
    assert runs[-1]["epochs_run"] < 30  # stopped by the loop: the replay agrees with it
    assert literature.check_replay(runs) == 0
    doc = tmp_path / "lit.md"
    literature.main(["table", "--doc", str(doc), "--out", str(tmp_path)])
    text = doc.read_text()
    assert "## " + literature.SECTION in text and "50.0 ± 1.0 (somewhere)" in text
    assert "| tiny " in text.replace("  ", " ")
    literature.main(
        [
            "run",
            "--dataset",
            "minigc",
            "--arch",
            "gin",
            "--members",
            "2",
            "--name",
            "tiny",
            "--folds",
            "2",
            "--out",
            str(tmp_path),
        ]
    )  # all done
    assert len(literature.read(tmp_path / "runs.jsonl")) == 5
    json.loads((tmp_path / "runs.jsonl").read_text().splitlines()[0])
