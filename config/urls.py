from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from config.sign_in import SignInForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:list"), name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="staff/sign_in.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
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

# The error page names the request's id, which its log lines and error report carry too.
handler500 = "config.views.server_error"
