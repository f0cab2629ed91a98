from contextlib import suppress

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import router, transaction
from mptt.forms import MPTTAdminForm

from accounts.admin import AccountAdmin
from accounts.models import Account

from . import privacy, services
from .models import (
    LIST_ORDER,
    ContactChange,
    DownloadRecord,
    EmailAlias,
    ForgottenPerson,
    Membership,
    Person,
    PersonMerge,
    Segment,
    Task,
    Touchpoint,
)
from .services import record_contact_changes, tracked_values
from .views.privacy import CAN_FORGET_PEOPLE


class ContactHistoryAdminMixin:
    """Record every contact, key-contact and role change made in the admin (source "admin")."""

    @staticmethod
    def _history_before(membership):
        if membership._state.adding:
            return None
        return tracked_values(Membership.objects.select_related("role").get(pk=membership.pk))

    @staticmethod
    def _record_history(request, membership, before):
        record_contact_changes(
            membership=membership, before=before, source=ContactChange.Source.ADMIN, by=request.user
        )
        # A key contact marked former here raises "key contact left"; a new one closes it.
        services.after_status_change(
            memberships=[membership],
            before={membership.pk: before} if before else {},
            by=request.user,
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for membership in formset.save(commit=False):
            before = self._history_before(membership)
            membership.save()
            self._record_history(request, membership, before)
        for membership in formset.deleted_objects:
            membership.delete()
        formset.save_m2m()


class MembershipAdminForm(forms.ModelForm):
    """The membership's own rules are the model's (role of the account's type, key contact is
    a contact, one per person and account); moving it to another account also asks the
    services whether its tasks and touchpoints allow it."""

    def clean(self):
        cleaned_data = super().clean()
        if "status" in cleaned_data and not self.has_error("start_date"):
            try:
                services.check_status_and_dates(
                    status=cleaned_data["status"],
                    start_date=cleaned_data.get("start_date"),
                    end_date=cleaned_data.get("end_date"),
                )
            except ValidationError as error:
                self.add_error(None, error)
        account = cleaned_data.get("account")
        if self.instance.pk and account is not None and account.pk != self.instance.account_id:
            try:
                services.check_membership_account(membership=self.instance, account=account)
            except ValidationError as error:
                self.add_error("account", error)
        return cleaned_data


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    extra = 0
    autocomplete_fields = ["person", "account", "role"]
    fields = [
        "person",
        "account",
        "role",
        "is_contact",
        "is_key_contact",
        "status",
        "start_date",
        "end_date",
    ]
    ordering = LIST_ORDER

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("person", "account", "role__account_type")
        )


# accounts.admin knows nothing of people: this app, which loads after it, registers the account
# admin again with the account's memberships inline.
admin.site.unregister(Account)


class AccountAdminForm(MPTTAdminForm):
    """Moving an account to another company must not leave tasks or touchpoints linked across
    two hierarchies (services.check_account_move); the levels are the model's (Account.clean).
    A new account type is checked against the roles of its memberships by the inline below,
    whose rows validate against the account as changed."""

    def clean(self):
        cleaned_data = super().clean()
        # Before _post_clean, the instance still holds the stored parent.
        if self.instance.pk and "parent" in cleaned_data:
            parent = cleaned_data["parent"]
            if getattr(parent, "pk", None) != self.instance.parent_id:
                try:
                    services.check_account_move(account=self.instance, parent=parent)
                except ValidationError as error:
                    self.add_error("parent", error)
        return cleaned_data


@admin.register(Account)
class AccountWithMembershipsAdmin(ContactHistoryAdminMixin, AccountAdmin):
    form = AccountAdminForm
    inlines = [*AccountAdmin.inlines, MembershipInline]

    def check_move(self, account, parent):
        super().check_move(account, parent)
        services.check_account_move(account=account, parent=parent)


