"""The database router installed with DATABASE_REPLICA_URL (config/settings.py)."""

from config.replica import PRIMARY, REPLICA, note_write, reads_replica


class PrimaryReplicaRouter:
    """Every write, and every read that config.replica does not allow on the replica, goes to
    the primary. A write (an ORM save, update, delete, select_for_update, get_or_create …)
    pins the rest of its request to the primary: it reads what it wrote."""

    def db_for_read(self, model, **hints):
        return REPLICA if reads_replica() else PRIMARY

    def db_for_write(self, model, **hints):
        note_write()
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: an object read there may point to one read here.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations run on the primary; the replica receives them by replication.
        return db == PRIMARY
