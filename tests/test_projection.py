"""``mutualgnn bench --plan``: the runs a suite plans, those stored, and the core-hours left,
costed by the stored runs of the same configuration or by a probe, by hand."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mutualgnn.bench import ResultStore, RunRecord, Suite, plan, plan_summary, projection
from mutualgnn.bench.projection import probe_seconds
from mutualgnn.cli import main

SUITE = dict(
    name="p",
    datasets=["karate"],
    methods=["independent", "gml"],
    cohorts={"node": ["gcn,gat"]},
    seeds={"node": "0-3"},
    settings={"train": {"epochs": 3, "patience": 3, "threads": 1}},
)


def _stored(spec, seconds):
    return RunRecord(
        suite="p",
        dataset=spec.dataset,
        task="node",
        cohort=spec.cohort,
        method=spec.method,
        seed=spec.seed,
        seconds=seconds,
    )


def test_the_projection_by_hand(tmp_path):
    suite = Suite(**SUITE)
    specs = plan(suite)  # 4 seeds x (independent, gml)
    store = ResultStore(tmp_path)
    # gml: seeds 0 and 1 stored (60 s, 120 s); independent: nothing stored
    for spec, seconds in zip([s for s in specs if s.method == "gml"][:2], (60.0, 120.0)):
        store.append(_stored(spec, seconds))
    probed = []

    def probe(suite, spec, data_dir=None):
        probed.append((spec.method, spec.seed))
        return 36.0

    table = projection(suite, tmp_path, probe=probe).set_index("method")
    assert probed == [("independent", 0)]  # once per configuration nothing stored costs
    gml, alone = table.loc["gml"], table.loc["independent"]
    assert (gml["runs"], gml["stored"], gml["from"]) == (4, 2, "stored runs")
    assert gml["core_hours"] == pytest.approx(round(180 / 3600, 2))
    assert gml["core_hours_left"] == pytest.approx(round(2 * 90 / 3600, 2))  # the median, twice
    assert (alone["stored"], alone["from"]) == (0, "probe")
    assert alone["core_hours_left"] == pytest.approx(round(4 * 36 / 3600, 2))
    line = plan_summary(table.reset_index(), jobs=2)
    left = table["core_hours_left"].sum()
    assert line == (
        f"plan: 8 run(s), 2 stored; 6 left, projected {left:.2f} core-hours, "
        f"about {left / 2:.2f} h on 2 job(s)"
    )
    # without a probe, what nothing stored costs is left uncosted, and said so
    quick = projection(suite, tmp_path, probe=False)
    assert quick["uncosted"].sum() == 4 and "4 not costed" in plan_summary(quick, 1)


def test_a_probe_times_a_short_run_and_scales_it_to_the_epoch_budget():
    suite = Suite(**dict(SUITE, settings={"train": {"epochs": 300, "threads": 1}}))
    spec = plan(suite)[0]
    seconds = probe_seconds(suite, spec, epochs=2)
    short = probe_seconds(
        Suite(**dict(SUITE, settings={"train": {"epochs": 2, "threads": 1}})), spec, epochs=2
    )
    assert seconds > short > 0  # 300 epochs projected cost more than the 2 timed


def test_bench_plan_prints_the_projection_and_trains_nothing(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ndatasets: [karate]\nmethods: [independent, gml]\n"
        'cohorts: {node: ["gcn,gat"]}\nseeds: {node: 0-1}\n'
        "settings: {train: {epochs: 2, patience: 2, threads: 1}}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["bench", "--suite", str(path), "-o", str(out), "--plan", "-j", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "| karate" in result.output and "probe" in result.output
    assert "plan: 4 run(s), 0 stored; 4 left, projected" in result.output
    assert "h on 2 job(s)" in result.output
    assert not (out / "runs.jsonl").exists()
    # a run prints the same line first, from what is stored (nothing: not costed)
    ran = CliRunner().invoke(
        main, ["bench", "--suite", str(path), "-o", str(out), "--no-progress", "--format", "md"]
    )
    assert ran.exit_code == 0, ran.output
    assert ran.output.startswith(
        "plan: 4 run(s), 0 stored; 4 left, projected 0.00 core-hours (4 not costed"
    )
