"""URLs of contacts: the people pages (/people/…) and the pages about people of one account,
which live under /accounts/<id>/ beside the account's own pages (accounts/urls.py)."""

from django.urls import path

from .views import bulk, inline, memberships, merge, people, privacy, segments, tasks, widget

app_name = "contacts"
urlpatterns = [
    path("people/", people.people_list, name="people"),
    path("people/download.csv", people.people_download, {"file_format": "csv"}, name="people-csv"),
    path(
        "people/download.xlsx", people.people_download, {"file_format": "xlsx"}, name="people-xlsx"
    ),
    path("people/downloads/", privacy.download_list, name="downloads"),
    path("people/segments/", segments.segment_list, name="segments"),
    path("people/segments/new/", segments.segment_save, name="segment-save"),
    path("people/segments/<int:pk>/", segments.segment_open, name="segment"),
    path("people/segments/<int:pk>/rename/", segments.segment_rename, name="segment-rename"),
    path("people/segments/<int:pk>/delete/", segments.segment_delete, name="segment-delete"),
    path("people/duplicates/", merge.duplicates, name="duplicates"),
    path("people/merges/<int:pk>/unmerge/", merge.unmerge, name="unmerge"),
    path("people/<int:pk>/merge/", merge.merge_with, name="merge-with"),
    path("people/<int:pk>/merge/suggestions/", merge.merge_suggestions, name="merge-suggestions"),
    path("people/<int:pk>/merge/<int:other_pk>/", merge.merge_screen, name="merge"),
    path("people/<int:pk>/", people.person_detail, name="person"),
    path("people/<int:pk>/edit/", people.person_edit, name="person-edit"),
    path("people/<int:pk>/forget/", privacy.person_forget, name="person-forget"),
    path("people/contacts/<int:pk>/edit/", memberships.edit_contact, name="edit-contact"),
    path("people/contacts/<int:pk>/remove/", memberships.remove_contact, name="remove-contact"),
    # Under an account: /accounts/<id>/add-contact/, people-suggestions/, tasks/, touchpoints/.
    path("accounts/<int:account_pk>/add-contact/", memberships.add_contact, name="add-contact"),
    path(
        "accounts/<int:account_pk>/people-suggestions/",
        memberships.people_suggestions,
        name="people-suggestions",
    ),
    path("accounts/<int:account_pk>/tasks/new/", tasks.task_form, name="task-new"),
    path("accounts/<int:account_pk>/tasks/<int:pk>/edit/", tasks.task_form, name="task-edit"),
    path("accounts/<int:account_pk>/tasks/<int:pk>/status/", tasks.task_status, name="task-status"),
    path(
        "accounts/<int:account_pk>/touchpoints/new/", tasks.touchpoint_form, name="touchpoint-new"
    ),
    path(
        "accounts/<int:account_pk>/touchpoints/<int:pk>/edit/",
        tasks.touchpoint_form,
        name="touchpoint-edit",
    ),
    # widget (issue 15): the Contacts widget's list as a file, what its filters select.
    path(
        "accounts/<int:account_pk>/contacts.csv",
        widget.widget_download,
        {"file_format": "csv"},
        name="widget-csv",
    ),
    path(
        "accounts/<int:account_pk>/contacts.xlsx",
        widget.widget_download,
        {"file_format": "xlsx"},
        name="widget-xlsx",
    ),
    # Issue 15, bulk actions and inline edits of the Contacts widget's rows (contacts.bulk).
    path("accounts/<int:account_pk>/contacts/bulk/", bulk.bulk_action, name="bulk-action"),
    path("people/contacts/<int:pk>/row/", inline.contact_row, name="contact-row"),
    path("people/contacts/<int:pk>/inline-edit/", inline.inline_edit, name="inline-edit"),
    # people (issue 15): the type-ahead of the task and touchpoint forms' contact picker.
    path(
        "accounts/<int:account_pk>/contact-suggestions/",
        tasks.contact_suggestions,
        name="contact-suggestions",
    ),
]
