"""The properties on a concrete run (z3-free): does the outcome of a TLBI run
on impl/ (model/replay.Outcome) break a property, by the architecture's
oracle (impl/oracle.py)?  Each property's entry in model/properties.py
refers to its check here; model/replay.Outcome.violates dispatches through
the entry.

A failed run counts as model/properties counts a path that fails: BUG()
and WARN_ON break P4 only, and any other exception breaks the range
properties (tests/test_one_definition.py checks the two agree)."""

from nvtlbi.impl import granule as G
from nvtlbi.impl import oracle
from nvtlbi.impl.kernel import KernelBug


def _warned(out):
    return out.error is not None and out.error.startswith("WARN_ON at")


def _bug(out):
    return out.error is not None and out.error.startswith(f"{KernelBug.__name__}:")


def availability(out, scenario):
    """P4: the run reached BUG() or a WARN_ON."""
    return _bug(out) or _warned(out)


def on_ranges(check):
    """A range property's check, after what every range property says of a
    run that failed or unmapped nothing."""
    def violated(out, scenario):
        if _bug(out):
            return False            # no range computed: P4's failure, not this property's
        if out.error is not None and not _warned(out):
            return True             # undefined behaviour or a crash of the revision itself
        if not out.ranges:
            return True             # a run that unmaps nothing fails every range property, as in holds()
        return check(out, scenario)
    violated.__name__ = violated.__qualname__ = check.__name__
    violated.__doc__ = check.__doc__
    return violated


@on_ranges
def contains_ipa(out, scenario):
    """P1: some range misses the IPA."""
    return not out.ranges or not all(b <= scenario.ipa < b + s for b, s, _ in out.ranges)


@on_ranges
def stale(out, scenario):
    """P2: a shadow leaf survived that the TLBI had to remove (impl/oracle.stale_leaves)."""
    return bool(out.stale)


@on_ranges
def well_formed(out, scenario):
    """P3: a range is empty, not a power of two, or wraps."""
    return not out.ranges or any(s == 0 or s & (s - 1) or b + s > 1 << 64 for b, s, _ in out.ranges)


def _tagged_leaf_of(out, T, scenario):
    """Before the TLBI, a tagged shadow leaf maps the IPA aligned down to
    a block size of the granule no larger than T."""
    where = [scenario.ipa & ~(size - 1) for size in
             (G.level_size(T.shift, lv) for lv in G.guest_leaf_levels(T.shift)) if size <= T.size]
    return any(b <= a < b + s and (pte >> 55) & 3 for a in where for b, s, _, pte, _ in out.leaves_before)


@on_ranges
def imprecise(out, scenario):
    """P5: a range of the MMU holding T exceeds the granule's largest block,
    or is not exactly T where KVM has the information."""
    T = scenario.T
    mine = [(b, s) for b, s, m in out.ranges if m == 0]
    largest = G.level_size(T.shift, min(G.guest_leaf_levels(T.shift, scenario.lpa2)))
    if any(s > largest for _, s in mine):
        return True
    case = oracle.hint_case(scenario.ttl, scenario.feat_ttl, scenario.lpa2, T)
    informed = case == "match" or (case in ("nohint", "nofeat") and _tagged_leaf_of(out, T, scenario))
    return informed and (not mine or any((b, s) != (T.base, T.size) for b, s in mine))
