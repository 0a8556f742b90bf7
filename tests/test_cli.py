"""The ``mutualgnn`` command line through click's CliRunner: output, files, and error paths."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from mutualgnn.cli import main
from mutualgnn.data import BUILTIN, OGB, SUITE, expected_files

RECORD_COLUMNS = {
    "dataset",
    "method",
    "seed",
    "fold",
    "student",
    "arch",
    "test_acc",
    "val_acc",
    "best_epoch",
    "config",
    "versions",
}
QUICK = ["--epochs", "5", "--threads", "1", "--no-progress"]


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_clean_error(result, *fragments, code=1, one_line=True):
    """Non-zero exit through click (SystemExit), no traceback, a message naming ``fragments``."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    if one_line and code == 1:
        assert lines == errors, f"more than one line: {result.output!r}"
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


# ----------------------------------------------------------------------------- datasets


def test_datasets_lists_every_known_dataset(runner, shared_data):
    result = invoke(runner, "datasets")
    assert result.exit_code == 0, result.output
    table = result.output.splitlines()
    assert str(shared_data) in table[0]
    rows = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert list(rows) == list(SUITE + OGB + BUILTIN)
    # the six benchmarks and the built-in sets are present; ogb's are not in the shared folder
    assert [rows[n][3] for n in rows] == ["True"] * 6 + ["False"] * 3 + ["True"] * 2
    assert [rows[n][1] for n in rows] == (
        ["node"] * 3 + ["graph"] * 3 + ["node"] * 2 + ["graph", "node", "graph"]
    )
    assert rows["ogbg-molhiv"][2] == "rocauc" and rows["cora"][2] == "acc"
    assert "2708 nodes, 10556 edges, 1433 features, 7 classes" in result.output
    assert "600 graphs, 21 features, 6 classes" in result.output


def test_datasets_with_empty_data_dir(runner, tmp_path):
    result = invoke(runner, "datasets", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[0]: line.split() for line in result.output.splitlines()[2:] if line.strip()
    }
    present = {n: row[3] for n, row in rows.items()}
    # cora is shipped with the package: present even in an empty data directory
    assert present == {
        **{n: "False" for n in SUITE + OGB},
        "cora": "True",
        **{n: "True" for n in BUILTIN},
    }
    assert rows["cora"][-1] == "embedded"
    assert "2708 nodes, 10556 edges, 1433 features, 7 classes" in result.output


# ----------------------------------------------------------------------------- run


def _check_records(df, seeds=(0, 1), students=("gcn", "gat")):
    assert RECORD_COLUMNS <= set(df.columns), set(df.columns)
    assert len(df) == len(seeds) * (len(students) + 1)
    df = df.assign(student=df["student"].astype(str))
    for seed in seeds:
        rows = df[df["seed"] == seed]
        assert list(rows["student"]) == [str(k) for k in range(len(students))] + ["ensemble"]
        assert list(rows["arch"]) == list(students) + ["+".join(students)]
    assert df["dataset"].eq("karate").all() and df["method"].eq("independent").all()
    assert df["test_acc"].between(0, 1).all() and df["val_acc"].between(0, 1).all()
    assert df["fold"].isna().all()
    students_only = df[df["student"] != "ensemble"]
    assert students_only["best_epoch"].between(1, 5).all()
    versions = json.loads(df["versions"].iloc[0])
    assert {"mutualgnn", "torch", "dgl"} <= set(versions)
    return df


