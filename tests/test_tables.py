"""(c) The granule / level / size tables of impl/ and model/ agree with the
architecture's formula, derived with sympy: a table of 2^s bytes holds
2^s / 8 descriptors, so each level resolves log2(2^s/8) bits and the size
mapped at level L is 2^(s + (3 - L) * bits)."""

import sympy as sp
import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl import revision as REV
from nvtlbi.model import arch as A

s, L = sp.symbols("s L", integer=True, positive=True)
BITS = sp.simplify(sp.log(2 ** s / 8, 2).expand(force=True))          # s - 3
SIZE = 2 ** (s + (3 - L) * BITS)


def formula(shift, level):
    return int(SIZE.subs({s: shift, L: level}))


def test_bits_per_level_is_derived():
    assert sp.simplify(BITS - (s - 3)) == 0
    for shift in G.GRANULES.values():
        assert G.bits_per_level(shift) == int(BITS.subs(s, shift))


def test_level_sizes_impl_and_model_agree_with_formula():
    for shift in G.GRANULES.values():
        for level in range(0, 4):
            want = formula(shift, level)
            assert G.level_size(shift, level) == want
            got = z3.simplify(A.level_size(shift, A.lvl(level))).as_long()
            assert got == want, (shift, level)


def test_leaf_levels_and_ttl_to_size():
    """Without LPA2 the guest's leaves are 4K: 1G/2M/4K, 16K: 32M/16K,
    64K: 512M/64K; upstream's ttl_to_size returns the formula's size for
    exactly those (granule, level) pairs and 0 elsewhere."""
    rev = REV.load("upstream")
    for shift in G.GRANULES.values():
        leaf = G.guest_leaf_levels(shift)
        assert leaf == {12: [1, 2, 3], 14: [2, 3], 16: [2, 3]}[shift]    # ARCH_FACTS section 9
        for level in range(4):
            ttl = G.TTL_TG_OF[shift] << 2 | level
            assert int(rev.ttl_to_size(ttl)) == (formula(shift, level) if level in leaf else 0)
    assert [int(rev.ttl_to_size(t)) for t in range(4)] == [0, 0, 0, 0]


def test_lpa2_levels_and_host_sizes():
    assert [formula(sh, G.guest_leaf_levels(sh, True)[0]) for sh in (12, 14, 16)] == [2 ** 39, 2 ** 36, 2 ** 42]
    assert G.host_sizes(12) == [formula(12, 3), formula(12, 2), formula(12, 1)]
    assert G.host_sizes(14) == [formula(14, 3), formula(14, 2)]
    assert G.host_sizes(16) == [formula(16, 3), formula(16, 2)]


def test_start_level_covers_48_bits_with_at_most_16_root_tables():
    for shift in G.GRANULES.values():
        st = G.start_level(shift, 48)
        root_bits = 48 - (shift + (3 - st) * G.bits_per_level(shift))
        assert 0 < root_bits <= G.bits_per_level(shift) + 4
