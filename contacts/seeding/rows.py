"""The rows of a seeded data set, as plain tuples with their ids, one company at a time.

No database here: contacts.demo writes these rows through the ORM (the demo set, on any
database) and copy_load.py through PostgreSQL's COPY (the big sets). Ids are numbered from the
`first_*` ids the caller passes; the ORM writer maps them to the ids the database gives.

Each company draws from random generators of its own, seeded by the shape's seed, the
company's number and what is drawn (people counts, people, memberships, tasks), so a phase
that writes one table for every company draws exactly what the phase before it drew for the
same company: the people phase and the memberships phase agree on who is where without
holding anything in memory between them.
"""

import random
from array import array
from dataclasses import dataclass
from datetime import timedelta

from .names import EmailMaker, pick_name

TITLES = (
    "VP Operations",
    "IT Manager",
    "Head of Procurement",
    "Facilities Lead",
    "CFO",
    "Customer Success Lead",
    "Office Manager",
    "Data Analyst",
    "COO",
    "Engineering Manager",
    "",
)
TASK_TITLES = (
    "Quarterly business review",
    "Renewal call prep",
    "Send onboarding pack",
    "Follow up on support escalation",
    "Schedule training session",
    "Confirm billing contact",
)
TOUCHPOINT_SUBJECTS = (
    "Kick-off meeting",
    "Check-in call",
    "Product roadmap update",
    "Renewal discussion",
    "Training feedback",
    "Executive briefing",
)
TOUCHPOINT_KINDS = ("call", "email", "meeting", "note")


@dataclass(frozen=True)
class AccountRow:
    id: int
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int
    external_id: str
    name: str


def company_size(company):
    """How many accounts the company's tree has."""
    size = 1
    for fan_out in reversed(company.fan_out):
        size = 1 + fan_out * size
    return size


def company_accounts(number, company, first_id, type_names):
    """The accounts of company `number`, in the tree's preorder (so ids and lft go up
    together), with their tree columns (tree_id, lft, rght, level) computed from the shape,
    as django-mptt would number them: the tree id is the company's number."""
    # Accounts in a subtree whose root is at each level.
    sizes = [1] * (len(company.fan_out) + 1)
    for depth in range(len(company.fan_out) - 1, -1, -1):
        sizes[depth] = 1 + company.fan_out[depth] * sizes[depth + 1]
    code = "".join(word[0] for word in company.name.split()).upper()
    next_id = first_id

    def subtree(parent, depth, index, lft):
        nonlocal next_id
        if parent is None:
            external_id, name = f"{code}-{number:03d}", company.name
        else:
            external_id = f"{parent.external_id}-{index}"
            name = _account_name(company, type_names[depth], parent.name, depth, index)
        row = AccountRow(
            id=next_id,
            parent_id=parent.id if parent else None,
            tree_id=number,
            lft=lft,
            rght=lft + 2 * sizes[depth] - 1,
            level=depth,
            external_id=external_id,
            name=name,
        )
        next_id += 1
        yield row
        if depth < len(company.fan_out):
            child_lft = lft + 1
            for child_index in range(1, company.fan_out[depth] + 1):
                yield from subtree(row, depth + 1, child_index, child_lft)
                child_lft += 2 * sizes[depth + 1]

    yield from subtree(None, 0, 0, 1)


def _account_name(company, type_name, parent_name, depth, index):
    if depth == 1 and index <= len(company.region_names):
        return f"{company.name.split()[0]} {company.region_names[index - 1]}"
    if type_name == "Site":
        return f"{parent_name} Site {index}"
    return f"{parent_name} {type_name} {index}"


def account_depths(company):
    """The level of each account of the company, in preorder (as company_accounts)."""
    depths = bytearray()

    def walk(depth):
        depths.append(depth)
        if depth < len(company.fan_out):
            for _ in range(company.fan_out[depth]):
                walk(depth + 1)

    walk(0)
    return depths


def _rng(shape, number, what):
    return random.Random(f"{shape.seed}:{number}:{what}")


def people_counts(shape, number, accounts):
    """How many people work at each of the company's `accounts` accounts, in preorder."""
    rng = _rng(shape, number, "counts")
    return [rng.randint(*shape.people_per_account) for _ in range(accounts)]


def people(shape, number, company, counts, first_id):
    """(id, first name, last name, email, title, phone) of the company's people, account by
    account in preorder, `counts` of each."""
    rng = _rng(shape, number, "people")
    random_ = rng.random
    emails = EmailMaker(company.domain)
    titles = len(TITLES)
    person_id = first_id
    for local_number in range(1, sum(counts) + 1):
        first, last = pick_name(rng)
        yield (
            person_id,
            first.shown,
            last.shown,
            emails.make(rng, local_number, first, last),
            TITLES[int(random_() * titles)],
            f"+1 555 {100 + int(random_() * 900)} {1000 + int(random_() * 9000)}",
        )
        person_id += 1


