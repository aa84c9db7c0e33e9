"""Vocabulary profiles for C translated by `nvtlbi audit`: one per era of
impl/eras.py, which says what every kernel name and struct field means in
that era, with its source.  This module only reads C text: which era an
input is written in, and why.

Every name a translated function uses must be a local, a translated
function, or a name with a meaning in the input's era; every struct field
it reads must have a meaning in that era.  Anything else is an error naming
it, never a guess."""

import importlib
import re

from nvtlbi.impl import eras

Profile = eras.Era          # a profile is an era of impl/eras.py
PROFILES = eras.ERAS
DEFAULT = "v2024"


def names(profile):
    """The kernel names a translated function of this era may use: exactly
    what the generated module's `from VOCABULARY import *` binds, the
    vocabulary module's __all__ (eras.names of the era).  Never dir() of it:
    `functools` or `Word` serve the module's own code and are no kernel names."""
    return set(importlib.import_module(profile.vocabulary).__all__)


def fields(profile):
    """The struct fields with a meaning in this era."""
    return set(eras.field_names(profile.name))


def _has(squeezed, marker):
    return "".join(marker.split()) in squeezed


def detect(text):
    """The era the input's own text selects, and why.  `mmu->vtcr` changed
    meaning in Oct 2023 (the guest's VTCR_EL2 before, the shadow stage 2's
    own after): an input that reads it and is not dated by anything else is
    refused rather than read one way or the other."""
    squeezed = "".join(text.split())
    for name in ("v2026", "v2024"):
        for m in PROFILES[name].markers:
            if _has(squeezed, m):
                return PROFILES[name], f"the input uses {m}"
    old = [m for m in PROFILES["v2020"].markers + ("kvm_unmap_stage2_range", "kvm_walk_shadow_s2")
           if _has(squeezed, m)]
    if old:
        if _has(squeezed, "tlb_vtcr"):
            return PROFILES["v2023"], f"the input uses {old[0]} and tlb_vtcr (NV v11, after fe49fd940e22)"
        return PROFILES["v2020"], f"the input uses {old[0]} and not tlb_vtcr (NV v2 .. v10)"
    if re.search(r"->\s*vtcr\b", text):
        raise Undated("the input reads mmu->vtcr, which is the guest's VTCR_EL2 before Oct 2023 (v2020) and "
                      "the shadow stage 2's own after (v2023 on), and nothing else in it says its era: "
                      "choose one with --profile")
    return PROFILES[DEFAULT], "nothing era-specific in the input: default"


class Undated(Exception):
    """The input's meaning depends on an era its text does not give."""


def era_of_bundled(revname):
    for p in PROFILES.values():
        if revname in p.bundled:
            return p.name
    return None


def describe():
    return "\n".join(f"{p.name}: {p.span}\n    {p.description}\n    vocabulary {p.vocabulary}; from {p.source}"
                     for p in PROFILES.values())
