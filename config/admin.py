from django.contrib import admin


class AdminSite(admin.AdminSite):
    site_header = "Unified Contacts administration"
    site_title = "Unified Contacts admin"
    index_title = "Data and settings"

    def has_permission(self, request):
        """Only Global admins (superusers or members of the group) use the Django admin."""
        from config.staff import is_global_admin

        return request.user.is_active and is_global_admin(request.user)
