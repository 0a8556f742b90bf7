"""The results page (`mutualgnn report`): every number from the folders, the target against
the best equal-budget baseline by hand, Holm over the page's family, the Reading kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mutualgnn.bench import ResultStore, RunRecord, records_frame
from mutualgnn.bench.report import READING, best_baseline_table, results_page, target_counts
from mutualgnn.bench.stats import paired
from mutualgnn.bench.tables import paired_table
from mutualgnn.cli import main

#: test accuracy of (gcn, gat) per method and seed; dml is gcn's best rival, kd gat's
ACC = {
    "independent": [(0.80, 0.70), (0.82, 0.74), (0.81, 0.72)],
    "dml": [(0.82, 0.71), (0.83, 0.73), (0.83, 0.72)],
    "kd": [(0.81, 0.74), (0.82, 0.75), (0.80, 0.76)],
    "online-ensemble": [(0.79, 0.70), (0.80, 0.71), (0.79, 0.70)],
    "gml": [(0.84, 0.73), (0.85, 0.76), (0.86, 0.74)],
}


def _records(dataset="cora") -> list:
    """The runs of :func:`_lines` as the store reads them."""
    return [RunRecord.from_dict(line) for line in _lines(dataset)]


def _lines(dataset="cora") -> list:
    """Stored lines: three seeds of each method in :data:`ACC`."""
    out = []
    for method, seeds in ACC.items():
        for seed, (a, b) in enumerate(seeds):
            out.append(
                dict(
                    suite="test",
                    dataset=dataset,
                    variant="",
                    task="node",
                    cohort="gcn,gat",
                    method=method,
                    seed=seed,
                    fold=None,
                    status="ok",
                    students=[
                        dict(arch="gcn", test_acc=a, val_acc=a, best_epoch=3),
                        dict(arch="gat", test_acc=b, val_acc=b, best_epoch=4),
                    ],
                    ensemble=dict(test_acc=a, val_acc=a),
                    seconds=1800.0,
                    peak_rss_mb=10.0,
                    epochs_run=5,
                    split_sha1="x",
                    versions=dict(commit="abc123"),
                )
            )
    return out


def test_best_baseline_by_hand():
    table = best_baseline_table(records_frame(_records())).set_index("student")
    gcn, gat = table.loc["gcn"], table.loc["gat"]
    assert gcn["best baseline"] == "dml" and gat["best baseline"] == "kd"  # by mean test score
    want = paired([0.84, 0.85, 0.86], [0.82, 0.83, 0.83])
    assert gcn["gml − best (pts)"] == pytest.approx(round(100 * want.mean_diff, 2))
    assert gcn["95% CI (pts)"] == f"[{100 * want.ci_low:+.2f}, {100 * want.ci_high:+.2f}]"
    # Holm over the page's two comparisons
    other = paired([0.73, 0.76, 0.74], [0.74, 0.75, 0.76])
    adjusted = sorted([min(1, 2 * min(want.t_p, other.t_p)), max(want.t_p, other.t_p)])
    assert sorted([gcn["Holm p"], gat["Holm p"]]) == pytest.approx(adjusted, rel=0.05)
    assert gat["gml − best (pts)"] < 0 and gat["beats, Holm p < 0.05"] == "no"


def test_runs_of_two_repetitions_pair_by_repetition_seed_and_fold():
    # split seed 1 repeats the seeds of split seed 0 with gml's gcn 2 points lower: six pairs,
    # never a seed's runs of two repetitions mixed or averaged
    lines = _lines()
    again = [dict(line, split_seed=1) for line in lines]
    for line in again:
        if line["method"] == "gml":
            line["students"] = [dict(line["students"][0]), line["students"][1]]
            line["students"][0]["test_acc"] -= 0.02
    runs = records_frame([RunRecord.from_dict(line) for line in lines + again])
    gml = [0.84, 0.85, 0.86, 0.82, 0.83, 0.84]
    dml, alone = [0.82, 0.83, 0.83] * 2, [0.80, 0.82, 0.81] * 2
    best = best_baseline_table(runs).set_index("student").loc["gcn"]
    assert best["runs"] == 6 and best["best baseline"] == "dml"
    assert best["gml − best (pts)"] == pytest.approx(round(100 * paired(gml, dml).mean_diff, 2))
    table = paired_table(runs)
    row = table[(table["student"] == "gcn") & (table["method"] == "gml")].iloc[0]
    assert row["runs"] == 6
    assert row["diff vs independent (pts)"] == round(100 * paired(gml, alone).mean_diff, 2)


def test_target_sentence_counts_datasets():
    runs = records_frame(_records() + _records("citeseer"))
    table = best_baseline_table(runs)
    sentence = target_counts(table)
    sig = int(
        (table.groupby("dataset")["beats, Holm p < 0.05"].agg(lambda s: (s == "yes").any())).sum()
    )
    assert sentence.startswith(
        "A GML student beats its best baseline by the mean on 2 of 2 datasets"
    )
    assert sentence.endswith(f"Holm-significantly on {sig}.")


def _store(folder, records=None):
    store = ResultStore(folder)
    store.dir.mkdir()
    for r in records or _records():
        store.append(r)
    return store


def test_report_writes_the_page_and_keeps_the_reading(tmp_path):
    store = _store(tmp_path / "runs")
    doc = tmp_path / "results.md"
    result = CliRunner().invoke(main, ["report", str(store.dir), "-o", str(doc)])
    assert result.exit_code == 0, result.output
    command = f"mutualgnn report {store.dir} --out {doc}"
    assert doc.read_text().startswith("# Results\n\nWritten by `" + command + "`")
    # a Reading written by hand under the tables is kept when the page is written again (here
    # through --doc, the option's old name)
    doc.write_text(doc.read_text() + READING + "\n\nWhat the tables say, in words.\n")
    result = CliRunner().invoke(main, ["report", str(store.dir), "--doc", str(doc)])
    assert result.exit_code == 0, result.output
    page = doc.read_text()
    assert page.startswith("# Results\n\nWritten by `" + command + "`")
    assert page.endswith("## Reading\n\nWhat the tables say, in words.\n")
    sources = page.split("## Where the runs come from")[1].split("##")[0]
    row = [c.strip() for c in sources.strip().splitlines()[2].strip("|").split("|")]
    assert row == [f"`{store.dir}`", "15", "0", "0", "7.5", "abc123"]  # runs, failed, found,
    # 15 x 0.5 h, commit
    # the same command on the same folder writes the same page
    CliRunner().invoke(main, ["report", str(store.dir), "--out", str(doc)])
    assert doc.read_text() == page
    assert results_page([store.dir], command, "\n\nWhat the tables say, in words.\n") == page
    # so is a title set by hand
    doc.write_text(page.replace("# Results\n", "# The verdict\n", 1))
    CliRunner().invoke(main, ["report", str(store.dir), "--out", str(doc)])
    assert doc.read_text() == page.replace("# Results\n", "# The verdict\n", 1)


def test_report_of_a_folder_without_runs_is_one_error(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path), "-o", str(tmp_path / "p.md")])
    assert result.exit_code == 1 and "no results in" in result.output
    assert not (tmp_path / "p.md").exists()


def test_report_writes_only_where_told(tmp_path, monkeypatch):
    store = _store(tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(main, ["report", str(store.dir)])
    assert result.exit_code == 2 and "Missing option '-o' / '--out'" in result.output
    assert sorted(tmp_path.rglob("*")) == before


def test_report_refuses_a_page_of_other_folders_unless_forced(tmp_path):
    fair, paper = _store(tmp_path / "fair"), _store(tmp_path / "paper")
    doc = tmp_path / "results.md"
    assert CliRunner().invoke(main, ["report", str(fair.dir), "-o", str(doc)]).exit_code == 0
    doc.write_text(doc.read_text() + READING + "\n\nOn the fair suite.\n")
    page = doc.read_text()
    refused = CliRunner().invoke(main, ["report", str(paper.dir), "-o", str(doc)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.output.replace("\n", " ").startswith(
        f"Error: {doc} was written for the result folder(s) {fair.dir}, not {paper.dir}: write "
        f"this page elsewhere (-o PAGE), or add --force to replace it"
    )
    assert doc.read_text() == page
    # the same folders, spelled otherwise: the page's own
    again = CliRunner().invoke(main, ["report", f"{tmp_path}/./fair/", "-o", str(doc)])
    assert again.exit_code == 0, again.output
    assert doc.read_text().endswith(READING + "\n\nOn the fair suite.\n")
    # forced: replaced whole, the other folders' Reading gone
    forced = CliRunner().invoke(main, ["report", str(paper.dir), "-o", str(doc), "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"`mutualgnn report {paper.dir} --out {doc}`" in doc.read_text()
    assert READING not in doc.read_text()


def test_report_refuses_a_file_it_did_not_write(tmp_path):
    store = _store(tmp_path / "runs")
    doc = tmp_path / "README.md"
    doc.write_text("# My project\n\nWritten by hand.\n")
    refused = CliRunner().invoke(main, ["report", str(store.dir), "-o", str(doc)])
    assert refused.exit_code == 1
    assert "was not written by `mutualgnn report`" in refused.output
    assert "--force" in refused.output and doc.read_text() == "# My project\n\nWritten by hand.\n"
    forced = CliRunner().invoke(main, ["report", str(store.dir), "-o", str(doc), "--force"])
    assert forced.exit_code == 0 and doc.read_text().startswith("# Results")


def test_controls_section_is_each_control_minus_gml_by_hand(tmp_path):
    records = _lines()
    for seed, (a, b) in enumerate([(0.83, 0.70), (0.84, 0.72), (0.84, 0.73)]):
        control = dict(records[0], method="gml-no-alw", seed=seed)
        control["config"] = dict(mutual=dict(lam=1.0, temperature=2.0))  # the setting it ran
        control["students"] = [
            dict(arch="gcn", test_acc=a, val_acc=a, best_epoch=3),
            dict(arch="gat", test_acc=b, val_acc=b, best_epoch=3),
        ]
        records.append(control)
    store = ResultStore(tmp_path / "runs")
    store.dir.mkdir()
    for r in records:
        store.append(RunRecord.from_dict(r))
    page = results_page([store.dir], "cmd")
    section = page.split("## Which ingredient of GML matters")[1].split("\n## ")[0]
    section = section.split("Whether a control does as well")[0]  # the paired table, not TOST's
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| cora")
    ]
    by_student = {row[2]: row for row in rows}
    assert set(by_student) == {"gcn", "gat"} and all(row[3] == "gml-no-alw" for row in rows)
    assert all(row[4] == "1, 2" for row in rows)  # lam, T of the control's runs
    want = paired([0.83, 0.84, 0.84], [0.84, 0.85, 0.86])  # control minus gml, gcn
    assert float(by_student["gcn"][6]) == pytest.approx(round(100 * want.mean_diff, 2))


def test_coverage_counts_the_shipped_suites_plan(tmp_path):
    from mutualgnn.bench import load_suite, plan
    from mutualgnn.bench.coverage import coverage_table

    suite = load_suite("quickstart")
    store = ResultStore(tmp_path / "runs")
    store.dir.mkdir()
    store.check_suite(suite)  # writes suite.json
    specs = plan(suite)
    for spec in specs[:2]:
        record = dict(
            _lines()[0],
            **{
                k: getattr(spec, k)
                for k in ("dataset", "cohort", "method", "seed", "fold", "variant")
            },
        )
        store.append(RunRecord.from_dict(record))
    table = coverage_table([store.dir], {store.dir: store.records()})
    first = table.iloc[0]
    assert first["planned runs"] == len(plan(suite, datasets=[first["dataset"]]))
    assert table["stored"].sum() == 2 and table["planned runs"].sum() == len(specs)
    assert table["failed"].sum() == 0 and set(table["complete"]) == {"no"}
    # a diverged run is done (never retrained), counted as stored and as failed; with every
    # other planned run stored, the dataset is complete
    store.append(
        RunRecord.from_dict(
            dict(
                record,
                status="failed",
                error="diverged",
                method=specs[2].method,
                seed=specs[2].seed,
                fold=specs[2].fold,
                variant=specs[2].variant,
            )
        )
    )
    for spec in specs[3:]:
        store.append(
            RunRecord.from_dict(
                dict(
                    record,
                    **{
                        k: getattr(spec, k)
                        for k in ("dataset", "cohort", "method", "seed", "fold", "variant")
                    },
                )
            )
        )
    table = coverage_table([store.dir], {store.dir: store.records()})
    assert table["stored"].sum() == len(specs) and table["failed"].sum() == 1
    assert set(table["complete"]) == {"yes"}
    # a folder whose suite.json is not the shipped suite's (its settings changed): no rows
    identity = json.loads((store.dir / "suite.json").read_text())
    identity["settings"] = {"label_noise": 0.5}
    (store.dir / "suite.json").write_text(json.dumps(identity))
    assert coverage_table([store.dir], {store.dir: store.records()}).empty


ROOT = Path(__file__).resolve().parents[1]
#: the committed pages written by `mutualgnn report` (their first lines give the command)
PAGES = sorted(
    p for p in (ROOT / "docs").glob("*.md") if "Written by `mutualgnn report " in p.read_text()
)


def test_the_results_pages_are_written_by_report():
    assert {p.name for p in PAGES} >= {"results.md", "results-paper.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_committed_page_is_what_its_command_writes(page, monkeypatch):
    """The page's own command, run on the committed result folders, writes the committed
    page: no number on it was typed by hand or left behind by older runs."""
    monkeypatch.chdir(ROOT)
    text = page.read_text()
    command = re.search(r"Written by `(mutualgnn report [^`]+)`", text).group(1)
    args = command.split()[2:]
    folders, doc = args[: args.index("--out")], args[args.index("--out") + 1]
    assert ROOT / doc == page
    title = text.splitlines()[0].removeprefix("# ")
    assert results_page(folders, command, text.partition(READING)[2], doc, title) == text


def test_a_dataset_still_running_gets_no_verdict(tmp_path):
    """With a shipped suite's folder, the target and controls tables judge only the datasets
    whose planned runs are all stored; the others are named, and their runs still tabled."""
    from mutualgnn.bench import load_suite, plan

    suite = load_suite("fair")
    store = ResultStore(tmp_path / "fair")
    store.dir.mkdir()
    store.check_suite(suite)
    template = _lines()[0]

    def record(spec, score):
        archs = spec.cohort.split(",")
        return RunRecord.from_dict(
            dict(
                template,
                dataset=spec.dataset,
                cohort=spec.cohort,
                method=spec.method,
                seed=spec.seed,
                fold=spec.fold,
                variant=spec.variant,
                students=[
                    dict(arch=a, test_acc=score + 0.001 * spec.seed, val_acc=score, best_epoch=3)
                    for a in archs
                ],
            )
        )

    for spec in plan(suite, datasets=["cora"]):  # cora complete: gml above the rest
        store.append(record(spec, 0.85 if spec.method == "gml" else 0.80 + 0.002 * spec.seed))
    for spec in plan(suite, datasets=["citeseer"])[:60]:  # citeseer begun
        store.append(record(spec, 0.70))
    page = results_page([store.dir], "cmd")
    target = page.split("## The target")[1].split("\n## ")[0]
    assert "| cora" in target and "| citeseer" not in target
    assert (
        "Left out of this table and the next until their runs are complete: citeseer, "
        "pubmed, MUTAG, PROTEINS, ENZYMES"
    ) in target
    controls = page.split("## Which ingredient")[1].split("\n## ")[0]
    assert "| cora" in controls and "| citeseer" not in controls
    accuracy = page.split("## Accuracy")[1].split("\n## ")[0]
    assert "| citeseer" in accuracy  # stored runs are still shown


def test_glance_block_by_hand(tmp_path):
    """The README's block follows the page's declared verdict: per cohort (students averaged
    within a run), GML minus each baseline with its 95% CI (a node dataset: the paired t),
    the intersection-union p of the one-sided tests (Holm over one cohort: itself), the
    verdict and its sentence; the forest plot's rows are the same comparisons."""
    from scipy import stats

    from mutualgnn.bench.glance import forest_rows, glance
    from mutualgnn.bench.verdict import verdicts

    store = _store(tmp_path / "runs")
    figure = tmp_path / "fig" / "forest.svg"
    block = glance([store.dir], "cmd", figure=figure, link="fig/forest.svg")
    assert block.startswith(f"Written by `cmd` from the runs in [{store.dir}]({store.dir})")
    header, _, row = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in block.splitlines()
        if line.startswith("|")
    ]
    row = dict(zip(header, row))
    cohort = {m: [(a + b) / 2 for a, b in seeds] for m, seeds in ACC.items()}
    p_greater = []
    for baseline in ("dml", "kd", "online-ensemble"):
        diff = [g - b for g, b in zip(cohort["gml"], cohort[baseline])]
        mean, half = sum(diff) / 3, stats.t.ppf(0.975, 2) * stats.tstd(diff) / 3**0.5
        assert (
            row[f"gml − {baseline} (pts) [95% CI]"]
            == f"{100 * mean:+.2f} [{100 * (mean - half):+.2f}, {100 * (mean + half):+.2f}]"
        )
        p_greater.append(stats.ttest_1samp(diff, 0, alternative="greater").pvalue)
    assert float(row["Holm p"]) == float(f"{max(p_greater):.2g}")
    assert row["verdict"] == (
        "beats every baseline" if max(p_greater) <= 0.05 else "no difference detected"
    )
    assert block.rstrip().endswith(
        "on 1 of 1 datasets (cora); some cohort is below a baseline "
        "on 0 of 1 datasets; for some cohort no difference is "
        "detected on 0 of 1 datasets.**"
        if max(p_greater) <= 0.05
        else "**"
    )
    rows = forest_rows(verdicts(records_frame(_records()))[1], records_frame(_records()))
    assert list(rows["baseline"]) == ["dml", "kd", "online-ensemble"]
    assert set(rows["student"]) == {"cohort"} and set(rows["task"]) == {"node"}
    assert "![" in block and "](fig/forest.svg)" in block and figure.read_text().startswith("<?xml")


