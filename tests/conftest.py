"""Hypothesis settings: the same examples on every run (CI gives the same
verdict on the same code); HYPOTHESIS_PROFILE=explore draws fresh ones.

The proof cache is off for the whole suite: the top-level conftest.py."""

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
