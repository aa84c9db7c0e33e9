"""The translator's C semantics against gcc (in the manner of Hyperkernel's
check of its symbolic executor): the same C, our own fixtures, compiled
by gcc in a harness of ours and translated by `nvtlbi audit`, must give
the same results on random and boundary inputs.  The comparison is shown
to catch a wrong translation (a mistyped width) and broken C."""

import os
import random
import shutil
import subprocess

import pytest

from nvtlbi.impl import context, kernel
from nvtlbi.impl.cint import Word, u64
from nvtlbi.c import pipeline, preprocess, translator

C = os.path.join(os.path.dirname(__file__), "c")
GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

SEM = ["sem_promote", "sem_wrap32", "sem_cmp", "sem_shift", "sem_narrow", "sem_switch", "sem_goto",
       "sem_div", "sem_logic", "sem_literals"]
M64 = (1 << 64) - 1


def build(tmp, harness, fixture=None, sysreg=False, defines=()):
    out = os.path.join(tmp, os.path.basename(harness) + (fixture or "") + ("-sysreg" if sysreg else "")
                       + "".join(f"-{d}" for d in defines))
    cmd = [GCC, "-O1", "-w", "-include", os.path.join(C, "stubs.h"), "-I", os.path.join(C, "include"),
           "-I", C, "-o", out, os.path.join(C, harness)]
    if fixture:
        cmd.append(f'-DFIXTURE="{fixture}"')
    if sysreg:
        cmd.append("-DSYSREG_VTCR")
    cmd += [f"-D{d}" for d in defines]
    subprocess.run(cmd, check=True)
    return out


def run(binary, lines):
    p = subprocess.run([binary], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    return p.stdout.split("\n")[:len(lines)]


# ---- C semantics ------------------------------------------------------------------------------
BOUNDARY = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
            0x100000000, 0x7fffffffffffffff, 0x8000000000000000, M64, M64 - 1]


def sem_inputs(rng, n):
    out = [(a, b) for a in BOUNDARY for b in BOUNDARY[::3]]
    for _ in range(n):
        out.append(tuple(rng.choice([rng.getrandbits(64), rng.getrandbits(32), rng.getrandbits(8),
                                     M64 - rng.getrandbits(8)]) for _ in range(2)))
    return out


def sem_mismatches(module, binary, rng, n=150):
    inputs = [(f, a, b) for f in SEM for a, b in sem_inputs(rng, n)]
    got_c = run(binary, [f"{f} {a:x} {b:x}" for f, a, b in inputs])
    bad = []
    for (f, a, b), c in zip(inputs, got_c):
        r = getattr(module, f)(Word(u64, a), Word(u64, b)) if f not in ("sem_narrow", "sem_switch", "sem_goto",
                                                                           "sem_literals") \
            else getattr(module, f)(Word(u64, a))
        if (int(r) & M64) != int(c, 16):
            bad.append((f, hex(a), hex(b), hex(int(r) & M64), c))
    return bad


@pytest.fixture(scope="module")
def sem_binary(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("gcc")), "harness_sem.c")


def test_c_semantics_match_gcc(sem_binary):
    module = pipeline.load_source(pipeline.translate_named(os.path.join(C, "semantics.c"), SEM))
    assert sem_mismatches(module, sem_binary, random.Random(1)) == []


def test_comparison_catches_a_wrong_width(sem_binary, monkeypatch):
    # a translator that read u8 as a 32-bit word would be caught
    monkeypatch.setitem(translator.TYPES, ("u8",), "u32")
    module = pipeline.load_source(pipeline.translate_named(os.path.join(C, "semantics.c"), SEM))
    bad = sem_mismatches(module, sem_binary, random.Random(1), n=20)
    assert {b[0] for b in bad} >= {"sem_promote", "sem_narrow"}


# ---- compute_tlb_inval_range on generated page-table states -----------------------------------
SIZES = {12: [1 << 12, 1 << 21, 1 << 30], 14: [1 << 14, 1 << 25], 16: [1 << 16, 1 << 29]}
TG0 = {12: 0, 16: 1, 14: 2}


class Lock:
    def assert_held_write(self):
        pass


class Kvm:
    def __init__(self, has_ttl):
        self.has_ttl, self.mmu_lock = has_ttl, Lock()

    def has_feat(self, reg, field, val):
        return self.has_ttl


class Pgt:
    def __init__(self, limit, leaves):
        self.limit, self.leaves = limit, leaves

    def get_leaf(self, addr):
        a = int(addr)
        if a >= self.limit:
            return -34, 0, 0
        for b, s, p in self.leaves:
            if 0 <= a - b < s:
                return 0, p, 0
        return 0, 0, 0


class Mmu:
    def __init__(self, vtcr, kvm, pgt):
        self.tlb_vtcr, self.kvm, self.pgt = Word(u64, vtcr), kvm, pgt