class CompanyMemberships:
    """The memberships of one company's people: each at the account they were counted at,
    some also at a second account (mostly in the same company, now and then at any account
    written so far). `contacts` collects the ids of the contacts at the company's own
    accounts, which its tasks and touchpoints link to."""

    def __init__(self, shape, number, *, first_account_id, depths, counts, first_person_id):
        self.shape = shape
        self.number = number
        self.first_account_id = first_account_id
        self.depths = depths
        self.counts = counts
        self.first_person_id = first_person_id
        self.contacts = array("q")
        self.key_contacts = 0

    def rows(self, first_id, *, account_depth, accounts_so_far, roles_by_depth):
        """(id, person id, account id, role id or None, is contact, is key contact).

        `account_depth(account_id)` is the level of any account written so far (ids up to
        `accounts_so_far`), `roles_by_depth` the role ids offered at each level."""
        shape = self.shape
        rng = _rng(shape, self.number, "memberships")
        random_ = rng.random
        contact_share, key_share = shape.contact_share, shape.key_contact_share
        second_share = shape.second_membership_share
        company_accounts = len(self.depths)
        last_company_account = self.first_account_id + company_accounts - 1
        membership_id = first_id
        person_id = self.first_person_id

        def membership(account_id, depth):
            nonlocal membership_id
            roles = roles_by_depth[depth]
            role = roles[int(random_() * len(roles))] if roles and random_() < 0.85 else None
            is_contact = random_() < contact_share
            is_key = is_contact and random_() < key_share
            if is_contact and account_id >= self.first_account_id:
                self.contacts.append(membership_id)
            self.key_contacts += is_key
            row = (membership_id, person_id, account_id, role, is_contact, is_key)
            membership_id += 1
            return row

        for index, count in enumerate(self.counts):
            account_id = self.first_account_id + index
            depth = self.depths[index]
            for _ in range(count):
                yield membership(account_id, depth)
                if random_() < second_share:
                    if random_() < 0.85:
                        other = self.first_account_id + int(random_() * company_accounts)
                    else:
                        other = 1 + int(random_() * accounts_so_far)
                    if other != account_id:
                        in_company = (
                            other <= last_company_account and other >= self.first_account_id
                        )
                        other_depth = (
                            self.depths[other - self.first_account_id]
                            if in_company
                            else account_depth(other)
                        )
                        yield membership(other, other_depth)
                person_id += 1


@dataclass
class Activity:
    """Tasks and touchpoints of one company with their links to contacts, as rows:
    tasks (id, account id, title, due date, status, owner id), task_links (id, task id,
    membership id), touchpoints (id, account id, kind, happened at, subject, author id),
    participants (id, touchpoint id, membership id)."""

    tasks: list
    task_links: list
    touchpoints: list
    participants: list


def activity(
    shape, number, *, first_account_id, accounts, contacts, staff_ids, first_ids, today, now
):
    """The company's tasks and touchpoints, linked to its contacts (`contacts`, membership
    ids). `first_ids`: the first id of each of Activity's four tables, in its order."""
    rng = _rng(shape, number, "activity")
    randint, random_ = rng.randint, rng.random
    task_id, task_link_id, touchpoint_id, participant_id = first_ids
    result = Activity([], [], [], [])
    for account_id in range(first_account_id, first_account_id + accounts):
        for _ in range(randint(*shape.tasks_per_account)):
            result.tasks.append(
                (
                    task_id,
                    account_id,
                    TASK_TITLES[int(random_() * len(TASK_TITLES))],
                    today + timedelta(days=randint(-10, 45)),
                    "done" if random_() < 0.3 else "open",
                    staff_ids[int(random_() * len(staff_ids))],
                )
            )
            for membership_id in _sample(rng, contacts, 2):
                result.task_links.append((task_link_id, task_id, membership_id))
                task_link_id += 1
            task_id += 1
        for _ in range(randint(*shape.touchpoints_per_account)):
            result.touchpoints.append(
                (
                    touchpoint_id,
                    account_id,
                    TOUCHPOINT_KINDS[int(random_() * len(TOUCHPOINT_KINDS))],
                    now - timedelta(days=randint(1, 120), hours=randint(0, 8)),
                    TOUCHPOINT_SUBJECTS[int(random_() * len(TOUCHPOINT_SUBJECTS))],
                    staff_ids[int(random_() * len(staff_ids))],
                )
            )
            for membership_id in _sample(rng, contacts, 3):
                result.participants.append((participant_id, touchpoint_id, membership_id))
                participant_id += 1
            touchpoint_id += 1
    return result


def _sample(rng, population, most):
    if not population:
        return []
    return rng.sample(population, rng.randint(1, min(most, len(population))))
