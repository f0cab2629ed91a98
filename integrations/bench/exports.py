"""The export measure of `manage.py bench` (SPEC §7): the users export as staff download it."""

import time

from django.urls import reverse

from .figures import current_rss_mb, peak_rss_mb


def measure_export(client, *, checkpoint_every=100_000):
    """The users export as staff download it from the integrations page: a streamed CSV of every
    membership. Memory is read at every `checkpoint_every` rows, to show it stays flat as the
    row count grows. The export's record (the re-add guard counts from it) is the bench staff
    user's, removed when the bench ends."""
    started = time.perf_counter()
    response = client.post(reverse("integrations:export"), {"who": "all", "file_format": "csv"})
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"The export answered {response.status_code}, not a streamed file.")
    lines, checkpoints, next_checkpoint = 0, [], checkpoint_every
    first_byte_s = None
    for chunk in response.streaming_content:
        if first_byte_s is None:
            first_byte_s = time.perf_counter() - started
        lines += chunk.count(b"\n")
        if lines - 1 >= next_checkpoint:
            checkpoints.append({"rows": lines - 1, "rss_mb": current_rss_mb()})
            next_checkpoint += checkpoint_every
    seconds = time.perf_counter() - started
    rows = lines - 1  # the header
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "first_byte_s": first_byte_s,
        "streamed": True,
        "checkpoints": checkpoints,
        "peak_rss_mb": peak_rss_mb(),
    }
