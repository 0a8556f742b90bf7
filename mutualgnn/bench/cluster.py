"""A suite's runs as tasks of a Dask cluster: ``mutualgnn bench --cluster ADDRESS``
(``pip install mutualgnn[cluster]``; docs/cluster.md).

``ADDRESS`` is a running Dask scheduler's (``tcp://host:8786``: workers started by hand,
``dask-jobqueue`` on Slurm or PBS) or ``local:N``, a cluster of N single-threaded worker
processes started here and stopped at the end. Each planned run is one task
(:func:`~.runner.execute` in a worker, one torch thread); its outcome comes back to this
process, which alone writes the results folder: records as they arrive, the teachers a
distilling run needs (sent to its task with it, so workers share no folder but the data).

Faults: a run whose worker dies is retried once on another worker (the scheduler's
``distributed.scheduler.allowed-failures``, set to 1 for ``local:N``; set it where a scheduler
is started by hand), then stored as failed with the reason. A worker holds one run at a time
(``worker-saturation`` 1.0, :data:`SCHEDULER`), so its death counts against that run alone.
Ctrl-C here closes the connection (a local cluster stops; finished runs are stored, the same
command resumes). An unreachable
scheduler, a cluster without workers, or workers of another mutualgnn version or of another
kernel level than the suite pins is one error before anything runs."""

from __future__ import annotations

import contextlib
import os
import time

from ..config import ConfigError
from ..provenance import pinned_kernels, versions
from .workers import Work, dispatch, environment

#: seconds to reach a scheduler, and to wait for its first worker
CONNECT_TIMEOUT = 10
WORKERS_TIMEOUT = 60


#: the scheduler's settings for ``local:N`` (docs/cluster.md gives them for a scheduler started
#: by hand): a run is retried once after its worker died; a worker is sent one run at a time;
#: the event loops' housekeeping timers slowed from Dask's defaults (a tick every 20 ms, system
#: and memory monitors every 500 and 100 ms) to 1-5 s: their wake-ups took 8% of a core from an
#: idle local:2 cluster (1.4% slowed), time that a run on a busy core loses
SCHEDULER = {
    "distributed.scheduler.allowed-failures": 1,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
#: the workers' settings for ``local:N`` (docs/cluster.md gives them as environment variables
#: for workers started by hand): no ``MALLOC_TRIM_THRESHOLD_``, which Dask's nanny sets by
#: default and which makes glibc map and unmap every tensor over 128 KiB (measured on a Cora
#: run: 2.9 million page faults instead of 3 thousand, 1.4x its time); no statistical profiler
#: (every 10 ms it takes the GIL from the run to sample its stack)
WORKERS = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}
WORKER_ENV = {"OMP_NUM_THREADS": "1", "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


def _stop_profiler(dask_worker) -> None:
    """Stop a worker's statistical profiler (workers started by hand have it on by default)."""
    for name in ("profile", "profile-cycle"):
        callback = dask_worker.periodic_callbacks.pop(name, None)
        if callback is not None:
            callback.stop()


def _imports():
    try:
        import dask
        import distributed
    except ImportError:  # the optional extra
        raise ConfigError(
            "--cluster needs Dask: pip install 'mutualgnn[cluster]' "
            "(or pip install 'distributed>=2024.1')"
        ) from None
    return dask, distributed


@contextlib.contextmanager
def connect(address: str, kernels: str | None = None):
    """A ``distributed.Client`` of the cluster at ``address`` (see the module docstring),
    checked before it is given: workers present, with the same code and versions as here
    (:data:`SAME`), computing at the suite's pinned ``kernels`` level (if any). Closed (a local
    cluster stopped, this process's environment as it was) on leaving."""
    dask, distributed = _imports()
    if address.startswith("local:"):
        n = address[len("local:") :]
        if not n.isdigit() or int(n) < 1:
            raise ConfigError(f"--cluster {address}: give local:N with N >= 1 worker processes")
        env = {**(pinned_kernels(kernels) if kernels else {}), **WORKER_ENV}
        saved = dict(os.environ)  # Dask's nannies write their workers' settings into it
        with dask.config.set({**SCHEDULER, **WORKERS}), environment(env):
            cluster = distributed.LocalCluster(
                n_workers=int(n),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )  # errors only
        client = distributed.Client(cluster)
    else:
        cluster = None
        try:
            client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"--cluster {address}: cannot reach a Dask scheduler there "
                f"({str(exc).splitlines()[0]}); start one with `dask scheduler` "
                f"and workers with `dask worker {address} --nthreads 1`, or use "
                f"--cluster local:N"
            ) from None
    try:
        _check_workers(client, address, kernels)
        client.run(_stop_profiler)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            os.environ.clear()
            os.environ.update(saved)


