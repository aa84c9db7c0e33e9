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


def _decided(text):
    """(era, reason) when the text's markers decide its era, else (None,
    candidates): the eras it can still be, and whether it reads `mmu->vtcr`
    (whose meaning the choice decides)."""
    squeezed = "".join(text.split())
    for name in ("v2026", "v2024"):
        for m in PROFILES[name].markers:
            if _has(squeezed, m):
                return (PROFILES[name], f"the input uses {m}"), None
    old = [m for m in PROFILES["v2020"].markers + ("kvm_unmap_stage2_range", "kvm_walk_shadow_s2")
           if _has(squeezed, m)]
    tlb = _has(squeezed, "tlb_vtcr")
    if old:
        if tlb:
            return (PROFILES["v2023"], f"the input uses {old[0]} and tlb_vtcr (NV v11, after fe49fd940e22)"), None
        return (PROFILES["v2020"], f"the input uses {old[0]} and not tlb_vtcr (NV v2 .. v10)"), None
    allowed = list(eras.since("v2023")) if tlb else list(PROFILES)
    return None, (allowed, bool(re.search(r"->\s*vtcr\b", text)))


def current_at(date):
    """The era that was current on `date` (an ISO date string): the last
    one whose first post is not later."""
    now = [p for p in PROFILES.values() if p.start and p.start <= date]
    return now[-1] if now else None


def detect(text, context="", date=None, base_era=None):
    """The era of the audited functions' `text`, and why: their own markers
    first; then the markers of the rest of the input and of its base
    (`context`: hunks of other functions, other files) and the era of the
    bundled revision it is completed from (`base_era`); then the date of the
    mail (an ISO date: a post can only use the meanings of its time, so the
    era current when it was sent, if the text allows it).

    `mmu->vtcr` changed meaning in Oct 2023 (the guest's VTCR_EL2 before,
    the shadow stage 2's own after): an input that reads it and that none
    of these dates is refused rather than read one way or the other."""
    got, rest = _decided(text)
    if got is not None:
        return _not_after(got, text, date)
    allowed, reads_vtcr = rest
    if context:
        more, rest = _decided(context)
        if more is not None and more[0].name in allowed:
            return _not_after((more[0], more[1] + " (elsewhere in the input or its base)"), text, date)
        if rest is not None:
            allowed = [e for e in allowed if e in rest[0]] or allowed
    if base_era in allowed:
        return PROFILES[base_era], f"the era of its base revision ({base_era})"
    if date:
        now = current_at(date)
        if now is not None and now.name in allowed:
            return now, f"the mail is dated {date}, when {now.name} was current ({now.span})"
    if len(allowed) == 1:
        return PROFILES[allowed[0]], "the only era its names allow"
    if reads_vtcr and "v2020" in allowed:
        raise Undated("the input reads mmu->vtcr, which is the guest's VTCR_EL2 before Oct 2023 (v2020) and "
                      "the shadow stage 2's own after (v2023 on), and nothing else in it says its era: "
                      "choose one with --profile")
    if DEFAULT in allowed:
        return PROFILES[DEFAULT], "nothing era-specific in the input: default"
    return PROFILES[allowed[-1]], "nothing else era-specific in the input: the latest era its names allow"


def _not_after(got, text, date):
    """`got` (era, reason) unless the text reads `mmu->vtcr` with v2020's
    names (no tlb_vtcr) in a mail sent after fe49fd940e22 had made it the
    shadow stage 2's own VTCR_EL2: a post can only mean what the names meant
    when it was sent, and its names alone say the guest's.  Which one the
    author meant cannot be told: refused (Undated), never read one way."""
    prof, _ = got
    later = current_at(date) if date else None
    if prof.name == "v2020" and later is not None and ORDER.index(later.name) > ORDER.index("v2020") \
            and re.search(r"->\s*vtcr\b", text):
        raise Undated(f"the input reads mmu->vtcr and its names are those of {prof.span} (no tlb_vtcr), when "
                      f"mmu->vtcr was the guest's VTCR_EL2; but the mail is dated {date}, after fe49fd940e22 "
                      f"({PROFILES['v2023'].start}) made it the shadow stage 2's own (host page size): choose "
                      "the meaning with --profile")
    return got


ORDER = list(PROFILES)


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
