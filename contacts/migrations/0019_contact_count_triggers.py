"""Database triggers that keep Account.contact_count (accounts 0003): the active contacts at
each account, whatever writes memberships (the app's services, an import's COPY and
INSERT … SELECT, the admin, a merge, a cascade).

PostgreSQL: one statement-level trigger per operation, reading the statement's transition
tables, so an import of a million memberships updates each account it touches once, not once
per row; the accounts are locked in id order first, so two statements never wait on each
other's accounts in a cycle. SQLite (no statement triggers): row triggers.

A TRUNCATE of memberships is not counted: only a reset of the whole data set truncates them,
and it truncates the accounts with them.
"""

from django.db import migrations

# Each branch names its transition tables in plain SQL (PL/pgSQL plans a statement when it
# first runs it, so the INSERT branch never meets old_rows). `locked` takes the accounts' row
# locks in id order before the update writes them.
ADD_CHANGES = """
    locked AS (
        SELECT id FROM accounts_account WHERE id IN (SELECT account_id FROM change)
        ORDER BY id FOR NO KEY UPDATE
    )
    UPDATE accounts_account AS account SET contact_count = account.contact_count + change.n
    FROM change WHERE account.id = change.account_id AND account.id IN (SELECT id FROM locked);
"""
ACTIVE_CONTACTS = "is_contact AND status = 'active'"

POSTGRESQL = f"""
CREATE FUNCTION contacts_membership_count_contacts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH change AS (
            SELECT account_id, count(*) AS n FROM new_rows WHERE {ACTIVE_CONTACTS}
            GROUP BY account_id
        ),
        {ADD_CHANGES}
    ELSIF TG_OP = 'DELETE' THEN
        WITH change AS (
            SELECT account_id, -count(*) AS n FROM old_rows WHERE {ACTIVE_CONTACTS}
            GROUP BY account_id
        ),
        {ADD_CHANGES}
    ELSE
        WITH change AS (
            SELECT account_id, sum(n) AS n FROM (
                SELECT account_id, 1 AS n FROM new_rows WHERE {ACTIVE_CONTACTS}
                UNION ALL
                SELECT account_id, -1 AS n FROM old_rows WHERE {ACTIVE_CONTACTS}
            ) AS moved
            GROUP BY account_id HAVING sum(n) <> 0
        ),
        {ADD_CHANGES}
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER membership_contacts_counted_on_insert
    AFTER INSERT ON contacts_membership REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_membership_count_contacts();
CREATE TRIGGER membership_contacts_counted_on_update
    AFTER UPDATE ON contacts_membership REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_membership_count_contacts();
CREATE TRIGGER membership_contacts_counted_on_delete
    AFTER DELETE ON contacts_membership REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_membership_count_contacts();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS membership_contacts_counted_on_insert ON contacts_membership;
DROP TRIGGER IF EXISTS membership_contacts_counted_on_update ON contacts_membership;
DROP TRIGGER IF EXISTS membership_contacts_counted_on_delete ON contacts_membership;
DROP FUNCTION IF EXISTS contacts_membership_count_contacts();
"""

SQLITE = [
    """
CREATE TRIGGER membership_contacts_counted_on_insert
AFTER INSERT ON contacts_membership
WHEN NEW.is_contact AND NEW.status = 'active'
BEGIN
    UPDATE accounts_account SET contact_count = contact_count + 1 WHERE id = NEW.account_id;
END
""",
    """
CREATE TRIGGER membership_contacts_counted_on_update
AFTER UPDATE OF is_contact, status, account_id ON contacts_membership
BEGIN
    UPDATE accounts_account SET contact_count = contact_count - 1
        WHERE id = OLD.account_id AND OLD.is_contact AND OLD.status = 'active';
    UPDATE accounts_account SET contact_count = contact_count + 1
        WHERE id = NEW.account_id AND NEW.is_contact AND NEW.status = 'active';
END
""",
    """
CREATE TRIGGER membership_contacts_counted_on_delete
AFTER DELETE ON contacts_membership
WHEN OLD.is_contact AND OLD.status = 'active'
BEGIN
    UPDATE accounts_account SET contact_count = contact_count - 1 WHERE id = OLD.account_id;
END
""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS membership_contacts_counted_on_insert",
    "DROP TRIGGER IF EXISTS membership_contacts_counted_on_update",
    "DROP TRIGGER IF EXISTS membership_contacts_counted_on_delete",
]

COUNT_NOW = """
UPDATE accounts_account SET contact_count = (
    SELECT count(*) FROM contacts_membership AS membership
    WHERE membership.account_id = accounts_account.id
        AND membership.is_contact AND membership.status = 'active'
)
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [POSTGRESQL], "sqlite": SQLITE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No contact count triggers for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement, params=None)
    schema_editor.execute(COUNT_NOW, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [POSTGRESQL_REVERSE], "sqlite": SQLITE_REVERSE}[vendor]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_contact_count"),
        ("contacts", "0018_active_contacts_index"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
