"""The examples of docs/reuse.md run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "reuse.md"
TEXT = DOC.read_text()
PYTHON = re.findall(r"```python\n(.*?)```", TEXT, re.S)
SCRIPTS = [b for b in PYTHON if not b.startswith("# my_models.py")]
MODULE = next(b for b in PYTHON if b.startswith("# my_models.py"))
SHELL = re.findall(r"```bash\n(.*?)```", TEXT, re.S)


def test_the_page_has_its_examples():
    assert len(SCRIPTS) == 3 and len(SHELL) == 1


@pytest.mark.parametrize("index", range(len(SCRIPTS)))
def test_a_python_example_runs(tmp_path, index):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPTS[index]],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), "an example prints what it computed"
    if "copy.deepcopy" in SCRIPTS[index]:  # the measured loop: it prints the page's GML rows
        table = TEXT.split("## Measured: the last epoch is not the best")[1]
        rows = re.findall(
            r"\|\s*0\s*\|\s*GML\s*\|\s*MLP \d\s*\|\s*[\d.]+\s*\|\s*([\d.]+)\s*\|"
            r"\s*(\d+)\s*\|",
            table,
        )
        printed = re.findall(r"epoch (\d+): validation [\d.]+, test ([\d.]+)", proc.stdout)
        assert len(rows) == 2 and [(int(e), round(100 * float(t), 1)) for e, t in printed] == [
            (int(e), float(t)) for t, e in rows
        ]


def test_the_command_line_example_runs_a_users_class(tmp_path):
    (tmp_path / "my_models.py").write_text(MODULE)
    bindir = Path(sys.executable).parent  # the environment's `mutualgnn`
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        ["bash", "-c", SHELL[0]], capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "my_models:MyGCN" in proc.stdout and "gcn" in proc.stdout
