from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("people/", views.people_list, name="people"),
    path("people/download.csv", views.people_download, {"file_format": "csv"}, name="people-csv"),
    path(
        "people/download.xlsx", views.people_download, {"file_format": "xlsx"}, name="people-xlsx"
    ),
    path("people/segments/", views.segment_list, name="segments"),
    path("people/segments/new/", views.segment_save, name="segment-save"),
    path("people/segments/<int:pk>/", views.segment_open, name="segment"),
    path("people/segments/<int:pk>/rename/", views.segment_rename, name="segment-rename"),
    path("people/segments/<int:pk>/delete/", views.segment_delete, name="segment-delete"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("people/contacts/<int:pk>/edit/", views.edit_contact, name="edit-contact"),
    path("people/contacts/<int:pk>/remove/", views.remove_contact, name="remove-contact"),
    path("accounts/<int:account_pk>/add-contact/", views.add_contact, name="add-contact"),
    path(
        "accounts/<int:account_pk>/people-suggestions/",
        views.people_suggestions,
        name="people-suggestions",
    ),
    path("accounts/<int:account_pk>/tasks/new/", views.task_form, name="task-new"),
    path("accounts/<int:account_pk>/tasks/<int:pk>/edit/", views.task_form, name="task-edit"),
    path("accounts/<int:account_pk>/tasks/<int:pk>/status/", views.task_status, name="task-status"),
    path(
        "accounts/<int:account_pk>/touchpoints/new/", views.touchpoint_form, name="touchpoint-new"
    ),
    path(
        "accounts/<int:account_pk>/touchpoints/<int:pk>/edit/",
        views.touchpoint_form,
        name="touchpoint-edit",
    ),
]
