"""The one rule for a person's email address, and the form field that applies it.

Internationalised addresses are real (RFC 6531 and 6532: UTF-8 letters before the @, and IDN
domains after it, as `ellen.müller@bücher.example`), and the demo writes them; Django's
`validate_email` allows only ASCII before the @, so an address the app stores and exports
would be refused on its way back in. `validate_email` here is Django's rule with UTF-8 letters
allowed in the part before the @ (the domain rule already allows IDN domains), and with what is
not an address refused everywhere: control characters, spaces and invisible characters (a
zero-width space, a byte-order mark), which Django lets through in quoted local parts and
non-ASCII domains, and which no mail system delivers to.

Person.email (so the admin and every ModelForm) and the forms' email fields run it; the
importer asks `is_valid_email`, the same rule as a yes or no, for every row of a file.
"""

import re
import unicodedata
from functools import lru_cache

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

__all__ = [
    "EmailAddressFormField",
    "EmailAddressInput",
    "EmailAddressValidator",
    "is_valid_email",
    "normalize_email",
    "validate_email",
]

# RFC 5322 atext, and RFC 6532's UTF8-non-ascii (which starts at U+0080; the C1 controls and
# no-break space below U+00A1 are refused, as the other invisible characters are, by
# _has_invisible_characters).
_ATEXT = r"-!#$%&'*+/=?^_`{}|~0-9A-Z\u00a1-\U0010ffff"
# RFC 5322 qtext and quoted-pair without the obsolete controls (obs-qtext, obs-qp) that
# Django still allows: SMTP (RFC 5321 §4.1.2) has no place for them.
_QTEXT = r" !#-\[\]-~\u00a1-\U0010ffff"
_QUOTED_PAIR = r"\\[ -~]"

# Unicode categories that are never part of an address: controls, format characters (but see
# _JOINERS), surrogates, private use, unassigned, and every kind of space or separator.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
# Zero-width non-joiner and joiner: format characters that some scripts (Persian, the Indic
# ones) need inside words, so inside names.
_JOINERS = frozenset("\u200c\u200d")


def _has_invisible_characters(value):
    """Whether a non-ASCII character of `value` is a control, a space or an invisible one.
    ASCII ones are judged by the regular expressions, so an ASCII address costs nothing here."""
    if value.isascii():
        return False
    return any(
        unicodedata.category(character) in _INVISIBLE_CATEGORIES and character not in _JOINERS
        for character in value
        if not character.isascii()
    )


class EmailAddressValidator(EmailValidator):
    """Django's EmailValidator with internationalised addresses allowed (RFC 6531, 6532) and
    control, space and invisible characters refused in every part. Still refused: no @ or no
    domain, two @ outside quotes, spaces outside quotes, leading, trailing or repeated dots,
    a domain Django refuses, and more than 320 characters (RFC 3696)."""

    message = "Enter a valid email address."
    user_regex = re.compile(
        rf"^[{_ATEXT}]+(\.[{_ATEXT}]+)*\Z"  # dot-atom
        rf'|^"([{_QTEXT}]|{_QUOTED_PAIR})*"\Z',  # quoted-string
        re.IGNORECASE,
    )

    def __call__(self, value):
        if isinstance(value, str) and _has_invisible_characters(value):
            raise ValidationError(self.message, code=self.code, params={"value": value})
        super().__call__(value)


validate_email = EmailAddressValidator()

# validate_email with a placeholder domain allowed outright: it judges the part before the @
# alone.
_validate_user_part = EmailAddressValidator(allowlist=["x"])


def _passes(validator, value):
    try:
        validator(value)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=4096)
def _domain_passes(domain):
    return _passes(validate_email, f"a@{domain}")


def is_valid_email(value):
    """Whether `value` passes validate_email, with the verdict on each domain remembered: a
    file has many addresses and few domains, and the domain check is half the cost (100,000
    addresses: about 0.75 s with validate_email alone, 0.3 s so). Only public API: the user
    part and the domain are each judged by validate_email, the length limit (RFC 3696) first,
    as validate_email does, since the two halves are shorter than the whole."""
    if not value or "@" not in value or len(value) > 320:
        return False
    user_part, domain_part = value.rsplit("@", 1)
    return _domain_passes(domain_part) and _passes(_validate_user_part, f"{user_part}@x")


def normalize_email(value):
    """An address as typed, stored as one form: without surrounding spaces, and in Unicode
    normalisation form C (RFC 6532 §3.1), so that `ü` typed as one character and as `u` with
    a combining diaeresis (as some systems write it) is one address, not two people."""
    return unicodedata.normalize("NFC", value.strip())


class EmailAddressInput(forms.TextInput):
    """A text box for an email address, not an <input type=email>: browsers refuse non-ASCII
    letters before the @ in those (Chromium does, before the form is sent), and this rule
    accepts them. Phones still show their email keyboard, and browsers still offer
    addresses."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "email", "autocomplete": "email", **(attrs or {})})


class EmailAddressFormField(forms.CharField):
    """A form's email address, judged by validate_email and normalised (normalize_email)."""

    widget = EmailAddressInput
    default_validators = [validate_email]
    default_error_messages = {"invalid": EmailAddressValidator.message}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(strip=True, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_email(value) if value else value


# What no spreadsheet can hold: the C0 control characters but tab and line ends. A name or
# title with one could be stored but never exported to XLSX.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def validate_no_control_characters(value):
    found = _CONTROL_CHARACTERS.search(value or "")
    if found:
        raise ValidationError(
            "This holds a control character (U+%(code)04X), which no spreadsheet can hold: "
            "remove it.",
            code="control_character",
            params={"code": ord(found.group())},
        )
