"""benchmarks/stack_check.py: the suite on the installed stack and its row in docs/install.md
(pytest itself is replaced here by its closing line)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import stack_check  # noqa: E402

MAIN = dict(
    torch="2.13.0+cpu (CPU build)",
    DGL="1.1.3",
    numpy="2.3.5",
    Python="3.11.7",
    machine="2 CPU cores, no GPU",
    date="2026-01-02",
)
DGL2 = dict(MAIN, torch="2.2.1 (CUDA 12.1 build)", DGL="2.1.0", numpy="1.26.4")


def test_counts_read_pytests_closing_line():
    assert stack_check.counts(
        "3 failed, 600 passed, 2 skipped, 1 error, 4 warnings in 9.0s"
    ) == dict(passed=600, failed=3, skipped=2, error=1)
    assert stack_check.counts("5 passed in 0.1s") == dict(passed=5, failed=0, skipped=0, error=0)


def _main(monkeypatch, page, stack, summary, status=0):
    monkeypatch.setattr(stack_check, "run_pytest", lambda args: (status, summary, 125.0))
    monkeypatch.setattr(stack_check, "stack", lambda: dict(stack))
    monkeypatch.setattr(sys, "argv", ["stack_check.py", "--doc", str(page)])
    return stack_check.main()


def test_each_stack_keeps_its_own_row(monkeypatch, tmp_path):
    page = tmp_path / "install.md"
    page.write_text("# Install\n\nIntro.\n\n## Where to train\n\nKept.\n")
    assert _main(monkeypatch, page, MAIN, "700 passed, 14 skipped in 125.0s") == 0
    assert _main(monkeypatch, page, DGL2, "1 failed, 699 passed, 14 skipped in 125.0s", 1) == 1
    assert _main(monkeypatch, page, MAIN, "701 passed, 13 skipped in 125.0s") == 0
    text = page.read_text()
    assert text.startswith(
        "# Install\n\nIntro.\n\n## Where to train\n\nKept.\n\n## Tested stacks\n"
    )
    rows = stack_check.table_rows(stack_check.section_of(text))
    assert [(r["DGL"], r["passed"], r["failed"], r["skipped"]) for r in rows] == [
        ("1.1.3", "701", "0", "13"),
        ("2.1.0", "699", "1", "14"),
    ]  # replaced in place
    assert rows[0]["pytest wall time"] == "2 min 5 s"


def test_an_unfinished_run_writes_nothing(monkeypatch, tmp_path):
    page = tmp_path / "install.md"
    page.write_text("# Install\n")
    assert _main(monkeypatch, page, MAIN, "2 errors in 3.0s", 2) == 2
    assert page.read_text() == "# Install\n"


def test_doc_records_only_the_whole_suite(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["stack_check.py", "--doc", "x.md", "tests/test_stats.py"])
    with pytest.raises(SystemExit):
        stack_check.main()
    assert "give no pytest arguments" in capsys.readouterr().err
