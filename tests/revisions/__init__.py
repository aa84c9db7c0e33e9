"""Revisions broken on purpose, to show that the proofs and tests can fail."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
NOCHECK = os.path.join(HERE, "nocheck.py")
SMALLFALLBACK = os.path.join(HERE, "smallfallback.py")
LOOKAROUND_ANYTAG = os.path.join(HERE, "lookaround_anytag.py")
DEADBRANCH = os.path.join(HERE, "deadbranch.py")
NOLOOKUP = os.path.join(HERE, "nolookup.py")
TTL_SHIFT = os.path.join(HERE, "ttl_shift.py")
HOST_LEVEL = os.path.join(HERE, "host_level.py")
BAD = {name: os.path.join(HERE, "bad", f"{name}.py") for name in ("dictkey", "listindex", "floats", "loop",
                                                                  "exit_at_import", "sysexit", "osexit", "sigkill",
                                                                  "spin", "sleep", "chatty")}
