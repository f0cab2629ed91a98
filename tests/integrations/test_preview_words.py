"""The words of an import preview's badge and import button (issue 15): they say what confirming
would really do, for the choice to skip rows with errors ticked or not, with htmx and without
JavaScript; a file whose every row failed is not "Ready to import" and has no import button."""

import pytest

from integrations.models import ImportJob
from tests import html
from tests.integrations.conftest import snapshot, users_csv
from tests.integrations.test_views import upload

pytestmark = pytest.mark.django_db


def preview_job(*, new=0, updated=0, unchanged=0, failed=0, readds=0):
    """A job whose preview found these rows, as the check leaves it."""
    totals = {"new": new, "updated": updated, "unchanged": unchanged, "failed": failed}
    return ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="people.csv",
        status=ImportJob.Status.READY,
        new_rows=new,
        updated_rows=updated,
        unchanged_rows=unchanged,
        failed_rows=failed,
        summary={"phase": "preview", "totals": totals, "readd_count": readds},
    )


def preview(response, status=200):
    """(the badge, the note above the buttons or "", the buttons' words) of a job page."""
    page = html.page(response, status)
    (badge,) = html.elements(page, "span", class_="outcome")
    actions = html.element(page, "div", id="confirm-actions")
    notes = html.elements(actions, "p", class_="confirm-outcome")
    return (
        html.text(badge),
        html.text(notes[0]) if notes else "",
        [html.text(button) for button in html.elements(actions, "button")],
    )


def fragment(response):
    """(the note or "", the buttons' words) of the confirm-actions fragment htmx swaps in."""
    assert response.status_code == 200
    assert "<html" not in response.text
    nodes = html.parse(response)
    notes = html.elements(nodes, "p", class_="confirm-outcome")
    return (
        html.text(notes[0]) if notes else "",
        [html.text(button) for button in html.elements(nodes, "button")],
    )


ALL_OR_NOTHING = (
    "Nothing can be imported as the file is: it is imported all or nothing, and 3 rows have "
    "errors. Choose to skip them to import the others, or fix the file and upload it again."
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            {"new": 2, "updated": 1},
            ("Ready to import", "", ["Import 3 changed rows", "Cancel"]),
        ),
        (
            {"new": 1},
            ("Ready to import", "", ["Import 1 changed row", "Cancel"]),
        ),
        (
            {"unchanged": 4},
            (
                "Nothing will change",
                "Every row of the file matches what is here already: importing it changes nothing.",
                ["Import (nothing changes)", "Cancel"],
            ),
        ),
        (
            {"unchanged": 1, "readds": 1},
            ("Ready to import", "", ["Import", "Cancel"]),
        ),
        (
            {"new": 2, "updated": 1, "failed": 3},
            ("3 rows with errors", ALL_OR_NOTHING, ["Cancel this import"]),
        ),
        (
            {"failed": 1},
            (
                "Nothing to import",
                "The row has an error, so nothing can be imported. Fix it (the error file has "
                "it) and upload the file again.",
                ["Cancel this import"],
            ),
        ),
        (
            {"failed": 5},
            (
                "Nothing to import",
                "Every row has an error, so nothing can be imported. Fix them (the error file "
                "lists them) and upload the file again.",
                ["Cancel this import"],
            ),
        ),
    ],
)
def test_the_preview_says_what_confirming_does(advanced_client, rows, expected):
    job = preview_job(**rows)

    assert preview(advanced_client.get(job.get_absolute_url())) == expected


