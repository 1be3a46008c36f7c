"""The Anshan replay for the tests that read it, built once per run.

The build takes minutes. On SQLite the first module that asks for it builds it in its test
database and keeps a copy in a file that the xdist workers share; every later module (on any
worker) copies that file into its own database in a second. On PostgreSQL each module builds
it. After the module the database is emptied again for the tests that follow."""

from __future__ import annotations

import fcntl
import json
import sqlite3

import pytest
from django.core.management import call_command
from django.db import connection

from zhenggai.campaigns.models import Campaign
from zhenggai.demo import replay as anshan
from zhenggai.org.models import Organisation


@pytest.fixture(scope="module")
def replay(django_db_setup, django_db_blocker, tmp_path_factory, worker_id):
    # Shared by the workers of this run: the folder above each worker's own.
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    with django_db_blocker.unblock():
        result = _copied(shared) if connection.vendor == "sqlite" else anshan.build()
    yield result
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        _forget_content_types()


def _copied(shared) -> anshan.Result:
    copy, about = shared / "anshan-replay.sqlite3", shared / "anshan-replay.json"
    with (shared / "anshan-replay.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds, the other waits for it
        connection.ensure_connection()
        if not about.exists():
            result = anshan.build()
            with sqlite3.connect(copy) as out:
                connection.connection.backup(out)
            about.write_text(json.dumps({
                "org": result.org.pk, "campaign": result.campaign.pk,
                "receipt": result.receipt, "counts": result.counts}))
            return result
    with sqlite3.connect(copy) as src:
        src.backup(connection.connection)
    _forget_content_types()
    meta = json.loads(about.read_text())
    return anshan.Result(org=Organisation.objects.get(pk=meta["org"]),
                         campaign=Campaign.objects.get(pk=meta["campaign"]),
                         receipt=meta["receipt"], counts=meta["counts"])


def _forget_content_types():
    # Their ids come with the copy (and again after a flush): no cached id may outlive it.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
