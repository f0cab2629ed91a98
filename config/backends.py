from django.contrib.auth.backends import ModelBackend

from config.staff import is_global_admin


class StaffBackend(ModelBackend):
    """Django's model backend, where a Global admin holds every permission, as SPEC §5 says:
    also those of models added after the group was created."""

    def has_perm(self, user_obj, perm, obj=None):
        if user_obj.is_active and is_global_admin(user_obj):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        if user_obj.is_active and is_global_admin(user_obj):
            return True
        return super().has_module_perms(user_obj, app_label)
