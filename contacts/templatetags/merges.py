"""The merges into a person, for the person page's merges section
(templates/contacts/includes/person_merges.html), in one query."""

from django import template

from contacts.models import PersonMerge

register = template.Library()


@register.simple_tag
def merges_into(person):
    return list(
        PersonMerge.objects.filter(survivor=person).select_related("staff_user", "unmerged_by")
    )
