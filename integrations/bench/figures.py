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


def bar_figures(conditions):
    """A bar's figures from its conditions, [(what, holds)]: holds None when that condition
    could not be measured here. The bar holds when every measured condition does (None when
    none was measured)."""
    measured = [holds for _, holds in conditions if holds is not None]
    return {
        "bar": "; ".join(what for what, _ in conditions),
        "conditions": [{"what": what, "holds": holds} for what, holds in conditions],
        "holds": all(measured) if measured else None,
    }


def not_measured(key, name, why):
    """A bar this column of SPEC §7 does not have: listed with "—", not measured."""
    return {"key": key, "name": name, "bar": "—", "conditions": [], "holds": None, "why": why}
