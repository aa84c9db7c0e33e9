"""The expressions kernel C is written with (issue 12 item 2): `?:`, the
sizes.h constants, min/max, alignment, bits, branch hints, WARN_ON_ONCE
and BUILD_BUG_ON.  tests/c/expressions.c (ours) uses every one; gcc's build
of it (harness_expr.c, one compile) and its translation must agree on
boundary and random inputs, and the comparison is shown to catch an `?:`
that evaluates both arms, one that is typed by the chosen arm only, and a
size constant added by Python instead of C."""

import os
import random

import pytest

from nvtlbi.c import pipeline, translator
from nvtlbi.impl import context, eras, kernel
from nvtlbi.impl.cint import Word, u64
from tests.c_revisions import refusal
from tests.test_audit_gcc import C, GCC, build, run

pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is not installed")

FIXTURE = os.path.join(C, "expressions.c")
FUNCS = ["expr_cond_type", "expr_cond_nested", "expr_cond_lazy", "expr_cond_bug", "expr_sizes", "expr_minmax",
         "expr_align", "expr_bits", "expr_hints"]
NAMES = FUNCS + ["expr_bug"]
NEW = ["min", "max", "min_t", "max_t", "ALIGN", "ALIGN_DOWN", "IS_ALIGNED", "round_up", "round_down", "BIT",
       "BIT_ULL", "GENMASK", "GENMASK_ULL", "FIELD_PREP", "FIELD_GET", "likely", "unlikely", "WARN_ON_ONCE",
       "BUILD_BUG_ON"] + [n for n, _ in eras.SIZES_INT + eras.SIZES_ULL]
M64 = (1 << 64) - 1
BOUNDARY = [0, 1, 2, 3, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0x1fffff, 0x7fffffff, 0x80000000,
            0xffffffff, 0x100000000, 1 << 63, M64, M64 - 1]


def translated(profile="v2024"):
    return pipeline.translate_named(FIXTURE, NAMES, profile=profile)


def mismatches(module, binary, n=60):
    rng = random.Random(12)
    inputs = [(f, a, b) for f in FUNCS for a in BOUNDARY for b in BOUNDARY]
    inputs += [(f, rng.getrandbits(64), rng.getrandbits(rng.choice([8, 32, 64]))) for f in FUNCS for _ in range(n)]
    got_c = run(binary, [f"{f} {a:x} {b:x}" for f, a, b in inputs])
    bad = []
    for (f, a, b), c in zip(inputs, got_c):
        hooks = kernel.ConcreteHooks()
        try:
            with context.entered(hooks=hooks):
                r = getattr(module, f)(Word(u64, a), Word(u64, b))
            py = f"{int(r) & M64:x} {len(hooks.warnings)}"
        except kernel.KernelBug:
            py = f"bug {len(hooks.warnings)}"
        except Exception as e:      # e.g. an arm that should not have run shifting by 64
            py = type(e).__name__
        if py != c:
            bad.append((f, hex(a), hex(b), py, c))
    return bad


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("gcc")), "harness_expr.c")


def test_expressions_match_gcc(binary):
    assert mismatches(pipeline.load_source(translated()), binary) == []


def test_every_new_construct_is_used_and_translated_in_every_era():
    # the fixture exercises each one, and each has a meaning in every era
    text = open(FIXTURE).read()
    for era in eras.ERAS:
        src = translated(era)
        for n in NEW:
            assert n in text and n in eras.names(era), (era, n)
            assert n in src or n == "BUILD_BUG_ON" and "# BUILD_BUG_ON:" in src, (era, n)
    assert "if " in src and " else " in src


def _eager(self, e):
    # a broken ?: that evaluates both arms, as a function call would
    ta, tb = self.ctype(e.iftrue), self.ctype(e.iffalse)
    t = translator.CTYPE_NAMES[translator.cint.arith_type(ta, tb)]
    return f"(lambda c, a, b: {t}(a) if c else {t}(b))({self.cond(e.cond)}, {self.val(e.iftrue)}, " \
           f"{self.val(e.iffalse)})"


def _untyped(self, e):
    # a broken ?: typed by the arm it chose
    return f"({self.val(e.iftrue)} if {self.cond(e.cond)} else {self.val(e.iffalse)})"


@pytest.mark.parametrize("broken,caught", [(_eager, {"expr_cond_lazy", "expr_cond_bug"}),
                                           (_untyped, {"expr_cond_type"})])
def test_comparison_catches_a_wrong_conditional(binary, monkeypatch, broken, caught):
    monkeypatch.setattr(translator.FuncTranslator, "conditional", broken)
    bad = mismatches(pipeline.load_source(translated()), binary, n=0)
    assert {b[0] for b in bad} >= caught


def test_comparison_catches_a_size_added_by_python(binary, monkeypatch):
    # SZ_2G as a Python int: SZ_2G + SZ_2G would be 4G, not C's unsigned-int 0
    monkeypatch.setattr(kernel, "SZ_2G", 2 << 30)
    bad = mismatches(pipeline.load_source(translated()), binary, n=0)
    assert {b[0] for b in bad} == {"expr_sizes"}


def test_only_the_chosen_arm_runs():
    # `a != b ? 1 : expr_bug()`: the BUG in the arm not chosen is never reached
    m = pipeline.load_source(translated())
    with context.entered(hooks=kernel.ConcreteHooks()):
        assert int(m.expr_cond_bug(Word(u64, 1), Word(u64, 2))) == 1
        assert int(m.expr_cond_lazy(Word(u64, 1), Word(u64, 200))) == 0     # a << 200 not evaluated
        with pytest.raises(kernel.KernelBug):
            m.expr_cond_bug(Word(u64, 3), Word(u64, 3))


# ---- misuse: one line naming file:line, exit 2 --------------------------------------------------
def fn(body):
    return ("static unsigned int ttl_to_size(u8 ttl)\n{\n\tunsigned int max_size = 0;\n" + body
            + "\treturn max_size;\n}\n")


MISUSE = [
    ("min of two types", "\tmax_size = min(max_size, SZ_4K);\n", "min() of different types u32 and int"),
    ("max of two types", "\tmax_size = max(ttl, max_size);\n", "max() of different types u8 and u32"),
    ("min_t of no type", "\tmax_size = min_t(ttl, 1, 2);\n", "min_t whose first argument is not a type"),
    ("BUILD_BUG_ON true", "\tBUILD_BUG_ON(SZ_4K != 4096 * 2);\n", "BUILD_BUG_ON whose condition is true"),
    ("BUILD_BUG_ON variable", "\tBUILD_BUG_ON(ttl > 3);\n", "not a compile-time constant"),
    ("BUILD_BUG_ON value", "\tmax_size = BUILD_BUG_ON(0);\n", "BUILD_BUG_ON inside an expression"),
    ("?: untyped arm", "\tmax_size = ttl ? WARN_ON(ttl) : 0;\n", "arm whose C type the translator cannot tell"),
]


@pytest.mark.parametrize("body,msg", [m[1:] for m in MISUSE], ids=[m[0] for m in MISUSE])
def test_misuse_is_refused(tmp_path, capsys, body, msg):
    f, err = refusal(tmp_path, capsys, fn(body))
    assert err.startswith(f"nvtlbi: error: {f}:4: unsupported construct: ") and msg in err, err
