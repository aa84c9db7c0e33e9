"""A revision using Python the symbolic engine cannot follow gets one line,
`nvtlbi: error: FILE:LINE: construct`, and exit status 2; no traceback
(unless --debug)."""

import pytest

from nvtlbi.impl import revision as REV
from nvtlbi import cli
from tests.revisions import BAD

FAST = ["--granule", "16K", "--hint", "match", "--property", "P1", "--jobs", "1"]


def _line_of(path, needle):
    with open(path) as f:
        return next(i for i, line in enumerate(f, 1) if needle in line)


@pytest.mark.parametrize("name,needle,construct", [
    ("dictkey", "SEEN[ttl]", "a C word used as a dict key or set member"),
    ("listindex", "SIZES[ttl & 3]", "a symbolic value used as a list index or Python int"),
    ("floats", "ttl * 1.5", "float arithmetic"),
    ("loop", "while size != val", "a loop the symbolic engine cannot bound"),
])
def test_unsupported_construct_is_one_line_error(capsys, name, needle, construct):
    path = BAD[name]
    assert cli.main(["prove", "--revision", path] + FAST) == 2
    out = capsys.readouterr()
    err = out.err.strip()
    assert err.startswith(f"nvtlbi: error: {path}:{_line_of(path, needle)}: {construct}"), err
    assert len(err.splitlines()) == 1 and "Traceback" not in out.err + out.out


def test_debug_shows_the_traceback():
    with pytest.raises(REV.RevisionError, match="dict key"):
        cli.main(["prove", "--revision", BAD["dictkey"], "--debug"] + FAST)


def test_a_revision_without_such_constructs_proves(capsys):
    """A revision without the bad construct proves: the check only fires
    for errors raised in the revision's own lines."""
    assert cli.main(["prove", "--revision", "upstream"] + FAST) == 0
