"""Merging duplicate people (issue 14): the duplicates list, "Merge with…" and its type-ahead,
the merge screen and the unmerge confirmation. Advanced users and Global admins only
(CAN_MERGE_PEOPLE); the work itself is contacts.merge's."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Account, AccountRole
from config import staff

from .. import merge as merging
from ..duplicates import Kind, candidates
from ..forms import is_an_id
from ..models import Membership, Person, PersonMerge, Task, Touchpoint
from .memberships import _suggestions

can_merge = permission_required(staff.CAN_MERGE_PEOPLE, raise_exception=True)


@require_GET
@can_merge
def duplicates(request):
    kind = request.GET.get("kind")
    if kind not in Kind.CHOICES:
        kind = Kind.EMAIL
    page = request.GET.get("page", "")
    page = int(page) if is_an_id(page) and 0 < int(page) < 10_000 else 1
    found, has_next = candidates(kind, page=page)
    return render(
        request,
        "contacts/duplicates.html",
        {
            "kind": kind,
            "kinds": Kind.CHOICES,
            "candidates": found,
            "page_number": page,
            "has_next": has_next,
        },
    )


@require_GET
@can_merge
def merge_with(request, pk):
    """ "Merge with…": find the other person with the type-ahead (no JS: a plain search)."""
    person = get_object_or_404(Person, pk=pk)
    q = " ".join(request.GET.get("q", "").split())[:200]
    people = [other for other in _suggestions(q) if other.pk != person.pk]
    return render(request, "contacts/merge_with.html", {"person": person, "q": q, "people": people})


@require_GET
@can_merge
def merge_suggestions(request, pk):
    person = get_object_or_404(Person, pk=pk)
    q = " ".join(request.GET.get("q", "").split())[:200]
    people = [other for other in _suggestions(q) if other.pk != person.pk]
    return render(
        request,
        "contacts/merge_with.html#suggestions",
        {"person": person, "q": q, "people": people},
    )


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, role):
        return role.name  # the account's type is in the field's label already


class MergeForm(forms.Form):
    """Which person's value each field takes, and the role at each account both are at."""

    def __init__(self, *args, survivor, other, shared, **kwargs):
        super().__init__(*args, **kwargs)
        self.survivor, self.other, self.shared = survivor, other, shared
        initial = merging.default_values(survivor, other)
        self.person_fields = []
        for name in merging.PERSON_FIELDS:
            kept, theirs = getattr(survivor, name), getattr(other, name)
            label = Person._meta.get_field(name).verbose_name.capitalize()
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=[("survivor", kept or "(blank)"), ("other", theirs or "(blank)")],
                widget=forms.RadioSelect,
                initial="survivor" if initial[name] == kept else "other",
                error_messages={
                    "invalid_choice": f"Choose {label.lower()} of one of the two people.",
                    "required": f"Choose whose {label.lower()} to keep.",
                },
            )
            self.person_fields.append(self[name])
        self.role_fields = []
        for account_pk, (kept_membership, their_membership) in shared.items():
            account = kept_membership.account
            default = kept_membership.role or their_membership.role
            self.fields[f"role_{account_pk}"] = RoleChoiceField(
                label=f"Role at {account.name}",
                queryset=AccountRole.objects.filter(account_type=account.account_type_id).order_by(
                    "name"
                ),
                required=False,
                empty_label="No role",
                initial=default.pk if default else None,
                error_messages={
                    "invalid_choice": (
                        f"Choose a role of {account.account_type.name} accounts for {account.name}."
                    )
                },
            )
            self.role_fields.append(self[f"role_{account_pk}"])

    def values(self):
        people = {"survivor": self.survivor, "other": self.other}
        return {
            name: getattr(people[self.cleaned_data[name]], name) for name in merging.PERSON_FIELDS
        }

    def roles(self):
        return {pk: self.cleaned_data[f"role_{pk}"] for pk in self.shared}


def _get_pair(pk, other_pk):
    """The two people of the merge screen, or (None, message) for one no longer there."""
    people = Person.objects.in_bulk([pk, other_pk])
    for person_pk in (pk, other_pk):
        if person_pk not in people:
            merge = PersonMerge.objects.filter(merged_person_pk=person_pk, unmerged_at=None)
            merge = merge.select_related("survivor").first()
            return None, (
                f"That person (#{person_pk}) no longer exists: they were merged into "
                f"{merge.survivor} on {merge.merged_at:%Y-%m-%d}."
                if merge
                else f"That person (#{person_pk}) no longer exists."
            )
    return (people[pk], people[other_pk]), None


def _what_moves(other):
    memberships = Membership.objects.filter(person=other)
    return {
        "memberships": memberships.count(),
        "tasks": Task.objects.filter(contacts__person=other).aggregate(
            n=Count("pk", distinct=True)
        )["n"],
        "touchpoints": Touchpoint.objects.filter(participants__person=other).aggregate(
            n=Count("pk", distinct=True)
        )["n"],
    }


@require_http_methods(["GET", "POST"])
@can_merge
def merge_screen(request, pk, other_pk):
    """The two people side by side: choose each field, the roles, confirm (person `pk`
    survives)."""
    if pk == other_pk:
        person = get_object_or_404(Person, pk=pk)
        messages.error(
            request,
            f"Choose two different people: {person.full_name} cannot be merged with themselves.",
        )
        return redirect("contacts:merge-with", pk=pk)
    pair, gone = _get_pair(pk, other_pk)
    if pair is None:
        messages.error(request, gone)
        return redirect("contacts:duplicates")
    survivor, other = pair
    shared = merging.shared_accounts(survivor, other)
    form = MergeForm(request.POST or None, survivor=survivor, other=other, shared=shared)
    if request.method == "POST" and form.is_valid():
        try:
            merge = merging.merge_people(
                survivor=survivor,
                merged=other,
                values=form.values(),
                roles=form.roles(),
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Merged {merge.merged_name} <{merge.merged_email}> into "
                f"{merge.survivor.full_name}. If this was a mistake, unmerge below.",
            )
            return redirect(merge.survivor)
    return render(
        request,
        "contacts/merge.html",
        {
            "survivor": survivor,
            "other": other,
            "form": form,
            "moves": _what_moves(other),
            "shared": shared,
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@can_merge
def unmerge(request, pk):
    """What an unmerge restores, or what blocks it; confirmed, it runs."""
    merge = get_object_or_404(
        PersonMerge.objects.select_related("survivor", "staff_user", "unmerged_by"), pk=pk
    )
    blockers = merging.unmerge_blockers(merge)
    if request.method == "POST" and request.POST.get("confirm") and not blockers:
        try:
            merged = merging.unmerge(merge, by=request.user)
        except ValidationError as error:
            blockers = error.params["blockers"]
        else:
            merge.survivor.refresh_from_db()  # the name it had before the merge
            messages.success(
                request,
                f"Unmerged {merged.full_name} <{merged.email}> from {merge.survivor.full_name}: "
                "both people are back as they were before the merge.",
            )
            return redirect(merged)
    restored = merge.snapshot.get("before", {})
    account_ids = {
        m["account_id"]
        for m in restored.get("memberships", [])
        if m["person_id"] != merge.survivor_id
    }
    accounts_back = Account.objects.filter(pk__in=account_ids).order_by("name")
    return render(
        request,
        "contacts/merge_unmerge.html",
        {
            "merge": merge,
            "blockers": blockers,
            "accounts_back": accounts_back,
            "aliases_removed": merge.aliases.order_by("email"),
        },
        status=409 if blockers and request.method == "POST" else 200,
    )
