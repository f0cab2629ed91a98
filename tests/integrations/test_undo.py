"""Undo an import (integrations.undo, undo_run): what imports record, the plan, the run and
the redo, conflicts, all or nothing."""

import pytest
from django.db import connection

from accounts.models import Account
from contacts.models import ContactChange, Membership, Person
from integrations import undo_run
from integrations.models import ImportJob, ImportRecord
from integrations.undo import UndoRefused, plan_undo
from tests.factories import MembershipFactory, TaskFactory
from tests.integrations.conftest import accounts_csv, csv_file, snapshot, users_csv

pytestmark = pytest.mark.django_db(transaction=False)


def run_users(text, by=None):
    from integrations import services

    job, _ = services.import_file_now(
        kind=ImportJob.Kind.USERS, file=csv_file(text), file_name="users.csv", by=by
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    return job


def run_accounts(text, by=None):
    from integrations import services

    job, _ = services.import_file_now(
        kind=ImportJob.Kind.ACCOUNTS, file=csv_file(text), file_name="accounts.csv", by=by
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    return job


def records(job):
    return sorted((r.model, r.action, r.before, r.after) for r in job.records.all())


def undo_now(job, by=None, restore_conflicts=False):
    undo_job = undo_run.start_undo(job=job, by=by, restore_conflicts=restore_conflicts)
    undo_job.refresh_from_db()
    assert undo_job.status == ImportJob.Status.SUCCEEDED, undo_job.message
    return undo_job


def everything():
    """Every row of people, memberships and accounts, whole (timestamps aside)."""

    def rows(model):
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in ("created_at", "updated_at")
        ]
        return sorted(model.objects.values_list(*names))

    return {"people": rows(Person), "memberships": rows(Membership), "accounts": rows(Account)}


def test_a_users_import_records_what_it_created_and_changed(ada, staff_user):
    paris = Membership.objects.get(person=ada, account__external_id="PARIS")
    job = run_users(
        users_csv(
            "PARIS,ada@customer.example,,,CEO,,,no,",
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
        ),
        by=staff_user,
    )
    grace = Person.objects.get(email="grace@navy.example")
    new = Membership.objects.get(person=grace)
    recs = {(r.model, r.object_pk, r.action): r for r in job.records.all()}
    assert set(recs) == {
        ("person", ada.pk, "changed"),
        ("membership", paris.pk, "changed"),
        ("person", grace.pk, "created"),
        ("membership", new.pk, "created"),
    }
    assert recs["person", ada.pk, "changed"].before == {"title": "CTO"}
    assert recs["person", ada.pk, "changed"].after == {"title": "CEO"}
    assert recs["membership", paris.pk, "changed"].before == {
        "is_contact": True,
        "is_key_contact": True,
    }
    assert recs["membership", paris.pk, "changed"].after == {
        "is_contact": False,
        "is_key_contact": False,
    }
    created = recs["person", grace.pk, "created"].after
    assert created["email"] == "grace@navy.example" and created["id"] == grace.pk
    membership = recs["membership", new.pk, "created"].after
    assert membership["status"] == "active" and membership["is_contact"] is True


def test_undo_puts_every_row_back_and_redo_brings_the_import_back(ada, tree, staff_user):
    before = everything()
    job = run_users(
        users_csv(
            "PARIS,ada@customer.example,,,CEO,,,no,",
            "BERLIN,ada@customer.example,,,,,,yes,",
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,yes",
        ),
        by=staff_user,
    )
    after_import = everything()

    undo_job = undo_now(job, by=staff_user)

    assert everything() == before
    assert undo_job.undoes == job and undo_job.kind == job.kind
    assert undo_job.summary["deleted"] == {"account": 0, "person": 1, "membership": 2}
    assert set(
        ContactChange.objects.filter(source="undo").values_list("field", "old_value", "new_value")
    ) >= {("contact", "no", "yes"), ("key_contact", "no", "yes")}

    redo = undo_now(undo_job, by=staff_user)

    assert everything() == after_import
    assert redo.undoes == undo_job
    # And once more: the redo undone is the import undone.
    undo_now(redo, by=staff_user)
    assert everything() == before


def test_the_plan_lists_deleted_kept_restored_and_conflicts(ada, tree, staff_user):
    job = run_users(
        users_csv(
            "PARIS,ada@customer.example,,,CEO,,,,",
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
            "AUSTIN,alan@turing.example,Alan,Turing,,,,yes,",
        ),
        by=staff_user,
    )
    grace = Person.objects.get(email="grace@navy.example")
    alan = Person.objects.get(email="alan@turing.example")
    MembershipFactory(person=grace, account=tree["paris"])  # not the import's
    task = TaskFactory(account=tree["austin"])
    task.contacts.add(Membership.objects.get(person=alan))
    Person.objects.filter(pk=ada.pk).update(title="Chair")

    plan = plan_undo(job)

    assert plan.delete == {
        "account": [],
        "person": [],
        "membership": [Membership.objects.get(person=grace, account=tree["berlin"]).pk],
    }
    assert sorted((m, why) for m, _, why in plan.kept) == [
        ("membership", "in 1 task"),
        ("person", "has 1 membership the import did not add"),
        ("person", "has 1 membership the import did not add"),
    ]
    [restore] = plan.restores
    assert restore.fields == {"title": ("CTO", "CEO", "Chair")}
    assert restore.conflicts == {"title": "changed in the app since"}

    undo_now(job)
    ada.refresh_from_db()
    assert ada.title == "Chair"  # the later change is kept by default


def test_conflicts_are_restored_on_request_and_a_later_import_is_named(ada, staff_user):
    job = run_users(users_csv("PARIS,ada@customer.example,,,CEO,,,,"), by=staff_user)
    later = run_users(users_csv("PARIS,ada@customer.example,,,Chair,,,,"), by=staff_user)

    [restore] = plan_undo(job).restores
    assert restore.conflicts == {"title": f"import #{later.pk}"}

    undo_now(job, restore_conflicts=True)
    ada.refresh_from_db()
    assert ada.title == "CTO"


def test_an_accounts_import_is_undone_with_its_moves_and_new_accounts(tree, staff_user):
    before = everything()
    job = run_accounts(
        accounts_csv(
            "BERLIN,Berlin Mitte,,AMER",
            "LYON,Lyon,Site,EMEA",
            "AUSTIN_OPS,Ops,,",
        ),
        by=staff_user,
    )
    assert Account.objects.get(external_id="BERLIN").parent == tree["amer"]
    moved = job.records.get(model="account", object_pk=tree["berlin"].pk)
    assert moved.before["parent_id"] == tree["emea"].pk
    assert moved.after["parent_id"] == tree["amer"].pk
    assert job.records.filter(model="account", action="created").count() == 1
    after_import = everything()

    undo_job = undo_now(job, by=staff_user)

    assert everything() == before
    undo_now(undo_job, by=staff_user)
    assert everything() == after_import


def test_an_undo_that_fails_part_way_changes_nothing(ada, staff_user, monkeypatch):
    job = run_users(
        users_csv("PARIS,ada@customer.example,,,CEO,,,,", "BERLIN,g@navy.example,G,H,,,,yes,"),
        by=staff_user,
    )
    after_import = snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(undo_run.History, "write", broken)
    undo_job = undo_run.start_undo(job=job, by=staff_user)
    undo_job.refresh_from_db()

    assert undo_job.status == ImportJob.Status.FAILED
    assert "Nothing was changed" in undo_job.message
    assert snapshot() == after_import
    assert not undo_job.records.exists()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("failed", "it failed"),
        ("cancelled", "it was cancelled"),
        ("running", "it has not finished"),
    ],
)
def test_unfinished_failed_and_cancelled_jobs_are_refused(status, message):
    job = ImportJob.objects.create(kind="users", file_name="u.csv", status=status)
    with pytest.raises(UndoRefused, match=message):
        undo_run.start_undo(job=job, by=None)


