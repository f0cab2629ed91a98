"""Where an upload goes while its request runs: a temporary file without a name on disk, gone
when the request ends however it ends (a killed worker included), and nothing kept of a file
past the size limit."""

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.models import ImportJob
from integrations.uploads import UploadHandler
from tests.integrations.conftest import users_csv

BASE_DIR = Path(__file__).resolve().parents[2]


def upload(client, content, *, name="people.csv"):
    file = io.BytesIO(content)
    file.name = name
    return client.post("/integrations/", {"kind": "users", "file": file})


@pytest.fixture
def temp_dir(settings, tmp_path):
    """The uploads' temporary folder, with every upload on disk (none kept in memory)."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    return tmp_path


def test_a_file_past_the_size_limit_is_counted_to_its_end_and_nothing_of_it_kept(settings):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 100
    handler = UploadHandler()
    handler.new_file("file", "people.csv", "text/csv", None)

    for start in range(0, 120, 40):
        handler.receive_data_chunk(b"x" * 40, start)
    upload = handler.file_complete(120)

    assert (upload.name, upload.size, upload.read()) == ("people.csv", 120, b"")


def test_a_file_within_the_size_limit_is_kept_whole(settings):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 100
    handler = UploadHandler()
    handler.new_file("file", "people.csv", "text/csv", None)

    handler.receive_data_chunk(b"x" * 60, 0)
    handler.receive_data_chunk(b"y" * 40, 60)
    upload = handler.file_complete(100)

    assert (upload.size, upload.read()) == (100, b"x" * 60 + b"y" * 40)


@pytest.mark.django_db
def test_nothing_is_left_in_the_temporary_folder_after_an_upload(advanced_client, tree, temp_dir):
    response = upload(
        advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,").encode()
    )

    assert response.status_code == 302
    assert ImportJob.objects.get().status == ImportJob.Status.READY
    assert list(temp_dir.iterdir()) == []


@pytest.mark.django_db
def test_nothing_is_left_in_the_temporary_folder_after_a_refused_upload(
    advanced_client, temp_dir, settings
):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 1000

    response = upload(advanced_client, b"x" * 5000)

    assert response.status_code == 400
    assert ImportJob.objects.count() == 0
    assert list(temp_dir.iterdir()) == []


@pytest.mark.django_db
def test_nothing_is_left_in_the_temporary_folder_when_the_view_fails(
    advanced_client, temp_dir, settings, tmp_path_factory
):
    # A storage whose folder cannot be made (its place is taken by a file): saving the upload
    # raises in the middle of the view.
    blocked = tmp_path_factory.mktemp("media") / "taken"
    blocked.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }

    with pytest.raises(OSError):
        upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,").encode())

    assert ImportJob.objects.count() == 0
    assert list(temp_dir.iterdir()) == []


# The worker killed in the middle of a request (gunicorn's timeout): the process that parses
# the upload is killed half way through its body.
KILLED_MID_UPLOAD = r"""
import os, signal, sys
import django

django.setup()
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest

settings.FILE_UPLOAD_TEMP_DIR = sys.argv[1]
settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
head = (
    b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n"
    b"Content-Type: text/csv\r\n\r\n"
)
body = head + b"Account ID,Email\n" + b"PARIS,ada@example.com\n" * 100_000 + b"\r\n--B--\r\n"


class KilledHalfWay:
    sent = 0

    def read(self, size=-1):
        if self.sent > len(body) // 2:
            os.kill(os.getpid(), signal.SIGKILL)
        chunk = body[self.sent : self.sent + (size if size >= 0 else len(body))]
        self.sent += len(chunk)
        return chunk

    readline = read


request = WSGIRequest({
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/integrations/",
    "CONTENT_TYPE": "multipart/form-data; boundary=B",
    "CONTENT_LENGTH": str(len(body)),
    "SERVER_NAME": "testserver",
    "SERVER_PORT": "80",
    "wsgi.input": KilledHalfWay(),
})
request.FILES
"""


def test_nothing_is_left_in_the_temporary_folder_by_a_worker_killed_mid_upload(tmp_path):
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_UPLOAD, str(tmp_path)],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(tmp_path.iterdir()) == []
