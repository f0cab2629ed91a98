"""Template helpers of the Contacts widget's bulk actions and inline edits (contacts.bulk)."""

from django import template

from contacts import bulk

register = template.Library()


@register.filter
def selection_value(membership):
    """What a row's checkbox sends for a bulk action: its id and the state it was drawn in."""
    return bulk.selection_value(membership)


@register.filter
def row_stamp(membership):
    return bulk.row_stamp(membership)


@register.simple_tag
def bulk_as_of():
    """The moment the list was drawn: "all N matching" leaves out rows changed after it."""
    return bulk.now_stamp()


@register.simple_tag
def bulk_actions(can_edit_tasks):
    """The bulk bar's actions: adding to a task needs the right to edit tasks."""
    return [
        (value, label)
        for value, label in bulk.ACTIONS.items()
        if value != bulk.ADD_TASK or can_edit_tasks
    ]


@register.filter
def more_than(count, shown):
    """How many of `count` rows are past the `shown` listed (0: none)."""
    return max(count - shown, 0)
