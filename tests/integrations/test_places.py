"""The places integration jobs read and write files, against real servers on 127.0.0.1
(tests/servers.py): a folder, SFTP, S3, HTTPS and a PostgreSQL query."""

import hashlib
import io
import os
import time
from datetime import UTC, datetime

import pytest
import trustme
from django.core.exceptions import ValidationError
from django.test import override_settings

from integrations import places
from integrations.places import (
    PlaceError,
    RemoteFile,
    fetch_host_key,
    host_key_fingerprint,
    open_place,
    outbound_name,
    validate_location,
)
from tests.servers import new_host_key_line

# A PostgreSQL source compares itself with the app's own database (never read through a job).
pytestmark = pytest.mark.django_db

T1 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
T3 = datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
CSV = b"Email,First Name\nada@example.com,Ada\n"


def put_file(path, data, modified):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (modified.timestamp(), modified.timestamp()))


def read(place, remote):
    destination = io.BytesIO()
    place.download(remote, destination)
    return destination.getvalue()


def refusal(**location):
    """The (code, message) validate_location refuses the location with."""
    location.setdefault("options", {})
    with pytest.raises(ValidationError) as error:
        validate_location(**location)
    return error.value.code, error.value.message


def place_error(call, *args):
    with pytest.raises(PlaceError) as error:
        call(*args)
    return str(error.value)


class WatchingSource(io.BytesIO):
    """Bytes to write that note, at their first read, what the folder holds at that moment:
    what a reader looking in the middle of the write would see."""

    def __init__(self, data, listing):
        super().__init__(data)
        self.listing = listing
        self.seen = None

    def read(self, *args):
        if self.seen is None:
            self.seen = sorted(self.listing())
        return super().read(*args)


# --- RemoteFile, names and locations ----------------------------------------------------------


def test_fingerprint_is_name_size_time_and_etag():
    assert RemoteFile("/drop/users-1.csv", 12, T1, "abc").fingerprint() == (
        "/drop/users-1.csv|12|2024-05-01T08:00:00+00:00|abc"
    )
    assert RemoteFile("query on db@host", None, None, "sha256:1").fingerprint() == (
        "query on db@host|||sha256:1"
    )


def test_fingerprint_of_a_long_name_stays_under_500_and_tells_files_apart():
    first = RemoteFile("x" * 600 + "1.csv", 1, T1).fingerprint()
    second = RemoteFile("x" * 600 + "2.csv", 1, T1).fingerprint()

    assert len(first) == len(second) == 500
    assert first != second


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("/srv/out/users-{date}.csv", "users-2024-05-01.csv"),
        ("/srv/out/export-{date}.xlsx", "export-2024-05-01.xlsx"),
        ("/srv/out", "users-2024-05-01-083005.csv"),
        ("/srv/out/", "users-2024-05-01-083005.csv"),
        ("sftp://ada@host:2222/out/users-{date}.csv", "users-2024-05-01.csv"),
        ("s3://bucket/exports/", "users-2024-05-01-083005.csv"),
        ("s3://bucket", "users-2024-05-01-083005.csv"),
    ],
)
def test_outbound_name(location, name):
    assert outbound_name(location, datetime(2024, 5, 1, 8, 30, 5, tzinfo=UTC)) == name


INBOUND_ONLY = "place can only be read from: choose another kind for an outbound job."
OUTBOUND_REFUSALS = [
    ("https", "https://example.com/users.csv", "inbound_only", f"A https {INBOUND_ONLY}"),
    ("postgres", "postgres://u@h/db", "inbound_only", f"A postgres {INBOUND_ONLY}"),
    ("ftp", "ftp://host/x.csv", "bad_kind", "The kind of place is one of folder, sftp, s3, "
     "https, postgres."),
    ("s3", "s3://bucket/out/users-{time}.csv", "bad_outbound_name", "An outbound file name may "
     "hold {date} but no other {…} or wildcard."),
    ("s3", "s3://bucket/out/users-{date}.txt", "bad_outbound_name", "An outbound file name ends "
     "with .csv or .xlsx."),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "location", "code", "message"), OUTBOUND_REFUSALS)
def test_validate_location_refuses_outbound(kind, location, code, message):
    options = {"query": "SELECT 1"} if kind == "postgres" else {}

    assert refusal(kind=kind, location=location, direction="out", options=options) == (
        code,
        message,
    )


