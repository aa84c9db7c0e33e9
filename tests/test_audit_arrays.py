"""Const lookup tables, sizeof and ARRAY_SIZE, and the bit macros on any
constant mask (issue 12 item 2).  tests/c/arrays.c (ours) uses each; gcc's
build of it with its bounds check trapping (harness_arrays.c) and the
translation must agree on boundary and random inputs, an out-of-bounds
index being undefined behaviour on both sides ("ub": gcc's trap, the
translation's UndefinedBehaviour naming the subscript's file:line).  The
comparison is shown to catch a table read that clamps its index instead
of failing, and one that reads the wrong element."""

import os
import random
import subprocess

import pytest

from nvtlbi import cli
from nvtlbi.c import pipeline, runtime
from nvtlbi.impl import context, kernel
from nvtlbi.impl.cint import UndefinedBehaviour, Word, u64
from tests.c_revisions import audit_p2, refusal
from tests.test_audit_gcc import C, GCC, run

FIXTURE = os.path.join(C, "arrays.c")
FUNCS = ["arr_file", "arr_local", "arr_convert", "arr_sizeof", "arr_search", "arr_bits"]
M64 = (1 << 64) - 1
BOUNDARY = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xf, 0x10, 0xfff, 0x1000, 0x3fff, 0x4000, 0x1fffff, 0x200000,
            0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 63, M64, M64 - 1]


def translated():
    return pipeline.translate_named(FIXTURE, FUNCS)


def python_results(module, inputs):
    out = []
    for f, a, b in inputs:
        try:
            with context.entered(hooks=kernel.ConcreteHooks()):
                out.append(f"{int(getattr(module, f)(Word(u64, a), Word(u64, b))) & M64:x}")
        except UndefinedBehaviour:
            out.append("ub")
        except Exception as e:
            out.append(type(e).__name__)
    return out


def mismatches(module, binary, n=40):
    rng = random.Random(12)
    inputs = [(f, a, b) for f in FUNCS for a in BOUNDARY for b in BOUNDARY]
    inputs += [(f, rng.getrandbits(64), rng.getrandbits(rng.choice([3, 8, 32, 64]))) for f in FUNCS for _ in range(n)]
    got_c = run(binary, [f"{f} {a:x} {b:x}" for f, a, b in inputs])
    return [(f, hex(a), hex(b), py, c) for (f, a, b), py, c in zip(inputs, python_results(module, inputs), got_c)
            if py != c]


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    if GCC is None:
        pytest.skip("gcc is not installed")
    out = str(tmp_path_factory.mktemp("gcc") / "harness_arrays")
    subprocess.run([GCC, "-O1", "-w", "-fsanitize=bounds", "-fsanitize-undefined-trap-on-error", "-include",
                    os.path.join(C, "stubs.h"), "-I", os.path.join(C, "include"), "-I", C, "-o", out,
                    os.path.join(C, "harness_arrays.c")], check=True)
    return out


def test_arrays_match_gcc(binary):
    bad = mismatches(pipeline.load_source(translated()), binary)
    assert bad == []


def test_out_of_bounds_is_exercised_on_both_sides(binary):
    # the comparison above means something for UB: some inputs are out of bounds in gcc too
    inputs = [("arr_file", 5, 0), ("arr_local", 0, 0), ("arr_local", 0, 7), ("arr_file", 4, 0), ("arr_local", 0, 6)]
    assert run(binary, [f"{f} {a:x} {b:x}" for f, a, b in inputs])[:3] == ["ub"] * 3
    assert python_results(pipeline.load_source(translated()), inputs) == ["ub", "ub", "ub", "40000000", "0"]


def test_out_of_bounds_names_the_subscript():
    m = pipeline.load_source(translated())
    with context.entered(hooks=kernel.ConcreteHooks()):
        with pytest.raises(UndefinedBehaviour, match=r"arrays\.c:15: index out of the bounds of arr_sizes\[5\]"):
            m.arr_file(Word(u64, 6), Word(u64, 0))


def _clamped(arr, i, where):
    # broken: an out-of-bounds index reads the last element, a silent value
    n = len(arr.values)
    return arr.values[min(int(i), n - 1)] if int(i) >= 0 else arr.values[0]


def _off_by_one(arr, i, where):
    # broken: the bounds are right, the element read is the next one
    if int(i) < 0 or int(i) >= len(arr.values):
        raise UndefinedBehaviour(where)
    return arr.values[(int(i) + 1) % len(arr.values)]


@pytest.mark.parametrize("broken", [_clamped, _off_by_one])
def test_comparison_catches_a_wrong_table_read(binary, monkeypatch, broken):
    m = pipeline.load_source(translated())
    monkeypatch.setitem(m.__dict__, "c_index", broken)
    bad = mismatches(m, binary, n=0)
    assert {b[0] for b in bad} >= {"arr_file", "arr_local"}


def test_symbolic_index_is_a_select_with_one_bounds_fork():
    # the table read of the runtime, on concrete words: in bounds and both sides out of it
    t = runtime.c_array("t", u64, [10, 20, 30], "x.c:1")
    with context.entered(hooks=kernel.ConcreteHooks()):
        assert [int(runtime.c_index(t, Word(u64, k), "x.c:2")) for k in range(3)] == [10, 20, 30]
        for bad in (Word(u64, 3), Word(u64, M64), kernel.c_int(-1)):
            with pytest.raises(UndefinedBehaviour):
                runtime.c_index(t, bad, "x.c:2")


