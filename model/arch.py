"""The architecture in Z3: granule sizes, leaf levels, the TTL field and the
TLBI-by-IPA obligation (ARM DDI 0487 M.a.a; see ../shared/ARCH_FACTS.md).

Granules are concrete (Python page shifts: 12, 14, 16); levels, addresses and
operands are Z3 terms.  impl/granule.py holds the same tables as plain data:
both read from its formulas, and tests/test_tables.py checks them with sympy."""

import z3

from nvtlbi.impl import granule as G

LVL = 8                     # width of a symbolic level (signed)


def lvl(x):
    return z3.BitVecVal(x, LVL)


def level_size(shift, level):
    """Size mapped at a symbolic level of a concrete granule (64-bit)."""
    e = z3.BitVecVal(0, 64)
    for l in range(0, 4):
        e = z3.If(level == lvl(l), z3.BitVecVal(G.level_size(shift, l), 64), e)
    return e


def is_leaf_level(shift, level, lpa2):
    """Leaf levels of a guest stage 2: the first block level moves up by one
    with LPA2/52-bit (4K L0, 16K L1, 64K L1)."""
    base = G.guest_leaf_levels(shift, False)
    extra = G.guest_leaf_levels(shift, True)[0]
    ok = z3.Or([level == lvl(l) for l in base])
    return z3.Or(ok, z3.And(lpa2, level == lvl(extra)))


def tg0(vtcr):
    return z3.Extract(15, 14, vtcr)


def tg0_means(shift, vtcr):
    """VTCR_EL2.TG0 selects this granule (0b11, reserved, reads as 64K in KVM)."""
    t = tg0(vtcr)
    if shift == 16:
        return z3.Or(t == 1, t == 3)
    return t == G.TG0_OF[shift]


def host_leaf_size(host_shift, hlevel):
    """Size of a shadow (host) leaf for a symbolic host granule and level."""
    e = z3.BitVecVal(0, 64)
    for sh in G.GRANULES.values():
        for l in G.host_leaf_levels(sh):
            e = z3.If(z3.And(host_shift == sh, hlevel == lvl(l)), z3.BitVecVal(G.level_size(sh, l), 64), e)
    return e


def host_granule_size(host_shift, level):
    """kvm_granule_size(level) for a symbolic host granule: any level 0..3
    (level: an int or a 32-bit term; other levels give 0)."""
    if isinstance(level, int):
        level = z3.BitVecVal(level, 32)
    e = z3.BitVecVal(0, 64)
    for sh in G.GRANULES.values():
        for l in range(4):
            e = z3.If(z3.And(host_shift == sh, level == l), z3.BitVecVal(G.level_size(sh, l), 64), e)
    return e


def is_host_leaf_level(host_shift, hlevel):
    return z3.Or([z3.And(host_shift == sh, hlevel == lvl(l))
                  for sh in G.GRANULES.values() for l in G.host_leaf_levels(sh)])


def align_down(addr, size):
    return addr & ~(size - 1)


# ---- the TLBI operand -------------------------------------------------------------
def operand_ipa(val):
    """IPA[47:12] in Xt[35:0] (NV caps the IPA space at 48 bits)."""
    return z3.ZeroExt(28, z3.Extract(35, 0, val)) << 12


def operand_ttl(val):
    return z3.Extract(47, 44, val)


def ttl_tg(ttl):
    return z3.Extract(3, 2, ttl)


def ttl_level(ttl):
    return z3.Extract(1, 0, ttl)


def ttl_reserved(ttl, lpa2):
    """TTL values treated as 'no information' (ResTLBITTL): 4K L0 and 16K L1
    without FEAT_LPA2, 16K L0, 64K L0."""
    return z3.Or(z3.And(ttl == 0b0100, z3.Not(lpa2)), ttl == 0b1000,
                 z3.And(ttl == 0b1001, z3.Not(lpa2)), ttl == 0b1100)


def ttl_names(shift, level):
    """The TTL value naming (granule, level); level is an int or a term."""
    if isinstance(level, int):
        return z3.BitVecVal(G.TTL_TG_OF[shift] << 2 | (level & 3), 4)
    return z3.Concat(z3.BitVecVal(G.TTL_TG_OF[shift], 2), z3.Extract(1, 0, level))


def obliged(ttl, feat_ttl, lpa2, shift, level):
    """Must the TLBI remove a cached entry of (granule, level) containing the
    IPA?  Yes, unless FEAT_TTL is advertised and the TTL is a usable hint that
    names another granule or level (C5.5.13: a wrong TTL excuses the TLBI)."""
    no_info = z3.Or(z3.Not(feat_ttl), ttl_tg(ttl) == 0, ttl_reserved(ttl, lpa2))
    return z3.Or(no_info, ttl == ttl_names(shift, level))


# ---- the range TLBI operand (TLBI RIPAS2E1*: ARM DDI 0487 M.a.a C5.5.21) ------------------
# impl/tlbi_range.py holds the same decode as plain data (Operand).
def range_tg(val):
    """TG [47:46]: 00 reserved, 01 4K, 10 16K, 11 64K (Table D8-122)."""
    return z3.Extract(47, 46, val)


def range_ttl(val):
    """TTL [38:37]: 00 any level, else the level of the leaf entries (FEAT_TTL)."""
    return z3.Extract(38, 37, val)


def range_of(val, shift):
    """[base, base + size) the operand names when TG is the granule of `shift`,
    as 65-bit terms (no wraparound): BaseADDR [36:0] in units of the granule
    (VTCR_EL2.DS = 0), size (NUM+1) * 2^(5*SCALE+1) granules (D8.17.5.2 IHKYNQ)."""
    base = z3.ZeroExt(28, z3.Extract(36, 0, val)) << shift
    num = z3.ZeroExt(60, z3.Extract(43, 39, val))
    scale = z3.ZeroExt(63, z3.Extract(45, 44, val))
    size = (num + 1) << (scale * 5 + 1 + shift)
    return base, size


def range_ttl_reserved(ttl, shift):
    """ResTLBIRTTL: TTL=01 (level 1) of 16K without LPA2 reads as 'any level';
    64K likewise (the reading rttl-64k-l1-any, impl/tlbi_range.ttl_reserved)."""
    return z3.BoolVal(False) if shift == 12 else ttl == 1
