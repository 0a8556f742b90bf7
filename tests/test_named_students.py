"""Students of your own by name: ``module.path:ClassName`` and short names from
``mutualgnn.register_student`` work in ``run --students``, ExperimentConfig, suites, ``--save``
and ``predict``; every mistake is one message that says what to fix."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

import mutualgnn
from mutualgnn.cli import main
from mutualgnn.config import ExperimentConfig, TrainConfig
from mutualgnn.data import load_dataset
from mutualgnn.experiment import build_cohort, run_experiment
from mutualgnn.saved import load_students
from mutualgnn.students import StudentError, build_named_student, resolve_student, student_path
from mutualgnn.students import registry

USER_MODELS = """
import torch
from torch import nn
from dgl.nn import GraphConv


class MyGCN(nn.Module):
    def __init__(self, in_features, num_classes, hidden=16):
        super().__init__()
        self.hidden = hidden
        self.conv1 = GraphConv(in_features, hidden, activation=torch.relu,
                               allow_zero_in_degree=True)
        self.conv2 = GraphConv(hidden, num_classes, allow_zero_in_degree=True)

    def forward(self, graph, features):
        return self.conv2(graph, self.conv1(graph, features))


class WrongShape(MyGCN):
    def forward(self, graph, features):
        return super().forward(graph, features)[:, :1]  # one column, not one per class


class NeedsGPU(nn.Module):
    def __init__(self, in_features, num_classes, hidden=16):
        super().__init__()
        raise RuntimeError("this model needs a GPU")


class NotAModule:
    def __init__(self, in_features, num_classes):
        pass


def helper():
    return 1
