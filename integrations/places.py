"""Past 400 lines as one thing: the places integration jobs read files from and write files to
(a folder on the server, SFTP, S3, an HTTPS URL, a PostgreSQL query) behind one interface, so
the services, the form and the command never see a transport, and every place refuses, scrubs and
words its errors the same way.

The transports are the libraries' own (paramiko, boto3, urllib with an ssl context, psycopg):
nothing here speaks a protocol. A location is checked when it is saved (validate_location) and
again every time it is opened (open_place), since the settings or the file system may have
changed in between.
"""

import base64
import csv
import fnmatch
import hashlib
import http.client
import io
import logging
import os
import posixpath
import re
import shutil
import socket
import ssl
import stat
import tempfile
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
import botocore.exceptions
import paramiko
import psycopg
from botocore.config import Config
from django.conf import settings
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

KINDS = ("folder", "sftp", "s3", "https", "postgres")
INBOUND_ONLY = ("https", "postgres")
MASK = "•••"
PROCESSED = "processed"
# One list_objects_v2 page; a module constant so a test can make pages small.
S3_PAGE_SIZE = 1000
_WILDCARD = re.compile(r"[*?[]")
# Secrets shorter than this are masked only where they stand alone (Place._scrub).
_SHORT_SECRET = 8


@dataclass(frozen=True)
class RemoteFile:
    """A file a place offers. `name` is what the history shows: never a secret."""

    name: str
    size: int | None
    modified: datetime | None
    etag: str = ""

    def fingerprint(self) -> str:
        """Stable text telling this version of the file from another (at most 500 chars)."""
        modified = self.modified.astimezone(UTC).isoformat() if self.modified else ""
        size = "" if self.size is None else str(self.size)
        text = "|".join([self.name, size, modified, self.etag])
        if len(text) > 500:
            text = text[:428] + "|sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return text


class DestinationError(Exception):
    """Raised by the file a caller gives download() (one that refuses to grow past a limit):
    it leaves the place as it is, for that caller."""


class PlaceError(Exception):
    """A message a person understands, safe to show and log: never a password, key, token, or
    a URL with credentials in it."""


class _Secrets(dict):
    """The secrets of a place; its repr never shows them."""

    def __repr__(self):
        return f"<secrets: {', '.join(sorted(self)) or 'none'}>"


def _refuse(message, code):
    return ValidationError(message, code=code)


def _roots():
    return [os.path.realpath(root) for root in settings.SYNC_FOLDER_ROOTS]


def _inside_roots(path):
    real = os.path.realpath(path)
    return any(os.path.commonpath([real, root]) == root for root in _roots())


def _roots_text():
    return ", ".join(str(root) for root in settings.SYNC_FOLDER_ROOTS) or "(none)"


def _split_inbound(path, example):
    """(directory, file-name pattern) of an inbound path; wildcards only in the file name."""
    directory, pattern = posixpath.split(path)
    if not pattern:
        raise _refuse(
            f"End the location with a file name or a pattern, as {example}.", "no_pattern"
        )
    if _WILDCARD.search(directory):
        raise _refuse(
            "Wildcards (* ? [) may only be in the file name, not in the folders above it.",
            "wildcard_in_folder",
        )
    return directory or "/", pattern


def _split_outbound(path):
    """(directory, file name or pattern, or None for a generated name) of an outbound path."""
    directory, tail = posixpath.split(path)
    if tail and ("{" in tail or tail.lower().endswith((".csv", ".xlsx"))):
        if tail.replace("{date}", "").count("{") or _WILDCARD.search(tail):
            raise _refuse(
                "An outbound file name may hold {date} but no other {…} or wildcard.",
                "bad_outbound_name",
            )
        if not tail.lower().endswith((".csv", ".xlsx")):
            raise _refuse("An outbound file name ends with .csv or .xlsx.", "bad_outbound_name")
        return directory or "/", tail
    return path.rstrip("/") or "/", None


def outbound_name(location_or_pattern: str, now: datetime) -> str:
    """The file name an outbound run writes: the pattern's with {date} as YYYY-MM-DD, or, for
    a directory or prefix, users-YYYY-MM-DD-HHMMSS.csv."""
    path = location_or_pattern
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    _, pattern = _split_outbound(path)
    if pattern is None:
        return f"users-{now:%Y-%m-%d-%H%M%S}.csv"
    return pattern.replace("{date}", f"{now:%Y-%m-%d}")


