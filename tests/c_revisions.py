"""Helpers of the tests of audited C: a translation loaded as a revision,
and the fast audit (one granule, no hint, P2) the construct tests run."""

from nvtlbi import cli
from nvtlbi.c import pipeline
from nvtlbi.impl import revision as REV


def loaded(tmp_path, tr, name="audited"):
    """The revision module of a pipeline Translation."""
    p = tmp_path / f"{name}.py"
    p.write_text(tr.source)
    return REV.load(str(p))


def translated(tmp_path, path=None, text=None, name="audited", **kw):
    """(revision, Translation) of the C file `path`, or of `text` written to
    tmp_path/NAME.c; `kw` go to pipeline.translate."""
    if text is not None:
        path = tmp_path / f"{name}.c"
        path.write_text(text)
    tr = pipeline.translate(str(path), **kw)
    return loaded(tmp_path, tr, name), tr


def audit_p2(capsys, path, *args, granule="4K"):
    """`nvtlbi audit PATH` on one granule, the nohint case and P2: (exit status, captured output)."""
    code = cli.main(["audit", str(path), "--granule", granule, "--hint", "nohint", "--property", "P2", "--jobs", "1",
                     "--no-coverage", *args])
    return code, capsys.readouterr()


def refusal(tmp_path, capsys, text):
    """Translate `text` (a C file) with `nvtlbi audit --translate-only`: it
    must be refused, exit 2, in one line; (the file, that line)."""
    f = tmp_path / "in.c"
    f.write_text(text)
    assert cli.main(["audit", str(f), "--base-revision", "upstream", "--translate-only"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return f, err
