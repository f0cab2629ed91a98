"""SPEC §5: Advanced users and Global admins undo imports and merge people; Global admins hold
every permission of the new models."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADVANCED = {
    "integrations": ["undo_imports"],
    "contacts": ["merge_people", "view_personmerge", "view_keycontactalert", "view_emailalias"],
}
MODELS = {
    "integrations": ["importrecord"],
    "contacts": ["personmerge", "emailalias", "keycontactalert"],
}


def _permissions(apps, app_label, **filters):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label=app_label, **filters)


def grant(apps, schema_editor):
    for app_label in MODELS:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    advanced = Group.objects.filter(name="Advanced").first()
    global_admin = Group.objects.filter(name="Global admin").first()
    for app_label, models in MODELS.items():
        codenames = ADVANCED[app_label]
        if advanced:
            advanced.permissions.add(*_permissions(apps, app_label, codename__in=codenames))
        if global_admin:
            global_admin.permissions.add(
                *_permissions(apps, app_label, content_type__model__in=models),
                *_permissions(apps, app_label, codename__in=codenames),
            )


def revoke(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(
        name__in=["Advanced", "Global admin"]
    ):
        for app_label, models in MODELS.items():
            group.permissions.remove(
                *_permissions(apps, app_label, content_type__model__in=models),
                *_permissions(apps, app_label, codename__in=ADVANCED[app_label]),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0010_undo_records"),
        ("contacts", "0014_history_former_merges"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
