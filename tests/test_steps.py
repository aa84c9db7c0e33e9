"""The scenario steps (model/steps.py): each kind runs, shows and is emitted
from its one registry entry, and the three agree."""

import pytest

from nvtlbi.impl.cint import Word, u64  # noqa: F401  (the names an emitted statement uses)
from nvtlbi.impl.nested import VM, GuestS2, Translation, handle_shadow_fault, new_mmu  # noqa: F401
from nvtlbi.model import replay as R
from nvtlbi.model import steps as S

# 4K guest and host: a 2M guest block at 0x200000, touched at 0x203000
T = Translation(12, 2, 0x200000, 0x40200000)
SCENARIO = [("map", T), ("access", 0x203000), ("access-block", (0x200000, 0x200000)), ("age", 0x203000)]


def _world():
    guest = GuestS2(12, lpa2=False)
    vm = VM()
    return guest, new_mmu(vm, guest, 12)


def _state(guest, mmu):
    """The guest's stage-2 leaves and the valid shadow leaves."""
    return (sorted((b, s, lvl, int(d)) for b, s, lvl, d in guest.pgt.leaves()),
            sorted((b, s, lvl, int(d)) for b, s, lvl, d, _ in mmu.shadow_leaves()))


@pytest.mark.parametrize("upto", range(1, len(SCENARIO) + 1))
def test_an_emitted_step_does_what_the_replayed_one_does(upto):
    """Run the steps through the registry, and exec the statements a
    regression test would hold for them: the same shadow stage 2."""
    guest, mmu = _world()
    for kind, arg in SCENARIO[:upto]:
        S.step(kind).run(mmu, guest, arg)
    guest2, mmu2 = _world()
    names = dict(globals(), guest=guest2, mmu=mmu2)
    for kind, arg in SCENARIO[:upto]:
        exec(S.step(kind).emit(arg), names)
    state = _state(guest, mmu)
    assert state == _state(guest2, mmu2)
    assert state[0] and (state[1] or upto == 1)     # something happened to compare


def test_every_step_a_scenario_makes_is_registered_and_shown():
    lines = [S.step(kind).show(arg, [T]) for kind, arg in SCENARIO]
    assert lines[2] == "nested guest touches 0x200000: shadow fault (a 2M host block)"
    assert "over an earlier mapping" in lines[0]
    # the kinds replay.py builds (a host-block fault comes from path replay)
    made = {k for k, _ in R._touch(0x1000, False)} | {k for k, _ in R._touch(0x1000, True, 0x200000)} | {"map"}
    assert made <= set(S.STEPS)


def test_a_misspelt_step_names_the_known_ones():
    with pytest.raises(S.UnknownStep, match="steps: map, access, access-block, age"):
        S.step("acess")
