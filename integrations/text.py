"""The words of the integrations' messages: headers as they match, lists of names and of lines."""

# Runs of consecutive rows kept per cause, to name its first lines ("lines 2–40, 52 and 60").
LINE_RUNS_KEPT = 10


def header_key(header):
    """Headers match ignoring letter case and spaces: " account id " is "Account ID"."""
    return "".join(str(header).split()).casefold()


def one_line(text):
    """A header cell as one line: a header written over two lines in a spreadsheet cell reads
    "Phone Number" in a message, not "Phone\nNumber"."""
    return " ".join(str(text).split())


def and_join(words):
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


class LineTally:
    """The rows something was found on, kept small however many: their count, and the first
    LINE_RUNS_KEPT runs of consecutive rows (a run stands for every row from its first line to
    its last). `row_number` counts data rows, so that a blank line or a value over several lines
    between two rows does not break a run."""

    __slots__ = ("count", "full", "runs")

    def __init__(self):
        self.count = 0
        self.runs = []  # [first line, last line, first row number, last row number]
        self.full = False  # a row went uncounted in the runs: they stop growing

    def add(self, line, row_number):
        last = self.runs[-1] if self.runs else None
        if last is not None and last[3] == row_number:
            return  # the same row again (two messages of one cause)
        self.count += 1
        if self.full:
            return
        if last is not None and last[3] == row_number - 1:
            last[1], last[3] = line, row_number
        elif len(self.runs) < LINE_RUNS_KEPT:
            self.runs.append([line, line, row_number, row_number])
        else:
            self.full = True

    @property
    def first_line(self):
        return self.runs[0][0] if self.runs else 0

    def text(self, sheet_rows=None):
        """ "line 7", "lines 2–1,043", "lines 2, 5, 9 and 40 more"; a line whose row starts
        elsewhere in a spreadsheet (a value over several lines above it) says both."""
        sheet_rows = sheet_rows or {}
        items, listed = [], 0
        for first, last, first_row, last_row in self.runs:
            listed += last_row - first_row + 1
            if first == last:
                items.append(where(first, sheet_rows))
            elif last_row == first_row + 1:
                items += [where(first, sheet_rows), where(last, sheet_rows)]
            elif first in sheet_rows or last in sheet_rows:
                items.append(
                    f"{first:,}–{last:,} (spreadsheet rows {sheet_rows.get(first, first):,}–"
                    f"{sheet_rows.get(last, last):,})"
                )
            else:
                items.append(f"{first:,}–{last:,}")
        more = self.count - listed
        text = f"{', '.join(items)} and {more:,} more" if more else and_join(items)
        return f"{'line' if self.count == 1 else 'lines'} {text}"


def where(line, sheet_rows):
    """A line, with its spreadsheet row when a value over several lines above moved it."""
    row = sheet_rows.get(line)
    return f"{line:,}" if row is None or row == line else f"{line:,} (spreadsheet row {row:,})"


def rows_text(count):
    return f"{count:,} row{'s' if count != 1 else ''}"