SFTP_KEY = {"host_key": "x"}
CRM = "postgres://ada@127.0.0.1/crm"
NO_PASSWORD = "Leave the password out of the location: set it as the job's secret."
INBOUND_REFUSALS = [
    ("https", "http://127.0.0.1/users.csv", {}, "not_https",
     "Give an address starting with https://."),
    ("https", "https://ada:pw@example.com/users.csv", {}, "password_in_location",
     "Leave the credentials out of the address: set a token as the job's secret."),
    ("sftp", "sftp://ada:pw@host/drop/*.csv", SFTP_KEY, "password_in_location", NO_PASSWORD),
    ("sftp", "sftp://host/drop/*.csv", {}, "bad_sftp",
     "Write the location as sftp://user@host:port/path."),
    ("sftp", "sftp://ada@host:port/drop/*.csv", {}, "bad_port",
     "The port of an sftp:// location is a number."),
    ("sftp", "sftp://ada@host/drop/*.csv", {}, "no_host_key",
     "Give the server's host key (as in known_hosts), so that a server pretending to be this "
     "one is refused."),
    ("sftp", "sftp://ada@host/drop/*.csv", {"host_key": "ssh-ed25519 not-base64"},
     "bad_host_key", "The host key is not an OpenSSH public key line such as “ssh-ed25519 "
     "AAAA…”: copy it from the server's known_hosts entry or its ssh_host_*_key.pub file."),
    ("sftp", "sftp://ada@host/*/users.csv", SFTP_KEY, "wildcard_in_folder",
     "Wildcards (* ? [) may only be in the file name, not in the folders above it."),
    ("s3", "s3://bucket/", {}, "no_pattern",
     "End the location with a file name or a pattern, as s3://bucket/prefix/users-*.csv."),
    ("s3", "s3://bucket/in/*.csv", {"endpoint_url": "http://key:secret@127.0.0.1:9000"},
     "password_in_location",
     "Leave the keys out of the endpoint URL: set them as the job's secrets."),
    ("s3", "s3://bucket/in/*.csv", {"endpoint_url": "ftp://127.0.0.1"}, "bad_endpoint",
     "The endpoint URL starts with https:// (or http://)."),
    ("postgres", "postgres://ada:pw@127.0.0.1:5432/crm", {"query": "SELECT 1"},
     "password_in_location", NO_PASSWORD),
    ("postgres", "postgres://127.0.0.1/crm", {"query": "SELECT 1"}, "bad_postgres",
     "Write the location as postgres://user@host:port/dbname."),
    ("postgres", CRM + "?password=pw", {"query": "SELECT 1"}, "bad_postgres",
     "Only ?sslmode=… may follow a postgres:// location; set the password as the job's "
     "secret."),
    ("postgres", CRM, {}, "no_query", "Give the SELECT query whose result is the file."),
    ("postgres", CRM, {"query": "DELETE FROM people"}, "not_select",
     "The query starts with SELECT or WITH."),
    ("postgres", CRM, {"query": "SELECT 1; DROP TABLE people"}, "several",
     "Give one statement only: nothing may follow its “;”."),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "location", "options", "code", "message"), INBOUND_REFUSALS)
def test_validate_location_refuses_inbound(kind, location, options, code, message):
    assert refusal(kind=kind, location=location, direction="in", options=options) == (
        code,
        message,
    )


@pytest.mark.parametrize(
    "query",
    [
        "select email from people",
        "  -- the CRM's people\n/* all */ WITH p AS (SELECT 1) SELECT * FROM p;  \n-- done\n",
        "SELECT 'a;b' AS \"c;d\", $$;$$ AS e",
    ],
)
def test_validate_location_accepts_one_select(query):
    validate_location(
        kind="postgres",
        location="postgres://ada@127.0.0.1/crm",
        direction="in",
        options={"query": query},
    )


# --- folder -----------------------------------------------------------------------------------


@pytest.fixture
def sync_root(tmp_path):
    root = tmp_path / "sync"
    (root / "drop").mkdir(parents=True)
    (root / "out").mkdir()
    with override_settings(SYNC_FOLDER_ROOTS=[root]):
        yield root


def folder(location, direction="in"):
    return open_place(kind="folder", location=location, direction=direction, secrets={}, options={})


def test_folder_lists_matching_files_newest_first(sync_root):
    drop = sync_root / "drop"
    put_file(drop / "users-a.csv", b"a", T2)
    put_file(drop / "users-b.csv", b"bb", T1)
    put_file(drop / "users-c.csv", b"ccc", T3)
    put_file(drop / "accounts.csv", b"x", T3)
    put_file(drop / ".users-d.csv.part", b"x", T3)
    put_file(drop / "processed" / "users-0.csv", b"x", T3)
    (drop / "users-folder.csv").mkdir()

    with folder(f"{drop}/users-*.csv") as place:
        assert place.candidates() == [
            RemoteFile(f"{drop}/users-c.csv", 3, T3),
            RemoteFile(f"{drop}/users-a.csv", 1, T2),
            RemoteFile(f"{drop}/users-b.csv", 2, T1),
        ]
        assert place.check() == "Connected: 3 files match users-*.csv."


def test_folder_download_then_processed(sync_root):
    drop = sync_root / "drop"
    put_file(drop / "users-1.csv", CSV, T1)

    with folder(f"{drop}/users-*.csv") as place:
        (remote,) = place.candidates()
        assert read(place, remote) == CSV
        assert place.mark_processed(remote) == f"{drop}/processed/users-1.csv"
        assert place.candidates() == []
        assert place.check() == "Connected: no file matches users-*.csv."

    assert (drop / "processed" / "users-1.csv").read_bytes() == CSV
    assert sorted(os.listdir(drop)) == ["processed"]


REPLACED = "It was written over since it was taken, so it was left where it is, to be taken next."


