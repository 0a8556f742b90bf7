"""``mutualgnn verify``: stored runs rerun to the same numbers, and an altered store caught."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from mutualgnn.bench import Suite, run_suite
from mutualgnn.bench import RunRecord
from mutualgnn.bench.record import FORMAT, differences
from mutualgnn.bench.verify import choose_runs, stored_runs, verify
from mutualgnn.cli import main
from mutualgnn.config import ConfigError


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    suite = Suite(
        name="verify-test",
        datasets=["karate", "minigc"],
        methods=["independent", "gml"],
        cohorts={"node": ["gcn,gat"], "graph": ["gin,gcn"]},
        seeds={"node": "0-1", "graph": 0},
        folds=3,
        run_folds=[0],
        settings={"train": {"epochs": 4, "patience": 4, "threads": 1}},
    )
    run_suite(suite, out, progress=False)
    return out


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def test_verify_passes_on_the_code_that_wrote_the_store(store):
    result = invoke("verify", store, "--sample", 100, "--any")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok  line") == 6
    assert "6 run(s) of" in result.output and "reproduced exactly" in result.output


def test_verify_fails_on_an_altered_number_naming_run_field_and_commit(store, tmp_path):
    altered = tmp_path / "altered"
    altered.mkdir()
    lines = (store / "runs.jsonl").read_text().splitlines()
    record = json.loads(lines[2])
    record["students"][1]["test_acc"] += 0.01
    record["students"][0]["best_epoch"] += 1
    record["versions"]["commit"] = "abc123def456"
    lines[2] = json.dumps(record)
    (altered / "runs.jsonl").write_text("\n".join(lines) + "\n")
    (altered / "suite.json").write_text((store / "suite.json").read_text())

    result = invoke("verify", altered, "--runs", "1-3")
    assert result.exit_code == 1, result.output
    assert "ok  line 1" in result.output and "ok  line 2" in result.output
    assert "DIFFERS  line 3" in result.output
    assert "students[1] (gat).test_acc: stored" in result.output
    assert "students[0] (gcn).best_epoch: stored" in result.output
    assert "written by commit abc123def456" in result.output
    assert "Error: 1 of 3 rerun(s) differ from the store: line 3" in result.output


def _record(**numbers) -> RunRecord:
    line = {
        "suite": "s",
        "dataset": "cora",
        "task": "node",
        "cohort": "gcn",
        "method": "gml",
        "seed": 0,
        "fold": None,
        "students": [{"arch": "gcn", "test_acc": 0.5, "val_acc": 0.4, "best_epoch": 3}],
        "ensemble": {"test_acc": 0.5, "val_acc": 0.4},
        "epochs_run": 5,
        "split_sha1": "x",
    }
    return RunRecord.from_dict({**line, **numbers})


def test_differences_compares_every_number_exactly():
    stored = _record()
    assert differences(stored, _record()) == []
    now = _record(
        epochs_run=6,
        students=[{"arch": "gcn", "test_acc": 0.5, "val_acc": 0.4 + 1e-12, "best_epoch": 3}],
    )
    assert differences(stored, now) == [
        ("epochs_run", 5, 6),
        ("students[0] (gcn).val_acc", 0.4, 0.4 + 1e-12),
    ]
    # a field the stored line lacks (written before it was recorded) is not compared; a
    # rerun's curve that differs is named with its length
    curve = {"val": [0.1, 0.4], "test": [0.2, 0.5]}
    later = _record(
        students=[
            {
                "arch": "gcn",
                "test_acc": 0.5,
                "val_acc": 0.4,
                "best_epoch": 3,
                "last_test_acc": 0.5,
                "last_val_acc": 0.4,
                "curve": curve,
            }
        ]
    )
    assert differences(stored, later) == []
    moved = _record(
        students=[
            dict(later.to_dict()["students"][0], curve={"val": [0.1, 0.4], "test": [0.2, 0.6]})
        ]
    )
    assert differences(later, moved) == [
        ("students[0] (gcn).curve", "<curve of 2 epochs>", "<curve of 2 epochs>")
    ]
    assert differences(stored, _record(students=[])) == [("students", 1, 0)]


def test_a_record_round_trips_and_older_lines_read_in_one_place():
    record = _record(same_as="tune:mutual.lam=1.0", split_seed=2, variant="x")
    line = record.to_dict()
    assert line["format"] == FORMAT and list(line)[0] == "format"
    assert "error" not in line and "diverged" not in line  # only failed runs have them
    assert RunRecord.from_dict(json.loads(json.dumps(line))) == record
    # a line of the first format: no variant, split seed only in its config, no status/metric
    old = _record(config={"split_seed": 3})
    old_line = {
        k: v
        for k, v in old.to_dict().items()
        if k not in ("format", "variant", "split_seed", "status", "metric")
    }
    read = RunRecord.from_dict(old_line)
    assert (read.variant, read.split_seed, read.status, read.metric) == ("", 3, "ok", "acc")
    assert read.key == ("cora", "gcn", "", "gml", 3, 0, None)
    with pytest.raises(ConfigError, match=r"unknown keys \['colour'\]"):
        RunRecord.from_dict(dict(line, colour="red"))
    with pytest.raises(ConfigError, match=r"missing keys \['seed'\]"):
        RunRecord.from_dict({k: v for k, v in line.items() if k != "seed"})
    with pytest.raises(ConfigError, match="newer than this mutualgnn reads"):
        RunRecord.from_dict(dict(line, format=FORMAT + 1))


def test_the_sample_is_reproducible_and_cheap_unless_told(store):
    runs = stored_runs(store)
    assert choose_runs(runs, 2, seed=5) == choose_runs(runs, 2, seed=5)
    cheapest = sorted(runs, key=lambda r: (r[1].seconds, r[0]))[:3]
    for seed in range(5):
        assert all(item in cheapest for item in choose_runs(runs, 2, seed=seed))
    assert len(choose_runs(runs, 100, cheap=False)) == len(runs)


def test_verify_says_what_is_wrong_with_its_arguments(store, tmp_path):
    result = invoke("verify", store, "--runs", "99")
    assert result.exit_code == 1 and "no stored run on line(s) [99]" in result.output
    result = invoke("verify", tmp_path / "empty")
    assert result.exit_code == 1 and "no results in" in result.output


def _altered_store(store, tmp_path, change) -> object:
    """A copy of ``store`` whose first record is passed through ``change``."""
    altered = tmp_path / "altered"
    altered.mkdir()
    lines = (store / "runs.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    change(record)
    lines[0] = json.dumps(record)
    (altered / "runs.jsonl").write_text("\n".join(lines) + "\n")
    (altered / "suite.json").write_text((store / "suite.json").read_text())
    return altered


def test_every_run_records_the_cpu_and_torch_kernel_level(store):
    for _, record in stored_runs(store):
        assert record.versions["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        assert record.versions["cpu"]


def test_torchs_older_name_of_the_default_level_is_stored_as_default(monkeypatch):
    # torch 2.2 (the DGL 2.x stack, docs/install.md) says NO AVX where newer torch says DEFAULT
    from mutualgnn.provenance import cpu_capability

    for torchs, ours in [("NO AVX", "DEFAULT"), ("DEFAULT", "DEFAULT"), ("AVX2", "AVX2")]:
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: torchs)
        assert cpu_capability() == ours


def test_verify_says_when_the_stored_run_records_no_cpu(store, tmp_path):
    altered = _altered_store(
        store, tmp_path, lambda r: [r["versions"].pop(k) for k in ("cpu", "cpu_capability")]
    )
    result = invoke("verify", altered, "--runs", "1")
    assert result.exit_code == 0, result.output
    assert "note: the stored run records no CPU capability" in result.output


def test_verify_reruns_at_the_stored_kernel_level_in_a_child_process(store, tmp_path):
    # every x86 and ARM processor has torch's DEFAULT level; the stored numbers were made at
    # this machine's level, so only the level the rerun ran at is asserted
    altered = _altered_store(
        store, tmp_path, lambda r: r["versions"].update(cpu_capability="DEFAULT")
    )
    results = verify(altered, lines=[1])
    assert results[0].notes == []  # ran at DEFAULT, as stored, on the same CPU
    result = invoke("verify", store, "--runs", "1", "--cpu-capability", "default")
    assert "note: rerun at CPU capability DEFAULT, as asked" in result.output


def test_verify_says_when_this_machine_lacks_the_stored_level(store, tmp_path):
    # ZVECTOR is IBM Z's level: no x86 or ARM processor has it
    altered = _altered_store(
        store, tmp_path, lambda r: r["versions"].update(cpu_capability="ZVECTOR", cpu="IBM z16")
    )
    result = invoke("verify", altered, "--runs", "1")
    assert (
        "note: the CPU differs: stored at capability ZVECTOR, which this machine lacks"
        in result.output
    )
    assert "note: stored on IBM z16, rerun on" in result.output


def test_a_suite_with_pinned_kernels_stores_them_and_verify_reruns_at_them(tmp_path):
    # the units train in a worker at torch's DEFAULT level with MKL's COMPATIBLE path; this
    # process runs at its own level, so verify must rerun them in a child at the stored one
    suite = Suite(
        name="pinned",
        datasets=["karate"],
        methods=["independent", "gml"],
        cohorts={"node": ["gcn,gat"]},
        seeds={"node": 0},
        kernels="default",
        settings={"train": {"epochs": 4, "patience": 4, "threads": 1}},
    )
    run_suite(suite, tmp_path, progress=False)
    records = [r for _, r in stored_runs(tmp_path)]
    assert {(r.versions["cpu_capability"], r.versions["mkl_cbwr"]) for r in records} == {
        ("DEFAULT", "COMPATIBLE")
    }
    results = verify(tmp_path, lines=[1, 2])
    assert [r.ok for r in results] == [True, True] and [r.notes for r in results] == [[], []]
