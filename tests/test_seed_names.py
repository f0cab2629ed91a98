"""Names and email addresses of the seeded data sets (contacts.seeding.names and rows)."""

import random
from collections import Counter
from statistics import median

import pytest

from contacts import demo
from contacts.seeding import names, rows
from contacts.validators import EmailAddressFormField, validate_email

COMPANY = demo.CompanyShape("Big Company", "big.example", (10, 10))


def some_people(count=5000, number=1):
    """`count` people of one company (COMPANY, its `number`), as rows.people makes them."""
    people_per_account = count // rows.company_size(COMPANY) + 1
    shape = demo.DataShape(
        companies=(COMPANY,), people_per_account=(people_per_account, people_per_account)
    )
    counts = rows.people_counts(shape, number, rows.company_size(COMPANY))
    return list(rows.people(shape, number, COMPANY, counts, 1))[:count]


@pytest.fixture(scope="module")
def people():
    return some_people()


def test_last_names_are_skewed_like_real_ones(people):
    last_names = Counter(last for _, _, last, *_ in people)
    shares = sorted((n / len(people) for n in last_names.values()), reverse=True)

    # Thousands of names; the most common about 1 % of people, the typical one a handful.
    assert len(last_names) > 1500
    assert 0.005 <= shares[0] <= 0.02
    assert shares[0] >= 20 * median(shares)


def test_first_names_are_skewed_like_real_ones(people):
    first_names = Counter(first for _, first, *_ in people)
    shares = sorted((n / len(people) for n in first_names.values()), reverse=True)

    assert len(first_names) > 1500
    assert 0.008 <= shares[0] <= 0.05
    assert shares[0] >= 20 * median(shares)


def test_names_come_from_many_languages(people):
    last_names = {last for _, _, last, *_ in people}

    # A common name of each of a few locales (romanised where Faker's are not Latin).
    assert {"Smith", "González", "Kowalski", "Andersson", "Yılmaz", "Sato", "Kim", "Smirnov"} <= (
        last_names
    )
    assert all(
        last.replace(" ", "").replace("-", "").replace("'", "").isalpha() for last in last_names
    )


def test_every_email_passes_the_form_and_is_unique_ignoring_case(people):
    field = EmailAddressFormField()
    emails = [email for _, _, _, email, *_ in people]

    assert [email for email in emails if field.clean(email) != email] == []
    assert len({email.lower() for email in emails}) == len(emails)


def test_emails_take_the_forms_people_use(people):
    local_parts = [email.split("@")[0] for _, _, _, email, *_ in people]

    def share(test):
        return sum(map(test, local_parts)) / len(local_parts)

    assert share(lambda local: "." in local and not any(c.isdigit() for c in local)) > 0.2
    assert share(lambda local: "_" in local) > 0.03
    assert share(lambda local: "+" in local) > 0.02
    assert share(lambda local: any(c.isdigit() for c in local)) > 0.1
    assert share(lambda local: not local.isascii()) > 0.01


def test_addresses_stay_unique_past_the_plain_limit():
    maker = names.EmailMaker("small.example", plain_limit=10)
    rng = random.Random(5)
    smith = names.Name("Smith", "smith", "smith")
    john = names.Name("John", "john", "john")

    emails = [maker.make(rng, number, john, smith) for number in range(1, 2001)]

    assert len({email.lower() for email in emails}) == 2000
    for email in emails:
        validate_email(email)


def test_people_are_the_same_on_every_run():
    assert some_people(300, number=7) == some_people(300, number=7)
    assert some_people(300, number=7) != some_people(300, number=8)


def test_search_terms_for_the_bench():
    common, rare = names.most_common_last_name(), names.rare_last_name()
    shares = names.name_shares("last")

    assert shares[common] == max(shares.values())
    assert 0.005 <= shares[common] <= 0.02
    assert shares[rare] <= 5 / 500_000
    assert len(rare) > 3


def test_common_names_are_names_people_have(people):
    first_names, last_names = names.common_names(10)
    seen_first = {first for _, first, *_ in people}
    seen_last = {last for _, _, last, *_ in people}

    assert len(first_names) == len(last_names) == 10
    assert set(first_names) <= seen_first
    assert set(last_names) <= seen_last
