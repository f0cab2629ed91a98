from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin.AdminSite"

    def ready(self):
        super().ready()
        # Of django-axes' three admin pages, Access attempts is the one in use (delete a locked
        # username's or address's attempts to unlock it); the sign-in logs are switched off
        # (AXES_DISABLE_ACCESS_LOG, no failure log) and would only ever be empty.
        from axes.models import AccessFailureLog, AccessLog

        for model in (AccessLog, AccessFailureLog):
            self.module.site.unregister(model)
