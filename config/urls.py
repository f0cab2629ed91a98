from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:list"), name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="staff/sign_in.html", redirect_authenticated_user=True
        ),
        name="sign-in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path("accounts/", include("accounts.urls")),
    path("", include("contacts.urls")),
    path("integrations/", include("integrations.urls")),
    path("admin/", admin.site.urls),
    path("health/", include("integrations.health")),
]