def test_a_file_written_over_since_it_was_taken_is_not_moved_to_processed(
    sync_root, sftp_server, s3_server
):
    """A source that writes the same name again (users.csv every night) while the last one is
    imported: the new one stays, to be taken by the next run."""
    drop = sync_root / "drop"
    put_file(drop / "users-1.csv", CSV, T1)
    with folder(f"{drop}/users-*.csv") as place:
        (remote,) = place.candidates()
        put_file(drop / "users-1.csv", CSV + b"bob@example.com,Bob\n", T2)
        assert place_error(place.mark_processed, remote) == REPLACED
    assert not (drop / "processed").exists()

    put_file(sftp_server.root / "drop" / "users-1.csv", CSV, T1)
    with sftp(sftp_server, "/drop/users-*.csv") as place:
        (remote,) = place.candidates()
        put_file(sftp_server.root / "drop" / "users-1.csv", CSV, T2)
        assert place_error(place.mark_processed, remote) == REPLACED
    assert (sftp_server.root / "drop" / "users-1.csv").exists()

    bucket, client = s3_server.bucket(), s3_server.client()
    client.put_object(Bucket=bucket, Key="in/users-1.csv", Body=CSV)
    with s3(s3_server, f"s3://{bucket}/in/users-*.csv") as place:
        (remote,) = place.candidates()
        client.put_object(Bucket=bucket, Key="in/users-1.csv", Body=CSV + b"x")
        assert place_error(place.mark_processed, remote) == REPLACED
    assert [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "in/users-1.csv"
    ]


def test_folder_write_never_shows_a_half_written_file(sync_root):
    out = sync_root / "out"
    source = WatchingSource(CSV, lambda: os.listdir(out))

    with folder(f"{out}/users-{{date}}.csv", "out") as place:
        assert place.check() == f"Connected: files will be written in {out}."
        written = place.write("users-2024-05-01.csv", source)

    assert written == f"{out}/users-2024-05-01.csv"
    assert len(source.seen) == 1
    assert source.seen[0].startswith(".users-2024-05-01.csv.")
    assert source.seen[0].endswith(".part")
    assert os.listdir(out) == ["users-2024-05-01.csv"]
    assert (out / "users-2024-05-01.csv").read_bytes() == CSV


def test_folder_write_that_fails_leaves_no_file(sync_root):
    class Broken(io.BytesIO):
        def read(self, *args):
            raise ValueError("the export broke")

    with folder(str(sync_root / "out"), "out") as place:
        message = place_error(place.write, "users.csv", Broken())

    assert message.endswith(": ValueError: the export broke")

    assert os.listdir(sync_root / "out") == []


def test_folder_write_refuses_a_name_that_is_not_plain(sync_root):
    with folder(str(sync_root / "out"), "out") as place:
        message = place_error(place.write, "../users.csv", io.BytesIO(CSV))

    assert (
        message == "“../users.csv” is not a plain file name: give one without / or a leading dot."
    )


def test_folder_missing_folder(sync_root):
    message = place_error(folder(f"{sync_root}/nowhere/users-*.csv").check)

    assert message == f"The folder {sync_root}/nowhere does not exist."


def test_folder_outside_the_roots_is_refused(sync_root, tmp_path):
    code, message = refusal(kind="folder", location=f"{tmp_path}/users-*.csv", direction="in")

    assert code == "outside_roots"
    assert message == (
        f"{tmp_path} is not inside the folders the server allows (SYNC_FOLDER_ROOTS: "
        f"{sync_root}), or leads outside them through “..” or a link."
    )
    assert place_error(folder, f"{tmp_path}/users-*.csv") == message


def test_folder_dot_dot_escape_is_refused(sync_root):
    location = f"{sync_root}/drop/../../users-*.csv"

    outbound = f"{sync_root}/../out"
    assert refusal(kind="folder", location=location, direction="in")[0] == "outside_roots"
    assert refusal(kind="folder", location=outbound, direction="out")[0] == "outside_roots"


def test_folder_relative_path_is_refused(sync_root):
    assert refusal(kind="folder", location="drop/users-*.csv", direction="in") == (
        "relative_path",
        f"Give an absolute path under one of the allowed folders: {sync_root}.",
    )


def test_folder_link_to_a_folder_outside_is_refused_also_when_made_after_saving(
    sync_root, tmp_path
):
    outside = tmp_path / "outside"
    put_file(outside / "users-1.csv", b"secret rows", T1)
    (sync_root / "linked").symlink_to(outside)
    location = f"{sync_root}/drop/users-*.csv"

    linked = f"{sync_root}/linked/users-*.csv"
    assert refusal(kind="folder", location=linked, direction="in")[0] == "outside_roots"
    validate_location(kind="folder", location=location, direction="in", options={})
    place = folder(location)
    (sync_root / "drop").rmdir()
    (sync_root / "drop").symlink_to(outside)
    assert "is not inside the folders the server allows" in place_error(place.__enter__)
    assert "is not inside the folders the server allows" in place_error(folder, location)