"""

QUICK = ["-d", "karate", "--epochs", "5", "--threads", "1", "--no-progress"]


@pytest.fixture
def userpkg(tmp_path, monkeypatch):
    """``userpkg.models`` (and ``userpkg.broken``, whose import fails) importable from tmp_path;
    registrations and the imported modules are undone afterwards."""
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(textwrap.dedent(USER_MODELS))
    (package / "broken.py").write_text("import torch_scatter_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_REGISTERED", {})
    _forget_userpkg()
    importlib.invalidate_caches()
    yield tmp_path
    _forget_userpkg()


def _forget_userpkg():
    for name in [m for m in sys.modules if m == "userpkg" or m.startswith("userpkg.")]:
        del sys.modules[name]


def _one_message(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert [line.startswith("Error: ") for line in result.output.splitlines()] == [True], (
        result.output
    )
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def _config(students, **kwargs):
    return ExperimentConfig(
        dataset="karate",
        students=students,
        method="gml",
        train=TrainConfig(epochs=5, threads=1, progress=False),
        **kwargs,
    )


def test_run_experiment_trains_a_class_of_yours_with_the_built_ins(userpkg):
    result = run_experiment(_config(["gcn", "userpkg.models:MyGCN"]))
    rows = result.records
    assert list(rows["arch"]) == ["gcn", "userpkg.models:MyGCN", "gcn+userpkg.models:MyGCN"]
    assert rows["test_acc"].between(0, 1).all()


def test_cli_run_takes_module_colon_class(userpkg):
    result = CliRunner().invoke(
        main, ["run", *QUICK, "-s", "gcn,userpkg.models:MyGCN", "-m", "gml"]
    )
    assert result.exit_code == 0, result.output
    assert "userpkg.models:MyGCN" in result.output


def test_registered_short_name_takes_hparams_and_lr(userpkg, monkeypatch):
    from userpkg.models import MyGCN

    assert mutualgnn.register_student("mysage", MyGCN) is MyGCN
    assert resolve_student("mysage") is MyGCN and student_path("mysage") == "userpkg.models:MyGCN"
    config = _config(["gcn", "mysage"], hparams={"mysage": {"hidden": 32, "lr": "1.23e-2"}})
    dataset = load_dataset("karate")
    built = build_cohort(config, dataset)[1]
    assert isinstance(built, MyGCN) and built.hidden == 32 and built.arch == "mysage"
    assert built.hparams == {"hidden": 32, "lr": 0.0123}

    import mutualgnn.training.loop as loop

    seen, adam = [], loop._adam

    def spy(params, **kwargs):
        seen.append(kwargs)
        return adam(params, **kwargs)

    monkeypatch.setattr(loop, "_adam", spy)
    result = CliRunner().invoke(
        main,
        [
            "run",
            *QUICK,
            "-s",
            "gcn,mysage",
            "-m",
            "dml",
            "--set",
            "hparams.mysage.hidden=32",
            "--set",
            "hparams.mysage.lr=0.0123",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mysage" in result.output
    assert [s["lr"] for s in seen] == [0.01, 0.0123]  # gcn's default, then mysage's
    assert seen[1]["weight_decay"] == 0.0  # fit's default: none was given


def test_register_as_a_decorator(userpkg):
    @mutualgnn.register_student("tiny")
    class Tiny(importlib.import_module("userpkg.models").MyGCN):
        pass

    model = build_named_student("tiny", "node", 5, 3, {"hidden": 4})
    assert type(model) is Tiny and model.hidden == 4 and model.arch == "tiny"


def test_save_then_predict_rebuilds_your_students(userpkg, tmp_path):
    from userpkg.models import MyGCN

    mutualgnn.register_student("mysage", MyGCN)
    out = tmp_path / "model"
    result = CliRunner().invoke(
        main,
        [
            "run",
            *QUICK,
            "-s",
            "userpkg.models:MyGCN,mysage",
            "-m",
            "gml",
            "--save",
            str(out),
            "--set",
            "hparams.userpkg.models:MyGCN.hidden=8",
            "--set",
            "hparams.mysage.hidden=12",
        ],
    )
    assert result.exit_code == 0, result.output
    entries = json.loads((out / "seed0" / "run.json").read_text())["students"]
    assert [(e["arch"], e.get("class"), e["hparams"]) for e in entries] == [
        ("userpkg.models:MyGCN", "userpkg.models:MyGCN", {"hidden": 8}),
        ("mysage", "userpkg.models:MyGCN", {"hidden": 12}),
    ]
    assert all((out / "seed0" / e["file"]).is_file() and ":" not in e["file"] for e in entries)

    registry._REGISTERED.clear()  # as in a new process: the short name is unknown
    _forget_userpkg()
    students = load_students(out / "seed0")
    assert [(s.arch, s.hidden) for s in students] == [("userpkg.models:MyGCN", 8), ("mysage", 12)]
    result = CliRunner().invoke(main, ["predict", str(out)])
    assert result.exit_code == 0, result.output
    assert "False" not in result.output  # every reproduced accuracy matches the recorded one


def test_a_suite_cohort_names_your_class(userpkg, tmp_path):
    suite = tmp_path / "mine.yaml"
    suite.write_text(
        textwrap.dedent("""\
        name: mine
        datasets: [karate]
        methods: [gml]
        cohorts: {node: [[gcn, userpkg.models:MyGCN]]}
        seeds: {node: 0}
        settings: {train: {epochs: 3, patience: 3, threads: 1}, hparams: {gcn: {hidden: 16}}}
        """)
    )
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main, ["bench", "--suite", str(suite), "--out", str(out), "--format", "md", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "runs.jsonl").read_text().splitlines()[0])
    assert record["cohort"] == "gcn,userpkg.models:MyGCN"
    assert [s["arch"] for s in record["students"]] == ["gcn", "userpkg.models:MyGCN"]


@pytest.mark.parametrize(
    "student, fragments",
    [
        (
            "userpkg.nothere:MyGCN",
            ["cannot import module 'userpkg.nothere'", "ModuleNotFoundError", "PYTHONPATH"],
        ),
        (
            "userpkg.broken:Model",
            [
                "cannot import module 'userpkg.broken'",
                "No module named 'torch_scatter_not_installed'",
            ],
        ),
        ("userpkg.models:Nope", ["module 'userpkg.models' has no class 'Nope'", "MyGCN"]),
        ("userpkg.models:NotAModule", ["the class NotAModule, not a torch.nn.Module subclass"]),
        ("userpkg.models:helper", ["a function, not a torch.nn.Module subclass"]),
        (
            "userpkg.models:NeedsGPU",
            [
                "NeedsGPU(34, 2) failed: RuntimeError: this model needs a GPU",
                "(in_features, num_classes)",
            ],
        ),
        (
            "mysgae",
            [
                "unknown student 'mysgae'",
                "gcn, gat, sage, gin, mlp",
                "registered: none",
                "module.path:ClassName",
                "register_student",
            ],
        ),
        ("userpkg:models:MyGCN", ["module.path:ClassName"]),
    ],
)
def test_a_student_that_cannot_be_built_is_one_message(userpkg, student, fragments):
    result = CliRunner().invoke(main, ["run", *QUICK, "-s", f"gcn,{student}", "-m", "gml"])
    _one_message(result, *fragments)


def test_a_constructor_that_rejects_the_hparams_says_which_were_given(userpkg):
    result = CliRunner().invoke(
        main,
        [
            "run",
            *QUICK,
            "-s",
            "gcn,userpkg.models:MyGCN",
            "--set",
            "hparams.userpkg.models:MyGCN.heads=4",
        ],
    )
    _one_message(
        result,
        "MyGCN(34, 2, heads=4) failed: TypeError",
        "unexpected keyword argument 'heads'",
        "hparams ['heads']",
        "(in_features, num_classes, hidden=16)",
    )


def test_unknown_names_list_the_registered_ones(userpkg):
    from userpkg.models import MyGCN

    mutualgnn.register_student("mysage", MyGCN)
    with pytest.raises(StudentError, match="registered: mysage"):
        resolve_student("mysgae")
    with pytest.raises(StudentError, match="'gcn' is a built-in"):
        mutualgnn.register_student("gcn", MyGCN)
    with pytest.raises(StudentError, match="short name"):
        mutualgnn.register_student("my.sage", MyGCN)
    with pytest.raises(StudentError, match="not a torch.nn.Module"):
        mutualgnn.register_student("thing", object)
    with pytest.raises(StudentError, match="lr' of 'mysage' must be a number"):
        build_named_student("mysage", "node", 5, 3, {"lr": "fast"})


def test_wrong_output_shape_names_the_student(userpkg):
    with pytest.raises(
        ValueError,
        match=r"student 1 \(userpkg.models:WrongShape\) returned "
        r"logits of shape \(34, 1\); expected \(34, 2\)",
    ):
        run_experiment(_config(["gcn", "userpkg.models:WrongShape"]))


def test_wrong_output_shape_is_one_message_on_the_command_line(userpkg):
    result = CliRunner().invoke(main, ["run", *QUICK, "-s", "gcn,userpkg.models:WrongShape"])
    _one_message(result, "student 1 (userpkg.models:WrongShape) returned logits of shape (34, 1)")
