"""Where an uploaded file goes while its request runs (settings.FILE_UPLOAD_HANDLERS).

Django's own handlers keep a large upload in a named file in the temporary folder, removed when
the request closes it; a worker killed in the middle of a request (gunicorn's timeout) never
does, and the file stays. Here an upload goes to a temporary file without a name on disk (kept
in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE): the system frees it when it is closed or its
process ends, however the request ends.

An upload past INTEGRATIONS_MAX_UPLOAD_SIZE is counted to its end but no longer kept, so the
form that receives it can say how large it was (`UploadedFile.size`) and refuse it, with
nothing stored and nothing of it left on disk.
"""

import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class UploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.limit = settings.INTEGRATIONS_MAX_UPLOAD_SIZE
        self.received = 0
        # Returned open: the UploadedFile closes it, and Django closes the request's files
        # when the response is closed.
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
        )

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received <= self.limit:
            self.file.write(raw_data)
        elif self.file.tell():
            # Too large: what was kept goes (the file is refused), the rest is only counted.
            self.file.seek(0)
            self.file.truncate()
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        return UploadedFile(
            file=self.file,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()
