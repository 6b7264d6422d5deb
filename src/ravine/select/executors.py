"""Where trials run: local processes (``LocalExecutor``) or a Dask cluster (``DaskExecutor``).

Both take the search's data once (the process pool through its initializer, Dask by scattering it
to every worker) and offer ``submit(task) -> future``, ``as_completed(futures)``, ``capacity``
(how many trials run at once) and ``close()``. Workers return ``TrialResult``s; only the
coordinator writes the store. Each worker runs BLAS on one thread (``trial.init_worker``).

Example::

    with LocalExecutor(jobs=2, data_key=key, data=splits) as pool:
        futures = [pool.submit(task) for task in tasks]
        for future in pool.as_completed(futures):
            result = future.result()
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from pathlib import Path

from .._checks import check_int
from .trial import init_worker, run_trial


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (not Linux)
        return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """Trials in ``jobs`` local processes (default: the core count)."""

    def __init__(self, jobs: int | None = None, data_key: str | None = None, data=None):
        self.jobs = default_jobs() if jobs is None else check_int("--jobs", jobs, minimum=1)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ravine.select.trial", "ravine.cli.build"])
        self.pool = cf.ProcessPoolExecutor(self.jobs, mp_context=context, initializer=init_worker,
                                           initargs=(data_key, data))

    @property
    def capacity(self) -> int:
        return self.jobs

    def submit(self, task):
        return self.pool.submit(run_trial, task)

    def as_completed(self, futures):
        return cf.as_completed(futures)

    def wait_first(self, futures) -> tuple[set, set]:
        done, pending = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskExecutor:
    """Trials on a Dask distributed cluster: an existing one at ``address`` (``tcp://host:8786``),
    or a ``LocalCluster`` of ``local_workers`` worker processes started here (its scratch space in
    ``scratch``). The data is scattered to every worker once; a trial whose worker is lost is run
    again (``retries``). Trials save their state under the search folder, which workers of a real
    cluster must therefore share with the coordinator."""

    def __init__(self, address: str | None = None, local_workers: int | None = None, scratch=None,
                 data_key: str | None = None, data=None, retries: int = 2, timeout: float = 10.0):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover (depends on the environment)
            raise ValueError("--dask needs dask.distributed: pip install 'ravine[dask]'") from None
        if (address is None) == (local_workers is None):
            raise ValueError("DaskExecutor: give an address or local_workers (one of them)")
        self.retries = check_int("retries", retries, minimum=0)
        self.cluster = None
        if address is None:
            local_workers = check_int("--dask-local", local_workers, minimum=1)
            scratch = Path(scratch) if scratch is not None else None
            if scratch is not None:
                scratch.mkdir(parents=True, exist_ok=True)
            self.cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, local_directory=None if scratch is None
                                        else str(scratch))
            self.client = Client(self.cluster)
        else:
            if not isinstance(address, str) or not address:
                raise ValueError(f"--dask must be a scheduler address such as tcp://host:8786; got {address!r}")
            try:
                self.client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as error:
                raise ValueError(f"--dask {address}: cannot reach the Dask scheduler ({error})") from None
        self.client.run(init_worker)
        self.data_future = None if data is None else self.client.scatter(data, broadcast=True, hash=False)
        self._data_key = data_key

    @property
    def capacity(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, task):
        return self.client.submit(run_trial, task, self.data_future, retries=self.retries, pure=False,
                                  key=f"trial-{task.index}-{task.epochs_to}-{os.urandom(4).hex()}")

    def as_completed(self, futures):
        from dask.distributed import as_completed

        return as_completed(futures)

    def wait_first(self, futures) -> tuple[set, set]:
        from dask.distributed import wait

        done, pending = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done), set(pending)

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
