"""The README's screenshot script runs (issue 17 item 8: it once imported a removed function).

It is run as the README and CONTRIBUTING say, as a process, on the real demo, into a
temporary file; the SVG it writes is the dashboard with the demo's domains.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_screenshot_script_draws_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "shot.svg"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_screenshot.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"wrote {out}"
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    for text in ("good.example", "broken.example", "DMARC", "Quit"):
        assert text.replace(" ", "&#160;") in svg
    assert list(tmp_path.iterdir()) == [out]  # nothing else written where it ran


def test_its_help_writes_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_screenshot.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and "usage:" in proc.stdout
    assert list(tmp_path.iterdir()) == []
