"""Translation granules: page shift, levels, the size a level maps, and
which levels may hold leaves (ARM DDI 0487 M.a.a D8.2.8-D8.2.10; KVM's
nested walker for the guest, KVM_PGTABLE_MIN_BLOCK_LEVEL for the host)."""

GRANULES = {"4K": 12, "16K": 14, "64K": 16}       # name -> page shift
NAMES = {v: k for k, v in GRANULES.items()}

# VTCR_EL2.TG0 (bits [15:14]) encodings: 0b00 4K, 0b01 64K, 0b10 16K, 0b11
# reserved (KVM's walker and the TTL code read it as 64K).
TG0_OF = {12: 0b00, 16: 0b01, 14: 0b10}
# TTL[3:2] granule encodings for TLBI by IPA.
TTL_TG_OF = {12: 1, 14: 2, 16: 3}


def name(shift):
    return NAMES[shift]


def shift_of_tg0(tg0):
    return {0b00: 12, 0b10: 14}.get(tg0, 16)


def bits_per_level(shift):
    return shift - 3


def level_shift(shift, level):
    """log2 of the size one entry at `level` maps."""
    return shift + (3 - level) * bits_per_level(shift)


def level_size(shift, level):
    return 1 << level_shift(shift, level)


def start_level(shift, ia_bits=48):
    """Shallowest level needed to index ia_bits, using up to 16 concatenated
    tables at the root as stage 2 allows (D8.2.2)."""
    level = 3
    while level_shift(shift, level) + bits_per_level(shift) + 4 < ia_bits:
        level -= 1
    return level


def guest_leaf_levels(shift, lpa2=False):
    """Levels where a guest stage-2 leaf may sit.  Without LPA2/52-bit,
    KVM's nested walker starts blocks at level 1 (4K) or 2 (16K/64K).  With
    them the architecture adds a 4K L0, a 16K L1 and a 64K L1 block."""
    first = {12: 1, 14: 2, 16: 2}[shift]
    if lpa2:
        first -= 1
    return list(range(first, 4))


def host_leaf_levels(shift):
    """Levels where KVM's own stage-2 (the shadow) may place a leaf."""
    first = {12: 1, 14: 2, 16: 2}[shift]
    return list(range(first, 4))


def host_sizes(shift):
    return sorted(level_size(shift, l) for l in host_leaf_levels(shift))


def level_of_size(shift, size):
    for level in range(-1, 4):
        if level_size(shift, level) == size:
            return level
    raise ValueError(f"{size:#x} is not a level size of the {name(shift)} granule")


# sizes and ranges as a reader writes them (reports of every op)
def hx(x):
    return f"{x:#x}"


def size_name(s):
    for unit, n in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if s >= 1 << n and s % (1 << n) == 0:
            return f"{s >> n}{unit}"
    return f"{s}B"


def rng(b, s):
    return f"[{hx(b)}, {hx(b + s)}) ({size_name(s)})"
