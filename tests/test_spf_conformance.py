"""The official RFC 7208 test suite (openspf.org, release 2014.04), every case, over real sockets.

The suite (read by rfc7208_suite.py, which says how its zone data is served) lives beside
the repository in `../shared/conformance/` and is never copied in. Each scenario's
`zonedata` is served by the loopback DNS server and each test case goes through
`check_host()` in-process, which must give one of the listed results (and the
explanation, where one is given). test_spf_eval_conformance.py runs the same cases
through the `esm-tui spf-eval` command.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rfc7208_suite import CASES, SCENARIOS, Case, Servers

from esm_tui.dns import Dns
from esm_tui.spf.evaluate import check_host, spf_identity


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = Servers()
    yield running
    running.stop()


def test_suite_is_complete() -> None:
    """Guards the loader: every scenario and case of the 2014.04 release is collected."""
    assert len(SCENARIOS) == 16
    assert len(CASES) == sum(len(s["tests"]) for s in SCENARIOS) == 203


@pytest.mark.parametrize("case", CASES, ids=[f"{c.section}/{c.name}" for c in CASES])
async def test_rfc7208_case(case: Case, servers: Servers) -> None:
    server = servers[case.scenario]
    # Short timeout, no retries: TIMEOUT cases wait 0.3 s each, not the default 5 s x 3.
    resolver = Dns([server.server], timeout=0.3, retries=0)
    sender, domain = spf_identity(case.mailfrom, case.helo)
    result = await check_host(case.host, domain, sender, case.helo, resolver)
    assert result.result in case.results, (
        f"{case.name}: got {result.result} ({result.reason}; chain {list(result.chain)}), "
        f"expected {' or '.join(case.results)}"
    )
    if case.explanation is not None:
        expected = None if case.explanation == "DEFAULT" else case.explanation
        assert result.explanation == expected
