"""The rules of the integration files (SPEC §4) in one place: django-import-export resources for
the users file and the accounts file.

The upload form's jobs, the Django admin's import and export buttons and the management commands
all run these resources through the library's own entry points (`import_data()`, `export()`),
so they cannot disagree.

The library imports row by row: a query or two per row, and a full copy of every instance for
its diff. That is minutes for a 100,000-row file (SPEC §7), so these resources keep its API and
its Result, RowResult and failed-rows dataset, and replace the inner loop: rows are read in
chunks, each chunk's accounts, roles, people and memberships are looked up with one query each,
and its writes are bulk inserts and updates. The whole file runs in one transaction
(`import_data()` opens it), so a failure anywhere leaves the data as it was.
"""

from .accounts import AccountsResource
from .base import LISTED_ROWS, Change, FileImportResult, FileResource, ReAdd, header_key
from .users import UsersResource

__all__ = [
    "LISTED_ROWS",
    "AccountsResource",
    "Change",
    "FileImportResult",
    "FileResource",
    "ReAdd",
    "UsersResource",
    "header_key",
]
