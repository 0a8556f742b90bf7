"""benchmarks/results_doc.py: the GML target section of docs/results.md."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import results_doc  # noqa: E402

from mutualgnn.bench import records_frame  # noqa: E402


def _run(dataset, method, seed, gcn, gat):
    return dict(suite="tiny", dataset=dataset, task="node", cohort="gcn,gat", method=method,
                seed=seed, fold=None, variant="", seconds=1.0, peak_rss_mb=1.0, epochs_run=5,
                split_sha1="x", students=[dict(arch="gcn", test_acc=gcn, val_acc=0, best_epoch=1),
                                          dict(arch="gat", test_acc=gat, val_acc=0, best_epoch=1)],
                ensemble=dict(test_acc=0.5, val_acc=0.5))


def test_results_doc_target_counts_and_replacement():
    """The target's counts, and a rerun that replaces its dataset's row."""
    def runs(dataset, gml_gcn):  # gcn alone 0.80, 0.82; dml 0.81, 0.81; gml as given
        out = []
        for seed in (0, 1):
            for method, gcn in (("independent", 0.80 + 0.02 * seed), ("dml", 0.81),
                                ("gml", gml_gcn[seed])):
                out.append(_run(dataset, method, seed, gcn, 0.7))
        return out
    main = records_frame(runs("cora", (0.85, 0.86)) + runs("citeseer", (0.70, 0.71)))
    rerun = records_frame(runs("citeseer", (0.82, 0.85)))
    text = results_doc.target_section(main, {"tuned": rerun})
    assert "| citeseer (tuned) " in text
    # main: only cora's gcn gains (+5, +4); gml - dml: cora (+4.5 + 0) / 2 = 2.25, citeseer
    # (-10.5 + 0) / 2 = -5.25, averaging -1.5
    assert "by the mean on 1 of 2 datasets, significantly on 0; GML − DML (students' mean) " \
           "averages -1.50 points over 2 datasets" in text
    # citeseer replaced by the rerun: gcn +2, +3 over alone; gml - dml (+2.5 + 0) / 2 = 1.25,
    # averaging (2.25 + 1.25) / 2 with cora
    assert "in place of their dataset's: a GML student beats the same architecture trained " \
           "alone by the mean on 2 of 2 datasets, significantly on 0; GML − DML (students' " \
           "mean) averages +1.75 points" in text


def test_results_doc_pairs_section_without_and_with_dml():
    """The pairs' own target table: a blank rival reads as such, not as a number."""
    runs = [_run("cora", m, seed, gcn, 0.7) for seed in (0, 1)
            for m, gcn in (("independent", 0.80 + 0.02 * seed), ("gml", 0.85 + 0.01 * seed))]
    text = results_doc.pairs_section(records_frame(runs))
    assert "| cora " in text and "nan" not in text
    # gcn +5, +4 over alone: a gain; t = 9 on 1 degree of freedom, p = 0.07, not significant
    assert "by the mean on 1 of 1 datasets, significantly on 0; no DML runs to compare with" in text
    runs += [_run("cora", "dml", seed, 0.83, 0.7) for seed in (0, 1)]
    # gml - dml: gcn (+2 + 3) / 2 = 2.5, gat 0, students' mean 1.25
    assert "GML − DML (students' mean) averages +1.25 points over 1 datasets" in \
        results_doc.pairs_section(records_frame(runs))
    assert results_doc.pairs_section(records_frame(runs[:1])) == "(not enough runs yet)"
