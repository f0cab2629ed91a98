from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from config.staff import is_global_admin


class AdminSite(admin.AdminSite):
    site_header = "Unified Contacts administration"
    site_title = "Unified Contacts admin"
    index_title = "Data and settings"

    def has_permission(self, request):
        """Only Global admins (superusers or members of the group) use the Django admin."""
        return request.user.is_active and is_global_admin(request.user)

    @login_not_required
    def login(self, request, extra_context=None):
        """One sign-in page for the whole app. A signed-in Global admin goes on to where they
        were going; any other signed-in staff user is refused rather than asked to sign in."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect(next_url)
            raise PermissionDenied("The Django admin is for Global admins only.")
        return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))
