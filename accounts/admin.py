from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseModelFormSet
from django.http import HttpResponse
from django.utils.html import format_html
from mptt.admin import DraggableMPTTAdmin

from .models import (
    ALL_TREES,
    Account,
    AccountRole,
    AccountType,
    TypeLevels,
    check_type_levels,
    lock_trees,
)


class AccountRoleInline(admin.TabularInline):
    model = AccountRole
    extra = 1


# Here rather than on the model field, where a change of words would need a migration.
ORDER_HELP = (
    "Position of this level, top first (Corporate 1, Region 2, Site 3…): an account's type must "
    "come after its parent's. While every type has the same position (as at first, all 0), no "
    "order is defined and any account may sit below any other."
)


class AccountTypeListForm(forms.ModelForm):
    """A row of the list of types: its position is judged with the other rows'
    (AccountTypeListFormSet), not against their old positions."""

    def _post_clean(self):
        self.instance.order_checked_with_the_others = True
        super()._post_clean()


class AccountTypeListFormSet(BaseModelFormSet):
    """The list of types changes several positions at once, as it must to define an order where
    none was (every type at 0) or to swap two levels: the positions are judged together, as
    they will be saved (accounts.models.check_type_levels)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = {pk: (pk, name, order) for pk, name, order in AccountType.objects.levels_rows()}
        for form in self.forms:
            if form.instance.pk in rows:
                pk, name, _ = rows[form.instance.pk]
                rows[pk] = (pk, name, form.cleaned_data["order"])
        try:
            check_type_levels(TypeLevels(rows.values()))
        except ValidationError as error:
            raise ValidationError(error.message_dict["order"], code="type_order") from error


@admin.register(AccountType)
class AccountTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "role_names"]
    list_editable = ["order"]
    search_fields = ["name"]
    inlines = [AccountRoleInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "order":
            field.help_text = ORDER_HELP
        return field

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=AccountTypeListForm, **kwargs)

    def get_changelist_formset(self, request, **kwargs):
        return super().get_changelist_formset(request, formset=AccountTypeListFormSet, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="Roles")
    def role_names(self, account_type):
        return ", ".join(role.name for role in account_type.roles.all())


@admin.register(AccountRole)
class AccountRoleAdmin(admin.ModelAdmin):
    list_display = ["name", "account_type"]
    list_filter = ["account_type"]
    search_fields = ["name", "account_type__name"]
    autocomplete_fields = ["account_type"]
    list_select_related = ["account_type"]


@admin.register(Account)
class AccountAdmin(DraggableMPTTAdmin):
    # contacts.admin adds the memberships inline: accounts knows nothing of people.
    list_display = ["tree_actions", "indented_title", "external_id", "account_type"]
    list_display_links = ["indented_title"]
    list_filter = ["account_type"]
    list_select_related = ["account_type"]
    search_fields = ["name", "external_id"]
    autocomplete_fields = ["account_type", "parent"]
    readonly_fields = ["created_at", "updated_at"]

    class Media:
        js = ["js/admin-tree.js"]

    @admin.display(description="title")
    def indented_title(self, account):
        # django-mptt indents with a style attribute, which the Content-Security-Policy refuses;
        # admin-tree.js indents by this level instead.
        return format_html(
            '<div data-tree-indent="{}">{}</div>', account.level * self.mptt_level_indent, account
        )

    def delete_selected_tree(self, modeladmin, request, queryset):
        # django-mptt deletes one by one and renumbers the trees once at the end: the whole
        # action holds the lock, so no other write lands in between.
        with transaction.atomic():
            lock_trees(ALL_TREES)
            return super().delete_selected_tree(modeladmin, request, queryset)

    def _move_node(self, request):
        # The tree's drag and drop moves through the manager, not the change form: the same
        # rules as the form's (Account.clean) are asked here, before django-mptt moves it.
        with transaction.atomic():
            move = self._requested_move(request)
            if move is not None:
                try:
                    self.check_move(*move)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), level=messages.ERROR)
                    return HttpResponse("FAIL, invalid move.")
            return super()._move_node(request)

    def _requested_move(self, request):
        """(account, new parent) of a drag-and-drop request; None when it does not name them
        (django-mptt then answers it)."""
        position = request.POST.get("position")
        queryset = self.get_queryset(request)
        try:
            account = queryset.get(pk=request.POST.get("cut_item"))
            target = queryset.select_related("parent__account_type").get(
                pk=request.POST.get("pasted_on")
            )
        except (Account.DoesNotExist, TypeError, ValueError):
            return None
        if position == "last-child":
            return account, target
        if position in ("left", "right"):
            return account, target.parent
        return None

    def check_move(self, account, parent):
        """Raise ValidationError when `account` may not move below `parent` (None: a root)."""
        account.check_place(parent=parent, account_type=account.account_type)