#: what must be the same in every worker as here (:func:`~mutualgnn.provenance.versions`)
SAME = ("mutualgnn", "commit", "torch", "dgl")


def size(address: str, kernels: str | None = None) -> int:
    """The worker threads of the cluster at ``address`` (``local:N``: N, without starting it)."""
    if address.startswith("local:") and address[len("local:") :].isdigit():
        return max(1, int(address[len("local:") :]))
    with connect(address, kernels) as client:
        return max(1, sum(client.nthreads().values()))


def worker_facts() -> dict:
    """What a worker says of itself: :func:`~mutualgnn.provenance.versions`."""
    return versions()


def _check_workers(client, address: str, kernels: str | None) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        raise ConfigError(
            f"--cluster {address}: no worker joined the scheduler in "
            f"{WORKERS_TIMEOUT} s; start some with `dask worker {address} "
            f"--nthreads 1`"
        ) from None
    here = worker_facts()
    want = pinned_kernels(kernels) if kernels else None
    for worker, facts in client.run(worker_facts).items():
        differ = [
            f"{k} {facts.get(k)} (here {here.get(k)})" for k in SAME if facts.get(k) != here.get(k)
        ]
        if differ:
            raise ConfigError(
                f"--cluster {address}: worker {worker} runs {', '.join(differ)}: "
                f"install the same code and versions on every worker"
            )
        if want and (
            facts["cpu_capability"] != kernels.upper() or facts["mkl_cbwr"] != want["MKL_CBWR"]
        ):
            env = " ".join(f"{k}={v}" for k, v in want.items())
            raise ConfigError(
                f"--cluster {address}: the suite pins kernels {kernels} but worker "
                f"{worker} computes at {facts['cpu_capability']} (MKL_CBWR "
                f"{facts['mkl_cbwr']}); start the workers with `{env} dask worker "
                f"{address} --nthreads 1`"
            )


def _train(execute, run, teachers):
    """A run as a cluster task: one torch thread, whatever the worker was started with."""
    import torch

    torch.set_num_threads(1)
    return execute(run, teachers)


def run_on_cluster(client, planned, work: Work) -> None:
    """Train ``planned`` runs as tasks of ``client``'s cluster and ``work.finish`` each one as
    it comes back; a run whose task failed because its workers died (``KilledWorker``) is
    finished as a failed record saying so (:func:`~.runner.lost`)."""
    _, distributed = _imports()
    started = {}

    def submit(run):
        started[run.key] = time.perf_counter()
        return client.submit(
            _train,
            work.execute,
            run,
            work.teachers_of(run),
            pure=False,
            key=f"run-{run.label()}-{time.monotonic_ns()}",
        )

    def collect(run, future):
        try:
            outcome = future.result()
        except distributed.KilledWorker as exc:
            outcome = work.lost(
                run,
                f"the workers running it died: {str(exc).split('. ')[0]}",
                time.perf_counter() - started[run.key],
            )
        finally:
            future.release()
        work.finish(outcome)

    def wait_first(futures):
        return distributed.wait(futures, return_when="FIRST_COMPLETED").done

    # every run is submitted when its teachers are done; the scheduler queues them. `wait`
    # runs on the current client: another client of this process made current (`with
    # Client(...)`, a notebook's) would wait on its own event loop for this client's futures
    with client.as_current():
        dispatch(planned, max(1, len(planned)), submit, wait_first, collect)