def test_folder_link_to_a_file_outside_is_skipped_and_never_read(sync_root, tmp_path):
    outside = tmp_path / "outside" / "passwords.csv"
    put_file(outside, b"secret rows", T1)
    drop = sync_root / "drop"
    (drop / "users-1.csv").symlink_to(outside)
    put_file(sync_root / "users-2.csv", CSV, T2)
    (drop / "users-2.csv").symlink_to(sync_root / "users-2.csv")  # a link inside is fine

    with folder(f"{drop}/users-*.csv") as place:
        assert place.candidates() == [RemoteFile(f"{drop}/users-2.csv", len(CSV), T2)]
        message = place_error(
            place.download, RemoteFile(f"{drop}/users-1.csv", 1, T1), io.BytesIO()
        )
        assert message == f"{drop}/users-1.csv is a link leading outside the allowed folders."
        message = place_error(place.download, RemoteFile(str(outside), 1, T1), io.BytesIO())
        assert message == f"{outside} is not a file of {drop}/users-*.csv."


def test_folder_download_refuses_what_is_no_longer_a_file(sync_root):
    """A pipe put in the file's place after it was listed: refused at once, never waited on."""
    drop = sync_root / "drop"
    put_file(drop / "users-1.csv", CSV, T1)

    with folder(f"{drop}/users-*.csv") as place:
        (remote,) = place.candidates()
        (drop / "users-1.csv").unlink()
        os.mkfifo(drop / "users-1.csv")
        assert place_error(place.download, remote, io.BytesIO()) == (
            "The file changed or went away since it was listed: run the job again."
        )


def test_folder_processed_link_to_outside_is_refused(sync_root, tmp_path):
    drop = sync_root / "drop"
    put_file(drop / "users-1.csv", CSV, T1)
    (tmp_path / "outside").mkdir()
    (drop / "processed").symlink_to(tmp_path / "outside")

    with folder(f"{drop}/users-*.csv") as place:
        (remote,) = place.candidates()
        message = place_error(place.mark_processed, remote)

    assert message == f"{drop}/processed is a link leading outside the allowed folders."
    assert (drop / "users-1.csv").read_bytes() == CSV
    assert os.listdir(tmp_path / "outside") == []


def test_folder_place_is_inbound_or_outbound(sync_root):
    with folder(str(sync_root / "out"), "out") as place:
        assert place_error(place.candidates) == (
            f"{sync_root}/out is an outbound place: it cannot list files to import."
        )


# --- SFTP -------------------------------------------------------------------------------------


def sftp(server, path, direction="in", *, host_key=None, **secrets):
    return open_place(
        kind="sftp",
        location=server.location(path),
        direction=direction,
        secrets=secrets or {"password": server.password},
        options={"host_key": host_key or server.host_key_line},
    )


def test_sftp_lists_newest_first_downloads_and_moves_to_processed(sftp_server):
    drop = sftp_server.root / "drop"
    put_file(drop / "users-a.csv", CSV, T2)
    put_file(drop / "users-b.csv", b"b", T1)
    put_file(drop / "users-c.csv", b"cc", T3)
    put_file(drop / "notes.txt", b"x", T3)
    put_file(drop / ".users-d.csv.part", b"x", T3)

    with sftp(sftp_server, "/drop/users-*.csv") as place:
        assert place.candidates() == [
            RemoteFile("/drop/users-c.csv", 2, T3),
            RemoteFile("/drop/users-a.csv", len(CSV), T2),
            RemoteFile("/drop/users-b.csv", 1, T1),
        ]
        assert place.check() == "Connected: 3 files match users-*.csv."
        remote = place.candidates()[1]
        assert read(place, remote) == CSV
        assert place.mark_processed(remote) == "/drop/processed/users-a.csv"
        assert [f.name for f in place.candidates()] == ["/drop/users-c.csv", "/drop/users-b.csv"]

    assert (drop / "processed" / "users-a.csv").read_bytes() == CSV
    assert not (drop / "users-a.csv").exists()


def test_sftp_write_never_shows_a_half_written_file(sftp_server):
    out = sftp_server.root / "out"
    out.mkdir()
    source = WatchingSource(CSV, lambda: os.listdir(out))

    with sftp(sftp_server, "/out/users-{date}.csv", "out") as place:
        assert place.check() == (
            f"Connected: files will be written in /out on sftp://ada@127.0.0.1:{sftp_server.port}."
        )
        written = place.write("users-2024-05-01.csv", source)

    assert written == f"sftp://ada@127.0.0.1:{sftp_server.port}/out/users-2024-05-01.csv"
    assert len(source.seen) == 1
    assert source.seen[0].startswith(".users-2024-05-01.csv.")
    assert source.seen[0].endswith(".part")
    assert os.listdir(out) == ["users-2024-05-01.csv"]
    assert (out / "users-2024-05-01.csv").read_bytes() == CSV


def test_sftp_signs_in_with_a_private_key(sftp_server):
    put_file(sftp_server.root / "drop" / "users-1.csv", CSV, T1)

    with sftp(sftp_server, "/drop/users-*.csv", private_key=sftp_server.private_key) as place:
        assert [f.name for f in place.candidates()] == ["/drop/users-1.csv"]

    place = sftp(
        sftp_server,
        "/drop/users-*.csv",
        private_key=sftp_server.encrypted_private_key,
        passphrase=sftp_server.passphrase,
    )
    with place:
        assert place.check() == "Connected: 1 file matches users-*.csv."


def test_sftp_protected_key_without_its_passphrase(sftp_server):
    place = sftp(sftp_server, "/drop/*.csv", private_key=sftp_server.encrypted_private_key)

    assert place_error(place.check) == "The private key is protected: give its passphrase."


