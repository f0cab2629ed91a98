"""The words of the integrations' messages: headers as they match, lists of names and of lines."""

LISTED_LINES = 10


def header_key(header):
    """Headers match ignoring letter case and spaces: " account id " is "Account ID"."""
    return "".join(str(header).split()).casefold()


def and_join(words):
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def lines_text(lines):
    """ "line 7", "lines 2–1,043" (one run), or "lines 2, 5, 9 and 40 more"."""
    lines = sorted(lines)
    if len(lines) == 1:
        return f"line {lines[0]:,}"
    if lines[-1] - lines[0] == len(lines) - 1:
        return f"lines {lines[0]:,}–{lines[-1]:,}"
    shown = ", ".join(f"{line:,}" for line in lines[:LISTED_LINES])
    more = len(lines) - LISTED_LINES
    return f"lines {shown}" + (f" and {more:,} more" if more > 0 else "")
