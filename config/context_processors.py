from django.utils.functional import SimpleLazyObject

from config.staff import is_global_admin


def staff(request):
    # Lazy: most pages never ask, and the answer costs a query for non-superusers.
    return {"staff_is_global_admin": SimpleLazyObject(lambda: is_global_admin(request.user))}