def test_sftp_wrong_password(sftp_server):
    place = sftp(sftp_server, "/drop/*.csv", password="not the password")

    message = place_error(place.__enter__)

    assert message == (
        f"Could not sign in to sftp://ada@127.0.0.1:{sftp_server.port}: the password or key "
        "was refused."
    )


def test_sftp_wrong_host_key_names_both_fingerprints(sftp_server):
    saved = new_host_key_line()
    place = sftp(sftp_server, "/drop/*.csv", host_key=f"[127.0.0.1]:{sftp_server.port} {saved}")

    message = place_error(place.candidates)

    assert message == (
        f"The server at sftp://ada@127.0.0.1:{sftp_server.port} presented the host key "
        f"{host_key_fingerprint(sftp_server.host_key_line)}, which does not match the saved "
        f"one ({host_key_fingerprint(saved)}): if the server's key really changed, save its "
        "new key."
    )
    assert sftp_server.password not in message


def test_sftp_missing_folder_and_no_match(sftp_server):
    (sftp_server.root / "drop").mkdir()

    assert place_error(sftp(sftp_server, "/nowhere/*.csv").check) == (
        f"The folder /nowhere does not exist on sftp://ada@127.0.0.1:{sftp_server.port}."
    )
    with sftp(sftp_server, "/drop/users-*.csv") as place:
        assert place.candidates() == []
        assert place.check() == "Connected: no file matches users-*.csv."


def test_sftp_nothing_listening(sftp_server):
    location = "sftp://ada@127.0.0.1:1/drop/*.csv"
    place = open_place(
        kind="sftp",
        location=location,
        direction="in",
        secrets={"password": "pw"},
        options={"host_key": sftp_server.host_key_line},
    )

    assert place_error(place.check) == (
        "Could not connect to sftp://ada@127.0.0.1:1: nothing answers on port 1."
    )


def test_sftp_fetch_host_key_gives_the_line_the_server_presents(sftp_server):
    line = fetch_host_key(sftp_server.location("/drop/*.csv"))

    assert line.split()[:2] == sftp_server.host_key_line.split()[:2]
    assert host_key_fingerprint(line).startswith("SHA256:")
    assert host_key_fingerprint(line) == host_key_fingerprint(f"somehost {line} comment")


def test_sftp_secrets_never_in_repr_or_errors(sftp_server):
    secrets = {"password": "Pa55-never-shown", "private_key": "-----BEGIN junk-----"}
    place = sftp(sftp_server, "/drop/*.csv", **secrets)

    message = place_error(place.check)

    assert message == (
        "The private key could not be read: give the whole key, in OpenSSH or PEM format, and "
        "its passphrase if it has one."
    )
    assert repr(place) == f"<Place sftp {sftp_server.location('/drop/*.csv')}>"
    assert "Pa55" not in repr(vars(place))
    assert "BEGIN" not in repr(vars(place))


# --- S3 ---------------------------------------------------------------------------------------


def s3(server, location, direction="in", **secrets):
    return open_place(
        kind="s3",
        location=location,
        direction=direction,
        secrets=secrets
        or {"access_key_id": server.access_key_id, "secret_access_key": server.secret_access_key},
        options={"endpoint_url": server.endpoint_url, "region": server.region},
    )


def test_s3_lists_newest_first_downloads_and_moves_to_processed(s3_server):
    bucket, client = s3_server.bucket(), s3_server.client()
    client.put_object(Bucket=bucket, Key="in/users-b.csv", Body=b"b")
    time.sleep(1.05 - time.time() % 1)  # S3 times are in whole seconds
    client.put_object(Bucket=bucket, Key="in/users-a.csv", Body=CSV)
    for key in ["in/notes.txt", "in/processed/users-0.csv", "users-x.csv", "in/.users-y.csv"]:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    etags = {
        item["Key"]: item["ETag"].strip('"')
        for item in client.list_objects_v2(Bucket=bucket)["Contents"]
    }

    with s3(s3_server, f"s3://{bucket}/in/users-*.csv") as place:
        found = place.candidates()
        assert [(f.name, f.size, f.etag) for f in found] == [
            ("in/users-a.csv", len(CSV), etags["in/users-a.csv"]),
            ("in/users-b.csv", 1, etags["in/users-b.csv"]),
        ]
        assert found[0].modified > found[1].modified
        assert found[0].modified.tzinfo == UTC
        assert place.check() == "Connected: 2 files match users-*.csv."
        assert read(place, found[0]) == CSV
        assert place.mark_processed(found[0]) == "in/processed/users-a.csv"
        assert [f.name for f in place.candidates()] == ["in/users-b.csv"]

    body = client.get_object(Bucket=bucket, Key="in/processed/users-a.csv")["Body"].read()
    assert body == CSV
    assert "in/users-a.csv" not in [
        item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]
    ]


def test_s3_lists_every_page(s3_server, monkeypatch):
    monkeypatch.setattr(places, "S3_PAGE_SIZE", 2)
    bucket, client = s3_server.bucket(), s3_server.client()
    for number in range(5):
        client.put_object(Bucket=bucket, Key=f"users-{number}.csv", Body=b"x")

    with s3(s3_server, f"s3://{bucket}/users-*.csv") as place:
        names = sorted(f.name for f in place.candidates())

    assert names == [f"users-{number}.csv" for number in range(5)]


