"""Propagation: does what the authoritative servers publish match what resolvers answer?

- `attach_propagation(report, dns, ...)`: ask, compare, return the report with each
  RecordResult's `propagation` set (collect.py).
- `classify(...)` / `merge(...)`: the pure comparison (classify.py).
- `card_line(...)` / `matrix_rows(...)`: words for the card and the detail matrix (text.py).
"""

from esm_tui.propagation.classify import (
    AUTHORITATIVE,
    RESOLVER,
    classify,
    merge,
    record_set,
    usable,
)
from esm_tui.propagation.collect import (
    Collector,
    Target,
    attach_propagation,
    failure_rcode,
    server_answer,
    targets,
)
from esm_tui.propagation.text import (
    MATRIX_COLUMNS,
    MatrixRow,
    authoritative_count,
    card_line,
    clock,
    matrix_rows,
)

__all__ = [
    "AUTHORITATIVE",
    "MATRIX_COLUMNS",
    "RESOLVER",
    "Collector",
    "MatrixRow",
    "Target",
    "attach_propagation",
    "authoritative_count",
    "card_line",
    "classify",
    "clock",
    "failure_rcode",
    "matrix_rows",
    "merge",
    "record_set",
    "server_answer",
    "targets",
    "usable",
]
