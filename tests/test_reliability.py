"""Promises of docs/reliability.md kept by the training loop and the command line: a diverging
student is an error, not a result; output paths are checked before any work; files are
replaced whole."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import mutualgnn.cli as cli
from mutualgnn import MutualConfig, TrainConfig, build_student, fit, seed_everything
from mutualgnn.config import ConfigError
from mutualgnn.files import check_file, check_folder, replacing, write_text
from mutualgnn.training import DivergenceError

UNWRITABLE = "/proc/mutualgnn-cannot-write-here"


def _cohort(karate, lr_gcn):
    seed_everything(0)
    return [
        build_student("gcn", "node", karate.num_features, 2, lr=lr_gcn),
        build_student("gat", "node", karate.num_features, 2),
    ]


def test_an_absurd_learning_rate_stops_the_fit_naming_student_epoch_and_settings(karate):
    students = _cohort(karate, 1e20)
    with pytest.raises(DivergenceError) as caught:
        fit(
            students,
            karate,
            karate.split,
            train=TrainConfig(epochs=30, progress=False),
            method="gml",
            mutual=MutualConfig(),
        )
    err = caught.value
    assert (err.student, err.arch, err.epoch) == (0, "gcn", 1)
    message = str(err)
    assert "student 0 (gcn) diverged at epoch 1" in message
    assert "lr 1e+20" in message and "mutual.lam (1)" in message


def test_a_sane_learning_rate_trains_to_finite_numbers(karate):
    result = fit(
        _cohort(karate, 0.01),
        karate,
        karate.split,
        train=TrainConfig(epochs=5, progress=False),
        method="gml",
        mutual=MutualConfig(),
    )
    assert all(0 <= s.test_acc <= 1 for s in result.students)


def test_run_reports_divergence_as_one_message():
    result = CliRunner().invoke(
        cli.main,
        [
            "run",
            "-d",
            "karate",
            "-s",
            "gcn,gat",
            "-m",
            "gml",
            "--set",
            "hparams.gcn.lr=1e20",
            "--epochs",
            "30",
            "--no-progress",
            "--threads",
            "1",
        ],
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: student 0 (gcn) diverged at epoch 1")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-d", "karate", "-s", "gcn", "--save", UNWRITABLE],
        ["run", "-d", "karate", "-s", "gcn", "--output", f"{UNWRITABLE}/runs.csv"],  # old name
        ["run", "-d", "karate", "-s", "gcn", "-o", f"{UNWRITABLE}/runs.csv"],
        ["bench", "--suite", "smoke", "--out", UNWRITABLE],
        ["table", UNWRITABLE],
        ["cka", "--out", UNWRITABLE],
        ["distil", "-o", UNWRITABLE],
        ["report", ".", "-o", f"{UNWRITABLE}/results.md"],
    ],
)
def test_an_unwritable_output_stops_before_any_work(monkeypatch, args):
    def no_work(*a, **k):
        raise AssertionError("work started before the output path was checked")

    # the command line imports what it calls when it runs: stop the work where it is defined
    for module, name in (
        ("mutualgnn.experiment", "run_experiment"),
        ("mutualgnn.bench", "run_suite"),
        ("mutualgnn.bench", "tabulate"),
        ("mutualgnn.data", "load_dataset"),
        ("mutualgnn.analyses", "cka_study"),
        ("mutualgnn.analyses", "distillation_study"),
        ("mutualgnn.bench.report", "write_results_page"),
    ):
        monkeypatch.setattr(f"{module}.{name}", no_work)
    result = CliRunner().invoke(cli.main, args + ["--no-progress"] if args[0] == "run" else args)
    assert result.exit_code == 1, result.output
    assert "cannot write there" in result.output and "Traceback" not in result.output


def test_checks_name_the_option(tmp_path):
    assert check_folder(tmp_path / "a" / "b", "--save").is_dir()
    assert check_file(tmp_path / "c" / "out.csv", "--output").parent.is_dir()
    with pytest.raises(ConfigError, match="--output .*: is a folder"):
        check_file(tmp_path, "--output")
    with pytest.raises(ConfigError, match="--save /proc"):
        check_folder(UNWRITABLE, "--save")


def test_a_replaced_file_is_whole_or_untouched(tmp_path):
    path = write_text(tmp_path / "table.md", "old\n")
    with pytest.raises(RuntimeError):
        with replacing(path) as fh:
            fh.write("half a new ta")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]  # no temporary left
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
