"""manage.py undo_import JOB_ID: the preview of an import's undo, and with --yes the undo."""

from django.core.management.base import BaseCommand, CommandError

from integrations.management.importing import BAD_USAGE
from integrations.models import ImportJob
from integrations.undo import UndoRefused, check_undoable, plan_undo
from integrations.undo_preview import preview
from integrations.undo_run import run_undo_job, start_undo

REFUSED = 1
LISTED = 20


class Command(BaseCommand):
    help = (
        "Undo an import job (or redo one: undo its undo). Prints what the undo would delete, "
        "restore and keep, and the conflicts (fields changed since the import); with --yes "
        "runs it, as one transaction. Exit status: 0 previewed or undone, 1 the job cannot be "
        "undone (the reason is printed) or the undo failed (nothing was changed), 2 bad usage."
    )

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int, help="The import job's number (#N).")
        parser.add_argument(
            "--restore-conflicts",
            action="store_true",
            help="Restore the fields changed since the import too (overwrite the later changes).",
        )
        parser.add_argument("--yes", action="store_true", help="Run the undo (else: preview).")

    def handle(self, *args, job_id, restore_conflicts, yes, **options):
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No import job #{job_id}.", returncode=BAD_USAGE)
        try:
            check_undoable(job)
        except UndoRefused as refused:
            raise CommandError(" ".join(refused.messages), returncode=REFUSED) from refused
        plan = plan_undo(job, restore_conflicts=restore_conflicts)
        self.print_preview(job, plan)
        if not yes:
            self.stdout.write("Nothing was changed. Run again with --yes to undo.")
            return
        try:
            undo_job = start_undo(
                job=job,
                by=None,
                restore_conflicts=restore_conflicts,
                fingerprint=plan.fingerprint(),
                enqueue=False,
            )
        except UndoRefused as refused:
            raise CommandError(" ".join(refused.messages), returncode=REFUSED) from refused
        undo_job = run_undo_job(job=undo_job)
        if undo_job.status != ImportJob.Status.SUCCEEDED:
            raise CommandError(undo_job.message, returncode=REFUSED)
        self.stdout.write(f"Undone: job #{undo_job.pk} (undo it to redo the import).")

    def print_preview(self, job, plan):
        shown = preview(plan)
        counts = shown["counts"]
        what = "Redo of" if job.undoes_id else "Undo of"
        self.stdout.write(f"{what} import #{job.pk} ({job.get_kind_display()} {job.file_name}):")
        deleted, recreated = counts["deleted"], counts["recreated"]
        self.stdout.write(
            f"  delete {deleted['person']:,} people, {deleted['membership']:,} memberships, "
            f"{deleted['account']:,} accounts; restore {counts['restored_rows']:,} rows; make "
            f"{sum(recreated.values()):,} again; keep {counts['kept']:,} in use; "
            f"{counts['conflicts']:,} conflicts; {counts['gone']:,} gone since."
        )
        for kind, label in shown["deleted"][:LISTED]:
            self.stdout.write(f"  Delete {kind.lower()}: {label}")
        for kind, label in shown["recreated"][:LISTED]:
            self.stdout.write(f"  Make again {kind.lower()}: {label}")
        for kind, label, why in shown["kept"][:LISTED]:
            self.stdout.write(f"  Keep {kind.lower()}: {label} ({why})")
        for heading, rows in (("Conflict", shown["conflicts"]), ("Restore", shown["restored"])):
            for kind, label, fields in rows[:LISTED]:
                for name, old, current, restored, by in fields:
                    note = f" ({by})" if by else ""
                    self.stdout.write(
                        f"  {heading} {kind.lower()} {label}: {name} {old} → {current} → "
                        f"{restored}{note}"
                    )
