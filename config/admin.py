from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django.urls import reverse

from config.staff import is_global_admin


class AdminSite(admin.AdminSite):
    site_header = "Unified Contacts administration"
    site_title = "Unified Contacts admin"
    index_title = "Data and settings"

    def has_permission(self, request):
        """Only Global admins (superusers or members of the group) use the Django admin."""
        return request.user.is_active and is_global_admin(request.user)

    def login(self, request, extra_context=None):
        """One sign-in page for the whole app; a signed-in staff user who is not a Global admin
        is refused rather than sent to sign in again."""
        if request.user.is_authenticated:
            raise PermissionDenied("The Django admin is for Global admins only.")
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))
