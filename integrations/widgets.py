"""django-import-export widgets for the integration files: how one cell becomes a value and back.

A widget's clean() raises ValueError with a sentence for people; the resource puts the line
number and column in front of it.
"""

from import_export import widgets

from .files import unneutralise


class TextWidget(widgets.CharWidget):
    """Text with surrounding spaces removed, the export's formula guard undone, and a length
    limit (the model field's), so a long value is a row error rather than a database error."""

    def __init__(self, max_length, **kwargs):
        super().__init__(allow_blank=True, **kwargs)
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs):
        # Called for every cell of a file: the common case (plain text) takes no detour.
        if value is None:
            return ""
        text = value.strip() if isinstance(value, str) else str(value).strip()
        if text[:1] == "'":
            text = unneutralise(text)
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
