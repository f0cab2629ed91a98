from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "kind", "status", "staff_user", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["staff_user"]
    search_fields = ["file_name"]
    readonly_fields = ["kind", "file_name", "status", "staff_user", "created_at", "finished_at"]

    def has_add_permission(self, request):
        return False