# ---- refusals: one line naming file:line, exit 2 ------------------------------------------------
def fn(body, before=""):
    return (before + "static unsigned int ttl_to_size(u8 ttl)\n{\n\tunsigned int max_size = 0;\n" + body
            + "\treturn max_size;\n}\n")


TABLE = "static const u32 tbl[] = { 1, 2, 3 };\n"
MISUSE = [
    ("non-const array", "\tu32 t[2] = { 1, 2 };\n", "array 't' that is not const"),
    ("write to an element", "\tstatic const u32 t[2] = { 1, 2 };\n\tt[0] = 3;\n", "write to an array element"),
    ("non-constant initialiser", "\tconst u32 t[2] = { ttl, 2 };\n", "not an integer constant expression"),
    ("designated initialiser", "\tconst u32 t[2] = { [1] = 2 };\n", "not an integer constant expression"),
    ("too many initialisers", "\tconst u32 t[1] = { 1, 2 };\n", "of size 1 with 2 initialisers"),
    ("two dimensions", "\tconst u32 t[2][2] = { { 1, 2 }, { 3, 4 } };\n", "multidimensional array"),
    ("array as a value", "\tconst u32 t[2] = { 1, 2 };\n\tmax_size = t == 0;\n", "array 't' used as a value"),
    ("subscript of a scalar", "\tmax_size = max_size[1];\n", "subscript of something other than a const array"),
    ("ARRAY_SIZE of a scalar", "\tmax_size = ARRAY_SIZE(max_size);\n", "ARRAY_SIZE of something other than"),
    ("FIELD_PREP variable mask", "\tmax_size = FIELD_PREP(max_size, 1);\n", "FIELD_PREP whose mask is not a "
     "compile-time constant"),
    ("FIELD_GET variable mask", "\tmax_size = FIELD_GET(BIT(ttl), 1);\n", "FIELD_GET whose mask is not a "
     "compile-time constant"),
    ("sizeof of a call", "\tmax_size = sizeof(WARN_ON(ttl));\n", "sizeof of an expression whose C type"),
]


@pytest.mark.parametrize("body,msg", [m[1:] for m in MISUSE], ids=[m[0] for m in MISUSE])
def test_misuse_is_refused(tmp_path, capsys, body, msg):
    f, err = refusal(tmp_path, capsys, fn(body))
    line = 3 + body.count("\n")       # the body's last line
    assert err.startswith(f"nvtlbi: error: {f}:{line}: unsupported construct: ") and msg in err, err


def test_file_scope_table_is_translated_and_misuse_refused(tmp_path, capsys):
    f = tmp_path / "in.c"
    f.write_text(fn("\tmax_size = tbl[ttl & 1] + sizeof(tbl) + ARRAY_SIZE(tbl);\n", TABLE))
    assert cli.main(["audit", str(f), "--base-revision", "upstream", "--translate-only"]) == 0
    out = pipeline.translate(str(f), base_revision="upstream").source
    assert "tbl = c_array('tbl', u32, [c_int(1), c_int(2), c_int(3)]" in out and "u64(12)" in out and "u64(3)" in out
    for before, msg, line in [("static u32 tbl[] = { 1, 2 };\n", "array 'tbl' that is not const", 1),
                              (TABLE + TABLE, "array tbl is defined twice", 2)]:
        f.write_text(fn("\tmax_size = tbl[ttl & 1];\n", before))
        assert cli.main(["audit", str(f), "--base-revision", "upstream", "--translate-only"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"nvtlbi: error: {f}:{line}: ") and msg in err, err


# ---- a revision written with lookup tables: proved, and a wrong entry caught --------------------
def audit(capsys, name, *args):
    code, out = audit_p2(capsys, os.path.join(C, name), *args)
    return code, out.out


def test_table_revision_is_proved(capsys):
    # ttl_to_size as three file-scope const tables indexed by the TTL level
    code, out = audit(capsys, "table_ttl.c", "--base-revision", "upstream")
    assert code == 0 and "table_ttl: PROVED" in out, out


def test_wrong_table_entry_gets_a_replayed_counterexample(capsys):
    # the same file with the 4K level-1 entry SZ_2M instead of SZ_1G
    code, out = audit(capsys, "broken_table_ttl.c", "--base-revision", "upstream")
    assert code == 1 and "COUNTEREXAMPLE" in out and "4K-L1" in out, out
    assert "[replayed on impl/: the property fails concretely]" in out, out


def test_broken_table_differs_only_in_one_entry():
    # so that the counterexample above is due to that entry alone (and the comment saying so)
    good, bad = (open(os.path.join(C, n)).read().split("\n") for n in ("table_ttl.c", "broken_table_ttl.c"))
    code = [(g, b) for g, b in zip(good, bad) if g != b and not g.startswith(" *")]
    assert len(good) == len(bad) and code == [("static const u32 ttl_sizes_4k[] = { 0, SZ_1G, SZ_2M, SZ_4K };",
                                               "static const u32 ttl_sizes_4k[] = { 0, SZ_2M, SZ_2M, SZ_4K };")]