def _check_name(name):
    """An outbound file name: one plain name in the place's folder."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        raise PlaceError(f"“{name}” is not a plain file name: give one without / or a leading dot.")


def _count_text(count, pattern):
    if count == 0:
        return f"Connected: no file matches {pattern}."
    if count == 1:
        return f"Connected: 1 file matches {pattern}."
    return f"Connected: {count} files match {pattern}."


def _newest_first(files):
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(files, key=lambda f: (f.modified or oldest, f.name), reverse=True)


def _from_timestamp(value):
    return None if value is None else datetime.fromtimestamp(value, UTC)


_GONE = "The file changed or went away since it was listed: run the job again."
_REPLACED = "It was written over since it was taken, so it was left where it is, to be taken next."


def _hidden_temp_name(directory, name):
    return posixpath.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part")


class Place:
    """One place; a context manager that closes its connections."""

    kind = ""

    def __init__(self, *, location, direction, secrets=None, options=None):
        if direction not in ("in", "out"):
            raise _refuse("The direction is “in” or “out”.", "bad_direction")
        if direction == "out" and self.kind in INBOUND_ONLY:
            raise _refuse(
                f"A {self.kind} place can only be read from: choose another kind for an "
                "outbound job.",
                "inbound_only",
            )
        self.location = location
        self.direction = direction
        self.options = {key: value for key, value in (options or {}).items() if value}
        self._secrets = _Secrets({key: value for key, value in (secrets or {}).items() if value})
        self._parse()

    def __repr__(self):
        return f"<Place {self.kind} {self.location}>"

    def __enter__(self):
        with self._guard():
            self._open()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Closes what _open opened; safe to call twice."""

    def candidates(self) -> list[RemoteFile]:
        """The files matching the location's pattern, newest first."""
        self._require("in", "list files to import")
        with self._guard():
            return _newest_first(self._candidates())

    def download(self, remote: RemoteFile, destination) -> None:
        """Writes the file's bytes into `destination`, a binary file object."""
        self._require("in", "read files")
        with self._guard():
            self._download(remote, destination)

    def mark_processed(self, remote: RemoteFile) -> str:
        """Moves the file into processed/ beside it (created when missing); its new name."""
        self._require("in", "move files to processed/")
        with self._guard():
            return self._mark_processed(remote)

    def write(self, name: str, source) -> str:
        """Writes `source` (a binary file object) as `name` so that no reader ever sees a
        half-written file; returns the final location."""
        if self.kind in INBOUND_ONLY:
            raise PlaceError(f"A {self.kind} place cannot receive files: it can only be read from.")
        self._require("out", "write files")
        _check_name(name)
        with self._guard():
            return self._write(name, source)

    def check(self) -> str:
        """Connects and lists: what "Test connection" shows. Closes its connection after."""
        try:
            with self._guard():
                return self._check()
        finally:
            self.close()

    def _require(self, direction, what):
        if self.direction != direction:
            word = "an inbound" if self.direction == "in" else "an outbound"
            raise PlaceError(f"{self.location} is {word} place: it cannot {what}.")

    def _parse(self):
        raise NotImplementedError

    def _check(self):
        self._open()
        if self.direction == "in":
            return _count_text(len(self._candidates()), self.pattern)
        return self._check_outbound()

    def _open(self):
        pass

    def _mark_processed(self, remote):
        raise PlaceError(f"A {self.kind} source cannot move its file to a processed/ folder.")

    def _write(self, name, source):
        raise PlaceError(f"A {self.kind} place cannot receive files.")

    def _explain(self, error):
        """The plain sentence for a library's error, or None for one to let through."""
        if isinstance(error, TimeoutError):
            return f"{self.location} did not answer within {settings.SYNC_TIMEOUT} seconds."
        if isinstance(error, OSError):
            return f"Could not reach {self.location}: {error.strerror or error}."
        return None

    def _scrub(self, text):
        """The text with every secret (and every long line of a multi-line one) masked. A
        short secret is masked where it stands alone only (not inside a word, a name with
        dashes or dots): masking every "a" of a message would make it unreadable, and a short
        secret inside a longer name reveals nothing."""
        values = set()
        for value in self._secrets.values():
            # As given, and as a library's repr() of it shows it (b'…\n…').
            values.update({value, value.encode("unicode_escape").decode("ascii")})
            values.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
        for value in sorted(values, key=len, reverse=True):
            if len(value) >= _SHORT_SECRET:
                text = text.replace(value, MASK)
            elif value:
                text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", MASK, text)
        return text

    @contextmanager
    def _guard(self):
        """Every error leaves as a PlaceError whose message holds no secret; the library's
        exception is not chained, since its text and arguments were not scrubbed."""
        try:
            yield
        except DestinationError:
            raise
        except PlaceError as error:
            raise PlaceError(self._scrub(str(error))) from None
        except ValidationError as error:
            raise PlaceError(self._scrub(" ".join(error.messages))) from None
        except Exception as error:
            message = self._explain(error)
            if message is None:
                # A library's own words may repeat what it was given (a header with a token
                # in it, say): only their scrubbed text leaves, here and in the log.
                message = self._scrub(
                    f"Unexpected error from {self.location}: {type(error).__name__}: {error}"
                )
                logger.warning("%r: %s", self, message)
            raise PlaceError(self._scrub(message)) from None

    def _belongs(self, name, directory):
        """Refuses a RemoteFile that is not one this place would offer."""
        head, base = posixpath.split(name)
        if head.rstrip("/") != directory.rstrip("/") or not fnmatch.fnmatchcase(base, self.pattern):
            raise PlaceError(f"{name} is not a file of {self.location}.")
        return base


