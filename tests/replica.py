"""A real streaming replica of the test run's PostgreSQL server, for tests/config/test_replica.py.

`start_streaming_replica` copies the whole cluster with pg_basebackup (`-R -X stream`: it
leaves the copy set up to follow the primary) into a temporary folder, starts it with pg_ctl on
a free port, waits until it accepts connections and has replayed everything the primary had,
and `StreamingReplica.remove` stops it and deletes the copy.

PostgreSQL refuses to run as root: when the tests run as root (CI), the copy is made and run by
the `postgres` OS user (`runuser -u postgres --`), in a folder it owns (mode 0700).

Every obstacle that is the machine's and not the code's (no PostgreSQL binaries, replication
refused by pg_hba.conf, no `postgres` user to run as) is a `ReplicaUnavailable` whose message
says what to change; the tests skip with it.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

# pg_basebackup's words when pg_hba.conf has no line for replication connections.
HBA_REFUSAL = "no pg_hba.conf entry for replication connection"
HBA_LINE = "host replication all 127.0.0.1/32 trust"
# Generous limits for a busy two-core machine: these are waits, never assertions on time.
START_TIMEOUT = 120
REPLAY_TIMEOUT = 120
# Settings a hot standby must have at least as large as its primary's, or it refuses to start.
PRIMARY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


class ReplicaUnavailable(Exception):
    """The machine cannot run a streaming replica; the message says why and what to change."""


@dataclass
class StreamingReplica:
    host: str
    port: int
    user: str
    folder: Path  # the temporary folder: data/ (the cluster) and replica.log
    run_as: list  # ["runuser", "-u", "postgres", "--"] when the tests run as root, else []
    bin_dir: Path
    copy_seconds: float = 0.0  # how long pg_basebackup took
    copy_bytes: int = 0  # the size of the primary's databases, all of them
    # The primary's physical replication slot that keeps the WAL this replica still needs,
    # and a way to reach the primary to drop it.
    slot: str = ""
    primary_dsn: dict | None = None

    @property
    def data_dir(self):
        return self.folder / "data"

    def connect(self, dbname):
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=dbname,
            connect_timeout=5,
            autocommit=True,
        )

    def execute(self, dbname, sql, params=None):
        """Runs `sql` on the replica, outside Django: its rows."""
        with self.connect(dbname) as connection:
            return connection.execute(sql, params).fetchall()

    def has_replayed(self, dbname, position):
        return self._reached(dbname, "pg_last_wal_replay_lsn", position)

    def wait_until_replayed(self, dbname, position):
        """Waits (up to REPLAY_TIMEOUT seconds, then fails) until the replica has replayed the
        primary's WAL up to `position`: what was committed before is visible there."""
        self._wait_until(dbname, "pg_last_wal_replay_lsn", position)

    def wait_until_received(self, dbname, position):
        """Waits likewise until the replica has received the WAL up to `position` (replayed
        or not: replay may be paused)."""
        self._wait_until(dbname, "pg_last_wal_receive_lsn", position)

    def _reached(self, dbname, function, position):
        sql = f"SELECT {function}() >= %s::pg_lsn"
        return self.execute(dbname, sql, [position])[0][0]

    def _wait_until(self, dbname, function, position):
        deadline = time.monotonic() + REPLAY_TIMEOUT
        while not self._reached(dbname, function, position):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"The replica's {function}() did not reach {position} in {REPLAY_TIMEOUT} "
                    f"s: {self.log_tail()}"
                )
            time.sleep(0.05)

    def pause_replay(self, dbname):
        self.execute(dbname, "SELECT pg_wal_replay_pause()")

    def resume_replay(self, dbname):
        self.execute(dbname, "SELECT pg_wal_replay_resume()")

    def log_tail(self):
        log = self.folder / "replica.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"

    def remove(self):
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self.run_as,
                    self.bin_dir / "pg_ctl",
                    "-D",
                    self.data_dir,
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=START_TIMEOUT,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.slot and self.primary_dsn:
            _drop_slots(self.primary_dsn, [self.slot])


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bin_dir(server_version_num):
    """The folder of pg_basebackup and pg_ctl of the primary's major version (Debian keeps
    them outside the PATH), else the PATH's."""
    debian = Path(f"/usr/lib/postgresql/{server_version_num // 10000}/bin")
    if (debian / "pg_ctl").exists():
        return debian
    found = shutil.which("pg_ctl")
    if found is None:
        raise ReplicaUnavailable("No pg_ctl or pg_basebackup here: install PostgreSQL's server.")
    return Path(found).parent


def _run_as():
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise ReplicaUnavailable("Running as root without runuser: cannot run PostgreSQL.")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise ReplicaUnavailable(
            "Running as root with no `postgres` OS user to run the replica as "
            "(PostgreSQL refuses to run as root)."
        ) from None
    return ["runuser", "-u", "postgres", "--"]


def _give_to_postgres(path):
    shutil.chown(path, user="postgres", group="postgres")


