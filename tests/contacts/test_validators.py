"""The one email rule: is_valid_email says what validate_email says, for every kind of address."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.validators import is_valid_email

ADDRESSES = [
    "ada@customer.example",
    "Ada.Lovelace+crm@Customer.Example",
    "ada@localhost",
    "ada@[192.0.2.1]",
    "ada@[IPv6:2001:db8::1]",
    "ada@[2001:db8::1]",
    '"ada lovelace"@customer.example',
    '"ada@home"@customer.example',
    "ada@bücher.example",
    "ada@customer",
    "ada@-customer.example",
    "ada@customer..example",
    "ada..lovelace@customer.example",
    "ada lovelace@customer.example",
    "@customer.example",
    "ada@",
    "ada",
    "",
    "a@b.co",
    f"{'a' * 64}@{'b' * 63}.example",
    f"{'a' * 312}@b.co",  # 317 characters: within the limit
    f"{'a' * 316}@b.co",  # 321 characters: over it
    f"ada@{'b' * 64}.example",  # a label over 63 characters
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_is_valid_email_agrees_with_validate_email(address):
    try:
        validate_email(address)
    except ValidationError:
        expected = False
    else:
        expected = True

    assert is_valid_email(address) is expected


def test_is_valid_email_gives_both_verdicts():
    assert [is_valid_email(a) for a in ("ada@customer.example", "ada@customer")] == [True, False]
