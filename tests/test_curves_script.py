"""benchmarks/curves.py: representative runs are rerun at the kernel settings they were computed
with (a run computed at pinned kernels reruns to its numbers only at them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import curves  # noqa: E402

from mutualgnn.bench.record import RunRecord  # noqa: E402


def _record(versions):
    return RunRecord(
        suite="s",
        dataset="cora",
        task="node",
        cohort="gcn,gat",
        method="gml",
        seed=0,
        versions=versions,
    )


@pytest.fixture
def execs(monkeypatch):
    """The (program, argv, env) of each os.execve the script makes (none is made)."""
    made = []
    monkeypatch.setattr(curves.os, "execve", lambda *args: made.append(args))
    monkeypatch.delenv(curves.AGAIN, raising=False)
    return made


def test_runs_at_other_kernels_run_the_script_again_with_them(execs, monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    curves.at_stored_kernels([_record({"cpu_capability": "DEFAULT", "mkl_cbwr": "AVX2"})])
    ((program, argv, env),) = execs
    assert program == sys.executable and argv[1:] == sys.argv
    assert env["ATEN_CPU_CAPABILITY"] == "default" and env["MKL_CBWR"] == "AVX2"
    assert env[curves.AGAIN] == "1"


def test_runs_at_this_process_kernels_or_a_second_pass_rerun_here(execs, monkeypatch):
    here = curves.verifying.kernel_env_here()
    same = {
        "cpu_capability": here["ATEN_CPU_CAPABILITY"].upper(),
        "mkl_cbwr": here["MKL_CBWR"] or "auto",
    }
    curves.at_stored_kernels([_record(same)])
    curves.at_stored_kernels([])
    monkeypatch.setenv(curves.AGAIN, "1")
    curves.at_stored_kernels([_record({"cpu_capability": "DEFAULT", "mkl_cbwr": "AVX2"})])
    assert execs == []


def test_runs_at_several_kernel_settings_are_refused(execs):
    with pytest.raises(SystemExit, match="several kernel settings"):
        curves.at_stored_kernels(
            [_record({"cpu_capability": "AVX2"}), _record({"cpu_capability": "DEFAULT"})]
        )