def test_s3_file_changed_since_listed(s3_server):
    bucket, client = s3_server.bucket(), s3_server.client()
    client.put_object(Bucket=bucket, Key="users.csv", Body=b"first")

    with s3(s3_server, f"s3://{bucket}/users.csv") as place:
        (remote,) = place.candidates()
        client.put_object(Bucket=bucket, Key="users.csv", Body=b"second")
        message = place_error(place.download, remote, io.BytesIO())

    assert message == "The file changed or went away since it was listed: run the job again."


def test_s3_write_puts_the_whole_file(s3_server):
    bucket, client = s3_server.bucket(), s3_server.client()

    with s3(s3_server, f"s3://{bucket}/out/", "out") as place:
        assert place.check() == f"Connected: files will be written in s3://{bucket}/out/."
        written = place.write("users-2024-05-01-083005.csv", io.BytesIO(CSV))

    assert written == f"s3://{bucket}/out/users-2024-05-01-083005.csv"
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["out/users-2024-05-01-083005.csv"]
    body = client.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert body == CSV


def test_s3_unknown_bucket(s3_server):
    message = place_error(s3(s3_server, "s3://nope-no-bucket/users-*.csv").candidates)

    assert message == f"The bucket “nope-no-bucket” does not exist at {s3_server.endpoint_url}."


def test_s3_short_keys_do_not_garble_messages(s3_server):
    place = s3(s3_server, "s3://a-bucket/b/*.csv", access_key_id="a", secret_access_key="b")

    message = place_error(place.candidates)

    assert message == f"The bucket “a-bucket” does not exist at {s3_server.endpoint_url}."


def test_s3_bad_keys(s3_server):
    bucket = s3_server.bucket()
    secrets = {"access_key_id": "AKIAUNKNOWNKEY000000", "secret_access_key": "sEcReT-never-shown"}

    with s3_server.keys_checked():
        message = place_error(s3(s3_server, f"s3://{bucket}/*.csv", **secrets).check)

    assert message == (
        f"{s3_server.endpoint_url} refused the access key: check the access key ID and the "
        "secret access key."
    )


def test_s3_only_one_of_the_keys(s3_server):
    place = s3(s3_server, "s3://bucket/*.csv", access_key_id="AKIA")

    assert place_error(place.check) == (
        "Set both the access key ID and the secret access key, or neither."
    )


def test_s3_nothing_listening():
    place = open_place(
        kind="s3",
        location="s3://bucket/*.csv",
        direction="in",
        secrets={"access_key_id": "a", "secret_access_key": "b"},
        options={"endpoint_url": "http://127.0.0.1:1"},
    )

    assert place_error(place.check) == (
        "Could not connect to http://127.0.0.1:1: check the endpoint URL."
    )


# --- HTTPS ------------------------------------------------------------------------------------


def https(server, path, **secrets):
    return open_place(
        kind="https", location=server.url(path), direction="in", secrets=secrets, options={}
    )


def test_https_file_from_its_headers(https_server):
    https_server.files["/exports/users.csv"] = CSV

    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        with https(https_server, "/exports/users.csv?day=today") as place:
            (remote,) = place.candidates()
            assert read(place, remote) == CSV
        check = https(https_server, "/exports/users.csv").check()

    assert remote == RemoteFile(
        "/exports/users.csv",
        len(CSV),
        datetime.fromtimestamp(https_server.modified, UTC),
        '"' + hashlib.md5(CSV).hexdigest() + '"',
    )
    assert https_server.requests[:2] == [
        ("HEAD", "/exports/users.csv"),
        ("GET", "/exports/users.csv"),
    ]
    url = https_server.url("/exports/users.csv")
    assert check == f"Connected: the file at {url} is there ({len(CSV)} bytes)."


def test_https_without_etag_or_date_uses_the_body_digest_and_reads_once(https_server):
    https_server.files["/users.csv"] = CSV
    https_server.send_etag = https_server.send_last_modified = False

    with (
        override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)),
        https(https_server, "/users.csv") as place,
    ):
        (remote,) = place.candidates()
        assert read(place, remote) == CSV
        assert read(place, remote) == CSV

    digest = hashlib.sha256(CSV).hexdigest()
    assert remote == RemoteFile("/users.csv", len(CSV), None, f"sha256:{digest}")
    assert https_server.requests == [("HEAD", "/users.csv"), ("GET", "/users.csv")]


def test_https_token(https_server):
    https_server.files["/users.csv"] = CSV
    https_server.token = "t0ken-for-the-crm"
    url = https_server.url("/users.csv")

    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        with https(https_server, "/users.csv", token="t0ken-for-the-crm") as place:
            assert read(place, place.candidates()[0]) == CSV
        bad = https(https_server, "/users.csv", token="wr0ng-t0ken")
        assert place_error(bad.candidates) == (
            f"The server refused the token for {url}: set the right token."
        )
        assert place_error(https(https_server, "/users.csv").check) == (
            f"The server at {url} asks for a token: set one."
        )
    assert "wr0ng" not in repr(bad)


