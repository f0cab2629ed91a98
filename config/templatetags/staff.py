from django import template

from config.staff import display_name

register = template.Library()


@register.filter
def staff_name(staff_user):
    """{{ job.staff_user|staff_name }}: see config.staff.display_name."""
    return display_name(staff_user)
