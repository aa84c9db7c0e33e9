"""The public record of the VNCR pseudo-TLB's invalidation (FEAT_NV2): one
module per post, each defining kvm_handle_s1e2_tlbi and
kvm_invalidate_vncr_ipa and what they call (impl/vncr.py)."""
