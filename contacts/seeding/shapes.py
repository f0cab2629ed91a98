"""The shapes of the seeded data sets: companies, levels, fan-out, people per account.

The shape is data, so one writer builds the demo set and SPEC §7's large and xlarge sets.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CompanyShape:
    name: str
    domain: str
    # How many children each account has at each level below the root (one entry per level).
    fan_out: tuple[int, ...]
    region_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataShape:
    companies: tuple[CompanyShape, ...]
    people_per_account: tuple[int, int] = (3, 8)  # a range
    contact_share: float = 0.6
    key_contact_share: float = 0.2
    # Share of people who also belong to a second account (in the same or another company).
    second_membership_share: float = 0.25
    tasks_per_account: tuple[int, int] = (0, 2)
    touchpoints_per_account: tuple[int, int] = (0, 3)
    seed: int = 20261126


DEMO = DataShape(
    companies=(
        CompanyShape(
            "Northwind Holdings",
            "northwind.example",
            (3, 3, 2),
            ("North America", "Europe", "Asia Pacific"),
        ),
        CompanyShape("Globex Industries", "globex.example", (2, 4), ("East", "West")),
        CompanyShape(
            "Initech Group", "initech.example", (3, 2), ("Central", "Coastal", "Mountain")
        ),
    ),
)


def _large_companies():
    """The benchmark set of SPEC §7: one company of 2,011 accounts over four levels and 363
    companies of 22 accounts over three: 9,997 accounts in all."""
    largest = CompanyShape(
        "Northwind Holdings",
        "northwind.example",
        (10, 20, 9),
        (
            "North America",
            "Europe",
            "Asia Pacific",
            "Latin America",
            "Middle East",
            "Africa",
            "Nordics",
            "Iberia",
            "Oceania",
            "Central Asia",
        ),
    )
    others = tuple(
        CompanyShape(f"Customer {number:03d}", f"customer{number:03d}.example", (3, 6))
        for number in range(1, 364)
    )
    return (largest, *others)


LARGE = DataShape(
    companies=_large_companies(),
    # About 50 people an account (500,000), a fifth of them at a second account (600,000
    # memberships), a third of the memberships contacts (200,000).
    people_per_account=(40, 60),
    contact_share=1 / 3,
    key_contact_share=0.1,
    second_membership_share=0.2,
    tasks_per_account=(0, 2),
    touchpoints_per_account=(0, 2),
)


def _xlarge_companies():
    """The set of SPEC §7's xlarge: one company of 20,011 accounts over five levels, ten of
    556 over four and 3,383 of 22 over three: 99,997 accounts in all."""
    largest = _large_companies()[0]
    largest = CompanyShape(largest.name, largest.domain, (10, 20, 9, 10), largest.region_names)
    enterprises = tuple(
        CompanyShape(f"Enterprise {number:02d}", f"enterprise{number:02d}.example", (5, 10, 10))
        for number in range(1, 11)
    )
    others = tuple(
        CompanyShape(f"Customer {number:04d}", f"customer{number:04d}.example", (3, 6))
        for number in range(1, 3384)
    )
    return (largest, *enterprises, *others)


# Ten times large, in the same proportions: 5,000,000 people, 6,000,000 memberships of which
# 2,000,000 contacts, 100,000 tasks and 100,000 touchpoints.
XLARGE = DataShape(
    companies=_xlarge_companies(),
    people_per_account=LARGE.people_per_account,
    contact_share=LARGE.contact_share,
    key_contact_share=LARGE.key_contact_share,
    second_membership_share=LARGE.second_membership_share,
    tasks_per_account=LARGE.tasks_per_account,
    touchpoints_per_account=LARGE.touchpoints_per_account,
)

SIZES = {"demo": DEMO, "large": LARGE, "xlarge": XLARGE}
