"""Test data factories. Every value is a sequence or fixed, never random, so no generated name
can happen to match a test's search; the random generator is seeded all the same, for any
fuzzy attribute added later."""

import factory
import factory.random
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person, Task, Touchpoint

factory.random.reseed_random("unified-contacts")


class AccountTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountType
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Level {n}")
    order = factory.Sequence(lambda n: n)


class AccountRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountRole

    account_type = factory.SubFactory(AccountTypeFactory)
    name = factory.Sequence(lambda n: f"Role {n}")


class AccountFactory(factory.django.DjangoModelFactory):
    """Saved one by one through the model, so django-mptt numbers the tree as it would live."""

    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Sequence(lambda n: f"Account {n}")
    account_type = factory.SubFactory(AccountTypeFactory, name="Corporate", order=1)
    parent = None


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    # Letters no test searches for, and a number to keep people apart.
    first_name = factory.Sequence(lambda n: f"Quinn{n}")
    last_name = factory.Sequence(lambda n: f"Zephyr{n}")
    email = factory.Sequence(lambda n: f"person{n}@customer.example")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    account = factory.SubFactory(AccountFactory)
    role = None
    is_contact = True
    is_key_contact = False


class ContactChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactChange

    membership = factory.SubFactory(MembershipFactory)
    person = factory.SelfAttribute("membership.person")
    account = factory.SelfAttribute("membership.account")
    field = ContactChange.Field.CONTACT
    old_value = "no"
    new_value = "yes"
    source = ContactChange.Source.APP


class StaffUserFactory(factory.django.DjangoModelFactory):
    """A staff user of this app (not a person at a customer). `group` names a SPEC §5 group."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@unified-contacts.example")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def group(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get(name=extracted))


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    kind = Touchpoint.Kind.CALL
    subject = factory.Sequence(lambda n: f"Touchpoint {n}")
