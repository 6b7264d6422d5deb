"""The Dask executor on a real LocalCluster with worker processes: the same table as the local pool
and as one process; a worker killed mid-search is survived; an unreachable scheduler is refused."""

import os
import signal

import pytest

distributed = pytest.importorskip("distributed")

from ravine.cli import main  # noqa: E402
from ravine.select.search import run_search  # noqa: E402

SPACE = """
[search]
kind = "random"
trials = 6
seed = 3
epochs = 3
[base]
data = "digits"
hidden = [16]
[space]
lr = { loguniform = [0.003, 0.3] }
momentum = { uniform = [0.0, 0.95] }
"""


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def test_same_table_on_dask_local_pool_and_one_process(tmp_path, cluster):
    spec = tmp_path / "space.toml"
    spec.write_text(SPACE)
    quiet = lambda *a: None  # noqa: E731
    run_search(spec, tmp_path / "dask", dask=cluster.scheduler_address, out=quiet)
    run_search(spec, tmp_path / "pool", jobs=2, out=quiet)
    run_search(spec, tmp_path / "one", jobs=1, out=quiet)
    tables = [(tmp_path / name / "table.csv").read_text() for name in ("dask", "pool", "one")]
    assert tables[0] == tables[1] == tables[2] and len(tables[0].splitlines()) == 7


def test_a_killed_worker_is_survived(tmp_path, cluster):
    spec = tmp_path / "space.toml"
    spec.write_text(SPACE.replace("epochs = 3", "epochs = 8"))
    with distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
    lines = []

    def kill_one(line):
        lines.append(line)
        if len(lines) == 2:  # the budget line and the first finished trial: others are in flight
            os.kill(pids[0], signal.SIGKILL)

    result = run_search(spec, tmp_path / "s", dask=cluster.scheduler_address, out=kill_one)
    assert result.counts["finished"] == 6
    run_search(spec, tmp_path / "pool", jobs=2, out=lambda *a: None)
    assert (tmp_path / "s" / "table.csv").read_text() == (tmp_path / "pool" / "table.csv").read_text()


def test_unreachable_scheduler_is_refused(tmp_path, capsys):
    spec = tmp_path / "space.toml"
    spec.write_text(SPACE)
    assert main(["search", str(spec), "--out", str(tmp_path / "s"), "--dask", "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # refused before the search folder exists
