"""Stage-2 descriptors (ARM DDI 0487 M.a.a Table D8-48, D8-53): valid,
table/block/page, AF, output address, software bits [58:55]; KVM keeps the
guest's leaf level in [56:55] (KVM_NV_GUEST_MAP_SZ)."""

VALID = 1 << 0
TABLE = 1 << 1          # levels < 3: table; level 3: page
AF = 1 << 10
SW_SHIFT = 55
SW_MASK = 0xF << SW_SHIFT
NV_LEVEL_SHIFT = 55
NV_LEVEL_MASK = 0x3 << NV_LEVEL_SHIFT
OA_MASK = ((1 << 48) - 1)


def leaf(level, oa, size, nv_level=0, af=True, sw=0):
    """A block (level < 3) or page (level 3) descriptor mapping `size` at `oa`."""
    assert oa % size == 0, "output address must be aligned to the leaf size"
    d = VALID | (oa & OA_MASK & ~(size - 1)) | (AF if af else 0)
    if level == 3:
        d |= TABLE
    d |= (sw << SW_SHIFT) & SW_MASK
    d |= (nv_level & 3) << NV_LEVEL_SHIFT
    return d


def table(next_addr):
    return VALID | TABLE | next_addr


def is_valid(d):
    return bool(d & VALID)


def is_table(d, level):
    return level < 3 and (d & (VALID | TABLE)) == (VALID | TABLE)


def is_leaf(d, level):
    """A valid block or page; a level-3 entry with bit 1 clear is invalid."""
    if not d & VALID:
        return False
    return bool(d & TABLE) if level == 3 else not d & TABLE


def output_address(d, size):
    return d & OA_MASK & ~(size - 1)


def nv_level(d):
    return (d & NV_LEVEL_MASK) >> NV_LEVEL_SHIFT


def next_table(d, shift):
    return d & OA_MASK & ~((1 << shift) - 1)
