"""django-import-export widgets for the integration files: how one cell becomes a value and back.

A widget's clean() raises ValueError with a sentence for people; the resource puts the line
number and column in front of it.
"""

import datetime
import re

from import_export import widgets

from .files import unneutralise

# What a spreadsheet cannot hold (openpyxl refuses them): the C0 controls but tab and line ends.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# YYYY-MM-DD and only that (date.fromisoformat also takes 20260531 and 2026-W22-7).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def plain_line_ends(text):
    """CRLF and CR as LF: a value over several lines reads the same from CSV and XLSX."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextWidget(widgets.CharWidget):
    """Text with surrounding spaces removed, the exports' formula guard undone, line ends as
    LF (a workbook keeps no CR), no control characters (no workbook can hold them), and a
    length limit (the model field's), so a long value is a row error rather than a database
    error."""

    def __init__(self, max_length, **kwargs):
        super().__init__(allow_blank=True, **kwargs)
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        # Called for every cell of a file: the common case (plain text) takes no detour.
        if value is None:
            return ""
        text = value.strip() if isinstance(value, str) else str(value).strip()
        if text[:1] == "'":
            text = unneutralise(text).strip()
        if "\r" in text:
            text = plain_line_ends(text)
        if CONTROL_CHARACTERS.search(text):
            character = CONTROL_CHARACTERS.search(text).group()
            raise ValueError(
                f"Holds a control character (U+{ord(character):04X}), which no spreadsheet "
                "can hold: remove it."
            )
        if len(text) > self.max_length:
            raise ValueError(
                f"Too long: at most {self.max_length} characters are allowed, "
                f"this value has {len(text)}."
            )
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    """`yes` → True, `no` → False, blank → None (leave as is). Nothing else: the library's
    BooleanWidget reads "yes" as False without a word, and a file that says "Yes", "TRUE" or "1"
    should be corrected at its source rather than guessed at."""

    ACCEPTED = {"yes": True, "no": False}

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if text == "":
            return None
        try:
            return self.ACCEPTED[text]
        except KeyError:
            raise ValueError(
                f"“{text}” is not accepted: write yes or no (in lowercase), or leave it blank."
            ) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "yes" if value else "no"


class StatusWidget(widgets.Widget):
    """A membership's status: `active` or `former` (lowercase), blank → None (leave as is).
    Strict like YesNoWidget: "Former" or "left" are corrected at their source."""

    ACCEPTED = ("active", "former")

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if text == "":
            return None
        if text in self.ACCEPTED:
            return text
        raise ValueError(
            f"“{text}” is not accepted: write active or former (in lowercase), or leave it blank."
        )

    def render(self, value, obj=None, **kwargs):
        return value or ""


class IsoDateWidget(widgets.Widget):
    """A date written YYYY-MM-DD (ISO 8601), blank → None (leave as is). Nothing else: 03/04/2026
    is the 3rd of April to some and the 4th of March to others. A workbook's date cell (a
    datetime) is read as its day."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = "" if value is None else str(value).strip()
        if text == "":
            return None
        try:
            if not ISO_DATE.fullmatch(text):
                raise ValueError
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"“{text}” is not a date: write it as YYYY-MM-DD (such as 2026-05-31), "
                "or leave it blank."
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""
