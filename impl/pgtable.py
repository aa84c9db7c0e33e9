"""A concrete stage-2 page table: map, unmap, walk, kvm_pgtable_get_leaf.

Tables are sparse dicts (index -> descriptor) keyed by a fake physical
address, so a 48-bit space costs only what is mapped.  Used both for the
guest's stage 2 (granule from the guest VTCR) and for KVM's shadow stage 2
(the host granule)."""

from nvtlbi.impl import descriptor as D
from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import Word, s32, u64

ERANGE = 34


class _Ptep:
    """A pointer to one entry of a concrete table (ctx->ptep)."""

    def __init__(self, pgt, table, idx):
        self.pgt, self.table, self.idx = pgt, table, idx

    def write(self, value):
        self.pgt.tables[self.table][self.idx] = int(value)


class _VisitCtx:
    """struct kvm_pgtable_visit_ctx of one visit: old, level, addr, ptep."""

    def __init__(self, pgt, table, idx, level, addr, old):
        self.ptep = _Ptep(pgt, table, idx)
        self.old, self.level, self.addr = Word(u64, old), Word(s32, level), Word(u64, addr)


class PageTable:
    def __init__(self, shift, ia_bits=48):
        self.shift = shift
        self.ia_bits = ia_bits
        self.start = G.start_level(shift, ia_bits)
        self.tables = {}
        self._next = 1 << 40           # fake PA space for table pages
        self.root = self._new_table()

    def _new_table(self):
        addr = self._next
        self._next += 1 << self.shift
        self.tables[addr] = {}
        return addr

    def _index(self, addr, level):
        idx = addr >> G.level_shift(self.shift, level)
        if level != self.start:
            idx &= (1 << G.bits_per_level(self.shift)) - 1
        return idx

    def _walk(self, addr):
        """Yield (table, index, level) from the root down to the entry that
        maps addr (the last one is a leaf, an invalid entry, or level 3)."""
        table, level = self.root, self.start
        while True:
            idx = self._index(addr, level)
            yield table, idx, level
            d = self.tables[table].get(idx, 0)
            if not D.is_table(d, level):
                return
            table, level = D.next_table(d, self.shift), level + 1

    def lookup(self, addr):
        """(descriptor, level) of the entry where the walk for addr stops."""
        for table, idx, level in self._walk(addr):
            pass
        return self.tables[table].get(idx, 0), level

    def leaf(self, addr):
        """(base, size, level, descriptor) of the valid leaf mapping addr, or None."""
        d, level = self.lookup(addr)
        if not D.is_leaf(d, level):
            return None
        size = G.level_size(self.shift, level)
        return addr & ~(size - 1), size, level, d

    def get_leaf(self, addr):
        """kvm_pgtable_get_leaf: (ret, pte, level) as C words."""
        a = int(addr)
        if a >= 1 << self.ia_bits:
            return Word(s32, -ERANGE), Word(u64, 0), Word(s32, 0)
        d, level = self.lookup(a)
        return Word(s32, 0), Word(u64, d), Word(s32, level)

    def set_entry(self, addr, level, desc):
        """Write desc at (addr, level), creating tables on the way.  A block
        met on the way is split into next-level blocks with its attributes
        first (as kvm_pgtable_stage2_split does; stage2_map below breaks the
        block instead, as the map walker does)."""
        assert level >= self.start, f"no level-{level} entry in a table starting at level {self.start}"
        table, lvl = self.root, self.start
        while lvl < level:
            idx = self._index(addr, lvl)
            d = self.tables[table].get(idx, 0)
            if not D.is_table(d, lvl):
                new = self._new_table()
                if D.is_leaf(d, lvl):
                    self._split(d, lvl, new)
                self.tables[table][idx] = D.table(new)
                d = self.tables[table][idx]
            table, lvl = D.next_table(d, self.shift), lvl + 1
        self.tables[table][self._index(addr, level)] = desc

    def _split(self, block, level, new):
        size = G.level_size(self.shift, level + 1)
        oa = D.output_address(block, G.level_size(self.shift, level))
        # the block's attributes (valid, AF, S2AP, the software bits) stay;
        # only its output address bits change (OA_MASK alone spans [47:0])
        keep = block & ~((D.OA_MASK & ~((1 << self.shift) - 1)) | D.TABLE)
        for i in range(1 << G.bits_per_level(self.shift)):
            d = keep | (oa + i * size)
            if level + 1 == 3:
                d |= D.TABLE
            self.tables[new][i] = d

    def clear_af(self, addr):
        """Age the leaf mapping addr (what kvm_age_gfn does to shadow leaves)."""
        for table, idx, level in self._walk(addr):
            pass
        d = self.tables[table].get(idx, 0)
        if D.is_leaf(d, level):
            self.tables[table][idx] = d & ~D.AF

    def map(self, ipa, size, oa, nv_level=0, af=True):
        level = G.level_of_size(self.shift, size)
        assert ipa % size == 0
        self.set_entry(ipa, level, D.leaf(level, oa, size, nv_level, af))

    # ---- the producers' calls (impl/producers/mm.py) ---------------------------
    def stage2_map(self, addr, size, phys, prot):
        """kvm_pgtable_stage2_map: a leaf of `size` at addr (aligned down, as
        the walker does) mapping phys; prot's software bits [58:55] go into
        the PTE, so the level tag is bits [56:55] of prot.  Returns 0."""
        addr, size, phys, prot = int(addr), int(size), int(phys), int(prot)
        base = addr & ~(size - 1)
        level = G.level_of_size(self.shift, size)
        d, at = self.lookup(base)
        if at < level and D.is_leaf(d, at):
            # a larger block is in the way: the map walker breaks it and
            # installs an empty table (stage2_map_walk_leaf), so the rest of
            # the block is unmapped and faults again, not split
            self.set_entry(base, at, 0)
        self.set_entry(base, level, D.leaf(level, phys & ~(size - 1), size, sw=prot >> D.SW_SHIFT & 0xF))
        return 0

    def stage2_relax_perms(self, addr, prot):
        """kvm_pgtable_stage2_relax_perms: -EINVAL if prot carries software
        bits; else the leaf at addr gains the permissions (S2AP, bits [7:6])
        and keeps everything else, its software bits included; -EAGAIN when
        no valid leaf maps addr."""
        addr, prot = int(addr), int(prot)
        if prot & D.SW_MASK:
            return -22
        for table, idx, level in self._walk(addr):
            pass
        d = self.tables[table].get(idx, 0)
        if not D.is_leaf(d, level):
            return -11
        self.tables[table][idx] = d | (prot >> 2 & 1) << 6 | (prot >> 1 & 1) << 7    # PROT_R: S2AP[0], PROT_W: S2AP[1]
        return 0

    def walk(self, addr, size, walker):
        """kvm_pgtable_walk with a LEAF walker: every entry of [addr, addr +
        size) where the walk stops (valid leaf or invalid entry, the empty
        ones included), from the lowest address, each passed whole to
        walker.cb(ctx, visit) even when it is only partly inside; tables are
        descended.  The start is aligned down and the end up to a page, as
        _kvm_pgtable_walk does.  Returns 0 (the callback's first non-zero
        value, which stops the walk)."""
        page = 1 << self.shift
        start = int(addr) & ~(page - 1)
        end = (int(addr) + int(size) + page - 1) & ~(page - 1)
        return self._walk_table(self.root, self.start, 0, start, min(end, 1 << self.ia_bits), walker, [None])

    def _walk_table(self, table, level, base, start, end, walker, empty_noop):
        """empty_noop[0]: None until the walk has visited an empty entry
        (never written, so 0); then whether that visit left it 0 and
        returned 0.  A walker that does nothing with the first empty entry
        is not called on the others: the LEAF walkers here read only
        ctx->old, so the visit of an empty entry is the same call wherever it
        is (an unmap of 1G over 4K pages would otherwise be 262144 Python
        calls that change nothing)."""
        lsize = G.level_size(self.shift, level)
        n = (1 << (self.ia_bits - G.level_shift(self.shift, level)) if level == self.start
             else 1 << G.bits_per_level(self.shift))
        first = max(0, (start - base) // lsize)
        last = min(n, (end - base + lsize - 1) // lsize)
        entries = self.tables[table]
        span = range(first, last) if not empty_noop[0] else sorted(i for i in entries if first <= i < last)
        for idx in span:
            if empty_noop[0] and idx not in entries:
                continue
            d = entries.get(idx, 0)
            if idx not in entries and empty_noop[0] is None:
                r = int(walker.cb(_VisitCtx(self, table, idx, level, base + idx * lsize, 0), 1))
                empty_noop[0] = r == 0 and entries.get(idx, 0) == 0
                if r:
                    return r
                continue
            at = base + idx * lsize
            if D.is_table(d, level):
                r = self._walk_table(D.next_table(d, self.shift), level + 1, at, start, end, walker, empty_noop)
            else:
                r = int(walker.cb(_VisitCtx(self, table, idx, level, at, d), 1))
            if r:
                return r
        return 0

    def unmap_range(self, start, size):
        """Invalidate every leaf that overlaps [start, start+size) (a block
        partly inside is removed whole, as KVM's unmap walker does)."""
        end = start + size
        for base, lsize, level, _ in list(self.leaves()):
            if base < end and start < base + lsize:
                self.set_entry(base, level, 0)

    def leaves(self, table=None, level=None, base=0):
        """Every valid leaf as (base, size, level, descriptor), by address."""
        if table is None:
            table, level = self.root, self.start
        lshift = G.level_shift(self.shift, level)
        for idx in sorted(self.tables[table]):
            d = self.tables[table][idx]
            addr = base + (idx << lshift)
            if D.is_table(d, level):
                yield from self.leaves(D.next_table(d, self.shift), level + 1, addr)
            elif D.is_leaf(d, level):
                yield addr, 1 << lshift, level, d


    # ---- tagged invalid entries (the invalidtags fault/unmap path) -------------------
    def annotate(self, addr, level, nv_level):
        """Write an invalid entry carrying only a guest level tag at (addr, level)."""
        self.set_entry(addr, level, (nv_level & 3) << D.NV_LEVEL_SHIFT)

    def annotations(self, table=None, level=None, base=0):
        """Every tagged invalid entry as (base, size, level, descriptor)."""
        if table is None:
            table, level = self.root, self.start
        lshift = G.level_shift(self.shift, level)
        for idx in sorted(self.tables[table]):
            d = self.tables[table][idx]
            addr = base + (idx << lshift)
            if D.is_table(d, level):
                yield from self.annotations(D.next_table(d, self.shift), level + 1, addr)
            elif not D.is_valid(d) and D.nv_level(d):
                yield addr, 1 << lshift, level, d

    def clear_annotations(self, start, size):
        end = start + size
        for base, asize, level, _ in list(self.annotations()):
            if base < end and start < base + asize:
                self.set_entry(base, level, 0)