@admin.register(Person)
class PersonAdmin(ContactHistoryAdminMixin, admin.ModelAdmin):
    """Deleting a person here (one, or "Delete selected") is forgetting them, as the app's
    "Forget this person" does (privacy.forget_person): a plain delete would leave their
    email and name in the history, this admin's log of the deletion included."""

    list_display = ["email", "first_name", "last_name", "title", "phone"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(CAN_FORGET_PEOPLE)

    def delete_model(self, request, obj):
        self._forget(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(Person)):
            for person in queryset:
                self._forget(request, person)

    @staticmethod
    def _forget(request, person):
        # Forgotten by someone else since the confirmation page was drawn: nothing to do.
        with suppress(Person.DoesNotExist):
            privacy.forget_person(person=person, by=request.user)


@admin.register(Membership)
class MembershipAdmin(ContactHistoryAdminMixin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = [
        "person",
        "account",
        "role",
        "is_contact",
        "is_key_contact",
        "status",
        "start_date",
        "end_date",
    ]
    list_filter = ["is_contact", "is_key_contact", "status", "account__account_type"]
    list_select_related = ["person", "account", "role__account_type"]
    search_fields = [
        "person__email",
        "person__first_name",
        "person__last_name",
        "account__name",
        "account__external_id",
    ]
    autocomplete_fields = ["person", "account", "role"]
    ordering = LIST_ORDER

    def save_model(self, request, obj, form, change):
        before = self._history_before(obj)
        super().save_model(request, obj, form, change)
        self._record_history(request, obj, before)


@admin.register(ContactChange)
class ContactChangeAdmin(admin.ModelAdmin):
    list_display = [
        "person",
        "account",
        "field",
        "old_value",
        "new_value",
        "source",
        "staff_user",
        "changed_at",
    ]
    list_filter = ["field", "source"]
    list_select_related = ["person", "account", "staff_user"]
    search_fields = ["person__email", "account__name"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LinkedContactsAdminForm(forms.ModelForm):
    """A task's contacts or a touchpoint's participants: what the app's forms allow
    (services.check_linked_contacts), not every membership the autocomplete finds."""

    contacts_field = "contacts"

    def clean(self):
        cleaned_data = super().clean()
        account = cleaned_data.get("account")
        linked = cleaned_data.get(self.contacts_field)
        if account is not None and linked is not None:
            already_linked = (
                getattr(self.instance, self.contacts_field).values_list("pk", flat=True)
                if self.instance.pk
                else ()
            )
            try:
                services.check_linked_contacts(
                    account=account, memberships=linked, already_linked=already_linked
                )
            except ValidationError as error:
                self.add_error(self.contacts_field, error)
        return cleaned_data


class TaskAdminForm(LinkedContactsAdminForm):
    contacts_field = "contacts"


class TouchpointAdminForm(LinkedContactsAdminForm):
    contacts_field = "participants"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    list_display = ["title", "account", "due_date", "status", "owner"]
    list_filter = ["status"]
    list_select_related = ["account", "owner"]
    search_fields = ["title", "account__name"]
    autocomplete_fields = ["account", "owner", "contacts"]


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    form = TouchpointAdminForm
    list_display = ["subject", "kind", "account", "happened_at", "author"]
    list_filter = ["kind"]
    list_select_related = ["account", "author"]
    search_fields = ["subject", "account__name"]
    autocomplete_fields = ["account", "author", "participants"]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "updated_at"]
    list_filter = ["shared"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]


# Privacy records (contacts/privacy.py): read-only, as an audit must be; Global admins only, as
# the whole admin is.


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DownloadRecord)
class DownloadRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "downloaded_at",
        "who",
        "kind",
        "channel",
        "filters",
        "file_format",
        "row_count",
        "complete",
    ]
    list_filter = ["kind", "channel", "complete"]
    search_fields = ["staff_name", "filters"]
    date_hierarchy = "downloaded_at"


@admin.register(ForgottenPerson)
class ForgottenPersonAdmin(ReadOnlyAdmin):
    list_display = ["person_pk", "forgotten_at", "staff_name", "removed"]
    search_fields = ["=person_pk", "staff_name"]
    date_hierarchy = "forgotten_at"


# Merges (contacts/merge.py): read-only here. A merge's snapshot is what its unmerge puts
# back; editing either in the admin would make the unmerge put back something else. Merging
# and unmerging are the app's pages.


@admin.register(PersonMerge)
class PersonMergeAdmin(ReadOnlyAdmin):
    list_display = [
        "merged_at",
        "merged_name",
        "merged_email",
        "merged_person_pk",
        "survivor",
        "staff_user",
        "unmerged_at",
    ]
    list_select_related = ["survivor", "staff_user"]
    search_fields = ["merged_name", "merged_email", "=merged_person_pk", "survivor__email"]
    date_hierarchy = "merged_at"
    exclude = ["snapshot"]
    readonly_fields = ["snapshot_summary"]

    @admin.display(description="What the merge changed")
    def snapshot_summary(self, merge):
        before = merge.snapshot.get("before", {})
        # In a fixed order: PostgreSQL's jsonb keeps its keys in an order of its own.
        order = ["people", "memberships", "task_links", "touchpoint_links", "contact_changes"]
        names = sorted(
            before,
            key=lambda name: (name not in order, order.index(name) if name in order else 0, name),
        )
        return ", ".join(
            f"{name.replace('_', ' ')}: {len(before[name])}" for name in names if before[name]
        )


@admin.register(EmailAlias)
class EmailAliasAdmin(admin.ModelAdmin):
    """Aliases are made by merges and removed by unmerges; the admin lists and searches them,
    and may remove one (an address that should create a new person again)."""

    list_display = ["email", "person", "merge", "created_at", "last_used_at"]
    list_select_related = ["person", "merge__survivor"]
    search_fields = ["email", "person__email", "person__last_name"]
    readonly_fields = ["email", "person", "merge", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
