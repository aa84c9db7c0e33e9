"""The case matrix: which cases (guest granule, level of T, hint) an
obligation is proved for."""

from nvtlbi.impl import granule as G
from nvtlbi.model import assumptions as AS
from nvtlbi.model.env import HINTS, Case


def levels(shift, enabled):
    """Levels of T to prove: the guest leaf levels, plus the LPA2 level when
    no-lpa2 is dropped."""
    return G.guest_leaf_levels(shift, lpa2=AS.NO_LPA2.name not in enabled)


def matrix(enabled, hints=HINTS):
    return [Case(shift, level, hint)
            for shift in sorted(G.GRANULES.values())
            for level in levels(shift, enabled)
            for hint in hints]
