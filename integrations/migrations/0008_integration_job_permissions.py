"""SPEC §5: Advanced users manage integration jobs and run them; Global admins hold every
permission of the new models, setting their secrets included."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADVANCED = ["manage_integration_jobs", "view_integrationjob", "view_syncrun"]
MODELS = ["integrationjob", "syncrun"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("integrations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(
        content_type__app_label="integrations", content_type__model__in=MODELS
    )
    if advanced := Group.objects.filter(name="Advanced").first():
        advanced.permissions.add(*ours.filter(codename__in=ADVANCED))
    if global_admin := Group.objects.filter(name="Global admin").first():
        global_admin.permissions.add(*ours)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(
        name__in=["Advanced", "Global admin"]
    ):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="integrations", content_type__model__in=MODELS
            )
        )


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_integration_jobs")]

    operations = [migrations.RunPython(grant, revoke)]
