"""esm-tui: the e-securemail DNS verification panel."""

__version__ = "0.1.0"
