from django.urls import path

from . import sync_views, undo_views, views

app_name = "integrations"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job-confirm"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/undo/", undo_views.job_undo, name="job-undo"),
    path("jobs/<int:pk>/errors/", views.job_errors, name="job-errors"),
    path("jobs/<int:pk>/mapping/", views.job_mapping, name="job-mapping"),
    path("jobs/<int:pk>/remap/", views.job_remap, name="job-remap"),
    path("jobs/<int:pk>/encoding/", views.job_encoding, name="job-encoding"),
    path("mappings/", views.mapping_list, name="mappings"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping"),
    path("mappings/<int:pk>/json/", views.mapping_download, name="mapping-json"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping-delete"),
    path("syncs/", sync_views.sync_list, name="syncs"),
    path("syncs/new/", sync_views.sync_new, name="sync-new"),
    path("syncs/schedule/", sync_views.sync_schedule, name="sync-schedule"),
    path("syncs/host-key/", sync_views.sync_host_key, name="sync-host-key"),
    path("syncs/<int:pk>/", sync_views.sync_detail, name="sync"),
    path("syncs/<int:pk>/edit/", sync_views.sync_edit, name="sync-edit"),
    path("syncs/<int:pk>/run/", sync_views.sync_run, name="sync-run"),
    path("syncs/<int:pk>/check/", sync_views.sync_check, name="sync-check"),
    path("syncs/<int:pk>/delete/", sync_views.sync_delete, name="sync-delete"),
]
