"""The named environment assumptions, for model/ and the CLI.

The registry itself is impl/assumptions.py (z3-free, so that impl/ can hold
the concrete predicates): one entry per assumption with its name, meaning,
source and concrete predicate.  Its symbolic facts are stated in
model/env.py as `engine.assume(ENTRY, fact)`, and the engine guards them by
a literal made from the entry and refuses any fact whose assumption is not
registered (model/engine.py).  `nvtlbi prove --drop NAME` turns one off."""

from nvtlbi.impl.assumptions import (ASSUMPTIONS, BBM, BY_NAME, CASE, GET_LEAF_RANGE, GET_LEAF_RET,  # noqa: F401
                              GRANULE_ORDER, INVALID_TAG_TRUTH, INVALID_UNTAGGED, LEAF_LEVEL, LEAF_TAGGED,
                              NAMES, NO_LPA2, OPT_IN, REGISTRY, S2OFF_UNTAGGED, STABLE_PGT, TAG_TRUTH,
                              VTCR_CURRENT, VTCR_STABLE, Assumption, UnknownAssumption, assumption, enabled)