def test_run_writes_csv(runner, tmp_path):
    out = tmp_path / "sub" / "out.csv"
    result = invoke(
        runner,
        "run",
        "--dataset",
        "karate",
        "--students",
        "gcn,gat",
        "--seeds",
        "0-1",
        *QUICK,
        "--output",
        out,
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "karate: method independent, 2 seed(s)" in result.output
    assert "±" in result.output and "ensemble" in result.output
    table = [line.split() for line in result.output.splitlines()]
    assert any(line[:2] == ["0", "gcn"] for line in table)
    assert any(line[:2] == ["1", "gat"] for line in table)
    assert f"wrote 6 rows to {out}" in result.output
    df = _check_records(pd.read_csv(out))
    config = json.loads(df["config"].iloc[0])
    assert config["students"] == ["gcn", "gat"] and config["seeds"] == [0, 1]
    assert config["train"]["epochs"] == 5


def test_run_writes_json(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(
        runner, "run", "-d", "karate", "-s", "gcn,gat", "--seeds", "0,1", *QUICK, "--out", out
    )
    assert result.exit_code == 0, result.output
    parsed = json.loads(out.read_text())
    assert isinstance(parsed, list) and len(parsed) == 6
    _check_records(pd.read_json(out))


def test_run_graph_dataset_with_folds(runner, tmp_path):
    out = tmp_path / "folds.csv"
    result = invoke(
        runner,
        "run",
        "-d",
        "minigc",
        "-s",
        "gin",
        "--folds",
        "3",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--no-progress",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "minigc: method independent, 1 seed(s), 3 folds" in result.output
    df = pd.read_csv(out)
    assert len(df) == 3 * 2  # (fold) x (gin, ensemble)
    assert sorted(df["fold"].unique()) == [0, 1, 2]
    # each fold's indices are recorded; the test folds partition the 240 graphs
    tests = [json.loads(s)["test"] for s in df.drop_duplicates("fold")["split"]]
    assert sorted(i for t in tests for i in t) == list(range(240))
    assert set(df["arch"]) == {"gin"} and df["seed"].eq(0).all()


def test_run_config_file_and_set(runner, tmp_path):
    config = tmp_path / "exp.yaml"
    config.write_text(
        "dataset: karate\n"
        "students: [gcn, gcn]\n"
        "seeds: [3]\n"
        "train:\n  epochs: 7\n  patience: 50\n  progress: false\n"
        "hparams:\n  gcn: {hidden: 16}\n"
    )
    out = tmp_path / "out.csv"
    result = invoke(
        runner,
        "run",
        "--config",
        config,
        "--set",
        "train.patience=3",
        "--set",
        "hparams.gcn.dropout=0.25",
        "--epochs",
        "6",
        "--threads",
        "1",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert list(df["seed"].unique()) == [3] and len(df) == 3
    settings = json.loads(df["config"].iloc[0])
    assert settings["train"]["patience"] == 3  # --set beats the file
    assert settings["train"]["epochs"] == 6  # --epochs beats the file
    assert settings["hparams"] == {"gcn": {"hidden": 16, "dropout": 0.25}}
    assert settings["students"] == ["gcn", "gcn"]
    assert (df["epochs_run"] <= 6).all()


# ----------------------------------------------------------------------------- errors


def test_unknown_dataset(runner, tmp_path):
    result = invoke(runner, "run", "--dataset", "no-such-set", "--data-dir", tmp_path, *QUICK)
    assert_clean_error(result, "no-such-set", "cora", "karate", "minigc", one_line=False)


def test_unknown_student(runner):
    result = invoke(runner, "run", "-d", "karate", "-s", "gcn,transformer", *QUICK)
    assert_clean_error(result, "transformer", "gcn, gat, sage, gin, mlp")


def test_unknown_method(runner):
    result = invoke(runner, "run", "-d", "karate", "-m", "magic", *QUICK)
    assert_clean_error(result, "magic", "independent", "dml", "gml", code=2)


@pytest.mark.parametrize("assignment", ["train.patience", "=3", "  =1"])
def test_bad_set_syntax(runner, assignment):
    result = invoke(runner, "run", "-d", "karate", "--set", assignment, *QUICK)
    assert_clean_error(result, "key=value", assignment.strip() or assignment)


@pytest.mark.parametrize(
    "assignment, names",
    [
        ("learning_rate=0.1", ["learning_rate", "dataset", "students", "train"]),
        ("train.patiense=3", ["train.patiense", "train.patience", "train.epochs"]),
        ("mutual.lamda=1", ["mutual.lamda", "mutual.lam"]),
        ("hparams.gcn.hiden=32", ["hiden", "hidden"]),
    ],
)
def test_unknown_config_key(runner, assignment, names):
    result = invoke(runner, "run", "-d", "karate", "--set", assignment, *QUICK)
    assert_clean_error(result, *names)


def test_unknown_key_in_config_file(runner, tmp_path):
    config = tmp_path / "exp.yaml"
    config.write_text("dataset: karate\nepochz: 3\n")
    assert_clean_error(invoke(runner, "run", "--config", config, *QUICK), "epochz", "students")


@pytest.mark.parametrize("text", ["dataset: karate\nstudents: [gcn\n", "a: b: c\n", "- 1\n- 2\n"])
def test_malformed_yaml(runner, tmp_path, text):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = invoke(runner, "run", "--config", config, *QUICK)
    # YAML's own position report may follow on indented lines
    assert_clean_error(result, str(config), one_line=False)
    assert result.output.splitlines()[0].startswith(f"Error: config file {config}")


def test_missing_config_file(runner, tmp_path):
    result = invoke(runner, "run", "--config", tmp_path / "nope.yaml", *QUICK)
    assert_clean_error(result, "nope.yaml")


def test_mutual_method_needs_two_students(runner):
    result = invoke(runner, "run", "-d", "karate", "-s", "gcn", "-m", "gml", *QUICK)
    assert_clean_error(result, "gml", "at least 2 students")


def test_bad_output_suffix(runner, tmp_path):
    out = tmp_path / "out.txt"
    result = invoke(runner, "run", "-d", "karate", *QUICK, "-o", out)
    assert_clean_error(result, "--out must end in .json or .csv", "out.txt")
    assert not out.exists()


def test_missing_dataset_dir(runner, tmp_path, monkeypatch):
    # a fresh cache: a copy staged by an earlier test would be found there (see data.py)
    monkeypatch.setenv("MUTUALGNN_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "empty"
    data.mkdir()
    # not cora: the package ships cora's files (tests/test_own_data.py)
    result = invoke(runner, "run", "--dataset", "citeseer", "--data-dir", data, *QUICK)
    files = expected_files("citeseer")
    assert_clean_error(
        result,
        "'citeseer'",
        str(data),
        "MUTUALGNN_DATA_DIR",
        *(str(data / f) for f in files),
        one_line=False,
    )
    assert list(data.iterdir()) == []


@pytest.mark.parametrize(
    "args, fragment, code",
    [
        (["--seeds", "zero-nine"], "seeds", 1),
        (["--folds", "1"], "folds", 2),  # click's range check: a usage error
        (["--epochs", "0"], "epochs", 2),
        (["--threads", "0"], "threads", 2),
        (["--set", "train.epochs=abc"], "epochs", 1),
        (["--set", "folds=ten"], "folds", 1),
        (["--set", "train.threads=0"], "threads", 1),
        (["--set", "students=5"], "students", 1),
        (["--set", "hparams.gcn.hidden=abc"], "hidden", 1),
        (["--device", "gpu"], "train.device must be cpu, cuda, cuda:N", 1),
    ],
    ids=[
        "seeds",
        "folds",
        "epochs",
        "threads",
        "set-epochs-type",
        "set-folds-type",
        "set-threads",
        "set-students-type",
        "set-hparam-type",
        "device",
    ],
)
def test_bad_option_values(runner, args, fragment, code):
    result = invoke(runner, "run", "-d", "karate", "--no-progress", *args)
    assert_clean_error(result, fragment, code=code)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("extra", [[], ["--distributed", "2"]], ids=["one-process", "distributed"])
def test_run_on_cuda_without_a_gpu_says_how_to_fix_it(runner, extra):
    result = invoke(
        runner, "run", "-d", "karate", "-s", "gcn,gat", *QUICK, "--device", "cuda", *extra
    )
    assert_clean_error(result, "sees no CUDA GPU", "CUDA builds of torch and DGL", "--device cpu")


# ----------------------------------------------------------------------------- one language


def test_the_choices_are_the_registries():
    """The command line names the choices itself (its --help imports no registry); they are
    the same."""
    from mutualgnn import config
    from mutualgnn.cli import common as cli

    assert cli.METHOD_NAMES == tuple(config.METHOD_NAMES)
    assert cli.COORDINATORS == tuple(config.COORDINATORS)
    assert cli.FEATURES == tuple(config.FEATURES)


def test_the_command_list_is_not_cut_off(runner):
    result = invoke(runner, "--help")
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in commands] == sorted(main.commands)
    assert not any(line.rstrip().endswith("...") for line in commands), result.output


def _options():
    import click

    return [
        (name, command, param)
        for name, command in sorted(main.commands.items())
        for param in command.params
        if isinstance(param, click.Option) and param.name != "help"
    ]


@pytest.mark.parametrize(
    "name, command, option",
    _options(),
    ids=lambda x: x if isinstance(x, str) else getattr(x, "name", None),
)
def test_every_option_has_help_and_shows_its_default(name, command, option):
    import click

    assert option.help, f"{name} {option.opts}: no help"
    ctx = click.Context(
        command,
        info_name=name,
        parent=click.Context(main, info_name="mutualgnn"),
        show_default=True,
    )
    record = option.get_help_record(ctx)[1]
    # a plain flag (--list, --force) is off, and --set empty, unless given: no default to show
    has_default = isinstance(option.default, (str, int)) and option.default is not False
    if has_default or isinstance(option.show_default, str):
        assert "[default: " in record, (name, option.opts, record)


#: one concept, one flag: these options mean the same wherever they appear
SHARED = {
    "dataset": ("-d", "--dataset"),
    "datasets": ("-d", "--datasets"),
    "students": ("-s", "--students"),
    "method": ("-m", "--method"),
    "methods": ("-m", "--methods"),
    "jobs": ("-j", "--jobs"),
    "out": ("-o", "--out"),
    "data_dir": ("--data-dir",),
    "threads": ("--threads",),
    "seeds": ("--seeds",),
}


def test_one_concept_one_flag():
    import click

    seen = {}
    for name, _, option in _options():
        for short in (o for o in option.opts if len(o) == 2):  # a short flag: one meaning
            # the first long name, --dataset and --datasets as one concept
            concept = next(o for o in option.opts if o.startswith("--")).rstrip("s")
            assert seen.setdefault(short, concept) == concept, (name, short, option.name)
        long = next(o for o in option.opts if o.startswith("--"))[2:].replace("-", "_")
        if long in SHARED:
            assert tuple(option.opts[: len(SHARED[long])]) == SHARED[long], (name, option.opts)
    assert set(seen) == {"-d", "-s", "-m", "-j", "-o"}
    writers = sorted(name for name, _, option in _options() if "-o" in option.opts)
    assert writers == ["bench", "cka", "distil", "report", "run"]  # every command that writes
    # --folds is a count (run); the folds a suite runs are picked by --run-folds (bench)
    assert [name for name, _, option in _options() if "--folds" in option.opts] == ["run"]
    # a folder a command reads is its argument
    for name in ("predict", "table", "report", "verify"):
        assert isinstance(main.commands[name].params[0], click.Argument), name


def test_python_dash_m_mutualgnn_is_the_command_line():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mutualgnn", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: mutualgnn ")


def test_choices_and_names_in_any_case_and_cora_offline_in_silence(runner, tmp_path, monkeypatch):
    """Cora from an empty data directory with downloads allowed: the package's copy, no word of
    the network; the method, the students and the dataset in any case; what trains is said
    first (on stderr, off a terminal too)."""
    from mutualgnn._dgl_compat import dgl

    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(dgl.data.dgl_dataset, "download", no_network)
    monkeypatch.setattr(dgl.data.CoraGraphDataset, "download", no_network)
    monkeypatch.delenv("MUTUALGNN_DOWNLOAD", raising=False)
    monkeypatch.setenv("MUTUALGNN_CACHE_DIR", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "runs.json"
    result = invoke(
        runner,
        "run",
        "-d",
        "Cora",
        "-s",
        "GCN,Gat",
        "-m",
        "GML",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--data-dir",
        empty,
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "download" not in result.output.lower()
    assert result.output.splitlines()[0] == (
        "cora: gcn, gat trained with gml, 1 seed(s), at most 2 epochs each (early stop after "
        "100 without a better validation score)"
    )
    rows = pd.read_json(out)
    config = json.loads(rows["config"].iloc[0])
    assert (config["students"], config["method"]) == (["gcn", "gat"], "gml")
    assert set(rows["dataset"]) == {"cora"}


def test_run_with_nothing_but_a_dataset_says_what_it_does(runner):
    result = invoke(runner, "run", "-d", "karate", "--epochs", "2", "--threads", "1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "karate: gcn trained with independent, 1 seed(s), at most 2 epochs each (early stop "
        "after 100 without a better validation score); for mutual learning try -s gcn,gat -m gml"
    )


def test_bench_runs_the_quickstart_suite_by_default_which_needs_no_files():
    from mutualgnn.bench import load_suite
    from mutualgnn.data import embedded_dir

    default = next(p for p in main.commands["bench"].params if p.name == "suite_name").default
    assert default == "quickstart"
    # every dataset of it ships with the package: nothing to download, nothing absent
    assert [embedded_dir(d) is not None for d in load_suite(default).datasets] == [True]


def test_the_cli_page_lists_every_command_and_option():
    """docs/cli.md's reference (written by benchmarks/cli_time.py from click's own help) names
    every command and every option as they are now; rerun the script when this fails."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    reference = page.partition("\n## Commands\n")[2].partition("\n## ")[0]
    blocks = {block.split("\n", 1)[0]: block for block in reference.split("\n### mutualgnn ")[1:]}
    assert sorted(blocks) == sorted(main.commands)
    for name, command in main.commands.items():
        assert command.get_short_help_str(100) in blocks[name], name
        for param in command.params:
            for flag in getattr(param, "opts", []) if param.param_type_name == "option" else []:
                assert f"{flag} " in blocks[name] or f"{flag}," in blocks[name], (name, flag)
