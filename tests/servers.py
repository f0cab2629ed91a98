"""Real servers on 127.0.0.1 for the tests of integration places: SFTP (asyncssh), S3 (moto in
server mode), HTTPS (http.server behind a trustme certificate) and a PostgreSQL source database.

Each fixture starts its server on a port the system chooses and stops it afterwards. The
libraries are imported inside the fixtures, so a test run that does not use them does not pay
for importing them.
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import ssl
import threading
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

# --- SFTP -------------------------------------------------------------------------------------


class _EventLoopThread:
    """An asyncio event loop running in a thread of its own, for asyncssh's servers."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="session")
def _ssh_event_loop():
    thread = _EventLoopThread()
    yield thread
    thread.stop()


def new_host_key_line():
    """The public key line of a new ed25519 key: a host key no test server presents."""
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()


@dataclass
class SftpServer:
    host: str
    port: int
    username: str
    password: str
    private_key: str  # OpenSSH text of an ed25519 client key the server accepts
    host_key_line: str  # "ssh-ed25519 AAAA…", as known_hosts has it
    root: Path  # the sftp session's /, on disk
    encrypted_private_key: str = ""
    passphrase: str = ""

    def location(self, path):
        return f"sftp://{self.username}@{self.host}:{self.port}{path}"


@pytest.fixture
def sftp_server(tmp_path, _ssh_event_loop):
    """An SFTP server whose sessions see `root` as /, with password and key sign-in."""
    import asyncssh

    root = tmp_path / "sftp-root"
    root.mkdir()
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    passphrase = "passphrase of the test key"
    username, password = "ada", "correct horse battery staple"
    connections = []

    class Server(asyncssh.SSHServer):
        def connection_made(self, conn):
            connections.append(conn)

        def begin_auth(self, name):
            return True  # every sign-in needs a password or a key

        def password_auth_supported(self):
            return True

        def validate_password(self, name, given):
            return name == username and given == password

    async def start():
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(
                client_key.export_public_key().decode()
            ),
            server_factory=Server,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root)),
        )

    acceptor = _ssh_event_loop.run(start())
    yield SftpServer(
        host="127.0.0.1",
        port=acceptor.get_port(),
        username=username,
        password=password,
        private_key=client_key.export_private_key().decode(),
        host_key_line=host_key.export_public_key().decode().strip(),
        root=root,
        # One bcrypt round, not OpenSSH's 128: a second less to protect and to read it.
        encrypted_private_key=client_key.export_private_key(
            passphrase=passphrase, rounds=1, ignore_few_rounds=True
        ).decode(),
        passphrase=passphrase,
    )

    async def stop():
        # Since Python 3.12 a server's wait_closed waits for its connections: end them first
        # (a test may leave a client signed in).
        acceptor.close()
        for conn in connections:
            conn.close()
            await conn.wait_closed()
        await acceptor.wait_closed()

    _ssh_event_loop.run(stop())


# --- S3 ---------------------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint_url: str
    access_key_id: str = "test-access-key-id"
    secret_access_key: str = "test-secret-access-key"
    region: str = "us-east-1"

    def client(self):
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def bucket(self):
        """A new, empty bucket of its own for the test; its name."""
        name = f"uc-test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def _post(self, path, body):
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    @contextlib.contextmanager
    def keys_checked(self):
        """While inside, the server checks access keys as AWS does (moto takes any key
        otherwise): a key it never issued is refused."""
        self._post("/moto-api/reset-auth", "0")
        try:
            yield
        finally:
            self._post("/moto-api/reset-auth", "inf")


@pytest.fixture(scope="session")
def s3_server():
    """One moto S3 server for the whole run: tests use buckets of their own (`bucket()`)."""
    from moto.server import ThreadedMotoServer

    werkzeug_logger = logging.getLogger("werkzeug")
    level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Server(endpoint_url=f"http://{host}:{port}")
    server.stop()
    werkzeug_logger.setLevel(level)


# --- HTTPS ------------------------------------------------------------------------------------