def test_a_job_from_before_records_is_refused_and_one_that_changed_nothing_too():
    job = ImportJob.objects.create(kind="users", file_name="u.csv", status="succeeded", new_rows=3)
    with pytest.raises(UndoRefused, match="ran before imports kept what they changed"):
        undo_run.start_undo(job=job, by=None)
    job.new_rows = 0
    job.save()
    with pytest.raises(UndoRefused, match="changed nothing"):
        undo_run.start_undo(job=job, by=None)


def test_an_undone_job_and_one_being_undone_are_refused(ada, staff_user):
    job = run_users(users_csv("PARIS,ada@customer.example,,,CEO,,,,"), by=staff_user)
    undo_job = undo_now(job)
    with pytest.raises(UndoRefused, match=f"undone already, by #{undo_job.pk}") as refused:
        undo_run.start_undo(job=job, by=None)
    assert refused.value.code == "already_undone"
    redo = undo_now(undo_job)
    # Redone, the import may be undone again.
    assert plan_undo(job).restores
    ImportJob.objects.create(kind="users", file_name="x", status="pending", undoes=redo)
    with pytest.raises(UndoRefused, match="running already"):
        undo_run.start_undo(job=redo, by=None)


def test_a_stale_preview_is_refused(ada, staff_user):
    job = run_users(users_csv("PARIS,ada@customer.example,,,CEO,,,,"), by=staff_user)
    fingerprint = plan_undo(job).fingerprint()
    Person.objects.filter(pk=ada.pk).update(title="Chair")
    with pytest.raises(UndoRefused, match="changed since this preview") as refused:
        undo_run.start_undo(job=job, by=None, fingerprint=fingerprint)
    assert refused.value.code == "stale_preview"
    assert not ImportJob.objects.filter(undoes=job).exists()


