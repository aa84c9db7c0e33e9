"""Broken producer: the fault ignores the guest translation's size (as if
kvm_s2_trans_size were unbounded), so a host block can outgrow the guest's
page and still carry the guest's level.  Breaks tag-truth."""

from nvtlbi.impl.producers.fault import *  # noqa: F401,F403


@kfunc
def kvm_s2_trans_size(trans) -> unsigned_long:
    return unsigned_long(~u64(0))
