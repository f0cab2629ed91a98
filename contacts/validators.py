"""The one rule for a person's email address: Django's `validate_email`.

The model's EmailField (so the admin and every ModelForm) and the forms' EmailField run it as
their validator; the importer asks `is_valid_email`, which is the same rule as a yes or no.
Only its public API is used: validating 100,000 addresses takes about 0.8 s here, against
0.2 s for a copy that called EmailValidator's internals with a per-domain cache; an import of
that size spends far more on the database, and the internals can change in any release.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

__all__ = ["is_valid_email", "validate_email"]


def is_valid_email(value):
    """Whether `value` passes validate_email."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True
