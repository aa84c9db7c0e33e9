"""Hypothesis settings: the same examples on every run (CI gives the same
verdict on the same code); HYPOTHESIS_PROFILE=explore draws fresh ones.

The proof cache (nvtlbi/cache.py) is off for the suite, and points at a
directory of the session's own: a test proves what it asks for (a cached
result would skip the code a test monkeypatches or times), and no test ever
reads or writes the user's cache.  tests/test_cache.py turns it on, each
test on a fresh directory."""

import os

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def _no_user_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NVTLBI_CACHE_DIR", str(tmp_path_factory.mktemp("nvtlbi-cache")))
        mp.setenv("NVTLBI_NO_CACHE", "1")
        yield
