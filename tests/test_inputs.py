"""Settings as people write them: floats in any notation, cohorts as strings or lists, and every
bad suite or ``--set`` ending in one message and a non-zero exit, never a traceback."""

from __future__ import annotations


import pytest
from click.testing import CliRunner

from mutualgnn.bench import load_suite, plan
from mutualgnn.cli import main
from mutualgnn.config import ConfigError, ExperimentConfig, MutualConfig, TrainConfig, parse_yaml
from mutualgnn.students import StudentError, student_hparams

QUICK = ["--epochs", "2", "--threads", "1", "--no-progress"]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def assert_one_message(result, *fragments):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    # bench's one line of projection ("plan: ...") comes first once its suite has loaded
    lines = [
        line
        for line in result.output.splitlines()
        if line.strip() and not line.startswith("plan: ")
    ]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e-3", 0.001),
        ("5e-1", 0.5),
        (".5", 0.5),
        ("1.5e-2", 0.015),
        ("-2E-1", -0.2),
        ("3", 3),
        ("0.25", 0.25),
        ("gcn,gat", "gcn,gat"),
    ],
)
def test_yaml_reads_floats_in_any_notation(text, value):
    assert parse_yaml(text) == value and type(parse_yaml(text)) is type(value)


@pytest.mark.parametrize("given", ["5e-1", ".5", 0.5, "0.5"])
def test_every_float_setting_takes_any_notation(given):
    assert MutualConfig(lam=given).lam == 0.5
    assert TrainConfig(lr_decay=given).lr_decay == 0.5
    assert ExperimentConfig(label_noise=given).label_noise == 0.5
    assert student_hparams("gcn", "node", overrides={"lr": given})["lr"] == 0.5


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "nan", "-inf", ".inf", "abc", True])
def test_nan_inf_and_words_are_refused(bad):
    with pytest.raises(ConfigError, match="mutual.lam must be a"):
        MutualConfig(lam=bad)
    with pytest.raises(StudentError, match="'lr' of 'gcn' must be a"):
        student_hparams("gcn", "node", overrides={"lr": bad})


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(coordinator="nope"), "unknown coordinator 'nope'"),
        (dict(kl_rows="some"), "mutual.kl_rows must be one of all, train"),
        (dict(temperature=0), "mutual.temperature must be > 0"),
        (dict(lam=-1), "mutual.lam must be >= 0"),
        (
            dict(coordinator="temperature", temperature=5.0),
            "t_min < mutual.temperature < mutual.t_max",
        ),
    ],
)
def test_mutual_config_validates_itself(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        MutualConfig(**kwargs)


@pytest.mark.parametrize(
    "setting", ["hparams.gcn.lr=1e-3", "mutual.lam=5e-1", "mutual.gamma=.5", "train.lr_decay=5E-1"]
)
def test_run_takes_scientific_notation(setting):
    result = invoke("run", "-d", "karate", "-s", "gcn,gat", "-m", "gml", "--set", setting, *QUICK)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "setting, fragment",
    [
        ("mutual.lam=nan", "finite"),
        ("mutual.lam=.inf", "finite"),
        ("hparams.gcn.lr=nan", "finite"),
        ("hparams.gcn.lr=abc", "must be a number"),
        ("train=3", "'train' must be a mapping"),
        ("mutual.coordinator=foo", "unknown coordinator"),
        ("hparams.gcn=5", "hparams must map"),
        ("train.epochs=abc", "train.epochs must be a int"),
        ("nope=1", "unknown config key"),
        ("seeds=[a]", "cannot read seeds"),
        ("data_dir=5", "data_dir must be"),
        ("students=5", "students"),
        ("hparams.gcn.nope=1", "unknown hyper-parameter"),
        ("mutual.lam", "--set expects key=value"),
        ("train.epochs.x=1", "is not a section"),
        ("mutual.lam=[1, 2", "cannot read the value"),
    ],
)
def test_a_bad_set_is_one_message(setting, fragment):
    result = invoke("run", "-d", "karate", "-s", "gcn,gat", "-m", "gml", "--set", setting, *QUICK)
    assert_one_message(result, fragment)


def _suite(tmp_path, text):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("cohorts", ['"gcn,gat"', '["gcn,gat"]', "[[gcn, gat]]", "[gcn, gat]"])
def test_a_suite_cohort_is_a_string_or_a_list(tmp_path, cohorts):
    suite = load_suite(
        _suite(
            tmp_path,
            f"name: t\ndatasets: [karate]\nmethods: [gml]\n"
            f"cohorts: {{node: {cohorts}}}\nseeds: {{node: 0}}\n",
        )
    )
    want = ["gcn", "gat"] if cohorts == "[gcn, gat]" else ["gcn,gat"]  # two one-student cohorts
    assert suite.cohorts["node"] == want
    assert [s.cohort for s in plan(suite)] == [c for c in want if "," in c]


BAD_SUITES = {
    "not a mapping": ("[1, 2]", "must hold a mapping"),
    "no name": ("datasets: [karate]", "wrong type or shape"),
    "datasets not a list": ("name: t\ndatasets: karate", "'datasets' must be a non-empty list"),
    "a dataset that is a number": ("name: t\ndatasets: [5]", "datasets"),
    "unknown method": ("name: t\ndatasets: [karate]\nmethods: [gml, foo]", "unknown method(s) foo"),
    "cohort a number": ("name: t\ndatasets: [karate]\ncohorts: {node: 5}", "cohorts of node"),
    "cohort with a number": (
        "name: t\ndatasets: [karate]\ncohorts: {node: [[gcn, 5]]}",
        "cohorts of node",
    ),
    "cohorts a list": ("name: t\ndatasets: [karate]\ncohorts: [gcn]", "'cohorts' must map"),
    "bad seeds": ("name: t\ndatasets: [karate]\nseeds: {node: [a]}", "seeds of node"),
    "grid not lists": ("name: t\ndatasets: [karate]\ngrid: {mutual.lam: 0.5}", "'grid' must map"),
    "grid nan": ("name: t\ndatasets: [karate]\ngrid: {mutual.lam: [.nan]}", "finite"),
    "negative epochs": (
        "name: t\ndatasets: [karate]\nsettings: {train: {epochs: -1}}",
        "train.epochs must be >= 1",
    ),
    "a word for a float": (
        "name: t\ndatasets: [karate]\nsettings: {mutual: {lam: abc}}",
        "mutual.lam must be a number",
    ),
    "folds a word": ("name: t\ndatasets: [karate]\nfolds: two", "'folds' must be an integer"),
    "run_folds outside": ("name: t\ndatasets: [MUTAG]\nfolds: 3\nrun_folds: 0-5", "outside"),
    "settings a list": (
        "name: t\ndatasets: [karate]\nsettings: [1]",
        "'settings' must be a mapping",
    ),
    "unknown key": ("name: t\ndatasets: [karate]\nepochs: 3", "unknown config key(s) epochs"),
    "bad yaml": ("name: t\ndatasets: [karate", "not valid YAML"),
    "a bad hyper-parameter": (
        "name: t\ndatasets: [karate]\nmethods: [independent]\n"
        "cohorts: {node: gcn}\nseeds: {node: 0}\n"
        "settings: {hparams: {gcn: {lr: abc}}, train: {epochs: 1}}",
        "must be a number",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SUITES))
def test_a_bad_suite_is_one_message(tmp_path, case):
    text, fragment = BAD_SUITES[case]
    result = invoke(
        "bench",
        "--suite",
        _suite(tmp_path, text),
        "--out",
        tmp_path / "out",
        "--no-progress",
        "--threads",
        "1",
    )
    assert_one_message(result, fragment)