def test_https_no_file(https_server):
    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        message = place_error(https(https_server, "/missing.csv").candidates)

    assert message == f"There is no file at {https_server.url('/missing.csv')}."


def test_https_certificate_of_an_unknown_authority(https_server, tmp_path):
    https_server.files["/users.csv"] = CSV
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))

    with override_settings(SYNC_CA_BUNDLE=str(other_ca)):
        message = place_error(https(https_server, "/users.csv").candidates)

    assert message == (
        "The certificate of 127.0.0.1 could not be verified (unable to get local issuer "
        "certificate): if the server uses a private certificate authority, point "
        "SYNC_CA_BUNDLE at its certificate."
    )


def test_https_cannot_move_or_receive_files(https_server):
    place = https(https_server, "/users.csv")

    assert place_error(place.mark_processed, RemoteFile("/users.csv", 1, None)) == (
        "A https source cannot move its file to a processed/ folder."
    )
    assert place_error(place.write, "users.csv", io.BytesIO(CSV)) == (
        "A https place cannot receive files: it can only be read from."
    )


# --- PostgreSQL -------------------------------------------------------------------------------

SOURCE_CSV = (
    "email,first_name,last_name,joined\r\n"
    "ada@example.com,Ada,Lovelace,2024-01-02\r\n"
    "grace@example.com,Grace,,\r\n"
    'jurgen@example.com,Jürgen,"Groß, ""der Jüngere""",2024-03-04\r\n'
).encode()
PG_PASSWORD = "pg-Pa55word-never-shown"


def query(source, sql, parameters=""):
    return open_place(
        kind="postgres",
        location=source.location + parameters,
        direction="in",
        secrets={"password": PG_PASSWORD},
        options={"query": sql},
    )


def test_postgres_query_becomes_a_csv_file(postgres_source):
    sql = "SELECT email, first_name, last_name, joined FROM people ORDER BY id;"

    with query(postgres_source, sql, "?sslmode=prefer") as place:
        (remote,) = place.candidates()
        assert read(place, remote) == SOURCE_CSV
        assert place.candidates() == [remote]  # the same rows: the same file
        check = place.check()

    digest = hashlib.sha256(SOURCE_CSV).hexdigest()
    assert remote == RemoteFile(
        f"query on {postgres_source.dbname}@127.0.0.1", len(SOURCE_CSV), None, f"sha256:{digest}"
    )
    assert check == "Connected: the query gives 4 columns: email, first_name, last_name, joined."


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT email FORM people", 'syntax error at or near "people"'),
        ("SELECT * FROM nobody", 'relation "nobody" does not exist'),
        (f'SELECT * FROM "{PG_PASSWORD}"', 'relation "•••" does not exist'),
        ('SELECT * FROM "pw1" AS pw12', 'relation "•••" does not exist'),
    ],
)
def test_postgres_sql_error(postgres_source, sql, reason):
    place = open_place(
        kind="postgres",
        location=postgres_source.location,
        direction="in",
        secrets={"password": PG_PASSWORD, "unused": "pw1"},
        options={"query": sql},
    )

    message = place_error(place.candidates)

    assert message == f"The query on {postgres_source.dbname}@127.0.0.1 failed: {reason}."


def test_postgres_query_cannot_write(postgres_source):
    message = place_error(query(postgres_source, "SELECT add_person('eve@example.com')").candidates)

    assert message == (
        f"The query on {postgres_source.dbname}@127.0.0.1 tried to change data, and a source "
        "may only read: cannot execute INSERT in a read-only transaction."
    )
    assert postgres_source.execute("SELECT count(*) FROM people") == [(3,)]


@override_settings(SYNC_QUERY_TIMEOUT=1)
def test_postgres_query_stopped_after_the_timeout(postgres_source):
    message = place_error(query(postgres_source, "SELECT pg_sleep(5)").candidates)

    assert message == (
        f"The query on {postgres_source.dbname}@127.0.0.1 ran longer than 1 seconds and was "
        "stopped."
    )


def test_postgres_unknown_database(postgres_source):
    location = postgres_source.location + "_missing"
    place = open_place(
        kind="postgres",
        location=location,
        direction="in",
        secrets={"password": PG_PASSWORD},
        options={"query": "SELECT 1"},
    )

    message = place_error(place.check)

    assert message.startswith(f"Could not connect to {location}: ")
    assert f'database "{postgres_source.dbname}_missing" does not exist' in message
    assert PG_PASSWORD not in message


# --- more failures, and secrets -----------------------------------------------------------


def test_file_gone_since_listed(sync_root, sftp_server):
    put_file(sync_root / "drop" / "users-1.csv", CSV, T1)
    put_file(sftp_server.root / "drop" / "users-1.csv", CSV, T1)

    with folder(f"{sync_root}/drop/users-*.csv") as place:
        (remote,) = place.candidates()
        (sync_root / "drop" / "users-1.csv").unlink()
        assert place_error(place.download, remote, io.BytesIO()) == (
            "The file changed or went away since it was listed: run the job again."
        )
    with sftp(sftp_server, "/drop/users-*.csv") as place:
        (remote,) = place.candidates()
        (sftp_server.root / "drop" / "users-1.csv").unlink()
        assert place_error(place.download, remote, io.BytesIO()) == (
            "The file changed or went away since it was listed: run the job again."
        )


