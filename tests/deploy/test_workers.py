"""Workers claim jobs so that two never run the same one (django-tasks-db takes the job row
with SELECT … FOR UPDATE SKIP LOCKED and marks it RUNNING in that transaction; on SQLite
the transaction is IMMEDIATE, one writer at a time). A worker killed in the middle of a job
leaves it RUNNING; once its lease is over the next worker runs it again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from .conftest import DJANGO, ROOT

ENQUEUE = DJANGO + """
from tests.deploy.tasks import mark
path, numbers, sleep = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
for n in numbers:
    mark.enqueue(path, n, sleep)
"""
JOBS = DJANGO + """
from django_tasks_db.models import DBTaskResult
print(json.dumps([[r.task_path.rsplit(".", 1)[-1], r.status, r.worker_ids, r.args_kwargs]
                  for r in DBTaskResult.objects.order_by("enqueued_at")]))
"""


def jobs(instance, name="mark"):
    return [j for j in json.loads(instance.python(JOBS)) if j[0] == name]


def test_two_workers_never_run_the_same_job(instance, tmp_path):
    out = tmp_path / "ran.txt"
    instance.python(ENQUEUE, str(out), json.dumps(list(range(60))), "0.02")
    workers = [subprocess.Popen([sys.executable, "-m", "zhenggai.cli", "worker", "--once"],
                                env=instance.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    for w in workers:
        assert w.wait(timeout=300) == 0
    ran = [int(x) for x in out.read_text().split()]
    assert sorted(ran) == list(range(60))  # each job once
    done = jobs(instance)
    assert all(status == "SUCCESSFUL" and len(ids) == 1 for _n, status, ids, _a in done)


def test_a_job_of_a_killed_worker_runs_again_once(instance, tmp_path):
    out = tmp_path / "ran.txt"
    hold = tmp_path / "ran.txt.hold"
    hold.touch()  # the job waits while this exists: the worker is killed while it waits
    instance.python(ENQUEUE, str(out), "[999]", "300")
    worker = subprocess.Popen([sys.executable, "-m", "zhenggai.cli", "worker"],
                              env=instance.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not instance.sql("SELECT 1 FROM django_tasks_database_dbtaskresult "
                               "WHERE status = 'RUNNING' AND task_path LIKE '%.mark'"):
            assert time.monotonic() < deadline, "the worker never took the job"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)  # in the middle of the job
    finally:
        worker.wait(timeout=30)
    assert not out.exists()
    hold.unlink()
    # Within its lease the job is left alone: its worker might still be at it.
    instance.run("worker", "--once")
    assert [s for _n, s, _i, a in jobs(instance) if 999 in a["args"]] == ["RUNNING"]
    # After the lease, the next worker takes it again, and its effect happens once.
    r = subprocess.run([sys.executable, "-m", "zhenggai.cli", "worker", "--once"],
                       env={**instance.env, "ZHENGGAI_TASK_LEASE_S": "1"}, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.read_text().split() == ["999"]
    (_n, status, ids, _a), = [j for j in jobs(instance) if 999 in j[3]["args"]]
    assert status == "SUCCESSFUL" and len(ids) == 2
