"""Hostile on purpose: exits the process that imports it (see tests/test_process.py)."""

import sys

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403

sys.exit(0)
