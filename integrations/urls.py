from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job-confirm"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/errors/", views.job_errors, name="job-errors"),
    path("jobs/<int:pk>/mapping/", views.job_mapping, name="job-mapping"),
    path("jobs/<int:pk>/remap/", views.job_remap, name="job-remap"),
    path("jobs/<int:pk>/encoding/", views.job_encoding, name="job-encoding"),
    path("mappings/", views.mapping_list, name="mappings"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping"),
    path("mappings/<int:pk>/json/", views.mapping_download, name="mapping-json"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping-delete"),
]
