"""Users imports over the same people at the same time (integrations/resources/users_writes.py):
each in its own worker and connection, all of them succeed."""

import io
import re
import threading
import time

import pytest
from django.db import connection, connections

from contacts.models import Membership, Person
from integrations import services
from integrations.models import ImportJob
from integrations.resources.users_writes import USERS_IMPORT_LOCK
from tests.integrations.conftest import csv_file, users_csv

SHARED = 240  # people in every file
OWN = 40  # people in one file only


def users_file(number):
    """Every shared person at PARIS (the same memberships in every file) and at this file's
    own account, met in an order of this file's own, so that two runs meet them in different
    orders; then people of this file only."""
    own_account = ["BERLIN", "AUSTIN", "EMEA", "AMER"][number]
    shared = [f"shared{index}@example.com" for index in range(SHARED)]
    order = shared[number * 60 :] + shared[: number * 60]
    if number % 2:
        order.reverse()
    rows = [f"PARIS,{email},Shared,Person,,,,yes," for email in order]
    rows += [f"{own_account},{email},Shared,Person,,,,," for email in order]
    rows += [
        f"{own_account},own{number}-{index}@example.com,Own,Person,,,,," for index in range(OWN)
    ]
    return users_csv(*rows)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one writing transaction at a time: imports cannot overlap there",
)
@pytest.mark.django_db(transaction=True)
def test_four_users_imports_over_the_same_people_at_once_all_succeed(tree, settings):
    # Many small chunks: the runs interleave, each holding what it wrote until it commits.
    settings.INTEGRATIONS_CHUNK_SIZE = 40
    start = threading.Barrier(4)
    jobs = {}

    def run(number):
        try:
            start.wait()
            job, _ = services.import_file_now(
                kind=ImportJob.Kind.USERS,
                file=csv_file(users_file(number)),
                file_name=f"people-{number}.csv",
            )
            jobs[number] = (job.status, job.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert jobs == {number: (ImportJob.Status.SUCCEEDED, "") for number in range(4)}
    assert Person.objects.count() == SHARED + 4 * OWN
    assert Membership.objects.filter(account=tree["paris"]).count() == SHARED
    assert Membership.objects.count() == SHARED + 4 * SHARED + 4 * OWN
    assert Membership.objects.filter(account=tree["paris"], is_contact=True).count() == SHARED


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one writing transaction at a time: imports cannot overlap there",
)
@pytest.mark.django_db(transaction=True)
def test_a_users_import_that_waits_for_another_says_so_on_its_job_page(tree, admin_client):
    """It used to show "Running 0 %" and nothing else for as long as the other one ran."""
    other = connections.create_connection("default")
    other.set_autocommit(False)
    with other.cursor() as cursor:  # another users import, holding the people
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", USERS_IMPORT_LOCK)
    outcome = {}

    def run():
        try:
            job, _ = services.import_file_now(
                kind=ImportJob.Kind.USERS,
                file=csv_file(users_csv("PARIS,waiting@example.com,Wai,Ting,,,,yes,")),
                file_name="waiting.csv",
            )
            outcome["job"] = job
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not ImportJob.objects.filter(message=ImportJob.WAITING_MESSAGE).exists():
            assert time.monotonic() < deadline, "the job never said it waits"
            assert thread.is_alive(), "the import did not wait"
            time.sleep(0.05)
        job = ImportJob.objects.get()
        page = admin_client.get(job.get_absolute_url()).content.decode()
        assert ImportJob.WAITING_MESSAGE in page
    finally:
        other.rollback()  # the other import ends
        other.close()
        thread.join()

    job = outcome["job"]
    job.refresh_from_db()
    assert (job.status, job.message) == (ImportJob.Status.SUCCEEDED, "")
    assert Person.objects.filter(email="waiting@example.com").exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one writing transaction at a time: imports cannot overlap there",
)
@pytest.mark.django_db(transaction=True)
def test_the_admins_import_refuses_to_wait_for_another_users_import(tree, admin_client):
    """The admin imports inside its request: waiting there for another import (minutes) would
    outlast gunicorn's timeout. It says so at once, and writes nothing."""
    file = io.BytesIO(users_csv("PARIS,admin@example.com,Ad,Min,,,,yes,").encode())
    file.name = "people.csv"
    preview = admin_client.post(
        "/admin/contacts/person/import/", {"resource": "0", "format": "0", "import_file": file}
    )
    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text))
    held, release = threading.Event(), threading.Event()

    def another_users_import():
        other = connections.create_connection("default")
        other.set_autocommit(False)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", USERS_IMPORT_LOCK)
            held.set()
            release.wait(timeout=10)  # at most: an admin that waits is seen to wait
        finally:
            other.rollback()
            other.close()

    holder = threading.Thread(target=another_users_import)
    holder.start()
    try:
        assert held.wait(timeout=10)
        started = time.monotonic()
        done = admin_client.post("/admin/contacts/person/process_import/", confirm, follow=True)
        took = time.monotonic() - started
    finally:
        release.set()
        holder.join()

    assert took < 5
    assert done.redirect_chain == [("/admin/contacts/person/import/", 302)]
    assert [(m.level_tag, m.message) for m in done.context["messages"]] == [
        ("error", "Another users import is running; try again when it has finished.")
    ]
    assert not Person.objects.filter(email="admin@example.com").exists()
    assert Membership.objects.count() == 0
