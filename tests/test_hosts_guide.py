"""docs/hosts/ is generated from the catalogue and stays in step with it."""

from __future__ import annotations

from pathlib import Path

from esm_tui.hosts import catalogue
from esm_tui.hosts.guide import main, page_name, pages

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_pages_are_what_the_catalogue_generates() -> None:
    """Fails after an edit of catalogue.toml until `--write docs/hosts` is run."""
    assert main(["--check", str(DOCS / "hosts")]) == 0


def test_every_host_has_a_page_linked_from_the_index_and_docs_readme() -> None:
    index = (DOCS / "hosts" / "README.md").read_text(encoding="utf-8")
    for host in catalogue():
        assert f"]({page_name(host)})" in index
        page = (DOCS / "hosts" / page_name(host)).read_text(encoding="utf-8")
        assert f"`dns_host.id`: `{host.id}`" in page
        for source in host.sources:
            assert f"<{source}>" in page
    assert "hosts/README.md" in (DOCS / "README.md").read_text(encoding="utf-8")


def test_check_reports_a_stale_page_and_an_unknown_one(tmp_path: Path) -> None:
    assert main(["--write", str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / "ovh.md").write_text("edited by hand\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    (tmp_path / "ovh.md").write_text(pages()["ovh.md"], encoding="utf-8")
    (tmp_path / "gone.md").write_text("a host no longer in the catalogue\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1


def test_a_page_s_examples_are_the_real_steps() -> None:
    page = pages()["ovh.md"]
    assert "Sub-domain: esm._domainkey" in page
    assert "Target: (too long for this form: use the zone-file line below)" in page
    assert "TTL: 3600" in page