def test_rows_gone_since_are_reported(ada, staff_user):
    job = run_users(users_csv("BERLIN,g@navy.example,G,H,,,,yes,"), by=staff_user)
    Person.objects.filter(email="g@navy.example").delete()
    plan = plan_undo(job)
    assert {m for m, _ in plan.gone} == {"person", "membership"}
    assert plan.is_empty()
    undo_now(job)


def test_the_undo_records_what_it_deleted_whole(staff_user, tree):
    job = run_users(users_csv("BERLIN,g@navy.example,G,H,,,,yes,"), by=staff_user)
    undo_job = undo_now(job)
    deleted = {
        r.model: r.before for r in undo_job.records.filter(action=ImportRecord.Action.DELETED)
    }
    assert deleted["person"]["email"] == "g@navy.example"
    assert deleted["membership"]["account_id"] == tree["berlin"].pk
    assert connection.vendor in ("postgresql", "sqlite")


def test_a_forgotten_person_leaves_no_import_record_and_no_redo_brings_them_back(ada, staff_user):
    from contacts.privacy import forget_person

    job = run_users(
        users_csv("PARIS,ada@customer.example,,,CEO,,,,", "BERLIN,g@navy.example,G,H,,,,yes,"),
        by=staff_user,
    )
    undo_job = undo_now(job)  # its records hold Grace's row whole, for a redo
    grace = run_users(users_csv("BERLIN,g@navy.example,G,H,,,,yes,")).records.get(model="person")
    forget_person(person=Person.objects.get(pk=grace.object_pk), by=staff_user)
    forget_person(person=ada, by=staff_user)

    assert not ImportRecord.objects.filter(model="person").exists()
    undo_now(undo_job)  # the redo: nobody comes back
    assert not Person.objects.exists()


def valid_trees():
    """Every account inside its parent's numbers, one level below it."""
    accounts = {a.pk: a for a in Account.objects.all()}
    for account in accounts.values():
        assert account.lft < account.rght
        if account.parent_id:
            parent = accounts[account.parent_id]
            assert parent.tree_id == account.tree_id and account.level == parent.level + 1
            assert parent.lft < account.lft and account.rght < parent.rght
    return True


def test_an_account_moved_again_since_keeps_its_later_place_in_valid_trees(tree, staff_user):
    job = run_accounts(accounts_csv("BERLIN,Berlin,,AMER", "LYON,Lyon,Site,EMEA"), by=staff_user)
    later = run_accounts(accounts_csv("BERLIN,Berlin,,CORP"), by=staff_user)
    lyon = Account.objects.get(external_id="LYON")
    MembershipFactory(account=lyon)  # not the import's: Lyon stays

    plan = plan_undo(job)
    [berlin] = [r for r in plan.restores if "parent_id" in r.fields]
    assert berlin.conflicts["parent_id"] == f"import #{later.pk}"
    assert [(why) for m, _, why in plan.kept] == ["has 1 membership the import did not add"]

    undo_now(job)
    assert Account.objects.get(external_id="BERLIN").parent == tree["corp"]
    assert Account.objects.filter(external_id="LYON").exists()
    assert valid_trees()


def test_the_stale_sweep_covers_undo_jobs(staff_user):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from integrations.services import fail_stale_jobs
    from integrations.tasks import run_undo

    done = ImportJob.objects.create(kind="users", file_name="u.csv", status="succeeded")
    running = ImportJob.objects.create(
        kind="users",
        file_name="u.csv",
        status="running",
        undoes=done,
        heartbeat_at=timezone.now() - timedelta(days=1),
    )
    pending = ImportJob.objects.create(
        kind="users", file_name="u.csv", status="pending", undoes=done
    )
    DBTaskResult.objects.create(
        task_path=run_undo.module_path,
        args_kwargs={"args": [pending.pk], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
        status="FAILED",
        worker_ids=["w1"],
    )

    assert fail_stale_jobs() == 2
    running.refresh_from_db()
    pending.refresh_from_db()
    assert (running.status, pending.status) == ("failed", "failed")
