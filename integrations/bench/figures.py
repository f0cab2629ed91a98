"""Small measuring helpers shared by the bench's measures."""

import resource


def peak_rss_mb():
    """The process's resident memory at its highest so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def percentile(values, pct):
    """The nearest-rank percentile: the smallest value at least `pct`% of values are under."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)]
