from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        connection_created.connect(unicode_lower_on_sqlite)


def unicode_lower_on_sqlite(sender, connection, **kwargs):
    """SQLite's own lower() changes ASCII letters only, so "ÉLODIE@…" and "élodie@…" would be two
    people there and one on PostgreSQL: a person's email is unique, and found, by its lower
    case (Person's constraint on Lower("email")). On SQLite, lower() is Python's, as on
    PostgreSQL it is Unicode's."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value
