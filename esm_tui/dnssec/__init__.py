"""DNSSEC chain validation: trust anchors (anchors.py), the walk from the anchor through
DS/DNSKEY down to the answers the other checks used (chain.py). Validation is dnspython's
`dns.dnssec`, never the resolver's AD bit."""
