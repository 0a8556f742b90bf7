"""`mutualgnn bench --cluster`: a suite's runs as tasks of a Dask cluster (bench/cluster.py).

Every test runs on this machine: a local cluster of worker processes (``local:2``, or one the
test starts itself to reach its workers)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
from click.testing import CliRunner

from mutualgnn.bench import ResultStore, load_suite, plan, run_suite
from mutualgnn.bench import cluster as bench_cluster
from mutualgnn.cli import main
from mutualgnn.config import ConfigError

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (after the skip: both come with the optional extra)

SUITE = """\
name: clustered
datasets: [karate]
methods: [independent, gml, kd]
cohorts: {node: ["gcn,gat"]}
seeds: {node: 0-2}
settings:
  train: {epochs: 40, patience: 40}
"""


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("suite") / "clustered.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture(scope="module")
def suite(suite_file):
    return load_suite(suite_file)


@pytest.fixture(scope="module")
def reference(suite, tmp_path_factory):
    """The suite's numbers from ``--jobs 2`` (local worker processes)."""
    out = tmp_path_factory.mktemp("jobs2")
    run_suite(suite, out, jobs=2, progress=False, log=lambda *_: None)
    return _numbers(out)


def _numbers(out) -> dict:
    records = ResultStore(out).read()
    assert len({r.key for r in records}) == len(records)  # each run stored once
    return {r.key: r.numbers() for r in records}


def _trim_threshold():
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _profiling(dask_worker):
    return "profile" in dask_worker.periodic_callbacks


def _ticks(dask_worker):
    """The worker's event-loop tick and memory-monitor intervals (ms)."""
    return tuple(
        dask_worker.periodic_callbacks[name].callback_time
        for name in ("tick", "memory_monitor")
        if name in dask_worker.periodic_callbacks
    )


def test_local_workers_run_without_malloc_trimming_or_profiler():
    before = dict(os.environ)
    with bench_cluster.connect("local:1") as client:
        assert set(client.run(_trim_threshold).values()) == {None}  # Dask's nanny sets it
        assert set(client.run(_profiling).values()) == {False}
        assert set(client.run(_ticks).values()) == {(1000, 1000)}  # not every 20 and 100 ms
    assert dict(os.environ) == before  # the nanny's settings do not stay in ours


def test_local_cluster_stores_what_jobs_stores(suite, reference, tmp_path):
    counts = run_suite(suite, tmp_path, cluster="local:2", progress=False, log=lambda *_: None)
    assert counts == {"planned": 9, "skipped": 0, "ran": 9, "found": 0, "failed": 0}
    assert _numbers(tmp_path) == reference  # kd's included: its teachers came through us
    assert len(list((tmp_path / "teachers").glob("*.pt"))) == 3  # one per independent run
    assert not multiprocessing.active_children()  # the local cluster is gone


@pytest.fixture
def own_cluster():
    """A local cluster the test can reach into (its workers' processes), retrying a task once
    as ``local:N`` does."""
    with dask.config.set(bench_cluster.SCHEDULER):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=50,
        )
    with distributed.Client(cluster) as client:
        yield cluster.scheduler_address, client
    cluster.close()


def _killer(client, kills: dict, stop: threading.Event):
    """Kill the worker process running a task whose key contains a label of ``kills``, as many
    times as ``kills[label]`` says (each time on another worker: a dead one is not asked)."""
    dead = set()
    while not stop.is_set() and any(kills.values()):
        for worker, keys in client.processing().items():
            label = next((k for k in kills if kills[k] and any(k in str(x) for x in keys)), None)
            if label is None or worker in dead:
                continue
            try:
                pid = client.run(os.getpid, workers=[worker])[worker]
            except Exception:  # it died or left meanwhile
                continue
            os.kill(pid, signal.SIGKILL)
            dead.add(worker)
            kills[label] -= 1
        time.sleep(0.05)


