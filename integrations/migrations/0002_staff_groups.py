"""The staff permission groups of SPEC §5: Viewer, Standard, Advanced, Global admin.

Each group holds the permissions of the one before it plus its own. Global admin holds every
permission there is when this runs (it is also what lets a non-superuser into the admin).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "accounts.view_account",
    "accounts.view_accounttype",
    "accounts.view_accountrole",
    "contacts.view_person",
    "contacts.view_membership",
    "contacts.view_contactchange",
    "contacts.view_task",
    "contacts.view_touchpoint",
]
STANDARD = [
    *VIEW,
    "contacts.add_person",
    "contacts.change_person",
    "contacts.add_membership",
    "contacts.change_membership",
    "contacts.add_task",
    "contacts.change_task",
    "contacts.delete_task",
    "contacts.add_touchpoint",
    "contacts.change_touchpoint",
    "contacts.delete_touchpoint",
    "contacts.download_segments",
]
ADVANCED = [
    *STANDARD,
    "integrations.run_integrations",
    "integrations.view_importjob",
    "integrations.add_importjob",
]
GROUPS = {"Viewer": VIEW, "Standard": STANDARD, "Advanced": ADVANCED}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(names):
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    for name, names in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions(names))
    global_admin, _ = Group.objects.get_or_create(name="Global admin")
    global_admin.permissions.set(Permission.objects.all())


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[*GROUPS, "Global admin"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0001_initial"),
        ("contacts", "0001_initial"),
        ("integrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