@dataclass
class HttpsServer:
    base_url: str
    ca_pem: Path  # the certificate authority that signed the server's certificate
    files: dict = field(default_factory=dict)  # path → bytes
    modified: float = 1_700_000_000.0  # the Last-Modified of every file (a Unix time)
    token: str | None = None  # when set, a request without "Bearer <token>" gets 401
    send_etag: bool = True
    send_last_modified: bool = True
    redirects: dict = field(default_factory=dict)  # path → the URL it sends on to (302)
    requests: list = field(default_factory=list)  # (method, path) of every request
    authorizations: list = field(default_factory=list)  # the Authorization header of each

    def url(self, path):
        return self.base_url + path


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, *, body):
        state = self.server.state
        path = urlsplit(self.path).path
        state.requests.append((self.command, path))
        state.authorizations.append(self.headers.get("Authorization"))
        if path in state.redirects:
            self.send_response(302)
            self.send_header("Location", state.redirects[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if state.token and self.headers.get("Authorization") != f"Bearer {state.token}":
            self.send_error(401)
            return
        if path not in state.files:
            self.send_error(404)
            return
        data = state.files[path]
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        if state.send_etag:
            self.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        if state.send_last_modified:
            self.send_header("Last-Modified", formatdate(state.modified, usegmt=True))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate a trustme CA (ca_pem) signed."""
    import trustme

    ca = trustme.CA()
    ca_pem = tmp_path / "https-ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = HttpsServer(
        base_url=f"https://127.0.0.1:{server.server_address[1]}", ca_pem=ca_pem
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# --- PostgreSQL -------------------------------------------------------------------------------

SOURCE_TABLE = """
CREATE TABLE people (
    id serial PRIMARY KEY,
    email text NOT NULL,
    first_name text,
    last_name text,
    joined date
);
INSERT INTO people (email, first_name, last_name, joined) VALUES
    ('ada@example.com', 'Ada', 'Lovelace', '2024-01-02'),
    ('grace@example.com', 'Grace', NULL, NULL),
    ('jurgen@example.com', 'Jürgen', 'Groß, "der Jüngere"', '2024-03-04');
CREATE FUNCTION add_person(address text) RETURNS integer LANGUAGE sql
    AS $$ INSERT INTO people (email) VALUES (address) RETURNING id $$;
"""


@dataclass
class PostgresSource:
    host: str
    port: int
    user: str
    dbname: str
    password: str = ""

    @property
    def location(self):
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def execute(self, sql):
        """Runs `sql` outside any place (to set up or look at the database in a test): its
        rows, or [] for a statement that gives none (CREATE, DELETE …)."""
        with self._connect(self.dbname) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description is not None else []

    def _connect(self, dbname):
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            connect_timeout=3,
            autocommit=True,
        )


def _postgres_server():
    """Where the source database goes: the server of DATABASE_URL when it is PostgreSQL,
    else 127.0.0.1:5432 as user postgres."""
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme in ("postgres", "postgresql", "pgsql"):
        return (
            url.hostname or "127.0.0.1",
            url.port or 5432,
            url.username or "postgres",
            (url.password or ""),
        )
    return "127.0.0.1", 5432, "postgres", ""


@pytest.fixture(scope="module")
def postgres_source():
    """A PostgreSQL database of its own holding a `people` table (SOURCE_TABLE), dropped
    afterwards; the tests that need it are skipped where no PostgreSQL answers."""
    host, port, user, password = _postgres_server()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    source = PostgresSource(
        host, port, user, f"uc_places_source_{worker}_{uuid.uuid4().hex[:8]}", password
    )
    try:
        maintenance = source._connect("postgres")
    except psycopg.OperationalError as error:
        pytest.skip(f"No PostgreSQL answers at {host}:{port} for the SQL source: {error}")
    with maintenance:
        maintenance.execute(f'CREATE DATABASE "{source.dbname}"')
    try:
        with source._connect(source.dbname) as connection:
            connection.execute(SOURCE_TABLE)
        yield source
    finally:
        with source._connect("postgres") as maintenance:
            maintenance.execute(f'DROP DATABASE IF EXISTS "{source.dbname}" WITH (FORCE)')