def test_a_run_whose_worker_dies_is_retried_once_then_stored_failed(
    suite, reference, tmp_path, own_cluster
):
    address, client = own_cluster
    once, twice = "gml seed 1", "independent seed 2"
    labels = {s.label() for s in plan(suite)}
    assert any(once in label for label in labels) and any(twice in label for label in labels)
    kills, stop = {once: 1, twice: 2}, threading.Event()
    thread = threading.Thread(target=_killer, args=(client, kills, stop), daemon=True)
    thread.start()
    messages = []
    try:
        counts = run_suite(suite, tmp_path, cluster=address, progress=False, log=messages.append)
    finally:
        stop.set()
        thread.join()
    assert kills == {once: 0, twice: 0}
    assert counts["ran"] == 9 and counts["failed"] == 1
    numbers = _numbers(tmp_path)  # every run stored once
    records = {r.label(): r for r in ResultStore(tmp_path).read()}
    retried = next(r for label, r in records.items() if once in label)
    assert numbers[retried.key] == reference[retried.key]  # the retry gave the same numbers
    lost = next(r for label, r in records.items() if twice in label)
    assert lost.failed and "workers running it died" in lost.error and lost.diverged is None
    assert any("workers running it died" in m for m in messages)
    # its kd run still ran: without kept teachers it trains them itself (as `run --method kd`),
    # which gives what the kept teachers give
    taught = next(r for label, r in records.items() if "kd seed 2" in label)
    assert numbers[taught.key] == reference[taught.key]


def test_runs_wait_on_the_bench_client_when_another_client_is_current(
    suite, reference, tmp_path, own_cluster, monkeypatch
):
    """`distributed.wait` takes the current client: with another one current in this process
    (the fixture's `with Client(...)`, as in a notebook), the bench's futures must still be
    waited for on the bench's own client (its event loop), not on the other's."""
    address, other = own_cluster
    assert distributed.default_client() is other
    seen, real = [], distributed.wait

    def spy(futures, **kwargs):
        seen.append({distributed.default_client()} | {f.client for f in futures})
        return real(futures, **kwargs)

    monkeypatch.setattr(distributed, "wait", spy)
    run_suite(
        suite,
        tmp_path,
        cluster=address,
        methods=["independent"],
        progress=False,
        log=lambda *_: None,
    )
    assert seen and all(len(clients) == 1 and other not in clients for clients in seen)
    numbers = _numbers(tmp_path)
    assert numbers and all(numbers[key] == reference[key] for key in numbers)


def test_an_interrupted_cluster_bench_resumes(suite, reference, tmp_path, monkeypatch):
    real = ResultStore.append

    def interrupted(self, record, history=None):
        if len(self.read()) == 3:
            raise KeyboardInterrupt  # Ctrl-C once three runs are stored
        return real(self, record, history)

    monkeypatch.setattr(ResultStore, "append", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, tmp_path, cluster="local:2", progress=False, log=lambda *_: None)
    assert not multiprocessing.active_children()  # the local cluster stopped with it
    monkeypatch.setattr(ResultStore, "append", real)
    counts = run_suite(suite, tmp_path, cluster="local:2", progress=False, log=lambda *_: None)
    assert counts["skipped"] == 3 and counts["ran"] == 6
    assert _numbers(tmp_path) == reference


def test_a_wrong_address_fails_at_once_with_one_message(tmp_path, monkeypatch, suite, suite_file):
    monkeypatch.setattr(bench_cluster, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ConfigError, match="cannot reach a Dask scheduler there"):
        run_suite(suite, tmp_path / "out", cluster="tcp://127.0.0.1:9", progress=False)
    assert not (tmp_path / "out" / "runs.jsonl").exists()
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--suite",
            str(suite_file),
            "--out",
            str(tmp_path / "cli"),
            "--cluster",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if not line.startswith("plan: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: --cluster tcp://127.0.0.1:9: cannot")
    assert not (tmp_path / "cli" / "runs.jsonl").exists()
    with pytest.raises(ConfigError, match="give local:N with N >= 1"):
        run_suite(suite, tmp_path / "out", cluster="local:0", progress=False)
