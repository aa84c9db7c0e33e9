"""The public history of the range TLBI path (TLBI RIPAS2E1*): one module per
post, each defining handle_ripas2e1is and what it calls (impl/tlbi_range.py)."""