@pytest.mark.parametrize(
    ("rows", "button"),
    [
        ({"new": 2, "updated": 1, "failed": 3}, "Import 3 changed rows, skip 3 with errors"),
        ({"new": 1, "failed": 1}, "Import 1 changed row, skip 1 with errors"),
        ({"unchanged": 2, "failed": 3}, "Skip 3 with errors (nothing else changes)"),
        ({"unchanged": 2, "failed": 1, "readds": 1}, "Import, skip 1 with errors"),
    ],
)
def test_ticking_skip_names_the_rows_imported_and_skipped(advanced_client, rows, button):
    job = preview_job(**rows)
    confirm = f"/integrations/jobs/{job.pk}/confirm/"
    ticked = {"skip_errors": "on", "keep_removed": "on", "preview": "0", "show": "1"}
    htmx = {"HX-Request": "true", "HX-Target": "confirm-actions"}

    # With htmx: the change of the box draws the actions again, nothing else.
    swapped = advanced_client.post(confirm, ticked, headers=htmx)
    # Without JavaScript: "Show what these choices import" draws the whole page for them.
    shown = advanced_client.post(confirm, ticked)
    unticked = advanced_client.post(confirm, {**ticked, "skip_errors": ""}, headers=htmx)

    assert fragment(swapped) == ("", [button, "Cancel"])
    assert preview(shown)[1:] == ("", [button, "Cancel"])
    assert fragment(unticked)[1] == ["Cancel this import"]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY  # shown, not confirmed


def test_the_button_that_names_skipping_skips_even_if_the_box_was_unticked_since(
    advanced_client, tree
):
    """Without JavaScript the words stay as drawn: the button carries the choice they name."""
    upload(
        advanced_client,
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,,,,,", "NOPE,alan@example.com,Alan,Turing,,,,,"
        ),
    )
    job = ImportJob.objects.get()
    confirm = f"/integrations/jobs/{job.pk}/confirm/"
    page = html.page(
        advanced_client.post(confirm, {"skip_errors": "on", "keep_removed": "on", "show": "1"})
    )
    (button,) = html.elements(page, "button", class_="button-primary")
    assert html.text(button) == "Import 1 changed row, skip 1 with errors"
    assert (html.attribute(button, "name"), html.attribute(button, "value")) == (
        "skip_errors",
        "on",
    )

    # The box unticked again, then that button pressed: the browser sends both.
    done = advanced_client.post(
        confirm, {"keep_removed": "on", "preview": "0", "skip_errors": "on"}
    )

    job.refresh_from_db()
    assert done.status_code == 302
    assert (job.status, job.new_rows, job.failed_rows) == (ImportJob.Status.SUCCEEDED, 1, 1)


def test_a_file_whose_every_row_failed_offers_no_choice_and_imports_nothing(advanced_client, tree):
    upload(advanced_client, users_csv("NOPE,alan@example.com,Alan,Turing,,,,,"))
    job = ImportJob.objects.get()
    before = snapshot()

    page = html.page(advanced_client.get(job.get_absolute_url()))
    refused = advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on", "preview": "0"}
    )

    form = html.element(page, "form", class_="confirm-form")
    assert html.elements(form, "input", type="checkbox") == []
    assert html.elements(form, "button", name="show") == []
    assert refused.status_code == 400
    assert preview(refused, 400)[0] == "Nothing to import"
    assert snapshot() == before
    history = html.page(advanced_client.get("/integrations/"))
    assert [html.text(badge) for badge in html.elements(history, "span", class_="outcome")] == [
        "Nothing to import"
    ]


def test_a_preview_without_errors_asks_no_choice_and_shows_no_show_button(advanced_client):
    job = preview_job(new=1)

    form = html.element(
        html.page(advanced_client.get(job.get_absolute_url())), "form", class_="confirm-form"
    )

    assert html.elements(form, "button", name="show") == []
    assert html.elements(form, "input", type="checkbox") == []


def test_a_finished_job_keeps_its_status_badge(advanced_client):
    job = preview_job(new=1)
    job.status = ImportJob.Status.SUCCEEDED
    job.save()

    page = html.page(advanced_client.get(job.get_absolute_url()))

    assert [html.text(badge) for badge in html.elements(page, "span", class_="outcome")] == [
        "Finished"
    ]


def test_a_choice_that_does_not_change_the_button_has_no_show_button(advanced_client):
    """Keeping removed contacts removed or not leaves the button's words as they are."""
    job = preview_job(new=1, readds=1)

    form = html.element(
        html.page(advanced_client.get(job.get_absolute_url())), "form", class_="confirm-form"
    )

    assert [
        html.attribute(box, "name") for box in html.elements(form, "input", type="checkbox")
    ] == ["keep_removed"]
    assert html.elements(form, "button", name="show") == []
