"""Repair at the DNS host (SPEC §6): the plan of changes that fixes a domain's records
(`plan`), its zone and primary (`zone`), publishing by RFC 2136 dynamic update (`rfc2136`),
checking every authoritative server serves it (`verify`), and the journal that undoes it
(`journal`). `esm_tui.fix_cli` is the command; nothing here imports Textual.
"""