def gen_state(rng):
    shift = rng.choice([12, 14, 16])
    enc = 3 if rng.random() < 0.1 else TG0[shift]
    vtcr = (enc << 14) | rng.getrandbits(14) | (rng.getrandbits(16) << 16)
    anchor = rng.getrandbits(rng.choice([20, 32, 40, 47]))
    leaves = []
    for _ in range(rng.randint(0, 4)):
        s = rng.choice(SIZES[shift] + [1 << 12])
        base = anchor & ~(rng.choice(SIZES[shift]) - 1) & ~(s - 1)
        if any(base < b + sz and b < base + s for b, sz, _ in leaves):
            continue
        pte = (rng.random() < 0.9) | (rng.getrandbits(2) << 55) | (rng.getrandbits(8) << 2) | (rng.getrandbits(1) << 10)
        leaves.append((base, s, pte))
    ipa = rng.choice([anchor, anchor & ~0xfff, (anchor | 0xfffff) & ((1 << 48) - 1),
                      leaves[0][0] + leaves[0][1] - 1 if leaves else anchor, rng.getrandbits(48)])
    ttl = rng.choice([0, 0, rng.getrandbits(4)])
    val = ((ipa >> 12) & ((1 << 36) - 1)) | (ttl << 44) | (rng.getrandbits(16) << 48)
    limit = rng.choice([1 << 48, 1 << 40, 1 << rng.randint(30, 47)])
    return vtcr, rng.random() < 0.5, val, limit, leaves


def range_mismatches(module, binary, rng, n):
    states = [gen_state(rng) for _ in range(n)]
    lines = [f"{v:x} {int(f)} {val:x} {lim:x} {len(ls)} " + " ".join(f"{b:x} {s:x} {p:x}" for b, s, p in ls)
             for v, f, val, lim, ls in states]
    got_c = run(binary, lines)
    bad = []
    for (v, f, val, lim, ls), c in zip(states, got_c):
        hooks = kernel.ConcreteHooks(host_caps={"ARM64_HAS_ARMv8_4_TTL"} if f else ())
        try:
            with context.entered(hooks=hooks):
                r = module.compute_tlb_inval_range(Mmu(v, Kvm(f), Pgt(lim, ls)), Word(u64, val))
            py = f"{int(r):x} {len(hooks.warnings)}"
        except kernel.KernelBug:
            py = f"bug {len(hooks.warnings)}"
        if py != c:
            bad.append((hex(v), f, hex(val), hex(lim), ls, py, c))
    return bad


def translated(name, **kw):
    return pipeline.load_source(pipeline.translate(os.path.join(C, name), **kw).source)


@pytest.mark.parametrize("fixture,sysreg", [("nested_v2024.c", False), ("nested_v2026.c", True),
                                            ("nested_v2020.c", False),
                                            ("broken_nocheck.c", False), ("broken_width.c", False),
                                            ("broken_fallthrough.c", False), ("broken_fallback.c", False)])
def test_translation_matches_gcc(tmp_path, fixture, sysreg):
    binary = build(str(tmp_path), "harness_range.c", fixture, sysreg)
    assert range_mismatches(translated(fixture), binary, random.Random(fixture), 400) == []


@pytest.mark.parametrize("broken", ["broken_nocheck.c", "broken_width.c", "broken_fallthrough.c", "broken_fallback.c"])
def test_harness_tells_broken_c_apart(tmp_path, broken):
    # the correct translation against gcc's build of a broken variant
    binary = build(str(tmp_path), "harness_range.c", broken)
    assert range_mismatches(translated("nested_v2024.c"), binary, random.Random(7), 1500) != []


def test_bug_paths_are_compared(tmp_path):
    # the v2020 fixture BUG()s on a reserved TG0; both sides must agree on it
    binary = build(str(tmp_path), "harness_range.c", "nested_v2020.c")
    states = [gen_state(random.Random(i)) for i in range(200)]
    assert any((v >> 14) & 3 == 3 for v, *_ in states)
    lines = [f"{v:x} {int(f)} {val:x} {lim:x} {len(ls)} " + " ".join(f"{b:x} {s:x} {p:x}" for b, s, p in ls)
             for v, f, val, lim, ls in states]
    assert any(x.startswith("bug") for x in run(binary, lines))


def test_wrong_profile_is_caught_by_gcc(tmp_path):
    # the sysreg C read with the 2024 profile is not what gcc builds with the sysreg stubs
    binary = build(str(tmp_path), "harness_range.c", "nested_v2026.c", sysreg=True)
    wrong = translated("nested_v2026.c", profile="v2024")
    assert range_mismatches(wrong, binary, random.Random(3), 400) != []


@pytest.mark.parametrize("fixture,defines", [("if0_dead_last.c", ()),
                                             ("ifdef_config.c", ("CONFIG_NVTLBI_FIXTURE_FIX",)),
                                             ("ifdef_config.c", ()),
                                             ("if_inside.c", ("CONFIG_NVTLBI_FIXTURE_TTL",)),
                                             ("if_inside.c", ())])
def test_conditionals_are_decided_as_gcc_decides(tmp_path, fixture, defines):
    # the code audited under --define/--undef is the code gcc compiles with -D / without it
    binary = build(str(tmp_path), "harness_range.c", fixture, defines=defines)
    names = [n for n in ("CONFIG_NVTLBI_FIXTURE_FIX", "CONFIG_NVTLBI_FIXTURE_TTL")]
    config = preprocess.Config.parse(list(defines), [n for n in names if n not in defines])
    assert range_mismatches(translated(fixture, config=config), binary, random.Random(fixture), 400) == []
