"""(a) Symbolic and concrete execution of a revision agree.

The revision is explored once with no assumptions over fully symbolic inputs
(any operand, any tlb_vtcr, FEAT_TTL or not, any answers from the shadow
S2).  For a random concrete world, exactly one path's branch conditions must
hold once the world's values are substituted, and that path's probes and
unmapped range must be the ones the concrete run makes."""

import functools
import os

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi
from nvtlbi.impl import revision as REV
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.nested import VM, GuestS2, handle_shadow_fault, new_mmu
from nvtlbi.model.env import Case
from nvtlbi.model.prover import explore
from nvtlbi.model.replay import RecordingPgt
from tests.revisions import SMALLFALLBACK


@functools.lru_cache(maxsize=None)
def paths_of(spec):
    _, paths = explore(REV.load(spec), Case(12, 3, "any"), enabled=[])
    return paths


@st.composite
def worlds(draw):
    g = draw(st.sampled_from([12, 14, 16]))
    h = draw(st.sampled_from([s for s in (12, 14, 16) if s <= g]))
    guest = GuestS2(g)
    vm = VM(feat_ttl=draw(st.booleans()))
    mmu = new_mmu(vm, guest, h)
    levels = G.guest_leaf_levels(g)
    region = 2 * G.level_size(g, levels[0])
    for _ in range(draw(st.integers(0, 4))):
        level = draw(st.sampled_from(levels))
        size = G.level_size(g, level)
        base = draw(st.integers(0, region // size - 1)) * size
        if not any(b < base + size and base < b + s for b, s, _, _ in guest.pgt.leaves()):
            guest.map(base, level, base)
    for _ in range(draw(st.integers(0, 6))):
        ipa = draw(st.integers(0, region - 1)) & ~((1 << g) - 1)
        handle_shadow_fault(mmu, guest, ipa, vma_pagesize=draw(st.sampled_from(G.host_sizes(h) + [None])))
    # any TG0 in tlb_vtcr, including the reserved 0b11
    mmu.guest_vtcr = Word(u64, draw(st.integers(0, 3)) << 14)
    ipa = draw(st.integers(0, region - 1)) & ~0xFFF
    val = tlbi.make_operand(ipa, draw(st.integers(0, 15))) | draw(st.sampled_from([0, 1 << 63, 0xF << 36]))
    return vm, mmu, val


def concrete(vm, mmu, val, rev):
    rec = RecordingPgt(mmu.pgt)
    mmu.pgt = rec
    try:
        tlbi.run(vm, val, rev)
    finally:
        mmu.pgt = rec.pgt
    return rec.probes, mmu.unmapped


def _substitute(f, pairs):
    """z3.substitute(f, *pairs) straight through the C API: z3.py's own
    checks of every pair (in Python) were most of this test's time; Z3
    checks the sorts itself (a mismatch is an error)."""
    n = len(pairs)
    frm, to = (z3.Ast * n)(), (z3.Ast * n)()
    for i, (a, b) in enumerate(pairs):
        frm[i], to[i] = a.as_ast(), b.as_ast()
    return z3.z3._to_expr_ref(z3.Z3_substitute(f.ctx_ref(), f.as_ast(), n, frm, to), f.ctx)


def symbolic(paths, vm, mmu, val):
    """Follow the one path the concrete world satisfies; (probes, ranges)."""
    matches = []
    for path in paths:
        if path.error is not None:
            # ends in a C outcome: with no assumptions a probe may answer a
            # level no table has, and a shift by it is out of range.  Such a
            # path has no ranges; the concrete world never takes it (its
            # probes answer real levels), and if it did, `concrete` would raise
            continue
        env = path.result
        sub = [(env.val, z3.BitVecVal(val, 64)), (env.vtcr, z3.BitVecVal(int(mmu.guest_vtcr), 64)),
               (env.feat, z3.BoolVal(vm.feat_ttl)), (env.host_shift, z3.BitVecVal(mmu.pgt.shift, 8)),
               (env.ia_bits, z3.BitVecVal(mmu.pgt.ia_bits, 8))]     # the unmap's -ERANGE check reads it
        probes = []

        def answer_next_probe():
            p = env.probes[len(probes)]
            addr = z3.simplify(_substitute(p.addr, sub)).as_long()
            ret, pte, _ = mmu.pgt.get_leaf(addr)
            sub.extend([(p.ret, z3.BitVecVal(ret.value(), 32)), (p.pte, z3.BitVecVal(int(pte), 64))])
            probes.append(addr)

        ok = True
        for name, f in path.facts:
            if name is not None:
                continue
            while True:
                v = z3.simplify(_substitute(f, sub))
                if z3.is_true(v) or z3.is_false(v) or len(probes) == len(env.probes):
                    break
                answer_next_probe()          # the fact reads a probe not yet answered
            if not z3.is_true(v):
                ok = False
                break
        if ok:
            while len(probes) < len(env.probes):
                answer_next_probe()
            ranges = [(z3.simplify(_substitute(b, sub)).as_long(), z3.simplify(_substitute(s, sub)).as_long())
                      for b, s, _ in env.unmaps]
            matches.append((probes, ranges))
    return matches


# 40 worlds in the suite (each is substituted into every path of the
# exploration); NVTLBI_FULL=1: 200
@settings(max_examples=200 if os.environ.get("NVTLBI_FULL") else 40, deadline=None)
@given(worlds())
def test_symbolic_and_concrete_execution_agree(world):
    vm, mmu, val = world
    rev = REV.load("upstream")
    matches = symbolic(paths_of("upstream"), vm, mmu, val)
    probes, ranges = concrete(vm, mmu, val, rev)
    assert len(matches) == 1, f"{len(matches)} paths match the concrete world"
    sprobes, sranges = matches[0]
    assert sprobes == [a for a, *_ in probes]
    assert sranges == ranges


def test_a_different_revision_does_not_agree():
    """The comparison can fail: upstream's paths against smallfallback's
    concrete run on a world where the fallback is taken."""
    vm = VM(feat_ttl=True)
    mmu = new_mmu(vm, GuestS2(12), 12)
    val = tlbi.make_operand(0x1234000)
    probes, ranges = concrete(vm, mmu, val, REV.load(SMALLFALLBACK))
    (sprobes, sranges), = symbolic(paths_of("upstream"), vm, mmu, val)
    assert sprobes == [a for a, *_ in probes] and sranges != ranges
