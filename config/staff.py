"""Staff users (people who sign in to this app) and their permission groups (SPEC §5).

The groups and their permissions are created by a data migration
(integrations/migrations/0002_staff_groups.py: integrations is the one app that sees every
model's permissions). This module names them for views and templates.
"""

VIEWER = "Viewer"
STANDARD = "Standard"
ADVANCED = "Advanced"
GLOBAL_ADMIN = "Global admin"

GROUPS = (VIEWER, STANDARD, ADVANCED, GLOBAL_ADMIN)

# What a staff user may do, named for the product; views and templates check these.
CAN_EDIT_CONTACTS = "contacts.change_membership"
CAN_EDIT_PEOPLE = "contacts.change_person"
CAN_EDIT_TASKS = "contacts.change_task"
CAN_EDIT_TOUCHPOINTS = "contacts.change_touchpoint"
CAN_DOWNLOAD_SEGMENTS = "contacts.download_segments"  # and save them
CAN_RUN_INTEGRATIONS = "integrations.run_integrations"
CAN_MANAGE_INTEGRATION_JOBS = "integrations.manage_integration_jobs"  # and run them now
CAN_SET_INTEGRATION_SECRETS = "integrations.set_integration_secrets"  # Global admins only
CAN_UNDO_IMPORTS = "integrations.undo_imports"  # and redo them
CAN_MERGE_PEOPLE = "contacts.merge_people"  # and unmerge them


def is_global_admin(staff_user):
    """A superuser or a member of the Global admin group; remembered on the user object,
    so a request asks the database at most once."""
    if not staff_user.is_authenticated:
        return False
    if not hasattr(staff_user, "_is_global_admin"):
        staff_user._is_global_admin = (
            staff_user.is_superuser or staff_user.groups.filter(name=GLOBAL_ADMIN).exists()
        )
    return staff_user._is_global_admin


def display_name(staff_user):
    """How a staff user is named on pages, in history and in files: their full name, else
    their username."""
    return staff_user.get_full_name() or staff_user.get_username()