def test_report_rewrites_only_the_block_between_the_markers(tmp_path):
    store = ResultStore(tmp_path / "runs")
    store.dir.mkdir()
    for r in _records():
        store.append(r)
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\nintro\n\n<!-- results:start figure=figs/f.svg -->\nold\n"
        "<!-- results:end -->\n\n## Install\n"
    )
    result = CliRunner().invoke(main, ["report", str(store.dir), "--doc", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert text.startswith(
        "# Title\n\nintro\n\n<!-- results:start figure=figs/f.svg -->\nWritten by"
    )
    assert text.endswith("<!-- results:end -->\n\n## Install\n") and "\nold\n" not in text
    assert (tmp_path / "figs" / "f.svg").is_file()


def test_committed_readme_block_is_what_report_writes(monkeypatch):
    """The README's results at a glance, rewritten from the committed folders by the command
    it names, is the committed block."""
    from mutualgnn.bench.glance import glance, glance_parts

    monkeypatch.chdir(ROOT)
    parts = glance_parts((ROOT / "README.md").read_text())
    assert parts, "README.md has no results block"
    _, _, block, _, link = parts
    command = re.search(r"Written by `(mutualgnn report [^`]+)`", block).group(1)
    args = command.split()[2:]
    out = next(i for i, a in enumerate(args) if a in ("-o", "--out", "--doc"))
    assert args[out + 1] == "README.md"
    assert glance(args[:out], command, link=link) == block
    assert (ROOT / link).is_file()


def _with_last(lines: list, drop: float) -> list:
    """``lines`` whose students scored ``drop`` less at their last epoch run, and
    ``drop / 2`` less on seed 1 (so the differences vary)."""
    for line in lines:
        for st in line["students"]:
            st["last_test_acc"] = st["test_acc"] - drop / (2 if line["seed"] == 1 else 1)
            st["last_val_acc"] = st["val_acc"]
    return lines


def test_early_stopping_table_by_hand():
    from mutualgnn.bench.tables import early_stopping_table
    from mutualgnn.mutual import METHOD_NAMES

    runs = records_frame([RunRecord.from_dict(x) for x in _with_last(_lines(), 0.02)])
    table = early_stopping_table(runs).set_index("method")
    assert list(table.index) == sorted(ACC, key=METHOD_NAMES.index)  # the registry's order
    gml = table.loc["gml"]
    best = [(a + b) / 2 for a, b in ACC["gml"]]  # students averaged within a run
    last = [x - d for x, d in zip(best, (0.02, 0.01, 0.02))]
    want = paired(last, best)
    assert gml["runs"] == 3 and gml["best validation epoch"] == f"{100 * sum(best) / 3:.1f}"
    assert gml["last epoch run"] == f"{100 * sum(last) / 3:.1f}"
    assert gml["last − best (pts)"] == pytest.approx(100 * want.mean_diff, abs=0.005)
    assert gml["95% CI (pts)"] == f"[{100 * want.ci_low:+.2f}, {100 * want.ci_high:+.2f}]"
    assert gml["epochs run (median)"] == "5"
    # one run: no difference to test
    one = early_stopping_table(records_frame([RunRecord.from_dict(_with_last(_lines(), 0.02)[0])]))
    assert one.loc[0, "last − best (pts)"] == "—" and one.loc[0, "95% CI (pts)"] == "—"
    # runs stored before the last epoch's scores were recorded are left out
    assert early_stopping_table(records_frame(_records())).empty


def test_literature_table_against_the_packages_references():
    from mutualgnn.bench.tables import literature_table, reference

    runs = records_frame([RunRecord.from_dict(x) for x in _with_last(_lines(), 0.02)])
    table = literature_table(runs).set_index("student")
    ref = reference().set_index(["dataset", "arch"])
    gcn = [a for a, _ in ACC["independent"]]
    assert table.loc["gcn", "runs"] == 3
    assert table.loc["gcn", "ours − published (pts)"] == pytest.approx(
        round(100 * sum(gcn) / 3 - ref.loc[("cora", "gcn"), "test_acc"], 1)
    )
    assert table.loc["gcn", "published"] == "81.5"  # no std published
    assert table.loc["gat", "published"] == "83.0 ± 0.7"
    assert table.loc["gcn", "source"].startswith("Kipf")
    # a dataset without a published number gets no row
    assert literature_table(records_frame(_records("karate"))).empty