class FolderPlace(Place):
    """A folder on this server, under one of settings.SYNC_FOLDER_ROOTS."""

    kind = "folder"

    def _parse(self):
        path = self.location
        if not os.path.isabs(path):
            raise _refuse(
                f"Give an absolute path under one of the allowed folders: {_roots_text()}.",
                "relative_path",
            )
        if self.direction == "in":
            example = "/srv/drop/users-*.csv"
            self.directory, self.pattern = _split_inbound(os.path.normpath(path), example)
            if os.path.isdir(path):
                raise _refuse(f"{path} is a folder: add a file name or a pattern.", "no_pattern")
        else:
            self.directory, self.pattern = _split_outbound(os.path.normpath(path))
        self._check_roots()

    def _check_roots(self):
        if not _inside_roots(self.directory):
            raise _refuse(
                f"{self.directory} is not inside the folders the server allows "
                f"(SYNC_FOLDER_ROOTS: {_roots_text()}), or leads outside them through “..” or "
                "a link.",
                "outside_roots",
            )

    def _open(self):
        self._check_roots()
        if not os.path.isdir(self.directory):
            raise PlaceError(f"The folder {self.directory} does not exist.")

    def _explain(self, error):
        if isinstance(error, PermissionError):
            return f"The app may not use {error.filename or self.directory}: check its permissions."
        if isinstance(error, FileNotFoundError):
            return f"{error.filename or self.directory} does not exist."
        return super()._explain(error)

    def _candidates(self):
        self._open()
        files = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not fnmatch.fnmatchcase(entry.name, self.pattern):
                    continue
                if not _inside_roots(entry.path):
                    logger.warning(
                        "Skipped %s: a link leading outside the allowed folders", entry.path
                    )
                    continue
                if entry.is_file():
                    info = entry.stat()
                    files.append(
                        RemoteFile(entry.path, info.st_size, _from_timestamp(info.st_mtime))
                    )
        return files

    def _download(self, remote, destination):
        self._open()
        self._belongs(remote.name, self.directory)
        if not _inside_roots(remote.name):
            raise PlaceError(f"{remote.name} is a link leading outside the allowed folders.")
        # Resolved once, checked, and that very path opened without following a link: a link
        # swapped in between the check and the open is refused.
        resolved = os.path.realpath(remote.name)
        if not _inside_roots(resolved):
            raise PlaceError(f"{remote.name} is a link leading outside the allowed folders.")
        # O_NONBLOCK: a pipe put in the file's place would otherwise block the run for ever.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            descriptor = os.open(resolved, flags)
        except FileNotFoundError:
            raise PlaceError(_GONE) from None
        except OSError as error:
            raise PlaceError(f"{remote.name} could not be opened: {error.strerror}.") from None
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise PlaceError(_GONE)
            shutil.copyfileobj(file, destination)

    def _mark_processed(self, remote):
        self._open()
        base = self._belongs(remote.name, self.directory)
        processed = os.path.join(self.directory, PROCESSED)
        if not _inside_roots(processed):
            raise PlaceError(f"{processed} is a link leading outside the allowed folders.")
        try:
            info = os.stat(remote.name)
        except FileNotFoundError:
            raise PlaceError(_GONE) from None
        if (info.st_size, _from_timestamp(info.st_mtime)) != (remote.size, remote.modified):
            raise PlaceError(_REPLACED)
        os.makedirs(processed, exist_ok=True)
        moved = os.path.join(processed, base)
        os.replace(remote.name, moved)
        return moved

    def _write(self, name, source):
        self._open()
        final = os.path.join(self.directory, name)
        temp = _hidden_temp_name(self.directory, name)
        # O_EXCL: never writes through a link planted at the temporary name; 0o666 lets the
        # umask give the file the permissions the folder's readers expect.
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(descriptor, "wb") as file:
                shutil.copyfileobj(source, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, final)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return final

    def _check_outbound(self):
        if not os.access(self.directory, os.W_OK):
            raise PlaceError(f"The app may not write in {self.directory}: check its permissions.")
        return f"Connected: files will be written in {self.directory}."


def _split_address(location, scheme):
    """(netloc, path) of scheme://netloc/path, the path read as is: a glob's ? and [ are not
    a query or an IPv6 address there."""
    prefix = f"{scheme}://"
    if not location.lower().startswith(prefix):
        raise _refuse(f"A {scheme} location starts with {prefix}.", "bad_scheme")
    netloc, slash, path = location[len(prefix) :].partition("/")
    return netloc, slash + path


def parse_host_key(line):
    """The paramiko key of an OpenSSH public key line ("ssh-ed25519 AAAA…", optionally with
    the host in front, as in known_hosts)."""
    fields = (line or "").split()
    for at in (0, 1):
        if len(fields) > at + 1:
            with suppress(Exception):
                data = base64.b64decode(fields[at + 1], validate=True)
                return paramiko.PKey.from_type_string(fields[at], data)
    raise _refuse(
        "The host key is not an OpenSSH public key line such as “ssh-ed25519 AAAA…”: copy it "
        "from the server's known_hosts entry or its ssh_host_*_key.pub file.",
        "bad_host_key",
    )


