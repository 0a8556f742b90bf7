"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "gcn" in out and "gat" in out and "ensemble" in out
    logits = namespace["logits"]
    data = namespace["data"]
    assert len(logits) == 2 and logits[0].shape == (data.graph.num_nodes(), data.num_classes)


def test_readme_names_the_test_command_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    command = 'pip install -c constraints.txt torch==2.13.0 -e ".[test]" && pytest -q'
    assert command in README.read_text() and command in ci
