"""The figures of a results folder and the per-epoch curves they draw from: the curves file's
round trip and size cap, the runner keeping it, and what each figure shows (its panels, its
bands, its colour scale), read from the matplotlib figure before it is saved."""

from __future__ import annotations

import dataclasses

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mutualgnn.bench import (
    ResultStore,
    RunRecord,
    StudentResult,
    load_suite,
    records_frame,
    run_suite,
)
from mutualgnn.bench import figstyle, plots
from mutualgnn.bench.curves import CURVES_FILE, POINTS, append_curve, curve_entry, read_curves


def _history(epochs: int, archs=("gcn", "gat"), weighted: bool = True) -> list:
    return [
        dict(
            epoch=e,
            student=k,
            arch=a,
            train_loss=1.0,
            val_acc=0.5 + e / (3 * epochs),
            test_acc=0.4 + k / 10 + 1 / (7 * e),
            val_loss=1.0,
            weight=1.0 + (e / epochs if weighted else 0.0),
            entropy=1.9 - e / epochs,
        )
        for e in range(1, epochs + 1)
        for k, a in enumerate(archs)
    ]


def _record(
    dataset="cora",
    method="gml",
    variant="",
    seed=0,
    fold=None,
    best=(17, 301),
    archs=("gcn", "gat"),
    accs=(0.8, 0.7),
):
    return RunRecord(
        suite="t",
        dataset=dataset,
        task="node",
        cohort=",".join(archs),
        variant=variant,
        method=method,
        split_seed=0,
        seed=seed,
        fold=fold,
        students=[
            StudentResult(a, test_acc=t, val_acc=t, best_epoch=b)
            for a, t, b in zip(archs, accs, best)
        ],
        ensemble=dict(test_acc=max(accs), val_acc=max(accs)),
        epochs_run=450,
        seconds=1.0,
        peak_rss_mb=1.0,
        split_sha1="x",
    )


def test_curves_round_trip_and_size_cap(tmp_path):
    record, history = _record(), _history(450)
    entry = append_curve(tmp_path, record, history)
    assert read_curves(tmp_path) == [entry]
    # 450 epochs: every 3rd (150 of them), the last and each student's best epoch
    assert entry["epoch"] == sorted(set(range(3, 451, 3)) | {17, 301, 450})
    assert len(entry["epoch"]) <= POINTS + 2
    gcn = entry["students"][0]
    assert gcn["arch"] == "gcn" and gcn["best_epoch"] == 17
    at = entry["epoch"].index(17)
    assert gcn["val"][at] == round(0.5 + 17 / 1350, 4)
    assert gcn["test"][at] == round(0.4 + 1 / 119, 4)
    assert gcn["weight"][at] == round(1 + 17 / 450, 4)
    assert gcn["entropy"][at] == round(1.9 - 17 / 450, 4)
    # a line stays a few kB however long the run: the cap, not the epochs, bounds it
    long = curve_entry(_record(best=(5, 9000)), _history(10_000))
    assert len(long["epoch"]) <= POINTS + 2 and long["epoch"][-1] == 10_000
    assert len(json.dumps(long, separators=(",", ":"))) < 16_000
    # one line per (dataset, cohort, variant, method): a later seed of the group is not kept
    assert append_curve(tmp_path, _record(seed=1), history) is None
    assert append_curve(tmp_path, _record(method="independent"), _history(20, weighted=False))
    lines = (tmp_path / CURVES_FILE).read_text().splitlines()
    assert len(lines) == 2 and "weight" not in json.loads(lines[1])["students"][0]


@pytest.mark.parametrize(
    "record, history",
    [
        (_record(variant="tune:mutual.lam=0.3"), _history(5)),  # a tuning run
        (dataclasses.replace(_record(), status="failed"), _history(5)),
        (_record(), []),
    ],
)
def test_no_curves_for_tuning_failed_or_empty_runs(tmp_path, record, history):
    assert append_curve(tmp_path, record, history) is None
    assert not (tmp_path / CURVES_FILE).exists()


def test_the_runner_keeps_the_first_run_of_each_group(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ndatasets: [karate]\nmethods: [independent, gml]\n"
        "cohorts: {node: ['gcn,gat']}\nseeds: {node: 0-1}\n"
        "settings:\n  train: {epochs: 3, patience: 3}\n"
    )
    out = tmp_path / "out"
    run_suite(load_suite(path), out, threads=1, progress=False)
    curves = read_curves(out)
    assert [(c["method"], c["seed"], c["epoch"]) for c in curves] == [
        ("independent", 0, [1, 2, 3]),
        ("gml", 0, [1, 2, 3]),
    ]
    stored = {r.method: r for r in ResultStore(out).records() if r.seed == 0}
    for c in curves:
        assert [s["best_epoch"] for s in c["students"]] == [
            s.best_epoch for s in stored[c["method"]].students
        ]
    assert "weight" in curves[1]["students"][0]  # gml's coordinator weighs; independent has none
    # --no-resume moves the old curves aside with the old runs: the new runs' curves are kept
    run_suite(load_suite(path), out, threads=1, progress=False, resume=False)
    assert len(read_curves(out)) == 2 and len(list(out.glob("curves.*.jsonl"))) == 1


@pytest.fixture
def drawn(monkeypatch):
    """The figures drawn, by file name, instead of written."""
    figures = {}

    def keep(fig, path, tight=True, format="png"):
        figures[path.name] = fig
        return path

    monkeypatch.setattr(figstyle, "save", keep)
    return figures


def _runs(datasets, methods=("independent", "gml"), seeds=3, variants=("",)) -> pd.DataFrame:
    records = [
        _record(
            dataset=d,
            method=m,
            variant=v,
            seed=s,
            accs=(0.7 + 0.01 * s + 0.02 * (m == "gml") - 0.1 * float(v[-3:] or 0), 0.6 + 0.02 * s),
        )
        for d in datasets
        for v in variants
        for m in methods
        for s in range(seeds)
    ]
    return records_frame(records)