def host_key_fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a host key line, as ssh-keygen -l shows it."""
    return parse_host_key(line).fingerprint


def _private_key(text, passphrase):
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text.strip() + "\n"), passphrase)
        except paramiko.PasswordRequiredException:
            raise PlaceError("The private key is protected: give its passphrase.") from None
        except (paramiko.SSHException, ValueError):
            continue
    raise PlaceError(
        "The private key could not be read: give the whole key, in OpenSSH or PEM format, and "
        "its passphrase if it has one."
    )


def _sftp_address(location):
    netloc, path = _split_address(location, "sftp")
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port or 22
    except ValueError:
        raise _refuse("The port of an sftp:// location is a number.", "bad_port") from None
    if parts.password is not None:
        raise _refuse(
            "Leave the password out of the location: set it as the job's secret.",
            "password_in_location",
        )
    if not parts.username or not parts.hostname:
        raise _refuse("Write the location as sftp://user@host:port/path.", "bad_sftp")
    return unquote(parts.username), parts.hostname, port, path


class SftpPlace(Place):
    """An SFTP server whose host key was saved: any other key is refused."""

    kind = "sftp"

    def _parse(self):
        self.username, self.host, self.port, path = _sftp_address(self.location)
        if not path.startswith("/"):
            raise _refuse(
                "Give the path on the server after the host, as /drop/users-*.csv.", "no_path"
            )
        if self.direction == "in":
            self.directory, self.pattern = _split_inbound(path, "sftp://user@host/drop/users-*.csv")
        else:
            self.directory, self.pattern = _split_outbound(path)
        if "host_key" not in self.options:
            raise _refuse(
                "Give the server's host key (as in known_hosts), so that a server pretending "
                "to be this one is refused.",
                "no_host_key",
            )
        self.host_key = parse_host_key(self.options["host_key"])
        self.address = f"sftp://{self.username}@{self.host}:{self.port}"
        self._client = self._sftp = None

    def _open(self):
        if self._sftp is not None:
            return
        password = self._secrets.get("password")
        private_key = self._secrets.get("private_key")
        if not password and not private_key:
            raise PlaceError(f"Set a password or a private key to sign in to {self.address}.")
        pkey = _private_key(private_key, self._secrets.get("passphrase")) if private_key else None
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        known_as = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        client.get_host_keys().add(known_as, self.host_key.get_name(), self.host_key)
        timeout = settings.SYNC_TIMEOUT
        try:
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=password,
                pkey=pkey,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                allow_agent=False,
                look_for_keys=False,
            )
            self._sftp = client.open_sftp()
            self._sftp.get_channel().settimeout(timeout)
        except BaseException:
            client.close()
            raise
        self._client = client

    def close(self):
        for connection in (self._sftp, self._client):
            if connection is not None:
                connection.close()
        self._client = self._sftp = None

    def _explain(self, error):
        if isinstance(error, paramiko.BadHostKeyException):
            return (
                f"The server at {self.address} presented the host key {error.key.fingerprint}, "
                f"which does not match the saved one ({self.host_key.fingerprint}): if the "
                "server's key really changed, save its new key."
            )
        if isinstance(error, paramiko.AuthenticationException):
            return f"Could not sign in to {self.address}: the password or key was refused."
        if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
            return f"Could not connect to {self.address}: nothing answers on port {self.port}."
        if isinstance(error, TimeoutError):
            return f"{self.address} did not answer within {settings.SYNC_TIMEOUT} seconds."
        if isinstance(error, FileNotFoundError):
            return f"{error.filename or self.directory} does not exist on {self.address}."
        if isinstance(error, PermissionError):
            return f"{self.address} refused access to {error.filename or self.directory}."
        if isinstance(error, paramiko.SSHException):
            return f"The SSH connection to {self.address} failed: {error}."
        if isinstance(error, socket.gaierror):
            return f"Could not connect to {self.address}: the host name is unknown."
        return super()._explain(error)

    def _listing(self):
        try:
            return self._sftp.listdir_attr(self.directory)
        except FileNotFoundError:
            raise PlaceError(
                f"The folder {self.directory} does not exist on {self.address}."
            ) from None

    def _candidates(self):
        self._open()
        files = []
        for entry in self._listing():
            name, attributes = entry.filename, entry
            if name.startswith(".") or not fnmatch.fnmatchcase(name, self.pattern):
                continue
            path = posixpath.join(self.directory, name)
            if stat.S_ISLNK(attributes.st_mode or 0):
                attributes = self._sftp.stat(path)
            if stat.S_ISREG(attributes.st_mode or 0):
                modified = _from_timestamp(attributes.st_mtime)
                files.append(RemoteFile(path, attributes.st_size, modified))
        return files

    def _download(self, remote, destination):
        self._open()
        self._belongs(remote.name, self.directory)
        try:
            self._sftp.getfo(remote.name, destination)
        except FileNotFoundError:
            raise PlaceError(_GONE) from None

    def _mark_processed(self, remote):
        self._open()
        base = self._belongs(remote.name, self.directory)
        processed = posixpath.join(self.directory, PROCESSED)
        try:
            attributes = self._sftp.stat(remote.name)
        except FileNotFoundError:
            raise PlaceError(_GONE) from None
        if (attributes.st_size, _from_timestamp(attributes.st_mtime)) != (
            remote.size,
            remote.modified,
        ):
            raise PlaceError(_REPLACED)
        try:
            self._sftp.stat(processed)
        except FileNotFoundError:
            self._sftp.mkdir(processed)
        moved = posixpath.join(processed, base)
        self._sftp.posix_rename(remote.name, moved)
        return moved

    def _write(self, name, source):
        self._open()
        final = posixpath.join(self.directory, name)
        temp = _hidden_temp_name(self.directory, name)
        try:
            self._sftp.putfo(source, temp)
            self._sftp.posix_rename(temp, final)
        except BaseException:
            with suppress(Exception):
                self._sftp.remove(temp)
            raise
        return f"{self.address}{final}"

    def _check_outbound(self):
        if not stat.S_ISDIR(self._sftp.stat(self.directory).st_mode or 0):
            raise PlaceError(f"{self.directory} is not a folder on {self.address}.")
        return f"Connected: files will be written in {self.directory} on {self.address}."


def fetch_host_key(location: str) -> str:
    """The host key line the server of an sftp:// location presents, for a person to compare
    (by its fingerprint) and save."""
    _, host, port, _ = _sftp_address(location)
    place = f"sftp://{host}:{port}"
    timeout = settings.SYNC_TIMEOUT
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            transport = paramiko.Transport(sock)
            try:
                transport.banner_timeout = timeout
                transport.start_client(timeout=timeout)
                key = transport.get_remote_server_key()
            finally:
                transport.close()
    except TimeoutError:
        raise PlaceError(f"{place} did not answer within {timeout} seconds.") from None
    except OSError as error:
        raise PlaceError(f"Could not connect to {place}: {error.strerror or error}.") from None
    except paramiko.SSHException as error:
        raise PlaceError(f"{place} does not answer as an SSH server: {error}.") from None
    return f"{key.get_name()} {key.get_base64()}"


class S3Place(Place):
    """A bucket of Amazon S3 or of S3-compatible storage (options endpoint_url, region)."""

    kind = "s3"

    def _parse(self):
        self.bucket, path = _split_address(self.location, "s3")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}", self.bucket):
            raise _refuse("Write the location as s3://bucket/prefix/users-*.csv.", "bad_bucket")
        if self.direction == "in":
            directory, self.pattern = _split_inbound(path, "s3://bucket/prefix/users-*.csv")
        else:
            directory, self.pattern = _split_outbound(path or "/")
        self.prefix = directory.strip("/") + "/" if directory.strip("/") else ""
        endpoint = self.options.get("endpoint_url", "")
        if endpoint:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _refuse("The endpoint URL starts with https:// (or http://).", "bad_endpoint")
            if parts.username or parts.password:
                raise _refuse(
                    "Leave the keys out of the endpoint URL: set them as the job's secrets.",
                    "password_in_location",
                )
        self.where = endpoint or "Amazon S3"
        self._client = None

    def _open(self):
        if self._client is not None:
            return
        key_id = self._secrets.get("access_key_id")
        secret_access_key = self._secrets.get("secret_access_key")
        if bool(key_id) != bool(secret_access_key):
            raise PlaceError("Set both the access key ID and the secret access key, or neither.")
        if not key_id and not settings.SYNC_S3_DEFAULT_CREDENTIALS:
            # The server's own credentials may reach buckets the people who manage jobs must
            # not: only secrets a Global admin set are used, unless the settings say otherwise.
            raise PlaceError(
                "This S3 job has no access keys: a Global admin sets them on the job's page. "
                "(The server's own credentials are used only where SYNC_S3_DEFAULT_CREDENTIALS "
                "allows it.)"
            )
        timeout = settings.SYNC_TIMEOUT
        config = {
            "connect_timeout": timeout,
            "read_timeout": timeout,
            "retries": {"max_attempts": 2},
        }
        if self.options.get("endpoint_url"):
            config["s3"] = {"addressing_style": "path"}
        # A session of its own: boto3's default session is not safe to share between threads.
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.options.get("endpoint_url"),
            region_name=self.options.get("region"),
            aws_access_key_id=key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(**config),
        )

    def close(self):
        if self._client is not None:
            self._client.close()
        self._client = None

    def _explain(self, error):
        if isinstance(error, botocore.exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                return f"The bucket “{self.bucket}” does not exist at {self.where}."
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"):
                return (
                    f"{self.where} refused the access key: check the access key ID and the "
                    "secret access key."
                )
            if code in ("AccessDenied", "403"):
                return (
                    f"The access key may not do this in the bucket “{self.bucket}” at {self.where}."
                )
            if code in ("NoSuchKey", "PreconditionFailed"):
                return _GONE
            message = error.response.get("Error", {}).get("Message", "")
            return f"{self.where} answered {code}: {message}"
        if isinstance(error, botocore.exceptions.NoCredentialsError):
            return (
                f"No access key was given for {self.where} and the server has none of its own: "
                "set the access key ID and the secret access key."
            )
        if isinstance(
            error,
            (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError),
        ):
            return f"Could not connect to {self.where}: check the endpoint URL."
        if isinstance(error, botocore.exceptions.BotoCoreError):
            return f"The storage at {self.where} failed: {error}"
        return super()._explain(error)

    def _candidates(self):
        self._open()
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=self.prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": S3_PAGE_SIZE},
        )
        files = []
        for page in pages:
            for item in page.get("Contents", ()):
                rest = item["Key"][len(self.prefix) :]
                if rest and not rest.startswith(".") and fnmatch.fnmatchcase(rest, self.pattern):
                    modified = item["LastModified"].astimezone(UTC)
                    etag = item.get("ETag", "").strip('"')
                    files.append(RemoteFile(item["Key"], item["Size"], modified, etag))
        return files

    def _download(self, remote, destination):
        self._open()
        self._belongs("/" + remote.name, "/" + self.prefix)
        extra = {"IfMatch": f'"{remote.etag}"'} if remote.etag else {}
        body = self._client.get_object(Bucket=self.bucket, Key=remote.name, **extra)["Body"]
        with body:
            shutil.copyfileobj(body, destination)

    def _mark_processed(self, remote):
        self._open()
        base = self._belongs("/" + remote.name, "/" + self.prefix)
        moved = f"{self.prefix}{PROCESSED}/{base}"
        source = {"Bucket": self.bucket, "Key": remote.name}
        try:
            # Only the object that was taken: one written over it since stays to be taken.
            # Asked first (every S3-compatible store answers If-Match on HEAD), then made a
            # condition of the copy itself (S3 honours it), so nothing slips in between.
            self._client.head_object(
                Bucket=self.bucket, Key=remote.name, IfMatch=f'"{remote.etag}"'
            )
            self._client.copy_object(
                Bucket=self.bucket,
                Key=moved,
                CopySource=source,
                CopySourceIfMatch=f'"{remote.etag}"',
            )
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise PlaceError(_REPLACED) from None
            raise
        self._client.delete_object(Bucket=self.bucket, Key=remote.name)
        return moved

    def _write(self, name, source):
        # One upload is atomic in S3: the object appears whole when it completes, never before.
        self._open()
        key = self.prefix + name
        self._client.upload_fileobj(source, self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def _check_outbound(self):
        self._client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        return f"Connected: files will be written in s3://{self.bucket}/{self.prefix}."


class _TokenOnSameHostRedirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects to HTTPS only, and sends the token again only to the same host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urlsplit(newurl)
        if target.scheme != "https":
            raise PlaceError(
                f"The server sent the request on to {target.scheme}://{target.netloc}"
                f"{target.path}, which is not HTTPS: give the final HTTPS address."
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        token = req.unredirected_hdrs.get("Authorization")
        if new is not None and token and target.netloc == urlsplit(req.full_url).netloc:
            new.add_unredirected_header("Authorization", token)
        return new


class HttpsPlace(Place):
    """One file at an HTTPS URL, with an optional bearer token."""

    kind = "https"

    def _parse(self):
        parts = urlsplit(self.location)
        if parts.scheme != "https" or not parts.hostname:
            raise _refuse("Give an address starting with https://.", "not_https")
        if parts.username or parts.password:
            raise _refuse(
                "Leave the credentials out of the address: set a token as the job's secret.",
                "password_in_location",
            )
        self.display = f"https://{parts.netloc}{parts.path}"
        self.pattern = parts.path or "/"
        self._body = None

    def close(self):
        if self._body is not None:
            self._body.close()
        self._body = None

    def _request(self, method):
        request = urllib.request.Request(self.location, method=method)
        request.add_header("User-Agent", "Unified Contacts integration job")
        if "token" in self._secrets:
            request.add_unredirected_header("Authorization", f"Bearer {self._secrets['token']}")
        context = ssl.create_default_context(cafile=settings.SYNC_CA_BUNDLE)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _TokenOnSameHostRedirect()
        )
        return opener.open(request, timeout=settings.SYNC_TIMEOUT)

    def _explain(self, error):
        if isinstance(error, urllib.error.HTTPError):
            if error.code in (401, 403):
                if "token" in self._secrets:
                    return f"The server refused the token for {self.display}: set the right token."
                return f"The server at {self.display} asks for a token: set one."
            if error.code == 404:
                return f"There is no file at {self.display}."
            return f"The server at {self.display} answered {error.code} {error.reason}."
        if isinstance(error, urllib.error.URLError):
            error = error.reason
        if isinstance(error, ssl.SSLCertVerificationError):
            return (
                f"The certificate of {urlsplit(self.location).hostname} could not be verified "
                f"({error.verify_message}): if the server uses a private certificate authority, "
                "point SYNC_CA_BUNDLE at its certificate."
            )
        if isinstance(error, ssl.SSLError):
            return f"The secure connection to {self.display} failed: {error.reason or error}."
        if isinstance(error, http.client.HTTPException):
            return f"The server at {self.display} gave an answer that is not HTTP: {error!r}."
        return super()._explain(error)

    def _fetch_body(self):
        self.close()
        self._body = tempfile.TemporaryFile()  # noqa: SIM115 (kept for download, closed by close)
        digest = hashlib.sha256()
        with self._request("GET") as response:
            while chunk := response.read(1024 * 1024):
                digest.update(chunk)
                self._body.write(chunk)
        return digest.hexdigest(), self._body.tell()

    def _candidates(self):
        try:
            with self._request("HEAD") as response:
                headers = response.headers
        except urllib.error.HTTPError as error:
            if error.code not in (405, 501):
                raise
            headers = {}
        etag = headers.get("ETag", "").strip()
        modified = None
        with suppress(TypeError, ValueError):
            modified = parsedate_to_datetime(headers.get("Last-Modified")).astimezone(UTC)
        length = headers.get("Content-Length", "")
        size = int(length) if length.isdigit() else None
        if not etag and modified is None:
            digest, size = self._fetch_body()
            etag = f"sha256:{digest}"
        return [RemoteFile(self.pattern, size, modified, etag)]

    def _download(self, remote, destination):
        if remote.name != self.pattern:
            raise PlaceError(f"{remote.name} is not the file of {self.display}.")
        if self._body is not None:
            self._body.seek(0)
            shutil.copyfileobj(self._body, destination)
            return
        with self._request("GET") as response:
            shutil.copyfileobj(response, destination)

    def _check(self):
        (remote,) = self._candidates()
        size = "" if remote.size is None else f" ({remote.size} bytes)"
        return f"Connected: the file at {self.display} is there{size}."


_SQL_SKIPPED = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$""", re.DOTALL
)
_SQL_SCAN = re.compile(r";|" + _SQL_SKIPPED.pattern, re.DOTALL)
_SQL_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def _single_select(query):
    """The query without a final ;, if it is one statement starting with SELECT or WITH."""
    start = _SQL_LEADING.match(query).end()
    if not re.match(r"(select|with)\b", query[start:], re.IGNORECASE):
        raise _refuse("The query starts with SELECT or WITH.", "not_select")
    position = 0
    while match := _SQL_SCAN.search(query, position):
        if match.group() == ";":
            rest = query[match.end() :]
            if _SQL_LEADING.match(rest).end() != len(rest):
                raise _refuse("Give one statement only: nothing may follow its “;”.", "several")
            return query[: match.start()]
        position = match.end()
    return query


LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
OWN_DATABASE = "A PostgreSQL job reads another system's database, not this app's own."
# What tells one PostgreSQL database from another, whatever address reached it (127.1, a host
# name, a proxy): when its server started, the database's name and the server's port.
_IDENTITY = "SELECT pg_postmaster_start_time(), current_database(), current_setting('port')"


def _same_server_and_database(source):
    """Whether the source connection reached the database this app runs on."""
    from django.db import connections

    ours = connections["default"]
    if ours.vendor != "postgresql":
        return False
    with ours.cursor() as cursor:
        cursor.execute(_IDENTITY)
        our_identity = tuple(cursor.fetchone())
    return tuple(source.execute(_IDENTITY).fetchone()) == our_identity


def _is_the_apps_database(host, port, dbname):
    """Whether host:port/dbname is the database this app runs on."""
    from django.db import connections

    ours = connections["default"].settings_dict
    if ours["ENGINE"] != "django.db.backends.postgresql" or ours["NAME"] != dbname:
        return False
    our_host = ours.get("HOST") or ""
    same_host = host == our_host or (
        (our_host in LOCAL_HOSTS or our_host.startswith("/")) and host in LOCAL_HOSTS
    )
    return same_host and int(ours.get("PORT") or 5432) == port


class PostgresPlace(Place):
    """A SELECT on a PostgreSQL database, run read-only with a statement timeout; its columns
    are the file's columns."""

    kind = "postgres"

    def _parse(self):
        parts = urlsplit(self.location)
        if parts.scheme not in ("postgres", "postgresql"):
            raise _refuse("Write the location as postgres://user@host:port/dbname.", "bad_scheme")
        if parts.password is not None:
            raise _refuse(
                "Leave the password out of the location: set it as the job's secret.",
                "password_in_location",
            )
        try:
            self.port = parts.port or 5432
        except ValueError:
            raise _refuse("The port of a postgres:// location is a number.", "bad_port") from None
        self.dbname = unquote(parts.path.lstrip("/"))
        if not parts.username or not parts.hostname or not self.dbname or "/" in self.dbname:
            raise _refuse("Write the location as postgres://user@host:port/dbname.", "bad_postgres")
        self.user, self.host = unquote(parts.username), parts.hostname
        if _is_the_apps_database(self.host, self.port, self.dbname):
            # Its tables hold what no file may bring in: staff users' password hashes, the
            # jobs' encrypted secrets, sessions.
            raise _refuse(OWN_DATABASE, "own_database")
        parameters = dict(parse_qsl(parts.query))
        if set(parameters) - {"sslmode"}:
            raise _refuse(
                "Only ?sslmode=… may follow a postgres:// location; set the password as the "
                "job's secret.",
                "bad_postgres",
            )
        self.sslmode = parameters.get("sslmode")
        if "query" not in self.options:
            raise _refuse("Give the SELECT query whose result is the file.", "no_query")
        self.query = _single_select(self.options["query"])
        self.pattern = f"query on {self.dbname}@{self.host}"
        self._csv = None

    def close(self):
        if self._csv is not None:
            self._csv.close()
        self._csv = None

    @contextmanager
    def _cursor(self):
        milliseconds = settings.SYNC_QUERY_TIMEOUT * 1000
        address = f"postgres://{self.user}@{self.host}:{self.port}/{self.dbname}"
        try:
            connection = psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.dbname,
                user=self.user,
                password=self._secrets.get("password"),
                sslmode=self.sslmode,
                connect_timeout=settings.SYNC_TIMEOUT,
                application_name="Unified Contacts integration job",
                options=f"-c default_transaction_read_only=on -c statement_timeout={milliseconds}",
            )
        except psycopg.OperationalError as error:
            text = str(error)
            if "password authentication failed" in text:
                raise PlaceError(
                    f"Could not sign in to {address}: the password was refused."
                ) from None
            reason = text.strip().splitlines()[-1].strip().rstrip(".")
            raise PlaceError(f"Could not connect to {address}: {reason}.") from None
        with connection:
            connection.read_only = True
            if _same_server_and_database(connection):
                raise PlaceError(OWN_DATABASE)
            # A server-side cursor: the rows come in batches, never all in memory.
            with connection.cursor(name="integration_source") as cursor:
                yield cursor

    def _explain(self, error):
        if isinstance(error, psycopg.errors.QueryCanceled):
            return (
                f"The query on {self.dbname}@{self.host} ran longer than "
                f"{settings.SYNC_QUERY_TIMEOUT} seconds and was stopped."
            )
        if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
            return (
                f"The query on {self.dbname}@{self.host} tried to change data, and a source may "
                f"only read: {error.diag.message_primary}."
            )
        if isinstance(error, psycopg.Error):
            reason = error.diag.message_primary or str(error).strip()
            return f"The query on {self.dbname}@{self.host} failed: {reason}."
        return super()._explain(error)

    def _candidates(self):
        self.close()
        self._csv = tempfile.TemporaryFile()  # noqa: SIM115 (kept for download, closed by close)
        text = io.TextIOWrapper(self._csv, encoding="utf-8", newline="")
        writer = csv.writer(text)
        with self._cursor() as cursor:
            cursor.execute(self.query)
            writer.writerow([column.name for column in cursor.description])
            while rows := cursor.fetchmany(2000):
                writer.writerows(rows)  # None is written as an empty cell
        text.flush()
        text.detach()
        size = self._csv.tell()
        self._csv.seek(0)
        digest = hashlib.file_digest(self._csv, "sha256").hexdigest()
        return [RemoteFile(self.pattern, size, None, f"sha256:{digest}")]

    def _download(self, remote, destination):
        if self._csv is None or remote.name != self.pattern:
            raise PlaceError(f"List the files of {self.pattern} before reading one.")
        self._csv.seek(0)
        shutil.copyfileobj(self._csv, destination)

    def _check(self):
        with self._cursor() as cursor:
            cursor.execute(f"SELECT * FROM (\n{self.query}\n) AS source LIMIT 0")
            columns = [column.name for column in cursor.description]
        return f"Connected: the query gives {len(columns)} columns: {', '.join(columns)}."


PLACES = {
    place.kind: place for place in (FolderPlace, SftpPlace, S3Place, HttpsPlace, PostgresPlace)
}


def _place_class(kind):
    if kind not in PLACES:
        raise _refuse(f"The kind of place is one of {', '.join(KINDS)}.", "bad_kind")
    return PLACES[kind]


def validate_location(*, kind, location, direction, options) -> None:
    """Raises ValidationError, with a code, when a place could never work as given."""
    _place_class(kind)(location=location, direction=direction, options=options)


def open_place(
    *, kind: str, location: str, direction: str, secrets: dict[str, str], options: dict[str, str]
) -> Place:
    """The place, checked again (settings and links may have changed since it was saved);
    use it as a context manager. Raises PlaceError."""
    try:
        place_class = _place_class(kind)
        return place_class(location=location, direction=direction, secrets=secrets, options=options)
    except ValidationError as error:
        raise PlaceError(" ".join(error.messages)) from None
