"""Hostile on purpose: kills its own process when run, as a crash would (see tests/test_process.py)."""

import os
import signal

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    os.kill(os.getpid(), signal.SIGKILL)