@pytest.mark.parametrize("n", [1, 3, 4, 6, 7])
def test_accuracy_plot_has_at_most_three_panels_a_row(drawn, tmp_path, n):
    plots.accuracy_plot(_runs([f"d{i}" for i in range(n)]), tmp_path / "accuracy.png")
    fig = drawn["accuracy.png"]
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == n
    rows = {round(ax.get_position().y0, 3) for ax in shown}
    assert len(rows) == math.ceil(n / 3)
    width = figstyle.WIDTH if n >= 3 else figstyle.WIDTH / 3 + 1.2
    assert fig.get_figwidth() == pytest.approx(width)
    texts = [t.get_text() for t in fig.texts]
    assert "mean ± 1 s.d. over n = 3 runs (seeds or folds)" in texts
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["gcn", "gat", "cohort's ensemble", "trained alone (mean)"]
    # the value axis from the data: gat 62 ± 2, gcn gml 73 ± 1, padded by 6% of the span
    assert shown[0].get_xlim() == pytest.approx((60 - 0.84, 74 + 0.84))
    # the reference lines: gcn trained alone, mean 71; gat 62
    dashed = sorted(
        float(np.ravel(c.get_segments()[0])[0])
        for c in shown[0].collections
        if c.get_linestyle()[0][1] is not None
    )
    assert dashed == pytest.approx([62.0, 71.0])


def test_grid_curves_band_is_the_95_percent_ci(drawn, tmp_path):
    runs = _runs(["cora"], variants=("label_noise=0.0", "label_noise=0.2"))
    plots.grid_curves(runs, tmp_path / "grid.png")
    ax = drawn["grid.png"].axes[0]
    # gml at noise 0.2, seed s: gcn 0.7 + 0.02 - 0.02 + 0.01 s, gat 0.6 + 0.02 s; their mean
    ys = np.array([100 * (0.70 + 0.01 * s + 0.6 + 0.02 * s) / 2 for s in range(3)])
    half = stats.t.ppf(0.975, 2) * ys.std(ddof=1) / np.sqrt(3)
    at = [
        sorted(v[np.isclose(v[:, 0], 0.2), 1])
        for v in (c.get_paths()[0].vertices for c in ax.collections)
    ]
    assert any(np.allclose([y[0], y[-1]], [ys.mean() - half, ys.mean() + half]) for y in at)
    assert [line.get_label() for line in drawn["grid.png"].legends[0].get_lines()] == [
        "independent",
        "gml",
    ]
    assert ax.get_title() == "cora · n = 3"


def test_cohort_curves_need_three_sizes(drawn, tmp_path):
    two = _runs(["cora"])
    assert plots.cohort_curves(two, tmp_path / "c.png") is None
    records = [
        _record(method=m, seed=s, archs=("gcn",) * k, accs=(0.8,) * k, best=(3,) * k)
        for k in (1, 2, 3)
        for m in ("independent", "gml")
        for s in range(2)
        if not (k == 1 and m == "gml")
    ]
    assert plots.cohort_curves(records_frame(records), tmp_path / "c.png") is not None
    assert list(drawn["c.png"].axes[0].get_xticks()) == [1, 2, 3]


def test_cka_colour_scale_is_the_datas_range(drawn, tmp_path):
    frame = pd.DataFrame(
        dict(
            dataset="cora",
            method=["independent"] * 2 + ["gml"] * 2,
            pair=["gcn-gat", "gcn-gcn"] * 2,
            cka=[0.81, 0.9, 0.93, 0.99],
        )
    )
    plots.cka_heatmaps(frame, tmp_path / "cka.png")
    images = [im for ax in drawn["cka.png"].axes for im in ax.images]
    assert len(images) == 2 and all(im.get_clim() == (0.81, 0.99) for im in images)
    bar = drawn["cka.png"].axes[-1]
    assert [t.get_text() for t in bar.get_yticklabels()][::4] == ["0.810", "0.990"]


def test_the_figures_of_a_tiny_store(tmp_path):
    records = [
        _record(dataset=d, method=m, seed=s)
        for d in ("cora", "citeseer")
        for m in ("independent", "gml")
        for s in range(2)
    ]
    for r in records:
        if r.seed == 0:
            append_curve(tmp_path, r, _history(40, weighted=r.method == "gml"))
    written = plots.store_figures(records_frame(records), tmp_path)
    assert sorted(p.name for p in written) == [
        "accuracy.png",
        "coordinator.png",
        "training_curves.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)


def test_a_results_page_shows_its_folders_figures(tmp_path):
    from mutualgnn.bench.report import results_page

    folder, doc = tmp_path / "runs", tmp_path / "docs" / "page.md"
    folder.mkdir()
    records = [_record(method=m, seed=s) for m in ("independent", "gml") for s in range(3)]
    for r in records:
        ResultStore(folder).append(r)
    plots.store_figures(records_frame(records), folder)
    page = results_page([folder], "cmd", doc=doc)
    assert "](../runs/accuracy.png)\n\n*`runs`: Test accuracy of every method" in page
    assert "## Training curves" not in page  # the folder keeps no curves.jsonl
    append_curve(folder, records[3], _history(30))
    plots.store_figures(records_frame(records), folder)
    page = results_page([folder], "cmd", doc=doc)
    curves = page.split("## Training curves")[1].split("\n## ")[0]
    assert "](../runs/training_curves.png)" in curves and "](../runs/coordinator.png)" in curves
    assert "![" not in results_page([folder], "cmd")  # no page path: no figures
