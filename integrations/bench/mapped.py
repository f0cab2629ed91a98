"""The mapped import of `manage.py bench` (issue 12): the bench's users file written as another
system writes it, imported through a mapping template saved for its header, to be measured
beside the standard file's import (at most a tenth slower)."""

import csv
import statistics
from pathlib import Path

from .. import services
from ..mapping import Mapping
from ..models import MappingTemplate
from ..resources import UsersResource
from .database import PREFIX
from .figures import bar_figures, not_measured, percentile
from .imports import measure_import

# The same rows as another system writes them: its own headers, TRUE and FALSE for the contact
# marks, a placeholder for what is empty. The bench's template maps them back.
MAPPED_HEADERS = {
    "Account ID": "Company ID",
    "Email": "E-mail Address",
    "First Name": "Given Name",
    "Last Name": "Family Name",
    "Title": "Job Title",
    "Phone": "Business Phone",
    "Account Role": "Contact Role",
    "Contact": "Is Contact",
    "Key Contact": "VIP",
    "Status": "Contact Status",
    "Start Date": "Joined",
    "End Date": "Left",
}
MAPPED_VALUES = {"yes": "TRUE", "no": "FALSE", "": "null"}
MAPPING_NAME = f"{PREFIX} mapped export"


def bench_mapping():
    """The mapping template that reads the mapped file: what a staff user saves once."""
    return Mapping.from_dict(
        {
            "name": MAPPING_NAME,
            "columns": MAPPED_HEADERS,
            "values": {
                "Contact": {"TRUE": "yes", "FALSE": "no"},
                "Key Contact": {"TRUE": "yes", "FALSE": "no"},
            },
            "blank_values": ["null"],
        }
    )


def write_mapped_users_file(path):
    """The users file at `path` rewritten as another system's export, beside it. Returns its
    path."""
    mapped = Path(path).with_name("users-mapped.csv")
    columns = UsersResource.columns()
    marks = [columns.index("Contact"), columns.index("Key Contact")]
    with (
        Path(path).open(newline="", encoding="utf-8") as source,
        mapped.open("w", newline="", encoding="utf-8") as out,
    ):
        reader, writer = csv.reader(source), csv.writer(out)
        next(reader)
        writer.writerow([MAPPED_HEADERS[column] for column in columns])
        for row in reader:
            for at in marks:
                row[at] = MAPPED_VALUES[row[at]]
            writer.writerow(row)
    return mapped


def measure_mapped_import(path, client):
    """measure_import of the mapped file, through the bench's mapping template saved for its
    header (as a staff user saves it once): the upload goes straight to its preview."""
    with Path(path).open("rb") as file:
        headers = services.open_table(file).headers
    template = services.save_template(
        mapping=bench_mapping(), by=None, headers=headers, replace=True
    )
    try:
        return measure_import(path, client, template=template)
    finally:
        MappingTemplate.objects.filter(pk=template.pk).delete()


def mapped_bar(column, runs, rows, import_median):
    """The bar of the mapped file's import (at most a share of the standard file's median,
    column.mapped_import_bar), from its runs' figures; "—" in a column without that bar."""
    name = f"Users import, {rows:,} rows, through a mapping"
    if not column.mapped_import_bar:
        return not_measured("users_import_mapped", name, f"no such bar at {column.name}")
    median = statistics.median(run["seconds"] for run in runs)
    over = median / import_median
    return {
        "key": "users_import_mapped",
        "name": name,
        "median_s": median,
        "p95_s": percentile([run["seconds"] for run in runs], 95),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "runs": len(runs),
        "over_standard": over,
        **{key: runs[-1][key] for key in ("new", "updated", "failed")},
        **bar_figures(
            [
                (
                    f"≤ {column.mapped_import_bar:.0%} of the standard file's (here {over:.0%})",
                    median <= column.mapped_import_bar * import_median,
                )
            ]
        ),
    }
