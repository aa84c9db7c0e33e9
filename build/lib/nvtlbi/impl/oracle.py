"""What the architecture obliges a TLBI IPAS2E1 to remove, concretely
(ARM DDI 0487 M.a.a C5.5.13, D8.17.5, J1.1.3.449 TLBIMatch, ResTLBITTL)."""

from nvtlbi.impl import granule as G


def ttl_reserved(ttl, lpa2):
    """TTL encodings the architecture treats as 'no information'."""
    tg, lvl = ttl >> 2, ttl & 3
    return ((tg == 1 and lvl == 0 and not lpa2) or (tg == 2 and lvl == 0)
            or (tg == 2 and lvl == 1 and not lpa2) or (tg == 3 and lvl == 0))


def obliged(trans, ttl, feat_ttl, lpa2):
    """Must a TLBI with this TTL remove a cached entry for `trans` (which
    contains the IPA)?  Yes unless a usable hint names another granule or level."""
    if not feat_ttl or ttl >> 2 == 0 or ttl_reserved(ttl, lpa2):
        return True
    return G.TTL_TG_OF[trans.shift] == ttl >> 2 and trans.level == ttl & 3


def stale_leaves(mmu, ipa, ttl, feat_ttl, lpa2):
    """Shadow leaves that survive although the TLBI had to remove them: their
    guest translation contains the IPA and the TTL does not excuse it."""
    return [leaf for leaf in mmu.shadow_leaves()
            if leaf[4] is not None and leaf[4].contains(ipa) and obliged(leaf[4], ttl, feat_ttl, lpa2)]


def hint_case(ttl, feat_ttl, lpa2, trans):
    """Which hint case a TLBI operand is for the cached translation `trans`."""
    if ttl == 0:
        return "nohint"
    if not feat_ttl:
        return "nofeat"
    if ttl >> 2 == 0:
        return "noinfo"
    if ttl_reserved(ttl, lpa2):
        return "reserved"
    if G.TTL_TG_OF[trans.shift] == ttl >> 2 and trans.level == ttl & 3:
        return "match"
    return "mismatch"