def test_s3_write_to_an_unknown_bucket(s3_server):
    with s3(s3_server, "s3://nope-no-bucket/out/", "out") as place:
        message = place_error(place.write, "users.csv", io.BytesIO(CSV))

    assert message == f"The bucket “nope-no-bucket” does not exist at {s3_server.endpoint_url}."


def test_https_redirects_keep_the_token_on_the_same_host_only(https_server):
    https_server.files["/users.csv"] = CSV
    https_server.token = "t0ken-for-the-crm"
    port = https_server.base_url.rsplit(":", 1)[1]
    https_server.redirects = {
        "/old.csv": "/users.csv",
        "/elsewhere.csv": f"https://localhost:{port}/users.csv",
        "/plain.csv": f"http://127.0.0.1:{port}/users.csv",
    }

    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        with https(https_server, "/old.csv", token="t0ken-for-the-crm") as place:
            assert read(place, place.candidates()[0]) == CSV
        assert https_server.authorizations == ["Bearer t0ken-for-the-crm"] * 4
        https_server.authorizations.clear()

        elsewhere = https(https_server, "/elsewhere.csv", token="t0ken-for-the-crm")
        assert place_error(elsewhere.candidates) == (
            f"The server refused the token for {https_server.url('/elsewhere.csv')}: set the "
            "right token."
        )
        assert https_server.authorizations == ["Bearer t0ken-for-the-crm", None]

        plain = https(https_server, "/plain.csv", token="t0ken-for-the-crm")
        assert place_error(plain.candidates) == (
            f"The server sent the request on to http://127.0.0.1:{port}/users.csv, which is "
            "not HTTPS: give the final HTTPS address."
        )


def test_secrets_never_in_a_place_repr_or_its_errors(sync_root):
    secret = "S3cret-value-never-shown"
    places_with_secrets = [
        folder(f"{sync_root}/nowhere/*.csv"),
        open_place(
            kind="sftp",
            location="sftp://ada@127.0.0.1:2222/drop/*.csv",
            direction="in",
            secrets={"password": secret, "private_key": secret, "passphrase": secret},
            options={"host_key": new_host_key_line()},
        ),
        open_place(
            kind="s3",
            location="s3://bucket/in/*.csv",
            direction="in",
            secrets={"access_key_id": "AKIA", "secret_access_key": secret},
            options={"endpoint_url": "http://127.0.0.1:1"},
        ),
        open_place(
            kind="https",
            location="https://127.0.0.1:1/users.csv",
            direction="in",
            secrets={"token": secret},
            options={},
        ),
        open_place(
            kind="postgres",
            location="postgres://ada@127.0.0.1:1/crm",
            direction="in",
            secrets={"password": secret},
            options={"query": "SELECT 1"},
        ),
    ]

    for place in places_with_secrets:
        assert secret not in repr(place)
        assert secret not in str(place)
        assert secret not in repr(vars(place))
        with pytest.raises(PlaceError) as error:
            place.check()
        assert secret not in str(error.value)
        assert error.value.__cause__ is None
        assert error.value.__suppress_context__


def test_postgres_refuses_the_apps_own_database():
    """Its tables hold staff users' password hashes and the jobs' secrets: no job reads them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The app runs on SQLite here: no PostgreSQL database of its own to refuse.")
    ours = connection.settings_dict
    for host in {ours.get("HOST") or "localhost", "localhost", "127.0.0.1"}:
        location = f"postgres://{ours['USER'] or 'postgres'}@{host}:{ours.get('PORT') or 5432}/"
        with pytest.raises(ValidationError) as refused:
            places.validate_location(
                kind="postgres",
                location=location + ours["NAME"],
                direction="in",
                options={"query": "SELECT username, password FROM auth_user"},
            )
        assert refused.value.messages == [
            "A PostgreSQL job reads another system's database, not this app's own."
        ]


def test_postgres_refuses_the_apps_own_database_however_it_is_reached():
    """127.1 is 127.0.0.1 under another name: the check after connecting still knows it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The app runs on SQLite here: no PostgreSQL database of its own to refuse.")
    ours = connection.settings_dict
    place = open_place(
        kind="postgres",
        location=f"postgres://{ours['USER'] or 'postgres'}@127.1:{ours.get('PORT') or 5432}/"
        f"{ours['NAME']}",
        direction="in",
        secrets={"password": ours.get("PASSWORD") or "unused"},
        options={"query": "SELECT username, password FROM auth_user"},
    )

    assert place_error(place.candidates) == (
        "A PostgreSQL job reads another system's database, not this app's own."
    )


def test_an_unexplained_library_error_leaves_scrubbed(https_server):
    """http.client repeats a header it refuses, the token in it: not past the place."""
    https_server.files["/users.csv"] = b"Email\n"
    # Pasted with the line break after it, as a token copied from a terminal often is.
    token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig\n"
    place = open_place(
        kind="https",
        location=https_server.url("/users.csv"),
        direction="in",
        secrets={"token": token},
        options={},
    )

    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        message = place_error(place.candidates)

    assert "eyJhbGciOiJIUzI1NiJ9" not in message
    assert message.startswith(f"Unexpected error from {https_server.url('/users.csv')}: ")