def start_streaming_replica(*, host, port, user, dbname):
    """A running streaming replica of the server at host:port (the whole cluster), caught up
    with it. Raises ReplicaUnavailable when the machine cannot run one."""
    try:
        primary = psycopg.connect(
            host=host, port=port, user=user, dbname=dbname, connect_timeout=5, autocommit=True
        )
    except psycopg.OperationalError as error:
        raise ReplicaUnavailable(f"No PostgreSQL answers at {host}:{port}: {error}") from None
    with primary:
        version = primary.execute("SHOW server_version_num").fetchone()[0]
        minimums = {
            name: primary.execute(f"SHOW {name}").fetchone()[0] for name in PRIMARY_MINIMUMS
        }
        copy_bytes = primary.execute(
            "SELECT sum(pg_database_size(oid))::bigint FROM pg_database"
        ).fetchone()[0]
    bin_dir = _bin_dir(int(version))
    run_as = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="uc-replica-"))
    replica = StreamingReplica(
        host="127.0.0.1",
        port=_free_port(),
        user=user,
        folder=folder,
        run_as=run_as,
        bin_dir=bin_dir,
        copy_bytes=copy_bytes,
    )
    replica.primary_dsn = {"host": host, "port": port, "user": user, "dbname": dbname}
    try:
        if run_as:
            _give_to_postgres(folder)
        replica.slot = _reserve_wal(replica.primary_dsn, replica.port)
        _copy_cluster(replica, host=host, port=port)
        _configure(replica, minimums)
        _start(replica)
        with primary_connection(host, port, user, dbname) as primary:
            position = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        replica.wait_until_replayed(dbname, position)
    except BaseException:
        replica.remove()
        raise
    return replica


def primary_connection(host, port, user, dbname):
    return psycopg.connect(
        host=host, port=port, user=user, dbname=dbname, connect_timeout=5, autocommit=True
    )


SLOT_PREFIX = "uc_test_replica_"


def _reserve_wal(primary_dsn, replica_port):
    """A physical replication slot on the primary, reserving WAL from now: pg_basebackup and
    then the replica stream through it, so the primary never removes a WAL segment they still
    need (without it, a busy primary did, while a large cluster was being copied). Slots of
    earlier runs that were killed before removing theirs are dropped first."""
    with psycopg.connect(**primary_dsn, connect_timeout=5, autocommit=True) as primary:
        stale = [
            name
            for (name,) in primary.execute(
                "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active",
                [f"{SLOT_PREFIX}%"],
            )
            if not _process_alive(name.removeprefix(SLOT_PREFIX).split("_")[0])
        ]
    _drop_slots(primary_dsn, stale)
    slot = f"{SLOT_PREFIX}{os.getpid()}_{replica_port}"
    with psycopg.connect(**primary_dsn, connect_timeout=5, autocommit=True) as primary:
        primary.execute("SELECT pg_create_physical_replication_slot(%s, true)", [slot])
    return slot


def _process_alive(pid):
    """Whether the test process that named a slot (its pid) still runs: its slot is in use."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _drop_slots(primary_dsn, slots):
    if not slots:
        return
    with psycopg.connect(**primary_dsn, connect_timeout=5, autocommit=True) as primary:
        for slot in slots:
            primary.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = %s AND NOT active",
                [slot],
            )


def _copy_cluster(replica, *, host, port):
    started = time.monotonic()
    # --checkpoint=fast: a spread checkpoint would make the copy wait minutes for nothing.
    result = subprocess.run(
        [
            *replica.run_as,
            replica.bin_dir / "pg_basebackup",
            "-h",
            host,
            "-p",
            str(port),
            "-U",
            replica.user,
            "-D",
            replica.data_dir,
            "-R",
            "-X",
            "stream",
            "-S",
            replica.slot,
            "--checkpoint=fast",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    replica.copy_seconds = time.monotonic() - started
    if result.returncode != 0:
        if HBA_REFUSAL in result.stderr:
            raise ReplicaUnavailable(
                f"The PostgreSQL server at {host}:{port} refuses replication connections "
                f"(pg_basebackup: {HBA_REFUSAL}): add the line `{HBA_LINE}` to its pg_hba.conf "
                "and reload it (`SELECT pg_reload_conf()`); .ci/run does so."
            )
        raise ReplicaUnavailable(f"pg_basebackup failed: {result.stderr.strip()}")


def _configure(replica, minimums):
    """Its own postgresql.conf and pg_hba.conf: a Debian cluster keeps them in /etc, so the copy
    has none, and another cluster's would name its port and files."""
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": replica.port,
        "unix_socket_directories": str(replica.folder),
        "hot_standby": "on",
        # A throw-away copy: no need to survive a crash, and small on a shared machine.
        "fsync": "off",
        "shared_buffers": "32MB",
        "logging_collector": "off",
        **minimums,
    }
    files = {
        "postgresql.conf": "".join(f"{name} = '{value}'\n" for name, value in settings.items()),
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, text in files.items():
        path = replica.data_dir / name
        path.write_text(text)
        if replica.run_as:
            _give_to_postgres(path)
    if replica.run_as:
        log = replica.folder / "replica.log"
        log.touch()
        _give_to_postgres(log)


def _start(replica):
    result = subprocess.run(
        [
            *replica.run_as,
            replica.bin_dir / "pg_ctl",
            "-D",
            replica.data_dir,
            "-l",
            replica.folder / "replica.log",
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        ],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 30,
        check=False,
    )
    if result.returncode != 0:
        raise ReplicaUnavailable(
            f"The replica did not start: {result.stdout.strip()} {result.stderr.strip()} "
            f"{replica.log_tail()}"
        )
