from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .models import Person


@require_GET
def person_detail(request, pk):
    person = get_object_or_404(Person, pk=pk)
    memberships = person.memberships.select_related("account__account_type", "role").order_by(
        "account__tree_id", "account__lft"
    )
    return render(
        request, "contacts/person_detail.html", {"person": person, "memberships": memberships}
    )
